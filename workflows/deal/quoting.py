"""QUOTING: priced quotes, versioned and sent with a portal link; the customer's answer;
a quote that lapses tells the owner, and too many lapses lose the deal."""

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
        self._lock = asyncio.Lock()  # versions are saved and sent in the order given

    async def submit(self, cmd: QuoteCommand) -> Quote:
        """Price, save and send a new version (one transaction); it replaces the open one."""
        d = self.deal
        async with self._lock:
            version = len(d.state.quotes) + 1
            quote = price_quote(cmd.request, cmd.price_book, version, workflow.now(), d.policy.day)
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
        """Until the customer accepts the open quote; a rejection loses the deal."""
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

    def check_quote(self, cmd: QuoteCommand) -> None:
        self.deal.require(Action.QUOTE, cmd.actor, DealStage.QUOTING)
        self.deal.free(self.answer, "the customer's answer")
        price_quote(cmd.request, cmd.price_book, 0, workflow.now(), self.deal.policy.day)

    def check_answer(self, cmd: QuoteAnswerCommand) -> None:
        self.deal.require_stage(DealStage.QUOTING)
        self.deal.free(self.answer, "an answer")
        if cmd.version != self.open_version:
            raise Conflict(f"quote version {cmd.version} is no longer open")
        if workflow.now() > self.quote(cmd.version).valid_until:
            raise Conflict(
                f"quote version {cmd.version} expired {self.quote(cmd.version).valid_until}"
            )
