"""SubscriptionBillingWorkflow: invoices one subscription line of a deal, once per billing
period from its service start, each invoice written with its ledger entry and e-mail in one
transaction and handed to the deal, which collects it like any other.

A child of its deal with a schedule of its own: a five-year line billed monthly is sixty
timers here, not in the deal's history, and the run continues as new every
`PERIODS_PER_RUN` periods so its own history stays bounded however long the term.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.deal_commits import DealCommitActivities
    from domain import effects as fx
    from domain.billing import InvoiceDraft
    from domain.billing_periods import period_invoices
    from domain.invoices import Invoice
    from domain.messages import EmailRequest
    from domain.quotes import QuoteLine

    from .activity_options import FINANCE

PERIODS_PER_RUN = 12
# The deal's signal that takes each period's invoice (workflows/deal/workflow.py).
INVOICED = "subscription_invoiced"


class SubscriptionBilling(BaseModel):
    """What the deal hands to a subscription line's billing, and where a run resumes."""

    deal_id: str
    deal_workflow_id: str
    currency: str
    payment_terms_days: int
    line: QuoteLine
    service_start: datetime
    day: timedelta
    email: EmailRequest  # the invoice e-mail, completed with each invoice's number
    next_period: int = 0  # 0-based: the first period this run invoices


@workflow.defn
class SubscriptionBillingWorkflow:
    @workflow.run
    async def run(self, billing: SubscriptionBilling) -> int:
        """Invoice each period at its start; the number of periods of the term."""
        periods = period_invoices(billing.line, billing.currency, billing.payment_terms_days)
        upto = min(billing.next_period + PERIODS_PER_RUN, len(periods))
        for period in periods[billing.next_period : upto]:
            due = billing.service_start + billing.day * period.starts_after_days
            if due > workflow.now():
                await workflow.sleep(due - workflow.now())
            invoice = await self.issue(billing, period.draft)
            await workflow.get_external_workflow_handle(billing.deal_workflow_id).signal(
                INVOICED, invoice
            )
        if upto < len(periods):
            workflow.continue_as_new(billing.model_copy(update={"next_period": upto}))
        return len(periods)

    @staticmethod
    async def issue(billing: SubscriptionBilling, draft: InvoiceDraft) -> Invoice:
        """The period's invoice, ledger entry, audit event and e-mail in one transaction,
        keyed by deal, line and period (a retry finds the invoice it issued)."""
        commit = fx.DealCommit(
            deal_id=billing.deal_id,
            at=workflow.now(),
            effects=[fx.IssueInvoice(draft=draft, day=billing.day, email=billing.email)],
        )
        done = await workflow.execute_activity_method(
            DealCommitActivities.commit_deal, commit, **FINANCE
        )
        return done.invoices[0]
