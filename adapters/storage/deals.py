"""Writes of the deal's record: one transaction per effect, each with its audit event.

Every method is idempotent: it is keyed by deal and step, so a retried activity finds its
own earlier write and changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from domain.approval import ApprovalStep
from domain.change_orders import ChangeOrder, ChangeOrderStatus
from domain.contract import Contract, Signature
from domain.customers import company_domain, company_key, contact_key, match_customer
from domain.deal import CustomerRef, DealInput, OpenedDeal
from domain.invoices import InvoiceStatus, credit_exposure
from domain.leads import LeadScore
from domain.orders import Delivery, Order, OrderStatus
from domain.quotes import Quote, QuoteStatus
from domain.stages import DealStage

from .audit import append_event
from .sequences import next_number
from .tables import (
    approval_steps,
    change_orders,
    contacts,
    contracts,
    customers,
    deals,
    deliveries,
    invoices,
    orders,
    quotes,
    stage_changes,
)
from .views.rows import invoice_from_row


def _id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


class DealStore:
    """The deal, its customer, quotes, contract, approvals, order and deliveries in Postgres."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- lead and customer ---

    def open_deal(
        self, deal: DealInput, score: LeadScore, at: datetime, workflow_id: str
    ) -> OpenedDeal:
        """Record the deal, unless the contact already has an open one (then: that one)."""
        with self.engine.begin() as conn:
            return self.open_deal_in(conn, deal, score, at, workflow_id)

    def open_deal_in(
        self, conn: Connection, deal: DealInput, score: LeadScore, at: datetime, workflow_id: str
    ) -> OpenedDeal:
        opened = self._opened(conn, deal.deal_id, score)
        if opened is not None:
            return opened
        # Serialize leads of one contact: the loser of a race sees the winner's deal.
        email_key = contact_key(deal.lead.email)
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": email_key})
        open_deal = conn.execute(
            select(deals.c.deal_id).where(
                deals.c.email_key == email_key, deals.c.closed_at.is_(None)
            )
        ).scalar()
        if open_deal == deal.deal_id:  # this very deal, opened meanwhile (an import's batch)
            return self._opened(conn, deal.deal_id, score) or OpenedDeal(duplicate_of=open_deal)
        if open_deal is not None:
            return OpenedDeal(duplicate_of=open_deal)
        customer = self._match_customer(conn, deal, at)
        contact_id = self._contact(conn, customer.customer_id, deal, at)
        conn.execute(
            deals.insert().values(
                deal_id=deal.deal_id,
                workflow_id=workflow_id,
                customer_id=customer.customer_id,
                contact_id=contact_id,
                owner=deal.owner,
                created_by=deal.created_by,
                source=deal.lead.source,
                email_key=email_key,
                stage=DealStage.QUALIFYING,
                score=score.score,
                score_reasons=_dump(score)["reasons"],
                lead=_dump(deal.lead),
                policy=_dump(deal.policy),
                day_seconds=Decimal(str(deal.policy.day.total_seconds())),
                amount=deal.lead.estimated_value,
                currency=deal.lead.currency,
                created_at=at,
                updated_at=at,
            )
        )
        conn.execute(
            stage_changes.insert().values(
                deal_id=deal.deal_id, seq=0, stage=DealStage.QUALIFYING, at=at
            )
        )
        append_event(
            conn,
            deal.deal_id,
            "lead.created",
            at,
            deal.created_by,
            "lead.created",
            {
                "lead": _dump(deal.lead),
                "owner": deal.owner,
                "customer_id": customer.customer_id,
                "score": _dump(score),
            },
        )
        return OpenedDeal(customer=customer, score=score, created_at=at)

    @staticmethod
    def _opened(conn: Connection, deal_id: str, score: LeadScore) -> OpenedDeal | None:
        """The deal as opened before (by an earlier try, or an import's batch), if it was."""
        row = conn.execute(
            select(deals.c.customer_id, deals.c.created_at).where(deals.c.deal_id == deal_id)
        ).first()
        if row is None:
            return None
        name = conn.execute(
            select(customers.c.name).where(customers.c.customer_id == row.customer_id)
        ).scalar_one()
        return OpenedDeal(
            customer=CustomerRef(customer_id=row.customer_id, name=name),
            score=score,
            created_at=row.created_at,
        )

    def reassign(
        self, deal_id: str, owner: str, at: datetime, actor: str, reason: str | None
    ) -> None:
        with self.engine.begin() as conn:
            self.reassign_in(conn, deal_id, owner, at, actor, reason)

    def reassign_in(
        self,
        conn: Connection,
        deal_id: str,
        owner: str,
        at: datetime,
        actor: str,
        reason: str | None,
    ) -> None:
        previous = conn.execute(
            select(deals.c.owner).where(deals.c.deal_id == deal_id).with_for_update()
        ).scalar_one()
        key = f"owner:{owner}:{at.isoformat()}"
        if previous != owner:
            conn.execute(
                update(deals).where(deals.c.deal_id == deal_id).values(owner=owner, updated_at=at)
            )
        append_event(
            conn,
            deal_id,
            key,
            at,
            actor,
            "owner.changed",
            {"from": previous, "to": owner, "reason": reason},
        )

    def _match_customer(self, conn: Connection, deal: DealInput, at: datetime) -> CustomerRef:
        key = company_key(deal.lead.company)
        domain = company_domain(deal.lead.email_domain)
        by_name = conn.execute(
            select(customers.c.customer_id, customers.c.name).where(customers.c.name_key == key)
        ).first()
        by_domain = (
            conn.execute(
                select(customers.c.customer_id, customers.c.name)
                .where(customers.c.email_domain == domain)
                .order_by(customers.c.created_at)
                .limit(1)
            ).first()
            if by_name is None and domain is not None
            else None
        )
        found = match_customer(by_name, by_domain)
        if found is not None:
            return CustomerRef(customer_id=found.customer_id, name=found.name)
        customer_id = _id("cus_", key)
        conn.execute(
            insert(customers)
            .values(
                customer_id=customer_id,
                name=deal.lead.company,
                name_key=key,
                email_domain=domain,
                country=deal.lead.country,
                vat_id=deal.lead.vat_id,
                created_at=at,
            )
            .on_conflict_do_nothing()
        )
        found = conn.execute(
            select(customers.c.customer_id, customers.c.name).where(customers.c.name_key == key)
        ).one()
        return CustomerRef(customer_id=found.customer_id, name=found.name)

    def _contact(self, conn: Connection, customer_id: str, deal: DealInput, at: datetime) -> str:
        email = deal.lead.email.lower()
        contact_id = _id("con_", customer_id, email)
        added = insert(contacts).values(
            contact_id=contact_id,
            customer_id=customer_id,
            name=deal.lead.contact_name,
            email=email,
            phone=deal.lead.phone,
            created_at=at,
            language=deal.lead.language,
        )
        # A later lead of the contact that names a language changes theirs; else it stays.
        language = func.coalesce(added.excluded.language, contacts.c.language)
        conn.execute(
            added.on_conflict_do_update(
                index_elements=["customer_id", "email"], set_={"language": language}
            )
        )
        return str(
            conn.execute(
                select(contacts.c.contact_id).where(
                    contacts.c.customer_id == customer_id, contacts.c.email == email
                )
            ).scalar_one()
        )

    # --- stages and decisions ---

    def change_stage(
        self, deal_id: str, seq: int, stage: DealStage, at: datetime, actor: str, note: str | None
    ) -> None:
        with self.engine.begin() as conn:
            self.change_stage_in(conn, deal_id, seq, stage, at, actor, note)

    def change_stage_in(
        self,
        conn: Connection,
        deal_id: str,
        seq: int,
        stage: DealStage,
        at: datetime,
        actor: str,
        note: str | None,
    ) -> None:
        inserted = conn.execute(
            insert(stage_changes)
            .values(
                deal_id=deal_id,
                seq=seq,
                stage=stage,
                at=at,
                note=note,
            )
            .on_conflict_do_nothing()
            .returning(stage_changes.c.seq)
        ).first()
        if inserted is None:
            return
        values: dict[str, Any] = {"stage": stage, "updated_at": at}
        if stage.is_closed:
            values |= {"closed_at": at, "close_reason": note}
        if stage is DealStage.FULFILLING:  # signed; a change order re-opening it is not
            values["signed_at"] = func.coalesce(deals.c.signed_at, at)
        conn.execute(update(deals).where(deals.c.deal_id == deal_id).values(**values))
        append_event(
            conn,
            deal_id,
            f"stage:{seq}",
            at,
            actor,
            "stage.changed",
            {"stage": stage, "note": note},
        )

    def record_event(
        self, deal_id: str, key: str, at: datetime, actor: str, action: str, data: dict[str, Any]
    ) -> None:
        with self.engine.begin() as conn:
            self.record_event_in(conn, deal_id, key, at, actor, action, data)

    def record_event_in(
        self,
        conn: Connection,
        deal_id: str,
        key: str,
        at: datetime,
        actor: str,
        action: str,
        data: dict[str, Any],
    ) -> None:
        append_event(conn, deal_id, key, at, actor, action, data)

    # --- quotes ---

    def save_quote(self, deal_id: str, quote: Quote, actor: str) -> None:
        with self.engine.begin() as conn:
            self.save_quote_in(conn, deal_id, quote, actor)

    def save_quote_in(
        self, conn: Connection, deal_id: str, quote: Quote, actor: str, pipeline: bool = True
    ) -> None:
        if _quote_saved(conn, deal_id, quote.version):
            return
        number = _quote_number(conn, deal_id, quote)
        inserted = conn.execute(
            insert(quotes)
            .values(
                deal_id=deal_id,
                version=quote.version,
                currency=quote.currency,
                total=quote.total,
                status=quote.status,
                document=_dump(quote.model_copy(update={"number": number})),
                created_by=actor,
                created_at=quote.issued_at,
                number=number,
            )
            .on_conflict_do_nothing()
            .returning(quotes.c.version)
        ).first()
        if inserted is None:
            return
        conn.execute(
            update(quotes)
            .where(
                quotes.c.deal_id == deal_id,
                quotes.c.version < quote.version,
                quotes.c.status == QuoteStatus.OPEN,
            )
            .values(status=QuoteStatus.SUPERSEDED)
        )
        if pipeline:
            self._set_amount(conn, deal_id, quote.net_total, quote.currency, quote.issued_at)
        append_event(
            conn,
            deal_id,
            f"quote:{quote.version}",
            quote.issued_at,
            actor,
            "quote.created",
            {
                "version": quote.version,
                "number": number,
                "total": quote.total,
                "currency": quote.currency,
            },
        )

    @staticmethod
    def _set_amount(
        conn: Connection, deal_id: str, amount: Decimal, currency: str, at: datetime
    ) -> None:
        """The deal's pipeline value: its quote's net, or its signed change order's."""
        conn.execute(
            update(deals)
            .where(deals.c.deal_id == deal_id)
            .values(amount=amount, currency=currency, updated_at=at)
        )

    def set_quote_status(
        self,
        deal_id: str,
        version: int,
        status: QuoteStatus,
        at: datetime,
        actor: str,
        reason: str | None,
    ) -> None:
        with self.engine.begin() as conn:
            self.set_quote_status_in(conn, deal_id, version, status, at, actor, reason)

    def propose_quote_in(
        self, conn: Connection, deal_id: str, version: int, valid_until: datetime, at: datetime
    ) -> None:
        """The approved quote goes to the customer, valid until `valid_until` (idempotent)."""
        conn.execute(
            update(quotes)
            .where(quotes.c.deal_id == deal_id, quotes.c.version == version)
            .values(
                document=func.jsonb_set(
                    quotes.c.document,
                    "{valid_until}",
                    cast(valid_until.isoformat(), JSONB),  # a JSON string
                )
            )
        )
        append_event(
            conn,
            deal_id,
            f"quote:{version}:proposed",
            at,
            "system",
            "quote.proposed",
            {"version": version, "valid_until": valid_until.isoformat()},
        )

    def set_quote_status_in(
        self,
        conn: Connection,
        deal_id: str,
        version: int,
        status: QuoteStatus,
        at: datetime,
        actor: str,
        reason: str | None,
        link_sent_to: str | None = None,
    ) -> None:
        conn.execute(
            update(quotes)
            .where(quotes.c.deal_id == deal_id, quotes.c.version == version)
            .values(status=status)
        )
        data: dict[str, Any] = {"version": version, "reason": reason}
        if link_sent_to is not None:  # the customer answered through the link sent there
            data["link_sent_to"] = link_sent_to
        append_event(conn, deal_id, f"quote:{version}:{status}", at, actor, f"quote.{status}", data)

    # --- contract and approvals ---

    def save_contract(self, deal_id: str, contract: Contract, steps: list[ApprovalStep]) -> None:
        with self.engine.begin() as conn:
            self.save_contract_in(conn, deal_id, contract, steps)

    def save_contract_in(
        self, conn: Connection, deal_id: str, contract: Contract, steps: list[ApprovalStep]
    ) -> None:
        inserted = conn.execute(
            insert(contracts)
            .values(
                deal_id=deal_id,
                version=contract.version,
                quote_version=contract.quote_version,
                body=contract.body,
                sha256=contract.sha256,
                drafted_at=contract.drafted_at,
            )
            .on_conflict_do_nothing()
            .returning(contracts.c.version)
        ).first()
        if inserted is None:
            return
        for step in steps:
            conn.execute(
                approval_steps.insert().values(
                    deal_id=deal_id, contract_version=contract.version, **self._step(step)
                )
            )
        append_event(
            conn,
            deal_id,
            f"contract:{contract.version}",
            contract.drafted_at,
            "system",
            "contract.drafted",
            {
                "version": contract.version,
                "sha256": contract.sha256,
                "approval_roles": [step.role for step in steps],
                "carried_over": [step.role for step in steps if step.carried_over],
            },
        )

    @staticmethod
    def _step(step: ApprovalStep) -> dict[str, Any]:
        return {
            "idx": step.index,
            "role": step.role,
            "status": step.status,
            "requested_at": step.requested_at,
            "decided_at": step.decided_at,
            "decided_by": step.decided_by,
            "comment": step.comment,
            "grp": step.group,
            "escalated_to": step.escalated_to,
            "carried_over": step.carried_over,
            "reason": step.reason,
            "subject": step.subject,
        }

    @staticmethod
    def _step_event(
        conn: Connection,
        deal_id: str,
        contract_version: int,
        step: ApprovalStep,
        action: str,
        at: datetime,
        actor: str,
    ) -> None:
        append_event(
            conn,
            deal_id,
            f"approval:{contract_version}:{step.index}:{action}",
            at,
            actor,
            action,
            {
                "contract_version": contract_version,
                "step": step.index,
                "role": step.role,
                "escalated_to": step.escalated_to,
                "comment": step.comment,
            }
            | (
                {"reason": step.reason, "subject": step.subject}
                if step.subject != "contract"
                else {}
            ),
        )

    def add_approval_step_in(
        self,
        conn: Connection,
        deal_id: str,
        contract_version: int,
        step: ApprovalStep,
        action: str,
        at: datetime,
        actor: str,
    ) -> None:
        """A step asked after the contract's own (a cancellation for finance), once."""
        conn.execute(
            insert(approval_steps)
            .values(deal_id=deal_id, contract_version=contract_version, **self._step(step))
            .on_conflict_do_nothing()
        )
        self._step_event(conn, deal_id, contract_version, step, action, at, actor)

    def update_approval_step(
        self,
        deal_id: str,
        contract_version: int,
        step: ApprovalStep,
        action: str,
        at: datetime,
        actor: str,
    ) -> None:
        with self.engine.begin() as conn:
            self.update_approval_step_in(conn, deal_id, contract_version, step, action, at, actor)

    def update_approval_step_in(
        self,
        conn: Connection,
        deal_id: str,
        contract_version: int,
        step: ApprovalStep,
        action: str,
        at: datetime,
        actor: str,
    ) -> None:
        values = self._step(step)
        del values["idx"]
        conn.execute(
            update(approval_steps)
            .where(
                approval_steps.c.deal_id == deal_id,
                approval_steps.c.contract_version == contract_version,
                approval_steps.c.idx == step.index,
            )
            .values(**values)
        )
        self._step_event(conn, deal_id, contract_version, step, action, at, actor)

    def record_signature(self, deal_id: str, version: int, signature: Signature) -> None:
        with self.engine.begin() as conn:
            self.record_signature_in(conn, deal_id, version, signature)

    def record_signature_in(
        self,
        conn: Connection,
        deal_id: str,
        version: int,
        signature: Signature,
        link_sent_to: str | None = None,
    ) -> None:
        conn.execute(
            update(contracts)
            .where(
                contracts.c.deal_id == deal_id,
                contracts.c.version == version,
            )
            .values(
                signed_name=signature.name,
                signed_at=signature.signed_at,
                signed_ip=signature.ip,
                signed_sha256=signature.sha256,
            )
        )
        append_event(
            conn,
            deal_id,
            f"contract:{version}:signed",
            signature.signed_at,
            f"customer:{signature.name}",
            "contract.signed",
            {"version": version, "sha256": signature.sha256, "ip": signature.ip}
            | ({"link_sent_to": link_sent_to} if link_sent_to is not None else {}),
        )

    # --- order and deliveries ---

    def create_order(self, deal_id: str, order: Order) -> None:
        with self.engine.begin() as conn:
            self.create_order_in(conn, deal_id, order)

    def create_order_in(self, conn: Connection, deal_id: str, order: Order) -> None:
        inserted = conn.execute(
            insert(orders)
            .values(
                order_id=order.order_id,
                deal_id=deal_id,
                currency=order.currency,
                status=order.status,
                lines=_dump(order)["lines"],
                created_at=order.created_at,
                due_date=order.due_date,
            )
            .on_conflict_do_nothing()
            .returning(orders.c.order_id)
        ).first()
        if inserted is None:
            return
        append_event(
            conn,
            deal_id,
            "order.created",
            order.created_at,
            "system",
            "order.created",
            {"order_id": order.order_id, "due_date": order.due_date.isoformat()},
        )

    def set_blocked(
        self, deal_id: str, reason: str | None, at: datetime, actor: str, key: str
    ) -> None:
        with self.engine.begin() as conn:
            self.set_blocked_in(conn, deal_id, reason, at, actor, key)

    def set_blocked_in(
        self, conn: Connection, deal_id: str, reason: str | None, at: datetime, actor: str, key: str
    ) -> None:
        conn.execute(
            update(deals).where(deals.c.deal_id == deal_id).values(blocked=reason, updated_at=at)
        )
        action = "deal.blocked" if reason else "deal.resumed"
        append_event(conn, deal_id, f"{action}:{key}", at, actor, action, {"reason": reason})

    def credit_exposure(self, deal_id: str, currency: str) -> Decimal:
        """What the deal's customer owes on open invoices in `currency` (domain rule)."""
        with self.engine.connect() as conn:
            customer = select(deals.c.customer_id).where(deals.c.deal_id == deal_id)
            rows = conn.execute(
                select(invoices).where(
                    invoices.c.customer_id == customer.scalar_subquery(),
                    invoices.c.status == InvoiceStatus.OPEN,
                )
            ).all()
        return credit_exposure([invoice_from_row(row) for row in rows], currency)

    def cancel_order(self, deal_id: str, at: datetime, actor: str) -> None:
        with self.engine.begin() as conn:
            self.cancel_order_in(conn, deal_id, at, actor)

    def cancel_order_in(self, conn: Connection, deal_id: str, at: datetime, actor: str) -> None:
        changed = conn.execute(
            update(orders)
            .where(orders.c.deal_id == deal_id, orders.c.status != OrderStatus.CANCELLED)
            .values(status=OrderStatus.CANCELLED)
            .returning(orders.c.order_id)
        ).first()
        if changed is not None:
            append_event(
                conn,
                deal_id,
                "order.cancelled",
                at,
                actor,
                "order.cancelled",
                {"order_id": changed.order_id},
            )

    def record_delivery(self, deal_id: str, delivery: Delivery, order: Order, actor: str) -> None:
        """The delivery, and the order as it stands after it."""
        with self.engine.begin() as conn:
            self.record_delivery_in(conn, deal_id, delivery, order, actor)

    def save_change_order_in(
        self,
        conn: Connection,
        deal_id: str,
        change: ChangeOrder,
        action: str,
        at: datetime,
        actor: str,
    ) -> None:
        """The change order as it stands (idempotent: one audit event per status); signed,
        its net total becomes the deal's amount."""
        stmt = insert(change_orders).values(
            deal_id=deal_id,
            number=change.number,
            status=change.status,
            document=_dump(change),
            updated_at=at,
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[change_orders.c.deal_id, change_orders.c.number],
                set_={
                    "status": stmt.excluded.status,
                    "document": stmt.excluded.document,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )
        if change.status is ChangeOrderStatus.SIGNED:
            self._set_amount(conn, deal_id, change.net_total, change.currency, at)
        append_event(
            conn,
            deal_id,
            f"change_order:{change.number}:{change.status}",
            at,
            actor,
            action,
            {
                "number": change.number,
                "status": change.status,
                "quote_version": change.quote_version,
                "contract_version": change.contract_version,
                "delta_total": str(change.delta_total),
                "currency": change.currency,
                "reason": change.reason,
                "note": change.note,
            },
        )

    def update_order_in(
        self, conn: Connection, deal_id: str, order: Order, change: int, at: datetime
    ) -> None:
        """The order under a signed change order."""
        conn.execute(
            update(orders)
            .where(orders.c.deal_id == deal_id)
            .values(
                lines=_dump(order)["lines"], status=order.status, fulfilled_at=order.fulfilled_at
            )
        )
        append_event(
            conn,
            deal_id,
            f"order:changed:{change}",
            at,
            "system",
            "order.changed",
            {
                "change_order": change,
                "lines": {line.sku: str(line.quantity) for line in order.lines},
                "status": order.status,
            },
        )

    def record_delivery_in(
        self, conn: Connection, deal_id: str, delivery: Delivery, order: Order, actor: str
    ) -> None:
        inserted = conn.execute(
            insert(deliveries)
            .values(
                deal_id=deal_id,
                reference=delivery.reference,
                lines=_dump(delivery)["lines"],
                delivered_at=delivery.delivered_at,
                recorded_by=actor,
            )
            .on_conflict_do_nothing()
            .returning(deliveries.c.reference)
        ).first()
        if inserted is None:
            return
        conn.execute(
            update(orders)
            .where(orders.c.deal_id == deal_id)
            .values(
                lines=_dump(order)["lines"],
                status=order.status,
                fulfilled_at=order.fulfilled_at,
            )
        )
        append_event(
            conn,
            deal_id,
            f"delivery:{delivery.reference}",
            delivery.delivered_at,
            actor,
            "delivery.recorded",
            {
                "reference": delivery.reference,
                "lines": _dump(delivery)["lines"],
                "order_status": order.status,
            },
        )


def _quote_saved(conn: Connection, deal_id: str, version: int) -> bool:
    found = conn.execute(
        select(quotes.c.version).where(quotes.c.deal_id == deal_id, quotes.c.version == version)
    ).first()
    return found is not None


def _quote_number(conn: Connection, deal_id: str, quote: Quote) -> str:
    """The deal's quote number (given with its first quote, from the Q series) and the
    version: what the customer reads on the quote and finds on each invoice."""
    first = conn.execute(
        select(quotes.c.number)
        .where(quotes.c.deal_id == deal_id, quotes.c.number.is_not(None))
        .order_by(quotes.c.version)
        .limit(1)
    ).scalar()
    base = first.rsplit("-v", 1)[0] if first else next_number(conn, quote.issued_at.year, "Q")
    return f"{base}-v{quote.version}"
