"""Following up a lead nobody qualifies: reminder, escalation, closed as lost (short day)."""

from __future__ import annotations

from datetime import timedelta

from domain.policy import DealPolicy
from domain.qualification import QualificationPolicy
from tests.conftest import wait_for
from tests.flows import start_deal
from workflows.deal import DealWorkflow
from workflows.ids import deal_workflow_id

MANUAL = {"auto_qualify_at": None, "auto_disqualify_below": None}


def fast_policy(remind: float, escalate: float, close: float) -> DealPolicy:
    return DealPolicy(
        day=timedelta(seconds=1),
        qualification=QualificationPolicy(
            remind_after_days=remind, escalate_after_days=escalate, close_after_days=close, **MANUAL
        ),
    )


def test_an_unqualified_lead_is_reminded_then_escalated_then_closed(live, as_user):
    deal_id = start_deal(live, "rep1", fast_policy(1, 2, 3))
    handle = live.client.get_workflow_handle_for(DealWorkflow.run, deal_workflow_id(deal_id))
    outcome = live.run(handle.result(), timeout=60)
    assert outcome.stage == "LOST"
    assert outcome.reason == "no follow-up: the lead was never qualified"
    events = as_user("rep1").every(f"/deals/{deal_id}/history")
    assert [e["action"] for e in events] == [
        "lead.created",
        "lead.reminder_sent",
        "lead.escalated",
        "stage.changed",
    ]
    company = as_user("manager").get(f"/deals/{deal_id}").json()["customer"]["name"]
    wait_for(lambda: live.mail_to("rep1@", f"Reminder: the lead of {company}"), 30, "reminder")
    wait_for(
        lambda: live.mail_to("manager@", f"Escalation: unqualified lead of {company}"),
        30,
        "escalation",
    )


def test_a_decision_in_time_stops_the_follow_up(live, as_user):
    deal_id = start_deal(live, "rep1", fast_policy(30, 60, 90))
    rep = as_user("rep1")
    assert (
        rep.post(f"/deals/{deal_id}/qualify", json={"decision": "qualify"}).json()["stage"]
        == "QUOTING"
    )
    handle = live.client.get_workflow_handle(deal_workflow_id(deal_id))
    history = live.run(handle.fetch_history()).events
    assert any(e.HasField("timer_canceled_event_attributes") for e in history)
    assert not any(e.HasField("timer_fired_event_attributes") for e in history)
    actions = [e["action"] for e in rep.every(f"/deals/{deal_id}/history")]
    assert "lead.reminder_sent" not in actions
