"""User administration: an admin cannot lock themselves out (disable or demote themselves);
the refusal is a 409 and changes nothing."""

from __future__ import annotations

import uuid

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
