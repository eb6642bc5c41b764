"""QUALIFYING: record and score the lead, tell its owner; decide by score where the policy
says so, else follow up (remind, escalate, close as lost) until a person decides."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.access import Action
    from domain.deal import QualifyCommand, TimelineEntry
    from domain.leads import score_lead
    from domain.qualification import (
        FollowUpStep,
        QualifyDecision,
        auto_decision,
        follow_up_plan,
    )
    from domain.stages import DealStage
    from domain.users import Role

    from ..search_attributes import CUSTOMER_ID, LEAD_SCORE, LEAD_SOURCE

from .effects import DealEffects, DealEnded


class Qualification:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.command: QualifyCommand | None = None  # the person's decision, until applied
        self.duplicate_of: str | None = None

    async def open(self) -> bool:
        """Record the lead (matched to its customer) and any automatic decision in one
        transaction; False when the contact already has an open deal."""
        d = self.deal
        score = score_lead(d.deal.lead)
        d.add(fx.OpenDeal(deal=d.deal, score=score, workflow_id=workflow.info().workflow_id))
        auto = auto_decision(score, d.policy.qualification)
        if auto is not None:
            self.decide(auto.decision, auto.reason, "system", automatic=True)
        if d.deal.notify_owner:
            d.notify(
                "lead_assigned",
                "lead",
                to_user=d.deal.owner,
                email=d.deal.lead.email,
                source=d.deal.lead.source,
                score=score.score,
                reasons=[r.model_dump() for r in score.reasons],
            )
        d.after_commit(self.opened)
        await d.commit()
        return self.duplicate_of is None

    async def opened(self, done: fx.Committed) -> None:
        """What the opening transaction found: the customer, or the open deal it duplicates."""
        d, opened = self.deal, done.opened
        assert opened is not None
        if opened.duplicate_of is not None:  # not a deal: nothing of it was written or shown
            self.duplicate_of = opened.duplicate_of
            d.unsearch()
            return
        assert opened.customer and opened.score and opened.created_at is not None
        d.state.customer, d.state.score = opened.customer, opened.score
        d.state.timeline.insert(0, TimelineEntry(at=opened.created_at, stage=DealStage.QUALIFYING))
        d.search(  # with the stage of an automatic decision: one upsert
            CUSTOMER_ID.value_set(opened.customer.customer_id),
            LEAD_SOURCE.value_set(d.deal.lead.source),
            LEAD_SCORE.value_set(opened.score.score),
        )

    async def qualify(self) -> None:
        """Until the lead is qualified; a disqualified or abandoned lead ends the deal."""
        d = self.deal
        if d.state.stage is DealStage.QUALIFYING:
            created = d.state.timeline[0].at
            plan = [
                (created + d.policy.days(after), step)
                for after, step in follow_up_plan(d.policy.qualification)
            ]
            await d.follow_up(lambda: self.command is not None, plan, self.follow_up)
            cmd = self.command
            assert cmd is not None
            self.decide(cmd.body.decision, cmd.body.reason, cmd.actor.username, automatic=False)
        if d.state.stage is DealStage.DISQUALIFIED:
            raise DealEnded(DealStage.DISQUALIFIED, d.state.close_reason or "disqualified")

    def decide(
        self, decision: QualifyDecision, reason: str | None, actor: str, automatic: bool
    ) -> None:
        qualified = decision is QualifyDecision.QUALIFY
        self.deal.record(
            "lead.qualified" if qualified else "lead.disqualified",
            actor,
            {"reason": reason, "automatic": automatic},
        )
        if qualified:
            self.deal.enter(DealStage.QUOTING, reason, actor)
        else:
            self.deal.enter(DealStage.DISQUALIFIED, reason or "disqualified", actor)

    async def follow_up(self, step: FollowUpStep) -> None:
        d = self.deal
        if step is FollowUpStep.CLOSE:
            raise DealEnded(DealStage.LOST, "no follow-up: the lead was never qualified")
        escalate = step is FollowUpStep.ESCALATE
        d.notify(
            "lead_escalated" if escalate else "lead_reminder",
            f"follow-up:{step}",
            **({"to_role": Role.SALES_MANAGER} if escalate else {"to_user": d.deal.owner}),
            since=d.state.timeline[0].at.isoformat(),
        )
        d.record(
            "lead.escalated" if escalate else "lead.reminder_sent",
            "system",
            {"owner": d.deal.owner},
        )

    def check(self, cmd: QualifyCommand) -> None:
        self.deal.require(Action.QUALIFY, cmd.actor, DealStage.QUALIFYING)
        self.deal.free(self.command, "a qualification decision")
