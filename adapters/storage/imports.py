"""Lead imports kept in Postgres: the report of a file (errors, duplicates) and its deals to
start, each marked once started. A batch's deals are opened (listed), 50 to a transaction, before
their workflows start; it is read and marked by row number, so a batch run again after a crash
opens nothing twice (a deal is opened once per deal id) and starts only what is not marked
(starting a deal twice is harmless: its workflow id is its deal id)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from domain.deal import DealInput
from domain.leads import score_lead

from .deals import DealStore
from .tables import lead_import_deals, lead_imports

OPEN_AT_ONCE = 50  # deals opened per transaction by a batch

COLUMNS = ("import_id", "created_by", "created_at", "rows", "to_create", "report", "finished_at")
INSERT_CHUNK = 2_000  # rows per INSERT: a 100,000-row file is 50 statements


class ImportProgress(BaseModel):
    import_id: str
    created_by: str
    created_at: datetime
    rows: int
    to_create: int
    started: int
    finished_at: datetime | None
    report: dict[str, Any]


class StartedDeal(BaseModel):
    row: int
    deal_id: str
    owner: str


class ImportStore:
    def __init__(self, engine: Engine, deals: DealStore | None = None) -> None:
        self.engine = engine
        self.deals = deals or DealStore(engine)

    def create(
        self,
        import_id: str,
        by: str,
        at: datetime,
        rows: int,
        deals: list[tuple[int, DealInput]],
        report: dict[str, Any],
    ) -> bool:
        """Keep the import (once per id: False when it was kept already)."""
        with self.engine.begin() as conn:
            kept = conn.execute(
                insert(lead_imports)
                .values(
                    import_id=import_id,
                    created_by=by,
                    created_at=at,
                    rows=rows,
                    to_create=len(deals),
                    report=report,
                    policy=deals[0][1].policy.model_dump(mode="json") if deals else {},
                )
                .on_conflict_do_nothing()
                .returning(lead_imports.c.import_id)
            ).first()
            if kept is None:
                return False
            for first in range(0, len(deals), INSERT_CHUNK):
                conn.execute(
                    lead_import_deals.insert(),
                    [
                        {
                            "import_id": import_id,
                            "row": row,
                            "deal_id": deal.deal_id,
                            "deal": deal.model_dump(mode="json", exclude={"policy"}),
                        }
                        for row, deal in deals[first : first + INSERT_CHUNK]
                    ],
                )
        return True

    def pending(self, import_id: str, limit: int) -> list[tuple[int, DealInput]]:
        """The next `limit` deals not started yet, by row."""
        with self.engine.connect() as conn:
            policy = conn.execute(
                select(lead_imports.c.policy).where(lead_imports.c.import_id == import_id)
            ).scalar()
            rows = conn.execute(
                select(lead_import_deals.c.row, lead_import_deals.c.deal)
                .where(
                    lead_import_deals.c.import_id == import_id,
                    lead_import_deals.c.started.is_(False),
                )
                .order_by(lead_import_deals.c.row)
                .limit(limit)
            ).all()
        return [(row, DealInput.model_validate({**deal, "policy": policy})) for row, deal in rows]

    def open_batch(
        self,
        import_id: str,
        batch: list[tuple[int, DealInput]],
        at: datetime,
        workflow_id: Callable[[str], str],
    ) -> list[tuple[int, DealInput]]:
        """Open (list) the batch's deals, before any of their workflows runs; the rows whose
        contact has an open deal by now go to the import's duplicates (and leave its deals to
        start). The deals to start, by row."""
        fresh: list[tuple[int, DealInput]] = []
        # Transactions of OPEN_AT_ONCE deals: a new deal counts in the KPI facts of its day,
        # owner and source (migration 0025), rows other leads of the day wait for; short
        # transactions keep that wait short. A chunk run again opens nothing twice.
        for first in range(0, len(batch), OPEN_AT_ONCE):
            duplicates: list[dict[str, Any]] = []
            with self.engine.begin() as conn:
                for row, deal in batch[first : first + OPEN_AT_ONCE]:
                    opened = self.deals.open_deal_in(
                        conn, deal, score_lead(deal.lead), at, workflow_id(deal.deal_id)
                    )
                    if opened.duplicate_of is None:
                        fresh.append((row, deal))
                        continue
                    duplicates.append(
                        {
                            "row": row,
                            "email": deal.lead.email.lower(),
                            "open_deal": opened.duplicate_of,
                        }
                    )
                if duplicates:
                    self._drop_duplicates(conn, import_id, duplicates)
        return fresh

    @staticmethod
    def _drop_duplicates(
        conn: Connection, import_id: str, duplicates: list[dict[str, Any]]
    ) -> None:
        """Rows that became duplicates after the file was read: reported, not to be started."""
        conn.execute(
            delete(lead_import_deals).where(
                lead_import_deals.c.import_id == import_id,
                lead_import_deals.c.row.in_([d["row"] for d in duplicates]),
            )
        )
        report = lead_imports.c.report
        rows = func.coalesce(report["duplicate_rows"], literal([], JSONB)).op("||")(
            literal(duplicates, JSONB)
        )
        conn.execute(
            update(lead_imports)
            .where(lead_imports.c.import_id == import_id)
            .values(
                to_create=lead_imports.c.to_create - len(duplicates),
                report=report.op("||")(func.jsonb_build_object("duplicate_rows", rows)),
            )
        )

    def mark_started(self, import_id: str, rows: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(lead_import_deals)
                .where(
                    lead_import_deals.c.import_id == import_id,
                    lead_import_deals.c.row.in_(rows),
                )
                .values(started=True)
            )

    def finish(self, import_id: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(lead_imports)
                .where(lead_imports.c.import_id == import_id, lead_imports.c.finished_at.is_(None))
                .values(finished_at=at)
            )

    def progress(self, import_id: str) -> ImportProgress | None:
        started = (
            select(func.count())
            .where(
                lead_import_deals.c.import_id == import_id,
                lead_import_deals.c.started.is_(True),
            )
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*(lead_imports.c[name] for name in COLUMNS), started.label("started")).where(
                    lead_imports.c.import_id == import_id
                )
            ).first()
        return None if row is None else ImportProgress.model_validate(dict(row._mapping))

    def started_deals(self, import_id: str, limit: int) -> list[StartedDeal]:
        """The first `limit` deals the import has started, by row."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    lead_import_deals.c.row,
                    lead_import_deals.c.deal_id,
                    lead_import_deals.c.deal["owner"].astext.label("owner"),
                )
                .where(
                    lead_import_deals.c.import_id == import_id,
                    lead_import_deals.c.started.is_(True),
                )
                .order_by(lead_import_deals.c.row)
                .limit(limit)
            ).all()
        return [StartedDeal(row=row, deal_id=deal_id, owner=owner) for row, deal_id, owner in rows]
