"""The win model's history, read from the deal tables: closed deals seen at each stage they
passed through, and open deals as they stand now.

Won is a deal that reached WON (everything paid). Not won is every other ending: LOST,
DISQUALIFIED, CANCELLED, WRITTEN_OFF (a disqualified lead and a deal cancelled or written off
after signing were not won either; the stage features tell the model how far each got).

One row per stage *visit* (a deal sent back to QUOTING has two QUOTING rows), seen at the
moment it left that stage (the next stage change): the whole stay counts as `days_at_stage`,
and only what was known by then counts. A stage's discount is that of the latest quote
created before that moment, its approvals the steps requested before it (of the latest
contract version by then). The size is the lead's estimated value (known from the start),
else the quote known by then. Days are calendar days (not a test policy's short days).

Four statements for any number of deals: deals, stage changes, quotes, approval steps.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from domain.stage_probabilities import Closings
from domain.stages import CLOSED_STAGES, OPEN_STAGES, DealStage
from domain.win_features import ClosedDeal, DealAtStage

from .tables import approval_steps, deals, quotes, stage_changes

MAX_DAYS = 3650.0
log = logging.getLogger(__name__)


class WinHistory:
    """Reads closed and open deals as the win model sees them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def closed_deals(self) -> list[ClosedDeal]:
        """Every closed deal, once per stage visit before it closed."""
        found = _read(self.engine, deals.c.closed_at.is_not(None), None)
        return [deal for deal in found if isinstance(deal, ClosedDeal)]

    def open_deals(self, deal_ids: Sequence[str], now: datetime) -> dict[str, DealAtStage]:
        """Those of `deal_ids` still open, at the stage they stand at `now`."""
        if not deal_ids:
            return {}
        where = deals.c.deal_id.in_(list(deal_ids)) & deals.c.closed_at.is_(None)
        return {deal.deal_id: deal for deal in _read(self.engine, where, now)}

    def data_cut(self) -> tuple[int, datetime | None]:
        """How many deals have closed, and when the latest closed: what a training run saw."""
        query = select(func.count(), func.max(deals.c.closed_at)).where(
            deals.c.closed_at.is_not(None), deals.c.stage.in_([str(s) for s in CLOSED_STAGES])
        )
        with self.engine.connect() as conn:
            count, latest = conn.execute(query).one()
        return int(count), latest

    def funnel_closings(self) -> dict[int, Closings]:
        """Closed deals by the furthest funnel step they reached, and how many were won."""
        won = func.count().filter(deals.c.stage == str(DealStage.WON))
        query = (
            select(deals.c.furthest_step, func.count(), won)
            .where(deals.c.closed_at.is_not(None), deals.c.furthest_step.is_not(None))
            .group_by(deals.c.furthest_step)
        )
        with self.engine.connect() as conn:
            return {step: Closings(n, w) for step, n, w in conn.execute(query)}


def _read(engine: Engine, where: ColumnElement[bool], now: datetime | None) -> list[DealAtStage]:
    """Closed deals once per stage visit (now is None), or open deals at their current stage."""
    chosen = select(deals.c.deal_id).where(where).scalar_subquery()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                deals.c.deal_id,
                deals.c.owner,
                deals.c.source,
                deals.c.score,
                deals.c.lead,
                deals.c.stage,
                deals.c.closed_at,
            ).where(where)
        ).all()
        visits = _by_deal(
            conn.execute(
                select(stage_changes.c.deal_id, stage_changes.c.stage, stage_changes.c.at)
                .where(stage_changes.c.deal_id.in_(chosen))
                .order_by(stage_changes.c.deal_id, stage_changes.c.seq)
            )
        )
        offers = _by_deal(
            conn.execute(
                select(
                    quotes.c.deal_id,
                    quotes.c.created_at,
                    quotes.c.document["subtotal"].astext,
                    quotes.c.document["discount_total"].astext,
                )
                .where(quotes.c.deal_id.in_(chosen))
                .order_by(quotes.c.deal_id, quotes.c.created_at, quotes.c.version)
            )
        )
        steps = _by_deal(
            conn.execute(
                select(
                    approval_steps.c.deal_id,
                    approval_steps.c.requested_at,
                    approval_steps.c.contract_version,
                ).where(
                    approval_steps.c.deal_id.in_(chosen), approval_steps.c.requested_at.is_not(None)
                )
            )
        )
    out: list[DealAtStage] = []
    for row in rows:
        history = _DealHistory(row, visits[row.deal_id], offers[row.deal_id], steps[row.deal_id])
        try:
            out.extend(history.closed_rows() if now is None else history.now(now))
        except ValidationError as error:  # one odd deal must not stop training or scoring
            log.warning("deal %s left out of the win model: %s", row.deal_id, error)
    return out


