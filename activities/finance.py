"""Activities that issue invoices and record payments, each posted to the ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from domain.billing import InvoiceDraft
from domain.invoices import Invoice, Payment

from .errors import refusals_are_final

if TYPE_CHECKING:
    from adapters.finance.invoices import InvoiceBook


class IssueInvoice(BaseModel):
    deal_id: str
    draft: InvoiceDraft
    issued_at: datetime
    day: timedelta


class FinanceActivities:
    def __init__(self, invoices: InvoiceBook) -> None:
        self.invoices = invoices

    @activity.defn(name="issue_invoice")
    def issue_invoice(self, cmd: IssueInvoice) -> Invoice:
        with refusals_are_final():
            return self.invoices.issue(cmd.deal_id, cmd.draft, cmd.issued_at, cmd.day)

    @activity.defn(name="record_payment")
    def record_payment(self, payment: Payment) -> Invoice:
        with refusals_are_final():
            return self.invoices.record_payment(payment)
