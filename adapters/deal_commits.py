"""One command on a deal, one Postgres transaction: the business rows, stage changes, audit
events, ledger entries and outbox e-mails it causes commit together or not at all.

Each effect is keyed (see docs/design.md), so a retried commit finds its own earlier writes
and changes nothing; the invoices it issued are read back, with their numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from adapters.email.outbox import Outbox
from adapters.finance.invoices import InvoiceBook
from adapters.storage.deals import DealStore
from adapters.storage.subscriptions import SubscriptionStore
from domain import effects as fx


class DealCommits:
    """Applies a `DealCommit` in one transaction."""

    def __init__(
        self,
        engine: Engine,
        deals: DealStore,
        book: InvoiceBook,
        outbox: Outbox,
        refuse: Callable[[str, str], None] | None = None,
    ) -> None:
        self.engine, self.deals, self.book, self.outbox = engine, deals, book, outbox
        self.refuse = refuse  # fault injection (adapters/chaos.py): refuse an effect once
        self.subscriptions = SubscriptionStore(engine)
        self._apply: dict[type[Any], Callable[[Connection, str, datetime, Any], Any]] = {
            fx.EnterStage: lambda c, d, at, e: self.deals.change_stage_in(
                c, d, e.seq, e.stage, at, e.actor, e.note
            ),
            fx.RecordEvent: lambda c, d, at, e: self.deals.record_event_in(
                c, d, e.key, at, e.actor, e.action, e.data
            ),
            fx.SaveQuote: lambda c, d, at, e: self.deals.save_quote_in(
                c, d, e.quote, e.actor, e.pipeline
            ),
            fx.SetQuoteStatus: lambda c, d, at, e: self.deals.set_quote_status_in(
                c, d, e.version, e.status, at, e.actor, e.reason, e.link_sent_to
            ),
            fx.ProposeQuote: lambda c, d, at, e: self.deals.propose_quote_in(
                c, d, e.version, e.valid_until, at
            ),
            fx.SaveChangeOrder: lambda c, d, at, e: self.deals.save_change_order_in(
                c, d, e.change_order, e.action, at, e.actor
            ),
            fx.UpdateOrder: lambda c, d, at, e: self.deals.update_order_in(
                c, d, e.order, e.change_order, at
            ),
            fx.DraftContract: lambda c, d, at, e: self.deals.save_contract_in(
                c, d, e.contract, e.steps
            ),
            fx.SaveApprovalStep: lambda c, d, at, e: self.deals.update_approval_step_in(
                c, d, e.contract_version, e.step, e.action, at, e.actor
            ),
            fx.AskApproval: lambda c, d, at, e: self.deals.add_approval_step_in(
                c, d, e.contract_version, e.step, e.action, at, e.actor
            ),
            fx.RecordSignature: lambda c, d, at, e: self.deals.record_signature_in(
                c, d, e.version, e.signature, e.link_sent_to
            ),
            fx.CreateOrder: lambda c, d, at, e: self.deals.create_order_in(c, d, e.order),
            fx.RecordDelivery: lambda c, d, at, e: self.deals.record_delivery_in(
                c, d, e.delivery, e.order, e.actor
            ),
            fx.ChangeOwner: lambda c, d, at, e: self.deals.reassign_in(
                c, d, e.owner, at, e.actor, e.reason
            ),
            fx.SetBlocked: lambda c, d, at, e: self.deals.set_blocked_in(
                c, d, e.reason, at, e.actor, e.key
            ),
            fx.CancelOrder: lambda c, d, at, e: self.deals.cancel_order_in(c, d, at, e.actor),
            fx.IssueInvoice: lambda c, d, at, e: self.book.issue_in(c, d, e.draft, at, e.day),
            fx.RecordSubscription: lambda c, d, at, e: self.subscriptions.record_in(
                c, d, e.state, e.seq, at, e.actor, e.action, e.data
            ),
            fx.RecognizeRevenue: lambda c, d, at, e: self.book.recognize_in(
                c, d, e.key, e.memo, e.amount, e.currency, at
            ),
            fx.CloseCancelled: lambda c, d, at, e: self.book.close_cancelled_in(c, d, at),
            fx.CloseWrittenOff: lambda c, d, at, e: self.book.close_written_off_in(c, d, at),
        }

    def commit(self, commit: fx.DealCommit) -> fx.Committed:
        done = fx.Committed()
        emails = list(commit.emails)
        with self.engine.begin() as conn:
            for effect in commit.effects:
                if isinstance(effect, fx.OpenDeal):
                    done.opened = self.deals.open_deal_in(
                        conn, effect.deal, effect.score, commit.at, effect.workflow_id
                    )
                    if done.opened.duplicate_of is not None:
                        return done  # not a deal: nothing else of this command happens
                    continue
                if self.refuse is not None:
                    self.refuse(_name(effect), f"deal-{commit.deal_id}")
                written = self._apply[type(effect)](conn, commit.deal_id, commit.at, effect)
                if isinstance(effect, fx.IssueInvoice):
                    done.invoices.append(written)
                    mail = effect.email_for(written)
                    emails += [mail] if mail is not None else []
            mailed = [self.outbox.add(conn, email, commit.at) for email in emails]
        if any(mailed):
            self.outbox.wake.set()
        return done


def _name(effect: fx.Effect) -> str:
    """IssueInvoice -> issue_invoice: the effect's name, as an activity would be called."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(effect).__name__).lower()
