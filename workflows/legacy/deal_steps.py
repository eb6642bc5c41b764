"""The building blocks of a deal's stages: record a stage, wait, notify, bill.

DealSteps holds the deal's state and its command slots; DealCommands adds the Updates
that fill the slots, and DealWorkflow (workflows/deal.py) runs the process with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.storage import (
        ApprovalStepRecord,
        Blocked,
        DealEvent,
        StageChange,
        StorageActivities,
    )
    from domain.access import Action, can
    from domain.approval import ApprovalStep
    from domain.billing import InvoiceDraft
    from domain.deal import (
        ApprovalCommand,
        CancelCommand,
        DealInput,
        DealState,
        DeliveryCommand,
        QualifyCommand,
        QuoteAnswerCommand,
        ResumeCommand,
        SignCommand,
        StageAnswer,
        TimelineEntry,
    )
    from domain.errors import Conflict, DomainError, NotAllowed, WrongStage
    from domain.invoices import Invoice
    from domain.messages import EmailRequest
    from domain.quotes import Quote, QuoteStatus
    from domain.stages import DealStage
    from domain.users import Actor

    from ..activity_options import EMAIL, STORAGE
    from ..search_attributes import DEAL_STAGE


class DealEnded(Exception):
    """Ends the deal early. Raised and caught inside `run`; it never leaves the workflow."""

    def __init__(self, stage: DealStage, reason: str, actor: str = "system") -> None:
        super().__init__(reason)
        self.stage, self.reason, self.actor = stage, reason, actor


class DealSteps:
    """State of one deal and the steps its stages are made of."""

    def __init__(self, deal: DealInput) -> None:
        self._deal = deal
        self._state = DealState(
            deal_id=deal.deal_id,
            stage=DealStage.QUALIFYING,
            owner=deal.owner,
            source=deal.lead.source,
            contact={
                "name": deal.lead.contact_name,
                "email": deal.lead.email,
                "company": deal.lead.company,
            },
        )
        self._stage_seq = 0
        self._idle = False  # the run loop waits for input, every effect so far recorded
        # Command slots, filled by update handlers, emptied by the run loop.
        self._qualification: QualifyCommand | None = None
        self._answer: QuoteAnswerCommand | None = None
        self._decisions: list[tuple[str, ApprovalCommand]] = []  # (key, command), in order
        self._decided: dict[str, DomainError | None] = {}  # key -> refusal, if any
        self._decision_seq = 0
        self._approved_quote: Quote | None = None  # the quote of the latest approval round
        self._signature: SignCommand | None = None
        self._deliveries: list[DeliveryCommand] = []
        self._delivery_refusals: dict[str, DomainError] = {}
        self._cancel: CancelCommand | None = None
        self._open_version: int | None = None
        self._duplicate_of: str | None = None
        self._lapses = 0
        self._blocks = 0
        self._resume: ResumeCommand | None = None
        self._quote_lock = asyncio.Lock()
        self._issued: list[InvoiceDraft] = []
        self._collections: list[workflow.ChildWorkflowHandle[Any, Invoice]] = []
        self._mail: list[asyncio.Future[str]] = []
        self._schedules: list[workflow.ChildWorkflowHandle[Any, int]] = []

    async def enter(self, stage: DealStage, note: str | None = None, actor: str = "system") -> None:
        """Record the new stage, then show it: readers of Postgres are never behind us."""
        self._stage_seq += 1
        now = workflow.now()
        await self.effect(
            StorageActivities.change_stage,
            StageChange(
                deal_id=self._deal.deal_id,
                seq=self._stage_seq,
                stage=stage,
                at=now,
                actor=actor,
                note=note,
            ),
            **STORAGE,
        )
        self._state.stage = stage
        self._state.timeline.append(TimelineEntry(at=now, stage=stage, note=note))
        if stage.is_closed:
            self._state.close_reason = note
        self._qualification = self._answer = self._signature = None
        workflow.upsert_search_attributes([DEAL_STAGE.value_set(stage)])

    async def effect(self, activity: Callable[..., Any], arg: Any, **options: Any) -> Any:
        """Run an activity. A business refusal (a non-retryable failure) does not fail the
        deal: it blocks it, visibly, tells the owner, and tries again once resumed."""
        while True:
            try:
                return await workflow.execute_activity_method(activity, arg, **options)
            except ActivityError as failure:
                cause = failure.cause
                if not (isinstance(cause, ApplicationError) and cause.non_retryable):
                    raise
                await self.block(f"{getattr(activity, '__name__', activity)}: {cause.message}")

    async def block(self, reason: str) -> None:
        self._state.blocked = reason
        await workflow.execute_activity_method(
            StorageActivities.set_blocked,
            Blocked(
                deal_id=self._deal.deal_id,
                reason=reason,
                at=workflow.now(),
                key=f"{self._stage_seq}:{len(self._state.timeline)}:{self._blocks}",
            ),
            **STORAGE,
        )
        self.notify(
            "deal_blocked", f"blocked:{self._blocks}", to_user=self._deal.owner, reason=reason
        )
        self._blocks += 1
        self._idle = True  # waiting for a person, like any other wait
        await workflow.wait_condition(lambda: self._resume is not None)
        self._idle = False
        actor = self._resume.actor.username if self._resume else "system"
        self._resume, self._state.blocked = None, None
        await workflow.execute_activity_method(
            StorageActivities.set_blocked,
            Blocked(
                deal_id=self._deal.deal_id,
                reason=None,
                at=workflow.now(),
                actor=actor,
                key=f"{self._stage_seq}:{len(self._state.timeline)}:{self._blocks}:resumed",
            ),
            **STORAGE,
        )

    async def until(self, condition: Callable[[], bool], timeout: timedelta | None = None) -> bool:
        """Wait for `condition`; False if `timeout` passes first. A cancellation ends the deal."""
        if timeout is None or timeout > timedelta(0):
            self._idle = True
            try:
                await workflow.wait_condition(
                    lambda: self._cancel is not None or condition(), timeout=timeout
                )
            except TimeoutError:
                pass
            finally:
                self._idle = False
        if self._cancel is not None:
            raise DealEnded(
                DealStage.CANCELLED, self._cancel.body.reason, self._cancel.actor.username
            )
        return condition()

    async def record(self, action: str, actor: str, data: dict[str, Any]) -> None:
        await self.effect(
            StorageActivities.record_deal_event,
            DealEvent(
                deal_id=self._deal.deal_id,
                key=f"{action}:{self._stage_seq}",
                at=workflow.now(),
                actor=actor,
                action=action,
                data=data,
            ),
            **STORAGE,
        )

    def notify(self, template: str, key: str, **context: Any) -> None:
        """Send an e-mail in the background; the deal does not wait for the mail server."""
        routing = {
            k: context.pop(k)
            for k in ("to", "to_user", "to_role", "exclude_user", "portal", "attachments")
            if k in context
        }
        request = EmailRequest(
            key=f"{self._deal.deal_id}:{key}",
            deal_id=self._deal.deal_id,
            template=template,
            context={
                "deal_id": self._deal.deal_id,
                "company": self._customer_name,
                "contact_name": self._deal.lead.contact_name,
                "owner": self._deal.owner,
                **context,
            },
            **routing,
        )
        self._mail.append(
            workflow.start_activity_method(EmailActivities.send_email, request, **EMAIL)
        )

    async def _mail_sent(self) -> None:
        # A message that could not be sent (no recipient) is in the outbox as pending;
        # it must not fail the deal.
        for outcome in await asyncio.gather(*self._mail, return_exceptions=True):
            if isinstance(outcome, BaseException):
                workflow.logger.warning(
                    "an e-mail of deal %s failed: %s", self._deal.deal_id, outcome
                )

    async def _save_step(
        self, version: int, step: ApprovalStep, action: str, actor: str = "system"
    ) -> None:
        await self.effect(
            StorageActivities.update_approval_step,
            ApprovalStepRecord(
                deal_id=self._deal.deal_id,
                contract_version=version,
                step=step,
                action=action,
                at=workflow.now(),
                actor=actor,
            ),
            **STORAGE,
        )
        self._state.approvals = [
            step if s.index == step.index else s for s in self._state.approvals
        ]

    def _quote(self, version: int) -> Quote:
        return next(q for q in self._state.quotes if q.version == version)

    def _set_quote_status(self, version: int, status: QuoteStatus) -> Quote:
        quote = next(q for q in self._state.quotes if q.version == version)
        quote = quote.model_copy(update={"status": status})
        self._state.quotes = [quote if q.version == version else q for q in self._state.quotes]
        return quote

    @property
    def _customer_name(self) -> str:
        customer = self._state.customer
        return customer.name if customer else self._deal.lead.company

    @property
    def _signer(self) -> str:
        cmd = self._signature
        return cmd.name if cmd else "customer"

    async def _settled(self, applied: Callable[[], bool]) -> None:
        """Until the command is applied and the run loop waits again (or the deal ended)."""
        await workflow.wait_condition(
            lambda: (applied() and self._idle) or self._state.stage.is_closed
        )

    def _stage_answer(self) -> StageAnswer:
        return StageAnswer(deal_id=self._deal.deal_id, stage=self._state.stage)

    def _require(self, action: Action, actor: Actor, stage: DealStage) -> None:
        if not can(actor, action, self._deal.owner):
            raise NotAllowed(f"{actor.role} may not {action} this deal")
        self._require_stage(stage)

    def _require_stage(self, stage: DealStage) -> None:
        if self._state.stage is not stage:
            raise WrongStage(f"the deal is {self._state.stage}, not {stage}")

    @staticmethod
    def _free(slot: object, what: str) -> None:
        if slot is not None:
            raise Conflict(f"{what} is already being applied")

    def _delivered(self, reference: str) -> bool:
        return any(d.reference == reference for d in self._state.deliveries)
