"""Notes on deals and customers: who may write and read them, their audit events, and the
activity timeline that shows them beside e-mails and stage changes."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Api
from tests.flows import create_lead, to_quoting


def test_a_note_on_a_deal_is_listed_audited_and_on_its_timeline(
    as_user: Callable[[str], Api],
) -> None:
    rep = as_user("rep1")
    deal = to_quoting(rep)
    deal_id = deal["deal_id"]

    written = rep.post(f"/deals/{deal_id}/notes", json={"body": "  Called Ada: wants a demo "})

    assert written.status_code == 201, written.text
    assert written.json()["body"] == "Called Ada: wants a demo"
    assert written.json()["author"] == "rep1"
    listed = rep.get(f"/deals/{deal_id}/notes").json()
    assert [n["body"] for n in listed] == ["Called Ada: wants a demo"]
    events = rep.every(f"/deals/{deal_id}/history")
    assert any(e["action"] == "note.added" and e["actor"] == "rep1" for e in events)
    assert rep.get(f"/deals/{deal_id}/history/verify").json()["intact"] is True
    activity = rep.get(f"/deals/{deal_id}/activity").json()
    kinds = [item["kind"] for item in activity]
    assert kinds[0] == "note"
    assert "stage" in kinds
    assert any(i["text"] == "The deal moved to quoting" for i in activity)


def test_the_same_idempotency_key_writes_one_note(as_user: Callable[[str], Api]) -> None:
    rep = as_user("rep1")
    deal_id = create_lead(rep)["deal_id"]
    key = {"Idempotency-Key": f"note-{deal_id}"}
    first = rep.post(f"/deals/{deal_id}/notes", json={"body": "once"}, headers=key)
    again = rep.post(f"/deals/{deal_id}/notes", json={"body": "once"}, headers=key)
    assert first.json() == again.json()
    assert len(rep.get(f"/deals/{deal_id}/notes").json()) == 1


def test_an_empty_note_is_refused_naming_the_field(as_user: Callable[[str], Api]) -> None:
    rep = as_user("rep1")
    deal_id = create_lead(rep)["deal_id"]
    refused = rep.post(f"/deals/{deal_id}/notes", json={"body": "   "})
    assert refused.status_code == 422
    assert "body" in refused.text
    assert rep.get(f"/deals/{deal_id}/notes").json() == []


def test_another_reps_deal_and_customer_are_not_found(as_user: Callable[[str], Api]) -> None:
    deal = create_lead(as_user("rep2"))
    rep1 = as_user("rep1")
    assert rep1.post(f"/deals/{deal['deal_id']}/notes", json={"body": "x"}).status_code == 404
    assert rep1.get(f"/deals/{deal['deal_id']}/notes").status_code == 404
    customer_id = deal["customer"]["customer_id"]
    assert rep1.post(f"/customers/{customer_id}/notes", json={"body": "x"}).status_code == 404


def test_a_customer_note_is_on_the_customer_and_its_timeline(
    as_user: Callable[[str], Api],
) -> None:
    rep = as_user("rep1")
    deal = create_lead(rep)
    customer_id = deal["customer"]["customer_id"]
    rep.post(f"/deals/{deal['deal_id']}/notes", json={"body": "on the deal"})

    written = rep.post(f"/customers/{customer_id}/notes", json={"body": "prefers e-mail"})

    assert written.status_code == 201, written.text
    assert [n["body"] for n in rep.get(f"/customers/{customer_id}/notes").json()] == [
        "prefers e-mail"
    ]
    texts = [i["text"] for i in rep.get(f"/customers/{customer_id}/activity").json()]
    assert texts[:2] == ["prefers e-mail", "on the deal"]
    manager = as_user("manager")
    assert manager.get(f"/customers/{customer_id}/notes").status_code == 200
