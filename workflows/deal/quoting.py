"""QUOTING and PROPOSED: priced quotes, versioned; once approved (approval.py) a quote goes
to the customer with a portal link (PROPOSED); a rejection or a lapse returns the deal to
QUOTING, and too many lapses lose it. Deals started before `APPROVE_FIRST` sent each quote at
once and asked approval after the customer accepted (kept for them: `accepted_quote`)."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import effects as fx
    from domain.access import Action
    from domain.deal import QuoteAnswerCommand, QuoteCommand
    from domain.errors import Conflict
    from domain.messages import Attachment, EmailRequest, PortalLink
    from domain.quotes import Quote, QuoteStatus, price_quote
    from domain.stages import DealStage

    from ..search_attributes import DEAL_AMOUNT

from .effects import DealEffects, DealEnded


class Quoting:
    def __init__(self, deal: DealEffects) -> None:
        self.deal = deal
        self.answer: QuoteAnswerCommand | None = None  # the customer's, until applied
        self.open_version: int | None = None
        self.lapses = 0
        self.taken = 0  # the newest version the deal has taken up (to approve or propose)
        self.stale: set[int] = set()  # answers (by id) dropped: a revision came first
        self._lock = asyncio.Lock()  # versions are saved and sent in the order given

    async def submit(self, cmd: QuoteCommand) -> Quote:
        """Price and save a new version; it replaces the open one. It is written with what
        the deal does with it next (approval or proposal), in one transaction."""
        d = self.deal
        if not d.approve_first:
            return await self.submit_and_send(cmd)
        version = len(d.state.quotes) + 1
        quote = price_quote(
            cmd.request, cmd.price_book, version, workflow.now(), d.policy.day, cmd.tax
        )
        d.add(fx.SaveQuote(quote=quote, actor=cmd.actor.username))
        self._supersede(quote)
        d.involved.add(cmd.actor.username)
        d.search(DEAL_AMOUNT.value_set(float(quote.net_total)))
        await d.settled(lambda: self.taken >= version)
        return self.quote(version)

    def _supersede(self, quote: Quote) -> None:
        d = self.deal
        d.state.quotes = [
            q.model_copy(update={"status": QuoteStatus.SUPERSEDED})
            if q.status is QuoteStatus.OPEN
            else q
            for q in d.state.quotes
        ] + [quote]
        self.open_version = quote.version

    async def next_quote(self) -> Quote:
        """QUOTING: until the owner submits a quote (the newest, if several came)."""
        if self.open_version is None:
            await self.deal.until(lambda: self.open_version is not None)
        assert self.open_version is not None
        self.taken = self.open_version
        return self.quote(self.taken)

    async def proposed(self, quote: Quote) -> Quote | None:
        """PROPOSED: the approved quote with the customer until they answer. The accepted
        quote; None when it was rejected or lapsed (back to QUOTING) or a revision came."""
        d, version = self.deal, quote.version
        d.enter(DealStage.PROPOSED)
        # Valid for its days from now: the time approval took is not the customer's.
        valid_until = max(quote.valid_until, workflow.now() + d.policy.days(quote.valid_days))
        quote = quote.model_copy(update={"valid_until": valid_until})
        d.state.quotes = [quote if q.version == version else q for q in d.state.quotes]
        d.add(fx.ProposeQuote(version=version, valid_until=valid_until))
        d.send(self.email(quote, f"quote:{version}"))

        def answered_or_revised() -> bool:
            return self.answer is not None or self.open_version != version

        await d.follow_up(answered_or_revised, [(valid_until, version)], self.lapse_proposal)
        answer, self.answer = self.answer, None
        if answer is None:
            return None
        if answer.version != self.open_version:  # a revision overtook it
            self.stale.add(id(answer))
            return None
        status = QuoteStatus.ACCEPTED if answer.accept else QuoteStatus.REJECTED
        accepted = self.set_status(version, status, "customer", answer.reason, answer.link_sent_to)
        if answer.accept:
            return accepted
        reason = answer.reason or "no reason given"
        d.enter(
            DealStage.QUOTING, f"quote v{version} rejected by the customer: {reason}", "customer"
        )
        d.notify(
            "quote_rejected",
            f"quote:{version}:rejected",
            to_user=d.deal.owner,
            version=version,
            reason=reason,
        )
        return None

    async def lapse_proposal(self, version: int) -> None:
        """The customer let the quote expire: back to QUOTING, or LOST after too many."""
        await self.lapse(version)
        self.deal.enter(DealStage.QUOTING, f"quote v{version} expired without an answer")

    def refused(self, version: int, by: str, reason: str) -> None:
        """An approver rejected the quote before the customer saw it: back to QUOTING."""
        self.set_status(version, QuoteStatus.REJECTED, by, reason)
        self.deal.enter(DealStage.QUOTING, f"quote v{version} rejected by {by}: {reason}", by)

    def check_fresh(self, cmd: QuoteAnswerCommand) -> None:
        """The answer was dropped because a revision of the quote overtook it."""
        if id(cmd) in self.stale:
            self.stale.discard(id(cmd))
            raise Conflict(f"quote version {cmd.version} was replaced by a newer one")

    async def submit_and_send(self, cmd: QuoteCommand) -> Quote:
        """Before `APPROVE_FIRST`: saved and sent to the customer at once."""
        d = self.deal
        async with self._lock:
            version = len(d.state.quotes) + 1
            quote = price_quote(
                cmd.request, cmd.price_book, version, workflow.now(), d.policy.day, cmd.tax
            )
            await d.write(
                [fx.SaveQuote(quote=quote, actor=cmd.actor.username)],
                [self.email(quote, f"quote:{version}")],
            )
            d.state.quotes = [
                q.model_copy(update={"status": QuoteStatus.SUPERSEDED})
                if q.status is QuoteStatus.OPEN
                else q
                for q in d.state.quotes
            ] + [quote]
            self.open_version = version
            d.involved.add(cmd.actor.username)
            workflow.upsert_search_attributes([DEAL_AMOUNT.value_set(float(quote.net_total))])
            return quote

    async def accepted_quote(self) -> Quote:
        """Before `APPROVE_FIRST`: until the customer accepts the open quote; a rejection
        loses the deal."""
        while True:
            seen = self.open_version
            plan = [(self.quote(seen).valid_until, seen)] if seen is not None else []

            def answered_or_replaced(seen: int | None = seen) -> bool:
                return self.answer is not None or self.open_version != seen

            await self.deal.follow_up(answered_or_replaced, plan, self.lapse)
            if self.answer is not None:
                break
        answer, self.answer = self.answer, None
        status = QuoteStatus.ACCEPTED if answer.accept else QuoteStatus.REJECTED
        quote = self.set_status(
            answer.version, status, "customer", answer.reason, answer.link_sent_to
        )
        if not answer.accept:
            raise DealEnded(
                DealStage.LOST, f"quote rejected: {answer.reason or 'no reason'}", "customer"
            )
        return quote

    async def lapse(self, version: int | None) -> None:
        assert version is not None
        self.set_status(version, QuoteStatus.EXPIRED, "system")
        self.lapses += 1
        limit = self.deal.policy.quote_lapses_before_lost
        if self.lapses >= limit:
            raise DealEnded(DealStage.LOST, f"{self.lapses} quotes lapsed without an answer")
        self.deal.notify(
            "quote_expired",
            f"quote:{version}:expired",
            to_user=self.deal.deal.owner,
            version=version,
            lapses=self.lapses,
            limit=limit,
        )

    def set_status(
        self,
        version: int,
        status: QuoteStatus,
        actor: str,
        reason: str | None = None,
        link_sent_to: str | None = None,
    ) -> Quote:
        d = self.deal
        quote = self.quote(version).model_copy(update={"status": status})
        d.state.quotes = [quote if q.version == version else q for q in d.state.quotes]
        self.open_version = None
        d.add(
            fx.SetQuoteStatus(
                version=version,
                status=status,
                reason=reason,
                actor=actor,
                link_sent_to=link_sent_to,
            )
        )
        return quote

    def email(self, quote: Quote, key: str) -> EmailRequest:
        """The quote to the contact, attached, with a link that lapses with it."""
        d = self.deal
        return d.email(
            "quote_sent",
            key,
            to=[d.deal.lead.email],
            portal=PortalLink(action="quote", version=quote.version, expires_at=quote.valid_until),
            attachments=[Attachment(kind="quote", deal_id=d.deal.deal_id, version=quote.version)],
            quote=quote.model_dump(mode="json"),
        )

    def quote(self, version: int) -> Quote:
        return next(q for q in self.deal.state.quotes if q.version == version)

    # --- validators ---

    @property
    def answer_stage(self) -> DealStage:
        """Where the customer answers: PROPOSED (QUOTING before `APPROVE_FIRST`)."""
        return DealStage.PROPOSED if self.deal.approve_first else DealStage.QUOTING

    def check_quote(self, cmd: QuoteCommand) -> None:
        stages = (DealStage.QUOTING, DealStage.PROPOSED)
        self.deal.require(Action.QUOTE, cmd.actor, *stages[: 2 if self.deal.approve_first else 1])
        self.deal.free(self.answer, "the customer's answer")
        price_quote(cmd.request, cmd.price_book, 0, workflow.now(), self.deal.policy.day, cmd.tax)

    def check_answer(self, cmd: QuoteAnswerCommand) -> None:
        self.deal.require_stage(self.answer_stage)
        self.deal.free(self.answer, "an answer")
        if cmd.version != self.open_version:
            raise Conflict(f"quote version {cmd.version} is no longer open")
        if workflow.now() > self.quote(cmd.version).valid_until:
            raise Conflict(
                f"quote version {cmd.version} expired {self.quote(cmd.version).valid_until}"
            )
