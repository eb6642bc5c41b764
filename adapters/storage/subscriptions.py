"""Subscription histories: each state of a subscription as it takes effect, written with the
command that caused it (and its audit event), read back for the API and the SaaS KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert

from domain.subscriptions import Subscription

from .audit import append_event
from .tables import subscription_states


class SubscriptionStore:
    """`subscription_states`: one row per state, keyed (subscription, seq) so a retried
    command writes nothing twice."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_in(
        self,
        conn: Connection,
        deal_id: str,
        state: Subscription,
        seq: int,
        at: datetime,
        actor: str,
        action: str,
        data: dict[str, Any],
    ) -> None:
        written = conn.execute(
            insert(subscription_states)
            .values(
                subscription_id=state.subscription_id,
                seq=seq,
                deal_id=deal_id,
                customer_id=state.customer_id,
                currency=state.currency,
                effective_from=state.effective_from,
                term_end=state.term_end,
                state=state.model_dump(mode="json"),
                recorded_at=at,
            )
            .on_conflict_do_nothing()
        )
        if written.rowcount:
            key = f"subscription:{state.subscription_id}:{seq}"
            event = {"subscription_id": state.subscription_id, "sku": state.sku, **data}
            append_event(conn, deal_id, key, at, actor, action, event)

    def states(self, subscription_id: str) -> tuple[str, list[Subscription]] | None:
        """The subscription's deal and its states, oldest first; None if unknown."""
        found = self.by_deal(None, subscription_id)
        return found[0] if found else None

    def by_deal(
        self, deal_id: str | None, subscription_id: str | None = None
    ) -> list[tuple[str, list[Subscription]]]:
        """Each subscription (of a deal, or one, or all) with its deal and states."""
        query = select(
            subscription_states.c.deal_id,
            subscription_states.c.subscription_id,
            subscription_states.c.state,
        ).order_by(subscription_states.c.subscription_id, subscription_states.c.seq)
        if deal_id is not None:
            query = query.where(subscription_states.c.deal_id == deal_id)
        if subscription_id is not None:
            query = query.where(subscription_states.c.subscription_id == subscription_id)
        found: dict[str, tuple[str, list[Subscription]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                deal, states = found.setdefault(row.subscription_id, (row.deal_id, []))
                states.append(Subscription.model_validate(row.state))
        return list(found.values())

    def in_force_between(self, start: datetime, end: datetime) -> list[Subscription]:
        """Every state that may be in force at some instant of [start, end]: those of terms
        not ended by `start` and taking effect by `end` (the KPIs pick per instant)."""
        query = (
            select(subscription_states.c.state)
            .where(
                subscription_states.c.term_end > start,
                subscription_states.c.effective_from <= end,
            )
            .order_by(subscription_states.c.subscription_id, subscription_states.c.seq)
        )
        with self.engine.connect() as conn:
            return [Subscription.model_validate(row.state) for row in conn.execute(query)]
