"""Loads made-up deals (domain/deal_history.py) into the deal tables, for tests and benches.

Set-based: one COPY per table, the KPI triggers off and the facts rebuilt once, so
20,000 deals load in seconds. Each deal gets its own
customer and contact (the foreign keys need them), its lead (source, country, estimated
value, BANT flags), the stage changes up to the stage it was seen at, a quote once it was
quoted (its discount) and one approval step per approval it needed.

How a deal is laid out in time, so that reading it back (adapters/storage/win_history.py)
gives the same deal at the stage it was seen at:
- it entered its seen stage `days_at_stage` before `decided_at`, and leaves it at
  `decided_at`; before that, QUALIFYING took `days_qualifying` and each stage between took
  one day; the quote and its approval steps date from when QUOTING began;
- a won deal then fulfils until `closed_at` and is WON; a lost one is LOST at `decided_at`
  (its closing moves earlier: `as_stored` says so); an open deal stays at its stage.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from domain.policy import DealPolicy
from domain.stages import DealStage
from domain.win_features import ClosedDeal, DealAtStage

SALES_PATH = (
    DealStage.QUALIFYING,
    DealStage.QUOTING,
    DealStage.AWAITING_APPROVAL,
    DealStage.PROPOSED,
    DealStage.AWAITING_SIGNATURE,
)
CURRENCY = "EUR"


def as_stored(deal: DealAtStage) -> DealAtStage:
    """`deal` as the tables keep it: a lost deal closes when it left its seen stage."""
    if isinstance(deal, ClosedDeal) and not deal.won:
        return deal.model_copy(update={"closed_at": deal.decided_at})
    return deal


def load_deals(engine: Engine, loaded: Sequence[DealAtStage]) -> None:
    """Write `loaded` (closed and open) into the tables, in one transaction. For a database
    of its own (a test's, a bench's): it locks the tables and rebuilds every KPI fact."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _TABLES}
    policy = json.dumps(DealPolicy().model_dump(mode="json"))  # the same for every deal
    for deal in loaded:
        _lay_out(deal, rows, policy)
    with engine.begin() as conn:
        # Row by row, the KPI triggers would take most of the time: off for the load, then
        # every fact rebuilt at once (as bench/kpis.py does).
        for table in _TRIGGERED:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for name in _TABLES:
            if rows[name]:
                _copy(cursor, name, rows[name])
        for table in _TRIGGERED:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        conn.execute(text("SELECT kpi_rebuild()"))


_TRIGGERED = ("deals", "stage_changes", "approval_steps")
_TABLES = ("customers", "contacts", "deals", "stage_changes", "quotes", "approval_steps")


def _copy(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY the rows in (text format); a JSON value already a str is written as it is."""
    columns = list(rows[0])
    lines = ("\t".join(_field(row[c]) for c in columns) for row in rows)
    data = io.StringIO("\n".join(lines) + "\n")
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", data)


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        text_value = value.isoformat()
    elif isinstance(value, dict | list):
        text_value = json.dumps(value)
    else:
        text_value = str(value)
    return (
        text_value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _path(deal: DealAtStage) -> list[DealStage]:
    seen = SALES_PATH.index(deal.stage)
    skip_approval = deal.stage is not DealStage.AWAITING_APPROVAL and not deal.approvals_needed
    return [
        s
        for s in SALES_PATH[: seen + 1]
        if s is not DealStage.AWAITING_APPROVAL or not skip_approval
    ]


def _lay_out(deal: DealAtStage, rows: dict[str, list[dict[str, Any]]], policy: Any) -> None:
    path = _path(deal)
    entered_seen = deal.decided_at - timedelta(days=deal.days_at_stage)
    if len(path) == 1:
        times = [entered_seen]
    else:
        start = entered_seen - timedelta(days=deal.days_qualifying + len(path) - 2)
        times = [start] + [
            start + timedelta(days=deal.days_qualifying + step) for step in range(len(path) - 1)
        ]
        times[-1] = entered_seen
    changes = list(zip(path, times, strict=True))
    closed_at: datetime | None = None
    ending: DealStage = deal.stage
    if isinstance(deal, ClosedDeal):
        if deal.won:
            changes += [(DealStage.FULFILLING, deal.decided_at), (DealStage.WON, deal.closed_at)]
            closed_at, ending = deal.closed_at, DealStage.WON
        else:
            changes.append((DealStage.LOST, deal.decided_at))
            closed_at, ending = deal.decided_at, DealStage.LOST
    ident = deal.deal_id
    created = changes[0][1]
    email = f"contact@{ident}.example"
    rows["customers"].append(
        {"customer_id": f"c-{ident}", "name": f"Company {ident}", "name_key": f"company {ident}"}
        | {"country": deal.country, "created_at": created}
    )
    rows["contacts"].append(
        {"contact_id": f"p-{ident}", "customer_id": f"c-{ident}", "name": "Contact"}
        | {"email": email, "created_at": created}
    )
    lead = {
        "company": f"Company {ident}",
        "contact_name": "Contact",
        "email": email,
        "source": str(deal.source),
        "country": deal.country,
        "estimated_value": str(deal.amount),
        "currency": CURRENCY,
        "budget_confirmed": deal.budget_confirmed,
        "decision_maker": deal.decision_maker,
        "need": "described" if deal.need_described else None,
        "timeline_days": deal.timeline_days,
    }
    rows["deals"].append(
        {
            "deal_id": ident,
            "workflow_id": f"history-{ident}",
            "customer_id": f"c-{ident}",
            "contact_id": f"p-{ident}",
            "owner": deal.owner,
            "created_by": deal.owner,
            "source": str(deal.source),
            "email_key": email,
            "stage": str(ending),
            "score": deal.score,
            "score_reasons": [],
            "lead": lead,
            "policy": policy,
            "amount": deal.amount,
            "currency": CURRENCY,
            "created_at": created,
            "updated_at": changes[-1][1],
            "closed_at": closed_at,
            "close_reason": None if closed_at is None else "generated history",
        }
    )
    rows["stage_changes"] += [
        {"deal_id": ident, "seq": seq, "stage": str(stage), "at": at}
        for seq, (stage, at) in enumerate(changes, start=1)
    ]
    if len(path) > 1:
        _quote(deal, times[1], rows)


def _quote(deal: DealAtStage, quoted_at: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    discount = deal.amount * deal.discount_pct / 100
    total = deal.amount - discount
    rows["quotes"].append(
        {
            "deal_id": deal.deal_id,
            "version": 1,
            "currency": CURRENCY,
            "total": total,
            "status": "open",
            "document": {
                "version": 1,
                "currency": CURRENCY,
                "subtotal": str(deal.amount),
                "discount_total": str(discount),
                "tax_total": "0",
                "total": str(total),
            },
            "created_by": deal.owner,
            "created_at": quoted_at,
        }
    )
    rows["approval_steps"] += [
        {
            "deal_id": deal.deal_id,
            "contract_version": 1,
            "idx": index,
            "grp": index,
            "role": "sales_manager",
            "status": "approved",
            "carried_over": False,
            "requested_at": quoted_at,
            "subject": "quote",
        }
        for index in range(deal.approvals_needed)
    ]
