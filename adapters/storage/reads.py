"""What people read: deals, their history, approvals inboxes, invoices, the price book."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, and_, func, or_, select

from domain.approval import ApprovalStep, StepStatus
from domain.audit import AuditEvent
from domain.catalogue import PriceBook, PriceBookEntry
from domain.contract import Contract, Signature
from domain.deal import CustomerRef, DealState, TimelineEntry
from domain.invoices import Invoice, Payment
from domain.leads import LeadScore, ScoreReason
from domain.orders import Delivery, Order
from domain.policy import DealPolicy
from domain.quotes import Quote
from domain.stages import DealStage
from domain.users import Role

from .audit import deal_events
from .tables import (
    approval_steps,
    contacts,
    contracts,
    customers,
    deals,
    deliveries,
    invoices,
    orders,
    payments,
    product_prices,
    products,
    quotes,
    stage_changes,
)


class DealRow(BaseModel):
    """Enough of a deal to decide who may see and touch it."""

    deal_id: str
    owner: str
    stage: DealStage
    customer_id: str


class DealSummary(BaseModel):
    deal_id: str
    stage: DealStage
    owner: str
    customer_id: str
    customer_name: str
    source: str
    score: int
    amount: Decimal | None
    currency: str | None
    created_at: datetime
    updated_at: datetime


class DealPage(BaseModel):
    items: list[DealSummary]
    next_cursor: str | None


class PendingApproval(BaseModel):
    deal_id: str
    contract_version: int
    step: ApprovalStep
    owner: str
    customer_name: str
    amount: Decimal | None
    currency: str | None


def invoice_from_row(row: Any) -> Invoice:
    """An invoices row (any extra columns ignored) as the domain's Invoice."""
    return Invoice.model_validate(dict(row._mapping))


