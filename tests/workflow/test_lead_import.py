"""A lead import is durable background work: a batch lists its deals before their workflows
run, a crash mid-batch (deals started, their rows not yet marked) resumes without a duplicate
deal, and the import's history stays small."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError

from activities.imports import ImportActivities, ImportBatch, start_deals
from adapters.storage.deals import DealStore
from adapters.storage.imports import ImportStore
from adapters.storage.tables import deals
from domain.deal import DealInput
from domain.leads import Lead, score_lead
from tests.conftest import wait_for
from workflows.ids import deal_workflow_id, lead_import_workflow_id
from workflows.lead_import import LeadImport, LeadImportWorkflow

ROWS = 30


def _deal(t: str, row: int) -> DealInput:
    lead = Lead(
        company=f"Resume {t} {row} Oy",
        contact_name=f"C {row}",
        email=f"c{row}@resume-{t}.example",
        source="trade_show",
        country="FI",
    )
    deal_id = uuid.uuid5(uuid.NAMESPACE_URL, f"resume-{t}-{row}").hex
    return DealInput(
        deal_id=deal_id, lead=lead, owner="rep1", created_by="rep1", notify_owner=False
    )


def test_an_import_that_crashed_mid_batch_resumes_without_a_duplicate_deal(live):
    t = uuid.uuid4().hex[:8]
    import_id = f"resume-{t}"
    rows = [(row, _deal(t, row)) for row in range(2, ROWS + 2)]  # line 1 is the header
    store = ImportStore(live.engine)
    assert store.create(import_id, "rep1", datetime.now(UTC), ROWS, rows, report={"errors": []})
    assert not store.create(import_id, "rep1", datetime.now(UTC), ROWS, rows, report={})

    # Before the crash: the first batch (rows 2-6) started and marked; the second started
    # rows 7-16 and died before marking them.
    queue = live.settings.task_queue
    live.run(start_deals(live.client, queue, [deal for _, deal in rows[:15]]))
    store.mark_started(import_id, [row for row, _ in rows[:5]])
    first_runs = {
        deal.deal_id: live.run(
            live.client.get_workflow_handle(deal_workflow_id(deal.deal_id)).describe()
        ).run_id
        for _, deal in rows[:15]
    }

    handle = live.run(
        live.client.start_workflow(
            LeadImportWorkflow.run,
            LeadImport(import_id=import_id, batch_size=10),
            id=lead_import_workflow_id(import_id),
            task_queue=queue,
        )
    )
    assert live.run(handle.result()) == ROWS - 5  # what was not marked, started again or anew

    progress = store.progress(import_id)
    assert progress is not None and progress.finished_at is not None
    assert (progress.started, progress.to_create) == (ROWS, ROWS)
    for deal_id, run_id in first_runs.items():  # the deals started before: the same runs
        described = live.run(live.client.get_workflow_handle(deal_workflow_id(deal_id)).describe())
        assert described.run_id == run_id

    ids = [deal.deal_id for _, deal in rows]

    def recorded() -> int:
        with live.engine.connect() as conn:
            query = select(func.count()).where(deals.c.deal_id.in_(ids))
            return int(conn.execute(query).scalar_one())

    wait_for(lambda: recorded() == ROWS, 120, "every imported deal, once")
    history = live.run(handle.fetch_history())
    assert len(history.events) < 60  # three batches and the finish


def _listed(live, ids: list[str]) -> set[str]:
    with live.engine.connect() as conn:
        return set(conn.execute(select(deals.c.deal_id).where(deals.c.deal_id.in_(ids))).scalars())


def test_a_batch_lists_its_deals_before_their_workflows_run_and_reports_late_duplicates(live):
    t = uuid.uuid4().hex[:8]
    import_id = f"listed-{t}"
    rows = [(row, _deal(t, row)) for row in range(2, 7)]
    store = ImportStore(live.engine)
    now = datetime.now(UTC)
    assert store.create(import_id, "rep1", now, 5, rows, report={"errors": []})
    # Since the file was read, the contact of row 3 has got an open deal of its own.
    late = rows[1][1].model_copy(update={"deal_id": uuid.uuid4().hex})
    DealStore(live.engine).open_deal(late, score_lead(late.lead), now, "deal-elsewhere")

    # No worker polls this queue: the batch's deal workflows are started and never run.
    idle = ImportActivities(store, live.client, task_queue=f"nobody-{t}")
    assert live.run(idle.start_import_batch(ImportBatch(import_id=import_id))) == 5

    fresh = [deal.deal_id for row, deal in rows if row != 3]
    assert _listed(live, [deal.deal_id for _, deal in rows]) == set(fresh)
    for deal_id in fresh:
        handle = live.client.get_workflow_handle(deal_workflow_id(deal_id))
        events = [e.event_type for e in live.run(handle.fetch_history()).events]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED not in events  # it has not run
        live.run(handle.terminate("test done"))
    progress = store.progress(import_id)
    assert progress is not None
    assert (progress.started, progress.to_create) == (4, 4)
    assert progress.report["duplicate_rows"] == [
        {"row": 3, "email": late.lead.email.lower(), "open_deal": late.deal_id}
    ]
    with pytest.raises(RPCError):  # the duplicate's workflow was never started
        live.run(live.client.get_workflow_handle(deal_workflow_id(rows[1][1].deal_id)).describe())
    assert live.run(idle.start_import_batch(ImportBatch(import_id=import_id))) == 0
