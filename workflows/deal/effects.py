"""What every stage of a deal is made of: its state, the effects of the command at hand
(written together when the deal next waits: one command, one transaction), e-mails through
the outbox, timers, and blocking on a refused effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import LocalActivityConfig

with workflow.unsafe.imports_passed_through():
    from activities.deal_commits import DealCommitActivities
    from domain import effects as fx
    from domain.access import Action, can
    from domain.deal import (
        CancelCommand,
        CloseLostCommand,
        DealInput,
        DealState,
        ResumeCommand,
        StageAnswer,
        TimelineEntry,
    )
    from domain.errors import Conflict, NotAllowed, WrongStage
    from domain.invoices import InvoiceStatus
    from domain.messages import EmailRequest
    from domain.policy import DealPolicy
    from domain.quotes import Quote
    from domain.stages import DealStage
    from domain.users import Actor

    from ..activity_options import COMMIT, COMMIT_RETRY, FINAL
    from ..search_attributes import DEAL_STAGE

T = TypeVar("T")


def _refusal(error: ApplicationError) -> bool:
    """A business refusal: raised non-retryable, or of a type the retry policy stops on."""
    return error.non_retryable or error.type in FINAL


class DealEnded(Exception):
    """Ends the deal early. Raised and caught inside `run`; it never leaves the workflow."""

    def __init__(self, stage: DealStage, reason: str, actor: str = "system") -> None:
        super().__init__(reason)
        self.stage, self.reason, self.actor = stage, reason, actor


class DealEffects:
    """The deal's state and the effects of the command being applied, until they commit."""

    def __init__(self, deal: DealInput) -> None:
        self.deal = deal
        self.state = DealState(
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
        self.idle = False  # waiting for input, every effect so far committed
        self.ended = False  # the final stage is committed
        # Who owned the deal at any time or wrote one of its quotes: never its approvers.
        self.involved: set[str] = {deal.owner}
        self.cancel: CancelCommand | None = None
        self.lost: CloseLostCommand | None = None
        # Deals started since `APPROVE_FIRST`: approval before the customer sees the quote,
        # and a rejection returns to QUOTING (set once, by `run`, for the deal's life).
        self.approve_first = False
        self.terms: Quote | None = None  # the accepted quote, or the latest signed change's
        # The first invoice written off: from then on nothing more is delivered, billed or
        # earned, and the deal ends WRITTEN_OFF as soon as nothing is left to collect.
        self.written_off: str | None = None
        self.resume: ResumeCommand | None = None
        self._seq = 0
        self._blocks = 0
        self._effects: list[fx.Effect] = []
        self._emails: list[EmailRequest] = []
        self._search: list[SearchAttributeUpdate[Any]] = []
        self._after: list[Callable[[fx.Committed], Awaitable[None]]] = []

    @property
    def policy(self) -> DealPolicy:
        return self.deal.policy

    @property
    def customer_name(self) -> str:
        customer = self.state.customer
        return customer.name if customer else self.deal.lead.company

    # --- effects of the command at hand ---

    def add(self, *effects: fx.Effect) -> None:
        self._effects.extend(effects)

    def search(self, *updates: SearchAttributeUpdate[Any]) -> None:
        self._search.extend(updates)

    def unsearch(self) -> None:
        """Drop the search attributes not yet shown (the command turned out not to happen)."""
        self._search = []

    def after_commit(self, then: Callable[[fx.Committed], Awaitable[None]]) -> None:
        """Run `then` with what the commit made (invoice numbers), once it is written."""
        self._after.append(then)

    def enter(self, stage: DealStage, note: str | None = None, actor: str = "system") -> None:
        self._seq += 1
        self.add(fx.EnterStage(seq=self._seq, stage=stage, note=note, actor=actor))
        self.state.stage = stage
        self.state.timeline.append(TimelineEntry(at=workflow.now(), stage=stage, note=note))
        if stage.is_closed:
            self.state.close_reason = note
        self.search(DEAL_STAGE.value_set(stage))
        self.describe()

    def describe(self) -> None:
        """The deal as ops read it on its page in the Temporal UI (the workflow's current
        details; sealed like every payload): customer, stage, amount and owner."""
        terms = self.state.quotes[-1] if self.state.quotes else None
        amount = f"{terms.net_total} {terms.currency} net" if terms else "not quoted yet"
        workflow.set_current_details(
            f"**{self.customer_name}** · {self.state.stage} · {amount} · owner {self.state.owner}"
        )

    def record(self, action: str, actor: str, data: dict[str, Any]) -> None:
        self.add(fx.RecordEvent(key=f"{action}:{self._seq}", action=action, data=data, actor=actor))

    def notify(self, template: str, key: str, **context: Any) -> None:
        """An e-mail, written to the outbox with the command's other effects."""
        self.send(self.email(template, key, **context))

    def send(self, email: EmailRequest) -> None:
        self._emails.append(email)

    def email(self, template: str, key: str, **context: Any) -> EmailRequest:
        routing = {
            k: context.pop(k)
            for k in ("to", "to_user", "to_role", "exclude_user", "portal", "attachments")
            if k in context
        }
        return EmailRequest(
            key=f"{self.deal.deal_id}:{key}",
            deal_id=self.deal.deal_id,
            template=template,
            context={
                "deal_id": self.deal.deal_id,
                "contact_name": self.deal.lead.contact_name,
                "owner": self.deal.owner,
                **context,
            },
            **routing,
        )

    async def commit(self) -> fx.Committed:
        """Write the command's effects in one transaction; then what waited on them."""
        effects, emails, after = self._effects, self._emails, self._after
        self._effects, self._emails, self._after = [], [], []
        done = fx.Committed()
        if effects or emails:
            done = await self.write(effects, emails)
        for then in after:
            await then(done)
        if self._search:
            workflow.upsert_search_attributes(self._search)
            self._search = []
        return done

    async def write(
        self, effects: Sequence[fx.Effect], emails: Sequence[EmailRequest] = ()
    ) -> fx.Committed:
        """One transaction now. A business refusal does not fail the deal: it blocks it,
        visibly, tells the owner, and writes the same effects again once resumed. Effects
        that cannot be written for `policy.unwritable_after` (the database away) show the
        deal blocked too, and are tried again as often, until they are written."""
        commit = fx.DealCommit(
            deal_id=self.deal.deal_id, at=workflow.now(), effects=effects, emails=emails
        )
        options: LocalActivityConfig = {**COMMIT, "retry_policy": self._commit_retry()}
        since: datetime | None = None
        while True:
            try:
                done = await workflow.execute_local_activity_method(
                    DealCommitActivities.commit_deal, commit, **options
                )
            except (ActivityError, ApplicationError) as failure:
                # A local activity's failure arrives as the activity raised it, not wrapped.
                cause = failure.cause if isinstance(failure, ActivityError) else failure
                if isinstance(cause, ApplicationError) and _refusal(cause):
                    await self.block(cause.message)
                else:  # retried for `unwritable_after` in vain: the database is away
                    since = since or workflow.now()
                    await self.unwritable(since, str(cause))
                    commit = self.on_record(commit, since)
                continue
            self.state.blocked = None if since is not None else self.state.blocked
            return done

    def _commit_retry(self) -> RetryPolicy:
        """The commit's retries, as many as fit in the policy's `unwritable_after`."""
        policy = COMMIT_RETRY
        waited, delay, attempts = timedelta(0), policy.initial_interval, 1
        ceiling = policy.maximum_interval or delay
        while waited < self.policy.unwritable_after:
            waited += delay
            delay = min(delay * policy.backoff_coefficient, ceiling)
            attempts += 1
        return dataclasses.replace(policy, maximum_attempts=attempts)

    async def unwritable(self, since: datetime, error: str) -> None:
        self.state.blocked = (
            f"its effects could not be written since {since.isoformat(timespec='seconds')} "
            f"({error.splitlines()[0][:200]}); trying again on its own"
        )
        workflow.logger.warning("deal %s: %s", self.deal.deal_id, self.state.blocked)
        await workflow.sleep(self.policy.unwritable_after)

    def on_record(self, commit: fx.DealCommit, since: datetime) -> fx.DealCommit:
        """The commit, led by when the deal could not write and that it went on: written
        with it, so the record shows the outage where it happened."""
        key = f"unwritable:{since.isoformat()}"
        outage = [
            fx.SetBlocked(reason=self.state.blocked, key=key),
            fx.SetBlocked(reason=None, key=f"{key}:resumed"),
        ]
        effects = [
            e
            for e in commit.effects
            if not (isinstance(e, fx.SetBlocked) and e.key.startswith("unwritable:"))
        ]
        return commit.model_copy(update={"effects": [*outage, *effects]})

    async def block(self, reason: str) -> None:
        key = f"{self._seq}:{len(self.state.timeline)}:{self._blocks}"
        self.state.blocked = reason
        await self.write(
            [fx.SetBlocked(reason=reason, key=key)],
            [
                self.email(
                    "deal_blocked",
                    f"blocked:{self._blocks}",
                    to_user=self.deal.owner,
                    reason=reason,
                )
            ],
        )
        self._blocks += 1
        self.idle = True  # waiting for a person, like any other wait
        await workflow.wait_condition(lambda: self.resume is not None)
        self.idle = False
        actor = self.resume.actor.username if self.resume else "system"
        self.resume, self.state.blocked = None, None
        await self.write([fx.SetBlocked(reason=None, key=f"{key}:resumed", actor=actor)])

    # --- waiting ---

    async def until(self, condition: Callable[[], bool], timeout: timedelta | None = None) -> bool:
        """Commit, then wait for `condition`; False if `timeout` passes first. A cancellation
        ends the deal, and so does a write-off once nothing is left to collect."""
        await self.commit()

        def woken() -> bool:
            # Not idle from the moment the condition holds: a handler whose own condition
            # is checked in the same pass must not see the deal as settled.
            self.idle = not (
                self.cancel is not None
                or self.lost is not None
                or self.nothing_left_to_collect()
                or condition()
            )
            return not self.idle

        if timeout is None or timeout > timedelta(0):
            self.idle = True
            try:
                await workflow.wait_condition(woken, timeout=timeout)
            except TimeoutError:
                pass
            finally:
                self.idle = False
        if self.cancel is not None:
            raise DealEnded(
                DealStage.CANCELLED, self.cancel.body.reason, self.cancel.actor.username
            )
        if self.lost is not None:
            raise DealEnded(DealStage.LOST, self.lost.body.reason, self.lost.actor.username)
        if self.nothing_left_to_collect():
            self.add(fx.CloseWrittenOff())
            lost = [i.number for i in self.state.invoices if i.status is InvoiceStatus.WRITTEN_OFF]
            raise DealEnded(DealStage.WRITTEN_OFF, f"written off: {', '.join(lost)}")
        return condition()

    def nothing_left_to_collect(self) -> bool:
        """An invoice was written off and no other is still open: nothing left to collect."""
        return self.written_off is not None and all(
            i.status is not InvoiceStatus.OPEN for i in self.state.invoices
        )

    async def follow_up(
        self,
        done: Callable[[], bool],
        plan: Sequence[tuple[datetime, T]],
        act: Callable[[T], Awaitable[None]],
    ) -> None:
        """Wait until `done`; as each step of `plan` falls due first, `act` on it. The one
        timer mechanism for leads, quotes and approvals."""
        for due, step in plan:
            if await self.until(done, due - workflow.now()):
                return
            await act(step)
        await self.until(done)

    async def settled(self, applied: Callable[[], bool]) -> None:
        """Until a command is applied and committed and the deal waits again (or ended)."""
        await workflow.wait_condition(lambda: (applied() and self.idle) or self.ended)

    # --- checks the update validators share ---

    def answer(self) -> StageAnswer:
        return StageAnswer(deal_id=self.deal.deal_id, stage=self.state.stage)

    def require(self, action: Action, actor: Actor, *stages: DealStage) -> None:
        if not can(actor, action, self.deal.owner):
            raise NotAllowed(f"{actor.role} may not {action} this deal")
        self.require_stage(*stages)

    def require_not_written_off(self) -> None:
        if self.written_off is not None:
            raise WrongStage(
                f"the deal is written off ({self.written_off}): nothing more is delivered"
            )

    def require_stage(self, *stages: DealStage) -> None:
        if self.state.stage not in stages:
            expected = " or ".join(stages)
            raise WrongStage(f"the deal is {self.state.stage}, not {expected}")

    @staticmethod
    def free(slot: object, what: str) -> None:
        if slot is not None:
            raise Conflict(f"{what} is already being applied")