class Reads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def deal(self, deal_id: str) -> DealRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deals.c.deal_id, deals.c.owner, deals.c.stage, deals.c.customer_id).where(
                    deals.c.deal_id == deal_id
                )
            ).first()
        return None if row is None else DealRow.model_validate(dict(row._mapping))

    def deal_state(self, deal_id: str) -> DealState | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    deals,
                    customers.c.name.label("customer_name"),
                    contacts.c.name.label("contact_name"),
                    contacts.c.email,
                    contacts.c.phone,
                )
                .join(customers, customers.c.customer_id == deals.c.customer_id)
                .join(contacts, contacts.c.contact_id == deals.c.contact_id)
                .where(deals.c.deal_id == deal_id)
            ).first()
            if row is None:
                return None
            quote_rows = conn.execute(
                select(quotes.c.document, quotes.c.status)
                .where(quotes.c.deal_id == deal_id)
                .order_by(quotes.c.version)
            ).all()
            contract = conn.execute(
                select(contracts)
                .where(contracts.c.deal_id == deal_id)
                .order_by(contracts.c.version.desc())
                .limit(1)
            ).first()
            steps = (
                []
                if contract is None
                else conn.execute(
                    select(approval_steps)
                    .where(
                        approval_steps.c.deal_id == deal_id,
                        approval_steps.c.contract_version == contract.version,
                    )
                    .order_by(approval_steps.c.idx)
                ).all()
            )
            order = conn.execute(select(orders).where(orders.c.deal_id == deal_id)).first()
            delivered = conn.execute(
                select(deliveries)
                .where(deliveries.c.deal_id == deal_id)
                .order_by(deliveries.c.delivered_at)
            ).all()
            invoice_rows = conn.execute(
                select(invoices)
                .where(invoices.c.deal_id == deal_id)
                .order_by(invoices.c.issued_at, invoices.c.number)
            ).all()
            payment_rows = conn.execute(
                select(payments)
                .where(payments.c.deal_id == deal_id)
                .order_by(payments.c.received_at)
            ).all()
            timeline = conn.execute(
                select(stage_changes)
                .where(stage_changes.c.deal_id == deal_id)
                .order_by(stage_changes.c.seq)
            ).all()
        return DealState(
            deal_id=row.deal_id,
            stage=row.stage,
            owner=row.owner,
            customer=CustomerRef(customer_id=row.customer_id, name=row.customer_name),
            contact={
                "name": row.contact_name,
                "email": row.email,
                "phone": row.phone,
                "company": row.lead.get("company"),
            },
            source=row.source,
            score=LeadScore(
                score=row.score, reasons=[ScoreReason.model_validate(r) for r in row.score_reasons]
            ),
            quotes=[Quote.model_validate({**q.document, "status": q.status}) for q in quote_rows],
            contract=None if contract is None else _contract(contract),
            approvals=[_step(s) for s in steps],
            order=None if order is None else Order.model_validate(dict(order._mapping)),
            deliveries=[Delivery.model_validate(dict(d._mapping)) for d in delivered],
            invoices=[invoice_from_row(i) for i in invoice_rows],
            payments=[Payment.model_validate(dict(p._mapping)) for p in payment_rows],
            timeline=[TimelineEntry(at=t.at, stage=t.stage, note=t.note) for t in timeline],
            close_reason=row.close_reason,
            blocked=row.blocked,
        )

    def list_deals(
        self,
        *,
        owner: str | None,
        stage: DealStage | None,
        customer_id: str | None,
        source: str | None,
        limit: int,
        cursor: tuple[datetime, str] | None,
    ) -> DealPage:
        """Newest first; `cursor` is the (created_at, deal_id) of the last item seen."""
        query = select(deals, customers.c.name.label("customer_name")).join(
            customers, customers.c.customer_id == deals.c.customer_id
        )
        for column, value in (
            (deals.c.owner, owner),
            (deals.c.stage, stage),
            (deals.c.customer_id, customer_id),
            (deals.c.source, source),
        ):
            if value is not None:
                query = query.where(column == value)
        if cursor is not None:
            at, deal_id = cursor
            query = query.where(
                or_(
                    deals.c.created_at < at,
                    and_(deals.c.created_at == at, deals.c.deal_id < deal_id),
                )
            )
        query = query.order_by(deals.c.created_at.desc(), deals.c.deal_id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        items = [DealSummary.model_validate(dict(r._mapping)) for r in rows[:limit]]
        more = len(rows) > limit
        return DealPage(
            items=items,
            next_cursor=(
                f"{items[-1].created_at.isoformat()}|{items[-1].deal_id}" if more else None
            ),
        )

    def deal_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(deals.c.deal_id).order_by(deals.c.created_at)).scalars()
            )

    def history(self, deal_id: str) -> list[AuditEvent]:
        with self.engine.connect() as conn:
            return deal_events(conn, deal_id)

    def pending_approvals(self, role: Role, username: str) -> list[PendingApproval]:
        """Steps waiting for `role`, on deals `username` does not own."""
        query = (
            select(
                approval_steps,
                deals.c.owner,
                deals.c.amount,
                deals.c.currency,
                customers.c.name.label("customer_name"),
            )
            .join(deals, deals.c.deal_id == approval_steps.c.deal_id)
            .join(customers, customers.c.customer_id == deals.c.customer_id)
            .where(
                or_(approval_steps.c.role == role, approval_steps.c.escalated_to == role),
                approval_steps.c.status == StepStatus.PENDING,
                deals.c.stage == DealStage.AWAITING_APPROVAL,
                deals.c.owner != username,
            )
            .order_by(approval_steps.c.requested_at)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            PendingApproval(
                deal_id=r.deal_id,
                contract_version=r.contract_version,
                owner=r.owner,
                customer_name=r.customer_name,
                amount=r.amount,
                currency=r.currency,
                step=_step(r),
            )
            for r in rows
        ]

    def invoices(
        self,
        *,
        deal_id: str | None,
        customer_id: str | None,
        status: str | None,
        owner: str | None,
        limit: int,
    ) -> list[Invoice]:
        query = select(invoices).join(deals, deals.c.deal_id == invoices.c.deal_id)
        for column, value in (
            (invoices.c.deal_id, deal_id),
            (invoices.c.customer_id, customer_id),
            (invoices.c.status, status),
            (deals.c.owner, owner),
        ):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(invoices.c.issued_at.desc(), invoices.c.number.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [invoice_from_row(r) for r in conn.execute(query).all()]

    def invoice(self, number: str) -> tuple[Invoice, str] | None:
        """The invoice and its deal's owner."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invoices, deals.c.owner)
                .join(deals, deals.c.deal_id == invoices.c.deal_id)
                .where(invoices.c.number == number)
            ).first()
        return None if row is None else (invoice_from_row(row), row.owner)

    def invoice_customer(self, number: str) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(customers.c.name)
                    .join(invoices, invoices.c.customer_id == customers.c.customer_id)
                    .where(invoices.c.number == number)
                ).scalar_one()
            )

    def payment(self, reference: str) -> Payment | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(payments).where(payments.c.reference == reference)).first()
        if row is None:
            return None
        return Payment.model_validate(dict(row._mapping))

    def price_book(
        self, currency: str | None = None, skus: set[str] | None = None, active_only: bool = False
    ) -> PriceBook:
        query = (
            select(products, product_prices.c.currency, product_prices.c.unit_price)
            .join(product_prices, product_prices.c.sku == products.c.sku)
            .order_by(products.c.sku, product_prices.c.currency)
        )
        if currency is not None:
            query = query.where(product_prices.c.currency == currency)
        if skus is not None:
            query = query.where(products.c.sku.in_(sorted(skus)))
        if active_only:
            query = query.where(products.c.active.is_(True))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return PriceBook(entries=[PriceBookEntry.model_validate(dict(r._mapping)) for r in rows])

    def open_deals_by_email(self, emails: list[str]) -> dict[str, str]:
        """e-mail (lower case) -> the open deal of that contact, for the e-mails given."""
        keys = sorted({e.lower() for e in emails})
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 1000):
                rows = conn.execute(
                    select(deals.c.email_key, deals.c.deal_id).where(
                        deals.c.email_key.in_(keys[start : start + 1000]),
                        deals.c.closed_at.is_(None),
                    )
                )
                found.update({row.email_key: row.deal_id for row in rows})
        return found

    def tasks(self, username: str, role: Role, now: datetime) -> list[Task]:
        """The caller's open tasks: qualify, quote, approve, deliver, chase payment."""
        tasks: list[Task] = []
        concerned = deals.c.owner == username
        if role == Role.OPS:  # ops deliver every deal's order
            concerned = or_(concerned, deals.c.stage == DealStage.FULFILLING)
        with self.engine.connect() as conn:
            mine = conn.execute(
                select(deals, customers.c.name.label("customer_name"))
                .join(customers, customers.c.customer_id == deals.c.customer_id)
                .where(
                    deals.c.stage.in_(
                        [DealStage.QUALIFYING, DealStage.QUOTING, DealStage.FULFILLING]
                    ),
                    concerned,
                )
                .order_by(deals.c.created_at)
            ).all()
            open_quotes = set(
                conn.execute(
                    select(quotes.c.deal_id).where(
                        quotes.c.status == "open",
                        quotes.c.deal_id.in_([d.deal_id for d in mine]),
                    )
                ).scalars()
            )
            due_dates = dict(
                conn.execute(
                    select(orders.c.deal_id, orders.c.due_date).where(
                        orders.c.deal_id.in_([d.deal_id for d in mine])
                    )
                ).all()
            )
            overdue = (
                []
                if role != Role.FINANCE
                else conn.execute(
                    select(invoices)
                    .where(invoices.c.status == "open", invoices.c.due_date < now)
                    .order_by(invoices.c.due_date)
                ).all()
            )
        for deal in mine:
            if deal.stage == DealStage.QUALIFYING and deal.owner == username:
                tasks.append(
                    Task(
                        kind="qualify_lead",
                        deal_id=deal.deal_id,
                        title=f"Qualify the lead of {deal.customer_name}",
                        since=deal.created_at,
                        due=_follow_up_due(deal),
                    )
                )
            elif deal.stage == DealStage.QUOTING and deal.owner == username:
                if deal.deal_id not in open_quotes:
                    tasks.append(
                        Task(
                            kind="write_quote",
                            deal_id=deal.deal_id,
                            title=f"Send {deal.customer_name} a quote",
                            since=deal.updated_at,
                        )
                    )
            elif deal.stage == DealStage.FULFILLING:
                tasks.append(
                    Task(
                        kind="deliver",
                        deal_id=deal.deal_id,
                        title=f"Deliver the order of {deal.customer_name}",
                        since=deal.signed_at or deal.updated_at,
                        due=due_dates.get(deal.deal_id),
                    )
                )
        tasks += [
            Task(
                kind="approve",
                deal_id=p.deal_id,
                title=(f"Approve the contract of {p.customer_name} ({p.amount} {p.currency})"),
                since=p.step.requested_at or now,
            )
            for p in self.pending_approvals(role, username)
        ]
        tasks += [
            Task(
                kind="chase_payment",
                deal_id=i.deal_id,
                title=f"Chase payment of {i.number} ({i.total - i.paid} {i.currency})",
                since=i.due_date,
                due=i.due_date,
            )
            for i in overdue
        ]
        return tasks

    def customers(self, limit: int, owner: str | None = None) -> list[CustomerSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(customers).order_by(customers.c.name).limit(limit)).all()
            return [self._customer_summary(conn, row, owner) for row in rows]

    def customer(self, customer_id: str, owner: str | None = None) -> CustomerPage | None:
        """The customer, its contacts, its deals (only `owner`'s when given) and what it paid."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(customers).where(customers.c.customer_id == customer_id)
            ).first()
            if row is None:
                return None
            summary = self._customer_summary(conn, row, owner)
            people = conn.execute(
                select(contacts.c.name, contacts.c.email, contacts.c.phone)
                .where(contacts.c.customer_id == customer_id)
                .order_by(contacts.c.created_at)
            ).all()
        page = self.list_deals(
            owner=owner, stage=None, customer_id=customer_id, source=None, limit=200, cursor=None
        )
        return CustomerPage(
            **summary.model_dump(), deals=page.items, contacts=[dict(p._mapping) for p in people]
        )

    @staticmethod
    def _customer_summary(conn: Any, row: Any, owner: str | None) -> CustomerSummary:
        paid = conn.execute(
            select(payments.c.currency, func.sum(payments.c.amount).label("amount"))
            .join(invoices, invoices.c.number == payments.c.invoice_number)
            .where(invoices.c.customer_id == row.customer_id)
            .group_by(payments.c.currency)
            .order_by(payments.c.currency)
        ).all()
        open_deals = conn.execute(
            select(func.count()).where(
                deals.c.customer_id == row.customer_id,
                deals.c.closed_at.is_(None),
                *([deals.c.owner == owner] if owner else []),
            )
        ).scalar_one()
        return CustomerSummary(
            customer_id=row.customer_id,
            name=row.name,
            email_domain=row.email_domain,
            country=row.country,
            created_at=row.created_at,
            open_deals=open_deals,
            lifetime_value=[{"amount": str(p.amount), "currency": p.currency} for p in paid],
        )


def _follow_up_due(deal: Any) -> datetime | None:
    """When the owner is reminded, by the policy the deal started with."""
    if not deal.policy:
        return None
    policy = DealPolicy.model_validate(deal.policy)
    return deal.created_at + policy.days(policy.qualification.remind_after_days)


def _step(row: Any) -> ApprovalStep:
    return ApprovalStep(
        index=row.idx,
        role=row.role,
        group=row.grp,
        status=row.status,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        comment=row.comment,
        escalated_to=row.escalated_to,
        carried_over=row.carried_over,
        reason=row.reason,
    )


def _contract(row: Any) -> Contract:
    signature = None
    if row.signed_at is not None:
        signature = Signature(
            name=row.signed_name,
            signed_at=row.signed_at,
            ip=row.signed_ip,
            sha256=row.signed_sha256,
        )
    return Contract(
        version=row.version,
        quote_version=row.quote_version,
        body=row.body,
        sha256=row.sha256,
        drafted_at=row.drafted_at,
        signature=signature,
    )


class Task(BaseModel):
    """Something a user should do now."""

    kind: str
    deal_id: str
    title: str
    since: datetime
    due: datetime | None = None


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    email_domain: str | None
    country: str | None
    created_at: datetime
    open_deals: int
    lifetime_value: list[dict[str, Any]]


class CustomerPage(CustomerSummary):
    contacts: list[dict[str, Any]]
    deals: list[DealSummary]
