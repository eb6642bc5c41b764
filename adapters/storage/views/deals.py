"""Deals as people read them: one deal whole (one SQL statement), pages of deals, history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, exists, select, text

from domain.audit import AuditEvent, AuditHead
from domain.change_orders import ChangeOrder
from domain.deal import CustomerRef, DealState, TimelineEntry
from domain.invoices import Payment
from domain.leads import LeadScore, ScoreReason
from domain.orders import Delivery, Order
from domain.quotes import Quote
from domain.stages import DealStage

from ..audit import deal_events, deal_head
from ..tables import audit_events, customers, deals, deliveries, quotes, stage_changes
from .paging import Page, after, key_of, page_of
from .rows import contract_from_row, from_json, invoice_from_row, step_from_row


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


DealPage = Page[DealSummary]
# A page of deals is ordered newest first by (created_at, deal_id).
_DEAL_ORDER = (deals.c.created_at, deals.c.deal_id)
_DEAL_KEY = (datetime, str)


class DealFilter(BaseModel):
    """Which deals a page lists; None matches any."""

    owner: str | None = None
    stage: DealStage | None = None
    customer_id: str | None = None
    source: str | None = None
    # The UI's team pipeline and drill-downs: amount range (any currency), open or closed
    # deals only, deals that reached a stage (dashboard funnel), created in a period.
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    closed: bool | None = None
    reached: DealStage | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


# Each child list aggregated to JSON text in its own subquery: the whole deal in one round
# trip, numbers parsed exactly (rows.from_json).
_DEAL_STATE = text(
    """
    SELECT d.deal_id, d.stage, d.owner, d.customer_id, d.source, d.score, d.score_reasons,
           d.close_reason, d.blocked, d.lead ->> 'company' AS company,
           (SELECT coalesce(jsonb_object_agg(u.key, u.value), '{}') FROM jsonb_each_text(d.lead) u
             WHERE left(u.key, 4) = 'utm_' AND u.value IS NOT NULL)::text AS campaign,
           (d.policy ->> 'version')::int AS policy_version,
           cu.name AS customer_name, co.name AS contact_name, co.email, co.phone,
           (SELECT coalesce(json_agg(json_build_object('document', q.document,
                                                       'status', q.status)
                                     ORDER BY q.version), '[]')
              FROM quotes q WHERE q.deal_id = d.deal_id)::text AS quotes,
           (SELECT row_to_json(c) FROM contracts c WHERE c.deal_id = d.deal_id
             ORDER BY c.signed_at IS NOT NULL DESC, c.version DESC  -- not a change's draft
             LIMIT 1)::text AS contract,
           (SELECT coalesce(json_agg(s ORDER BY s.idx), '[]') FROM approval_steps s
             WHERE s.deal_id = d.deal_id
               AND s.contract_version = (SELECT max(c.version) FROM contracts c
                                          WHERE c.deal_id = d.deal_id))::text AS approvals,
           (SELECT row_to_json(o) FROM orders o WHERE o.deal_id = d.deal_id)::text AS order_,
           (SELECT coalesce(json_agg(x ORDER BY x.delivered_at), '[]') FROM deliveries x
             WHERE x.deal_id = d.deal_id)::text AS deliveries,
           (SELECT coalesce(json_agg(i ORDER BY i.issued_at, i.number), '[]') FROM invoices i
             WHERE i.deal_id = d.deal_id)::text AS invoices,
           (SELECT coalesce(json_agg(p ORDER BY p.received_at), '[]') FROM payments p
             WHERE p.deal_id = d.deal_id)::text AS payments,
           (SELECT coalesce(json_agg(t ORDER BY t.seq), '[]') FROM stage_changes t
             WHERE t.deal_id = d.deal_id)::text AS timeline,
           (SELECT coalesce(json_agg(k.document ORDER BY k.number), '[]') FROM change_orders k
             WHERE k.deal_id = d.deal_id)::text AS change_orders
    FROM deals d
    JOIN customers cu ON cu.customer_id = d.customer_id
    JOIN contacts co ON co.contact_id = d.contact_id
    WHERE d.deal_id = :deal_id
    """
)


def _state(row: Any) -> DealState:
    contract, order = from_json(row.contract), from_json(row.order_)
    return DealState(
        deal_id=row.deal_id,
        stage=row.stage,
        owner=row.owner,
        customer=CustomerRef(customer_id=row.customer_id, name=row.customer_name),
        contact={
            "name": row.contact_name,
            "email": row.email,
            "phone": row.phone,
            "company": row.company,
        },
        source=row.source,
        campaign=from_json(row.campaign),
        score=LeadScore(
            score=row.score, reasons=[ScoreReason.model_validate(r) for r in row.score_reasons]
        ),
        quotes=[
            Quote.model_validate({**q["document"], "status": q["status"]})
            for q in from_json(row.quotes)
        ],
        contract=None if contract is None else contract_from_row(contract),
        approvals=[step_from_row(s) for s in from_json(row.approvals)],
        order=None if order is None else Order.model_validate(order),
        deliveries=[Delivery.model_validate(d) for d in from_json(row.deliveries)],
        invoices=[invoice_from_row(i) for i in from_json(row.invoices)],
        payments=[Payment.model_validate(p) for p in from_json(row.payments)],
        change_orders=[ChangeOrder.model_validate(k) for k in from_json(row.change_orders)],
        timeline=[
            TimelineEntry(at=t["at"], stage=t["stage"], note=t["note"])
            for t in from_json(row.timeline)
        ],
        close_reason=row.close_reason,
        blocked=row.blocked,
        policy_version=row.policy_version,
    )


def _narrowing(where: DealFilter) -> list[ColumnElement[bool]]:
    """The conditions of a filter beyond equality: ranges, open or closed, a stage reached."""
    found: list[ColumnElement[bool]] = []
    if where.min_amount is not None:
        found.append(deals.c.amount >= where.min_amount)
    if where.max_amount is not None:
        found.append(deals.c.amount <= where.max_amount)
    if where.closed is not None:
        found.append(deals.c.closed_at.isnot(None) if where.closed else deals.c.closed_at.is_(None))
    if where.reached is not None:
        found.append(
            exists().where(
                stage_changes.c.deal_id == deals.c.deal_id,
                stage_changes.c.stage == where.reached,
            )
        )
    if where.created_from is not None:
        found.append(deals.c.created_at >= where.created_from)
    if where.created_before is not None:
        found.append(deals.c.created_at < where.created_before)
    return found


class DealViews:
    """Reads of deals: who may touch one, one whole, a page of them, their history."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def quote_number(self, deal_id: str, version: int) -> str | None:
        """The number a saved quote was given (None before it is saved)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(quotes.c.number).where(
                    quotes.c.deal_id == deal_id, quotes.c.version == version
                )
            ).scalar()

    def row(self, deal_id: str) -> DealRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deals.c.deal_id, deals.c.owner, deals.c.stage, deals.c.customer_id).where(
                    deals.c.deal_id == deal_id
                )
            ).first()
        return None if row is None else DealRow.model_validate(dict(row._mapping))

    def delivered(self, deal_id: str, reference: str) -> bool:
        """Whether the deal has a delivery of this reference already."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(deliveries.c.reference).where(
                    deliveries.c.deal_id == deal_id, deliveries.c.reference == reference
                )
            ).first()
        return found is not None

    def state(self, deal_id: str) -> DealState | None:
        """The deal as `GET /deals/{id}` shows it, in one SQL statement."""
        with self.engine.connect() as conn:
            row = conn.execute(_DEAL_STATE, {"deal_id": deal_id}).first()
        return None if row is None else _state(row)

    def summary(self, deal_id: str) -> DealSummary | None:
        """The deal as the board shows it (its pipeline amount: the net of its quote)."""
        query = (
            select(deals, customers.c.name.label("customer_name"))
            .join(customers, customers.c.customer_id == deals.c.customer_id)
            .where(deals.c.deal_id == deal_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else DealSummary.model_validate(dict(row._mapping))

    def page(self, where: DealFilter, limit: int, cursor: str | None) -> DealPage:
        """Newest first; `cursor` resumes after the last item of the page before."""
        query = select(deals, customers.c.name.label("customer_name")).join(
            customers, customers.c.customer_id == deals.c.customer_id
        )
        for column, value in (
            (deals.c.owner, where.owner),
            (deals.c.stage, where.stage),
            (deals.c.customer_id, where.customer_id),
            (deals.c.source, where.source),
        ):
            if value is not None:
                query = query.where(column == value)
        query = query.where(*_narrowing(where))
        last = key_of(cursor, _DEAL_KEY)
        if last is not None:
            query = query.where(after(_DEAL_ORDER, last, descending=True))
        query = query.order_by(*(c.desc() for c in _DEAL_ORDER)).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [DealSummary.model_validate(dict(r._mapping)) for r in rows]
        return page_of(found, limit, lambda d: (d.created_at, d.deal_id), _DEAL_KEY)

    def ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(deals.c.deal_id).order_by(deals.c.created_at)).scalars()
            )

    def history(self, deal_id: str) -> list[AuditEvent]:
        with self.engine.connect() as conn:
            return deal_events(conn, deal_id)

    def history_page(self, deal_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        """A page of the deal's audit events, oldest first, after the cursor's `seq`."""
        query = select(audit_events).where(audit_events.c.deal_id == deal_id)
        last = key_of(cursor, (int,))
        if last is not None:
            query = query.where(audit_events.c.seq > last[0])
        query = query.order_by(audit_events.c.seq).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        found = [AuditEvent.model_validate(dict(row)) for row in rows]
        return page_of(found, limit, lambda e: (e.seq,), (int,))

    def chain(self, deal_id: str) -> tuple[list[AuditEvent], AuditHead | None]:
        """The deal's audit events and its signed head, read in one snapshot."""
        with self.engine.connect() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            return deal_events(conn, deal_id), deal_head(conn, deal_id)

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
