"""User administration: an admin cannot lock themselves out (disable or demote themselves);
the refusal is a 409 and changes nothing. Every change of a user is audited; each user sets
their own language and time zone."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from adapters.storage.users import USERS_CHAIN
from adapters.storage.views.deals import DealViews
from api.app import create_app
from domain.audit import check_chain
from domain.history_text import describe
from tests.conftest import PASSWORD, Api, Live


def fresh_admin(admin: Api, live: Live) -> Api:
    name = f"boss{uuid.uuid4().hex[:6]}"
    added = admin.post(
        "/users",
        json={
            "username": name,
            "role": "admin",
            "email": f"{name}@example.com",
            "password": PASSWORD,
        },
    )
    assert added.status_code == 201, added.text
    return Api(live, name)


def test_an_admin_cannot_disable_or_demote_themselves(live, as_user):
    me = fresh_admin(as_user("admin"), live)

    disabled = me.put(f"/users/{me.username}/active", json={"active": False})
    demoted = me.put(f"/users/{me.username}/role", json={"role": "sales_rep"})

    assert disabled.status_code == 409, disabled.text
    assert demoted.status_code == 409, demoted.text
    (mine,) = [u for u in me.get("/users").json() if u["username"] == me.username]
    assert (mine["active"], mine["role"]) == (True, "admin")


def test_another_admin_may_disable_an_admin(live, as_user):
    other = fresh_admin(as_user("admin"), live)

    answer = as_user("admin").put(f"/users/{other.username}/active", json={"active": False})

    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False


def test_every_change_of_a_user_is_audited_and_never_holds_the_password(live, as_user):
    admin = as_user("admin")
    user = fresh_admin(admin, live)
    assert admin.put(f"/users/{user.username}/role", json={"role": "finance"}).status_code == 200
    assert admin.put(f"/users/{user.username}/active", json={"active": False}).status_code == 200
    display = {"locale": "de_DE", "time_zone": "Europe/Berlin"}
    assert admin.put(f"/users/{user.username}/display", json=display).status_code == 200

    views = DealViews(live.engine)
    mine = [e for e in views.history(USERS_CHAIN) if e.data.get("username") == user.username]
    assert [(e.actor, e.action) for e in mine] == [
        ("admin", "user.added"),
        ("admin", "user.role_changed"),
        ("admin", "user.disabled"),
        ("admin", "user.display_changed"),
    ]
    assert (mine[1].data["from_role"], mine[1].data["to_role"]) == ("admin", "finance")
    assert PASSWORD not in str([e.data for e in mine]) and "hash" not in str(mine[0].data)
    assert describe(mine[1].action, mine[1].actor, mine[1].data) == (
        f"admin changed the role of {user.username} from admin to finance."
    )
    chain = check_chain(*views.chain(USERS_CHAIN), live.settings.audit_secret)
    assert chain.first_broken_seq is None


def test_a_user_sets_their_own_language_and_time_zone_and_only_their_own(live, as_user):
    rep = as_user("rep2")
    refused = rep.put("/users/rep2/display", json={"locale": "xx_YY", "time_zone": "UTC"})
    assert refused.status_code == 422 and "locale" in refused.text, refused.text
    refused = rep.put("/users/rep2/display", json={"locale": "de_DE", "time_zone": "Mars/Base"})
    assert refused.status_code == 422 and "time_zone" in refused.text, refused.text
    assert rep.put("/users/rep1/display", json={"locale": "de_DE"}).status_code == 403

    saved = rep.put("/users/rep2/display", json={"locale": "fr_FR", "time_zone": "Europe/Paris"})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["locale"], saved.json()["time_zone"]) == ("fr_FR", "Europe/Paris")
    reset = rep.put("/users/rep2/display", json={})  # back to the company's
    assert (reset.json()["locale"], reset.json()["time_zone"]) == (None, None)


def test_the_settings_page_writes_amounts_in_the_users_language(live, as_user):
    settings = live.settings
    with TestClient(create_app(settings), base_url=live.base_url) as browser:
        login = re.search(r'name="login_csrf" value="([^"]+)"', browser.get("/ui/login").text)
        assert login is not None
        signed_in = browser.post(
            "/ui/login",
            data={"username": "ops", "password": PASSWORD, "login_csrf": login.group(1)},
        )
        assert signed_in.status_code == 200, signed_in.text
        page = browser.get("/ui/me").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        try:
            bad = browser.post("/ui/me", data={"csrf": csrf.group(1), "locale": "xx"})
            assert "Refused (422): locale" in bad.text, bad.text
            saved = browser.post(
                "/ui/me",
                data={"csrf": csrf.group(1), "locale": "de_DE", "time_zone": "Europe/Berlin"},
            )
            assert "Saved" in saved.text
            assert "1.234.567,89\xa0€" in saved.text  # the example, now in German
        finally:
            browser.post("/ui/me", data={"csrf": csrf.group(1)})  # others expect the default
