"""Issuing invoices (numbers given once, gapless per year) and recording payments."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.storage.audit import append_event
from adapters.storage.sequences import next_number
from adapters.storage.tables import (
    credit_notes,
    deals,
    invoices,
    journal_entries,
    journal_lines,
    payments,
)
from adapters.storage.views.rows import invoice_from_row
from domain.billing import InvoiceDraft
from domain.invoices import (
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    credit_by_category,
    credit_for_net,
    credited_status,
    owed_back,
    settled_status,
    split_credit,
    undelivered_limit,
)
from domain.ledger import (
    Account,
    credit_note_entry,
    invoice_entry,
    payment_entry,
    recognition_entry,
    refund_entry,
    unbilled_revenue_entry,
    write_off_entry,
    write_off_reversal_entry,
)
from domain.messages import EmailRequest
from domain.stages import DealStage
from domain.tax import SellerProfile

from .customer_credit import apply_in as apply_customer_credit
from .customer_credit import owe_in as owe_customer_credit
from .invoice_parties import issue_details
from .ledger import post_entry

if TYPE_CHECKING:
    from adapters.email.outbox import Outbox


def _next_number(conn: Connection, year: int, series: str = "INV") -> str:
    return next_number(conn, year, series)


class InvoiceBook:
    """Invoices and payments, each posted to the ledger in the same transaction."""

    def __init__(self, engine: Engine, seller: SellerProfile | None = None) -> None:
        self.engine = engine
        self.seller = seller  # on every invoice issued (config.Settings.seller)

    def issue(
        self, deal_id: str, draft: InvoiceDraft, issued_at: datetime, day: timedelta
    ) -> Invoice:
        """The deal's invoice for `draft.billing_key`, issued now or found from before."""
        with self.engine.begin() as conn:
            return self.issue_in(conn, deal_id, draft, issued_at, day)

    def issue_in(
        self,
        conn: Connection,
        deal_id: str,
        draft: InvoiceDraft,
        issued_at: datetime,
        day: timedelta,
    ) -> Invoice:
        """The invoice, posted and audited; credit its customer holds pays it at once."""
        existing = conn.execute(
            select(invoices).where(
                invoices.c.deal_id == deal_id,
                invoices.c.billing_key == draft.billing_key,
            )
        ).first()
        if existing is not None:
            return invoice_from_row(existing)
        details = issue_details(conn, deal_id, self.seller, issued_at)
        details["payment_terms_days"] = draft.payment_terms_days
        number = _next_number(conn, issued_at.year)
        invoice = Invoice(
            number=number,
            deal_id=deal_id,
            billing_key=draft.billing_key,
            currency=draft.currency,
            lines=draft.lines,
            net_total=draft.net_total,
            tax_total=draft.tax_total,
            total=draft.total,
            issued_at=issued_at,
            due_date=issued_at + day * draft.payment_terms_days,
            status=InvoiceStatus.PAID if draft.total == 0 else InvoiceStatus.OPEN,
            **details,
        )
        conn.execute(
            invoices.insert().values(
                number=number,
                deal_id=deal_id,
                billing_key=draft.billing_key,
                currency=draft.currency,
                net_total=draft.net_total,
                tax_total=draft.tax_total,
                total=draft.total,
                paid=Decimal(0),
                status=invoice.status,
                lines=[line.model_dump(mode="json") for line in draft.lines],
                issued_at=issued_at,
                due_date=invoice.due_date,
                **details,
            )
        )
        entry = invoice_entry(number, draft)
        if entry is not None:
            post_entry(conn, entry, issued_at, deal_id)
        append_event(
            conn,
            deal_id,
            f"invoice:{draft.billing_key}",
            issued_at,
            "system",
            "invoice.issued",
            {
                "number": number,
                "total": draft.total,
                "currency": draft.currency,
                "due_date": invoice.due_date.isoformat(),
            },
        )
        return apply_customer_credit(conn, invoice, details["customer_id"], issued_at)

    def get(self, number: str) -> Invoice | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(invoices).where(invoices.c.number == number)).first()
        return None if row is None else invoice_from_row(row)

    def record_payment(
        self, payment: Payment, outbox: Outbox | None = None, receipt: EmailRequest | None = None
    ) -> Invoice:
        """Apply `payment` once (keyed by its bank reference); the invoice as it stands after.
        The receipt, if given, goes into the outbox in the same transaction."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(invoices)
                .where(invoices.c.number == payment.invoice_number)
                .with_for_update()
            ).one()
            inserted = conn.execute(
                insert(payments)
                .values(
                    reference=payment.reference,
                    invoice_number=payment.invoice_number,
                    deal_id=payment.deal_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    received_at=payment.received_at,
                    recorded_at=payment.recorded_at,
                    recorded_by=payment.recorded_by,
                )
                .on_conflict_do_nothing()
                .returning(payments.c.reference)
            ).first()
            if inserted is None:
                return invoice_from_row(row)
            paid = row.paid + payment.amount
            status = settled_status(row.total, paid, row.credited)
            conn.execute(
                update(invoices)
                .where(invoices.c.number == payment.invoice_number)
                .values(paid=paid, status=status)
            )
            post_entry(
                conn,
                payment_entry(
                    payment.reference, payment.invoice_number, payment.amount, payment.currency
                ),
                payment.received_at,
                payment.deal_id,
            )
            append_event(
                conn,
                payment.deal_id,
                f"payment:{payment.reference}",
                payment.recorded_at,
                payment.recorded_by,
                "payment.recorded",
                {
                    "reference": payment.reference,
                    "invoice": payment.invoice_number,
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "received_at": payment.received_at.isoformat(),
                },
            )
            updated = invoice_from_row(
                conn.execute(
                    select(invoices).where(invoices.c.number == payment.invoice_number)
                ).one()
            )
            if outbox is not None and receipt is not None:
                context = {**receipt.context, "balance": str(updated.balance)}
                outbox.add(
                    conn, receipt.model_copy(update={"context": context}), payment.recorded_at
                )
            return updated

    def write_off(self, number: str, at: datetime, actor: str, reason: str) -> Invoice:
        """Give up on the open balance (once): bad debt expense, the receivable gone; and
        the part of it never earned (still deferred) reversed, since it was never revenue.
        From then on the deal recognizes no more revenue (see `recognize_in`)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(invoices).where(invoices.c.number == number).with_for_update()
            ).one()
            invoice = invoice_from_row(row)
            if invoice.status is not InvoiceStatus.OPEN:
                return invoice
            _lock_deal(conn, invoice.deal_id)
            conn.execute(
                update(invoices)
                .where(invoices.c.number == number)
                .values(status=InvoiceStatus.WRITTEN_OFF)
            )
            net, tax = split_credit(invoice, invoice.balance)
            post_entry(
                conn,
                write_off_entry(number, net, tax, invoice.currency),
                at,
                invoice.deal_id,
            )
            append_event(
                conn,
                invoice.deal_id,
                f"write-off:{number}",
                at,
                actor,
                "invoice.written_off",
                {
                    "number": number,
                    "amount": invoice.balance,
                    "currency": invoice.currency,
                    "reason": reason,
                    "vat_relief": tax,
                },
            )
            self._reverse_unearned(conn, invoice, at)
            return invoice_from_row(
                conn.execute(select(invoices).where(invoices.c.number == number)).one()
            )

    def _reverse_unearned(self, conn: Connection, invoice: Invoice, at: datetime) -> None:
        """The written-off balance's net part, as far as the deal's revenue is still deferred:
        the receivable given up first covers what was never earned."""
        unearned = self._deferred(conn, invoice.deal_id, invoice.currency)
        amount = min(unearned, split_credit(invoice, invoice.balance)[0])
        if amount <= 0:
            return
        post_entry(
            conn,
            write_off_reversal_entry(invoice.number, amount, invoice.currency),
            at,
            invoice.deal_id,
        )
        append_event(
            conn,
            invoice.deal_id,
            f"revenue-reversed:{invoice.number}",
            at,
            "system",
            "revenue.reversed",
            {
                "invoice": invoice.number,
                "amount": amount,
                "currency": invoice.currency,
                "against": Account.BAD_DEBT,
                "reason": "written off before it was earned",
            },
        )

    def credit_note(
        self,
        number: str,
        amount: Decimal,
        reason: str,
        at: datetime,
        actor: str,
        request_key: str,
        unearned: bool = False,
    ) -> tuple[CreditNote, Invoice]:
        """Issue a credit note (once per `request_key`) and reduce what the invoice asks;
        `unearned`: its net comes out of deferred revenue whatever the balance (a change
        order's, whose revenue was reallocated), not from revenue already recognized."""
        with self.engine.begin() as conn:
            invoice = _locked_invoice(conn, number)
            earlier = _earlier_note(conn, request_key)
            if earlier is not None:
                return earlier, invoice
            return self._credit_note_in(
                conn, invoice, amount, reason, at, actor, request_key, unearned
            )

    def credit_undelivered(
        self, number: str, reason: str, at: datetime, actor: str, request_key: str
    ) -> tuple[CreditNote | None, Invoice]:
        """A cancelled deal's credit on this (open) invoice: what it billed and the deal
        never earned (its deferred revenue, with the tax on it), paid or not: the unpaid
        part settles the balance, the paid part is owed back as the customer's credit; none
        when everything billed was delivered. Once per `request_key`."""
        with self.engine.begin() as conn:
            invoice = _locked_invoice(conn, number)
            earlier = _earlier_note(conn, request_key)
            if earlier is not None or invoice.status is not InvoiceStatus.OPEN:
                return earlier, invoice
            _lock_deal(conn, invoice.deal_id)
            credited = self._credit_undelivered_in(conn, invoice, reason, at, actor, request_key)
            return (None, invoice) if credited is None else credited

    def _credit_undelivered_in(
        self,
        conn: Connection,
        invoice: Invoice,
        reason: str,
        at: datetime,
        actor: str,
        request_key: str,
    ) -> tuple[CreditNote, Invoice] | None:
        """The deal's unearned revenue, as far as this invoice billed it, credited with its
        tax (the deal locked by the caller); None when nothing is left to credit."""
        unearned = self._deferred(conn, invoice.deal_id, invoice.currency)
        amount = credit_for_net(invoice, unearned, undelivered_limit(invoice))
        if amount <= 0:
            return None
        return self._credit_note_in(conn, invoice, amount, reason, at, actor, request_key)

    def _credit_note_in(
        self,
        conn: Connection,
        invoice: Invoice,
        amount: Decimal,
        reason: str,
        at: datetime,
        actor: str,
        request_key: str,
        unearned: bool = False,
    ) -> tuple[CreditNote, Invoice]:
        number = invoice.number
        parts = credit_by_category(invoice, amount)
        net = sum((p.base for p in parts), Decimal(0))
        tax = amount - net
        note = CreditNote(
            number=_next_number(conn, at.year, "CN"),
            invoice_number=number,
            deal_id=invoice.deal_id,
            currency=invoice.currency,
            amount=amount,
            net=net,
            tax=tax,
            reason=reason,
            issued_at=at,
            issued_by=actor,
            tax_breakdown=parts,
        )
        conn.execute(
            credit_notes.insert().values(
                request_key=request_key,
                **note.model_dump(exclude={"tax_breakdown"}),
                tax_breakdown=[p.model_dump(mode="json") for p in parts],
            )
        )
        credited, owed = invoice.credited + amount, owed_back(invoice, amount)
        paid = invoice.paid - owed
        conn.execute(
            update(invoices)
            .where(invoices.c.number == number)
            .values(paid=paid, credited=credited, status=credited_status(invoice, paid, credited))
        )
        unrecognized = net if unearned else self._deferred(conn, invoice.deal_id, invoice.currency)
        post_entry(
            conn,
            credit_note_entry(note.number, number, net, tax, unrecognized, invoice.currency),
            at,
            invoice.deal_id,
        )
        append_event(
            conn,
            invoice.deal_id,
            f"credit-note:{note.number}",
            at,
            actor,
            "credit_note.issued",
            {
                "number": note.number,
                "invoice": number,
                "amount": amount,
                "owed_back": owed,
                "reason": reason,
            },
        )
        if owed > 0:
            customer = invoice.customer_id or _customer_of(conn, number)
            owe_customer_credit(conn, customer, invoice, note.number, owed, at, actor)
        updated = conn.execute(select(invoices).where(invoices.c.number == number)).one()
        return note, invoice_from_row(updated)

    def recognize(
        self, deal_id: str, key: str, memo: str, amount: Decimal, currency: str, at: datetime
    ) -> None:
        """Post earned revenue once per key."""
        with self.engine.begin() as conn:
            self.recognize_in(conn, deal_id, key, memo, amount, currency, at)

    def recognize_in(
        self,
        conn: Connection,
        deal_id: str,
        key: str,
        memo: str,
        amount: Decimal,
        currency: str,
        at: datetime,
    ) -> None:
        """Nothing once the deal stopped earning: an invoice of it written off (its payment
        is no longer probable), or the deal cancelled or written off. Serialized with
        write-offs and close-outs, so a recognition never takes revenue they reversed."""
        if _stopped_earning(conn, deal_id):
            return
        if post_entry(
            conn,
            recognition_entry(f"recognize:{deal_id}:{key}", memo, amount, currency),
            at,
            deal_id,
        ):
            append_event(
                conn,
                deal_id,
                f"recognize:{key}",
                at,
                "system",
                "revenue.recognized",
                {"key": key, "amount": amount, "currency": currency},
            )

    def close_cancelled(self, deal_id: str, at: datetime) -> None:
        """After a cancellation's credit notes on its open invoices: what its paid invoices
        billed and it will never deliver is credited too, and owed back."""
        with self.engine.begin() as conn:
            self.close_cancelled_in(conn, deal_id, at)

    def close_cancelled_in(self, conn: Connection, deal_id: str, at: datetime) -> None:
        """Newest invoice first, each credits what is left unearned (`cancel:<number>`, the
        key the deal's workflow asks open invoices with, so one credit per invoice). What
        is then still deferred (a rounding cent of invoices in several tax categories) is
        owed back in the ledger only."""
        _lock_deal(conn, deal_id)
        reason = "deal cancelled: paid for, never delivered"
        for currency in self._currencies(conn, deal_id):
            self._credit_paid_for(conn, deal_id, currency, reason, "cancel", at)
            left = self._deferred(conn, deal_id, currency)
            if left > 0:
                post_entry(conn, refund_entry(deal_id, left, currency), at, deal_id)

    def close_written_off_in(self, conn: Connection, deal_id: str, at: datetime) -> None:
        """A written-off deal, once nothing is left to collect, leaves nothing deferred: what
        is still deferred was paid for and will never be delivered (the unpaid part was
        reversed at the write-off), so its invoices credit it, tax and all, and it is owed
        back to the customer as its credit; revenue earned beyond what was billed will never
        be billed, so it is a loss."""
        _lock_deal(conn, deal_id)
        reason = "deal written off: paid for, never to be delivered"
        for currency in self._currencies(conn, deal_id):
            credited = self._credit_paid_for(conn, deal_id, currency, reason, "written-off", at)
            left = self._deferred(conn, deal_id, currency)
            if credited > 0:
                append_event(
                    conn,
                    deal_id,
                    f"revenue-reversed:written-off:{deal_id}:{currency}",
                    at,
                    "system",
                    "revenue.reversed",
                    {
                        "amount": credited,
                        "currency": currency,
                        "against": Account.CUSTOMER_CREDIT,
                        "reason": "paid for, never to be delivered",
                    },
                )
            if left > 0:  # a rounding cent the credit notes could not take
                entry = refund_entry(deal_id, left, currency, "written-off")
            elif left < 0:
                entry = unbilled_revenue_entry(deal_id, -left, currency)
            else:
                continue
            if post_entry(conn, entry, at, deal_id) and left < 0:
                append_event(
                    conn,
                    deal_id,
                    f"revenue-reversed:{entry.key}",
                    at,
                    "system",
                    "revenue.reversed",
                    {
                        "amount": -left,
                        "currency": currency,
                        "against": Account.BAD_DEBT,
                        "reason": "earned, never to be billed",
                    },
                )

    def _credit_paid_for(
        self, conn: Connection, deal_id: str, currency: str, reason: str, ending: str, at: datetime
    ) -> Decimal:
        """Credit the deal's unearned revenue on its settled invoices, newest first, each
        once (key `<ending>:<number>`); the net it credited now (nothing on a retry). Open
        invoices are left to their collections, which credited them before (a credit here
        would change a balance their workflow still collects)."""
        credited = Decimal(0)
        numbers = conn.execute(
            select(invoices.c.number)
            .where(invoices.c.deal_id == deal_id, invoices.c.currency == currency)
            .order_by(invoices.c.issued_at.desc(), invoices.c.number.desc())
        ).scalars()
        for number in list(numbers):
            if self._deferred(conn, deal_id, currency) <= 0:
                break
            key = f"{ending}:{number}"
            if _earlier_note(conn, key) is not None:
                continue
            invoice = _locked_invoice(conn, number)
            if invoice.status is InvoiceStatus.OPEN:
                continue
            done = self._credit_undelivered_in(conn, invoice, reason, at, "system", key)
            credited += Decimal(0) if done is None else done[0].net
        return credited

    @staticmethod
    def _currencies(conn: Connection, deal_id: str) -> list[str]:
        return list(
            conn.execute(
                select(journal_entries.c.currency)
                .distinct()
                .where(journal_entries.c.deal_id == deal_id)
            )
            .scalars()
            .all()
        )

    @staticmethod
    def _deferred(conn: Connection, deal_id: str, currency: str) -> Decimal:
        """The deal's revenue invoiced but not yet recognized (credit balance)."""
        balance = conn.execute(
            select(func.coalesce(func.sum(journal_lines.c.credit - journal_lines.c.debit), 0))
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(
                journal_entries.c.deal_id == deal_id,
                journal_entries.c.currency == currency,
                journal_lines.c.account == Account.DEFERRED_REVENUE,
            )
        ).scalar_one()
        return Decimal(balance)


