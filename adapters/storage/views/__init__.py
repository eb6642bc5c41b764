"""What people read, one module per subject: deals, inbox (approvals, tasks), invoices,
customers, bank statements. Views read Postgres only; the rules they feed live in domain/."""

from __future__ import annotations

from sqlalchemy import Engine

from ..subscriptions import SubscriptionStore
from .activity import ActivityViews
from .bank_statements import BankStatementViews
from .customers import CustomerViews
from .deals import DealViews
from .inbox import InboxViews
from .invoices import InvoiceViews


class Views:
    """Every view on one engine, made once per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.deals = DealViews(engine)
        self.inbox = InboxViews(engine)
        self.invoices = InvoiceViews(engine)
        self.customers = CustomerViews(engine, self.deals)
        self.subscriptions = SubscriptionStore(engine)
        self.bank_statements = BankStatementViews(engine)
        self.activity = ActivityViews(engine)


__all__ = [
    "ActivityViews",
    "BankStatementViews",
    "CustomerViews",
    "DealViews",
    "InboxViews",
    "InvoiceViews",
    "Views",
]