def _by_deal(rows: Iterable[Any]) -> defaultdict[str, list[tuple[Any, ...]]]:
    out: defaultdict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(tuple(row[1:]))
    return out


class _DealHistory:
    """One deal's stage changes, quotes and approval steps, asked as of a moment."""

    def __init__(
        self,
        deal: Any,
        visits: list[tuple[Any, ...]],
        offers: list[tuple[Any, ...]],
        steps: list[tuple[Any, ...]],
    ) -> None:
        self.deal = deal
        self.visits = visits  # (stage, at), in order
        self.offers = offers  # (created_at, subtotal, discount_total), in order
        self.steps = steps  # (requested_at, contract_version)

    def closed_rows(self) -> list[ClosedDeal]:
        deal = self.deal
        if deal.closed_at is None or DealStage(deal.stage) not in CLOSED_STAGES:
            return []
        won = deal.stage == DealStage.WON
        out = []
        for index, (stage, entered) in enumerate(self.visits):
            if DealStage(stage) not in OPEN_STAGES:
                continue
            left = self.visits[index + 1][1] if index + 1 < len(self.visits) else deal.closed_at
            decided = min(left, deal.closed_at)
            seen = self._at(DealStage(stage), entered, decided)
            out.append(ClosedDeal(**seen.model_dump(), won=won, closed_at=deal.closed_at))
        return out

    def now(self, now: datetime) -> list[DealAtStage]:
        if not self.visits or DealStage(self.deal.stage) not in OPEN_STAGES:
            return []
        entered = self.visits[-1][1]
        return [self._at(DealStage(self.deal.stage), entered, max(now, entered))]

    def _at(self, stage: DealStage, entered: datetime, decided: datetime) -> DealAtStage:
        lead = self.deal.lead or {}
        offer = next((o for o in reversed(self.offers) if o[0] < decided), None)
        subtotal = Decimal(offer[1] or 0) if offer else Decimal(0)
        discount = Decimal(offer[2] or 0) if offer else Decimal(0)
        estimated = lead.get("estimated_value")
        amount = Decimal(str(estimated)) if estimated is not None else subtotal - discount
        timeline = lead.get("timeline_days")
        return DealAtStage(
            deal_id=self.deal.deal_id,
            owner=self.deal.owner,
            source=self.deal.source,
            country=lead.get("country"),
            amount=max(amount, Decimal(0)),
            score=self.deal.score,
            budget_confirmed=bool(lead.get("budget_confirmed")),
            decision_maker=bool(lead.get("decision_maker")),
            need_described=bool((lead.get("need") or "").strip()),
            timeline_days=timeline,
            discount_pct=(discount * 100 / subtotal).quantize(Decimal("0.01")) if subtotal else 0,
            approvals_needed=min(self._approvals(decided), 20),
            stage=stage,
            days_qualifying=self._days_qualifying(decided),
            days_at_stage=_days(decided - entered),
            decided_at=decided,
        )

    def _approvals(self, decided: datetime) -> int:
        known = [step for step in self.steps if step[0] < decided]
        if not known:
            return 0
        latest = max(step[1] for step in known)
        return sum(1 for step in known if step[1] == latest)

    def _days_qualifying(self, decided: datetime) -> float:
        for index, (stage, entered) in enumerate(self.visits):
            if stage == DealStage.QUALIFYING:
                left = self.visits[index + 1][1] if index + 1 < len(self.visits) else decided
                return _days(min(left, decided) - entered)
        return 0.0


def _days(span: timedelta) -> float:
    return min(max(span.total_seconds() / 86_400, 0.0), MAX_DAYS)