def _lock_deal(conn: Connection, deal_id: str) -> None:
    """One money change of a deal at a time: write-offs, close-outs, credits for undelivered
    goods and recognitions each read the deal's deferred revenue and must see the others."""
    conn.execute(select(deals.c.deal_id).where(deals.c.deal_id == deal_id).with_for_update())


def _stopped_earning(conn: Connection, deal_id: str) -> bool:
    stage = conn.execute(
        select(deals.c.stage).where(deals.c.deal_id == deal_id).with_for_update()
    ).scalar()
    if stage in (DealStage.CANCELLED, DealStage.WRITTEN_OFF):
        return True
    written_off = conn.execute(
        select(invoices.c.number)
        .where(invoices.c.deal_id == deal_id, invoices.c.status == InvoiceStatus.WRITTEN_OFF)
        .limit(1)
    ).first()
    return written_off is not None


def _customer_of(conn: Connection, number: str) -> str:
    return str(
        conn.execute(select(invoices.c.customer_id).where(invoices.c.number == number)).scalar_one()
    )


def _locked_invoice(conn: Connection, number: str) -> Invoice:
    row = conn.execute(select(invoices).where(invoices.c.number == number).with_for_update()).one()
    return invoice_from_row(row)


def _earlier_note(conn: Connection, request_key: str) -> CreditNote | None:
    earlier = conn.execute(
        select(credit_notes).where(credit_notes.c.request_key == request_key)
    ).first()
    return None if earlier is None else CreditNote.model_validate(dict(earlier._mapping))
