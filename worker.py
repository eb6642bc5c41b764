"""The l2c worker: wires real adapters into the activities and runs the deal workflows."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deal_commits import DealCommitActivities
from activities.email import EmailActivities
from activities.finance import FinanceActivities
from activities.forecast import ForecastActivities
from activities.imports import ImportActivities
from activities.storage import StorageActivities
from activities.webhooks import WebhookActivities
from activities.win_model import WinModelActivities
from adapters.chaos import chaos_from, chaos_refusal
from adapters.deal_commits import DealCommits
from adapters.documents import Documents
from adapters.email.mailer import Mailer, SmtpConfig
from adapters.email.outbox import Outbox, OutboxRelay
from adapters.finance.invoices import InvoiceBook
from adapters.forecasting import Forecaster
from adapters.observability.activity_metrics import ActivityMetrics
from adapters.observability.logs import configure_logging
from adapters.observability.metrics import WorkerMetrics
from adapters.observability.tracing import install_tracer_provider
from adapters.portal_tokens import portal_tokens
from adapters.storage.credit import CustomerCredit
from adapters.storage.db import make_engine
from adapters.storage.deals import DealStore
from adapters.storage.forecast import ForecastBook
from adapters.storage.imports import ImportStore
from adapters.storage.users import UserDirectory
from adapters.storage.views import Views
from adapters.storage.win_history import WinHistory
from adapters.storage.win_models import WinModelStore
from adapters.storage.win_scores import WinScorer
from adapters.temporal import connect_temporal
from adapters.webhooks.relay import WebhookRelay
from adapters.webhooks.secrets import SecretBox
from adapters.webhooks.sender import WebhookSender
from adapters.webhooks.store import WebhookStore
from config import Settings, get_settings
from domain.webhooks import RetrySchedule
from workflows.deal import DealWorkflow
from workflows.forecast_snapshot import ForecastSnapshotWorkflow, forecast_schedule_id
from workflows.invoice import InvoiceWorkflow
from workflows.lead_import import LeadImportWorkflow
from workflows.legacy.deal import DealWorkflow as LegacyDealWorkflow
from workflows.revenue import RevenueWorkflow
from workflows.subscription_billing import SubscriptionBillingWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow
from workflows.win_model_training import WinModelTraining, win_model_schedule_id

# LegacyDealWorkflow: deals started before the Step 9 reshape finish on the code they began on.
WORKFLOWS = [
    DealWorkflow,
    LegacyDealWorkflow,
    InvoiceWorkflow,
    ForecastSnapshotWorkflow,
    RevenueWorkflow,
    SubscriptionBillingWorkflow,
    LeadImportWorkflow,
    WebhookDeliveryWorkflow,
    WinModelTraining,
]
# Pure libraries our domain models use lazily (e-mail validation); safe to share.
PASSTHROUGH = ("email_validator", "idna", "dns")
# The sandbox imports a workflow's module afresh for every run (and compiles it, where
# bytecode is not cached). The deal's stage modules keep no state of their own, so they are
# imported once and shared; only workflows/deal/workflow.py is loaded per run.
SHARED_WORKFLOW_CODE = (
    "workflows.activity_options",
    "workflows.ids",
    "workflows.search_attributes",
    "workflows.deal.effects",
    "workflows.deal.credit",
    "workflows.deal.qualification",
    "workflows.deal.quoting",
    "workflows.deal.approval",
    "workflows.deal.signature",
    "workflows.deal.fulfilment",
    "workflows.deal.billing",
    "workflows.deal.collection",
    "workflows.deal.cancellation",
)


class Effects:
    """The worker's side of the outside world: every activity, bound to the real adapters,
    and the relay that sends what the outbox holds."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        if settings.smtp_host is None:
            raise ValueError("SMTP_HOST is not set")
        mailer = Mailer(
            engine,
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                user=settings.smtp_user,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
            ),
            sender=settings.mail_from,
            seller=settings.seller_name,
            base_url=settings.base_url,
            tokens=portal_tokens(settings.secret_key, settings.portal_token_days),
            users=UserDirectory(engine),
            documents=Documents(Views(engine), settings.seller),
            default_language=settings.default_language,
        )
        outbox = Outbox(mailer)
        self.relay = OutboxRelay(engine, mailer, outbox.wake)
        deals, book = DealStore(engine), InvoiceBook(engine, settings.seller)
        commits = DealCommitActivities(
            DealCommits(engine, deals, book, outbox, refuse=chaos_refusal(settings))
        )
        storage = StorageActivities(deals, CustomerCredit(engine))
        finance = FinanceActivities(book, outbox)
        email = EmailActivities(mailer)
        hooks = WebhookActivities(
            WebhookStore(engine, SecretBox(settings.webhook_sealing_key)),
            WebhookSender(
                settings.webhook_timeout_seconds,
                allow_loopback=settings.webhook_allow_loopback_http,
                allow_private=settings.webhook_allow_private_targets,
            ),
        )
        win_model = WinModelActivities(WinHistory(engine), WinModelStore(engine))
        self.activities: list[Callable[..., Any]] = [
            commits.commit_deal,
            win_model.train_win_model,
            storage.read_credit_exposure,  # deals recorded before read_credit_standing; legacy
            storage.read_credit_standing,
            finance.commit_payment,
            finance.write_off_invoice,
            finance.issue_credit_note,
            finance.credit_undelivered,
            finance.recognize_revenue,
            finance.queue_email,
            email.send_email,
            hooks.deliver_webhook,
            hooks.give_up_webhook,
            # Only deals started before the reshape (workflows/legacy) call these:
            storage.open_deal,
            storage.reassign_owner,
            storage.change_stage,
            storage.record_deal_event,
            storage.save_quote,
            storage.set_quote_status,
            storage.save_contract,
            storage.update_approval_step,
            storage.record_signature,
            storage.create_order,
            storage.record_delivery,
            storage.cancel_order,
            storage.set_blocked,
            finance.issue_invoice,
            finance.close_cancelled_deal,
            finance.record_payment,
        ]


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            *PASSTHROUGH, *SHARED_WORKFLOW_CODE
        )
    )


class Relays:
    """The relays beside the worker: the outbox's (e-mail) and the webhooks'."""

    def __init__(self, *relays: OutboxRelay | WebhookRelay) -> None:
        self.relays = relays

    def start(self) -> Relays:
        for relay in self.relays:
            relay.start()
        return self

    def stop(self) -> None:
        for relay in self.relays:
            relay.stop()


def webhook_retry(settings: Settings) -> RetrySchedule:
    return RetrySchedule(
        initial_seconds=settings.webhook_retry_initial_seconds,
        max_interval_seconds=settings.webhook_retry_max_interval_seconds,
        max_attempts=settings.webhook_retry_max_attempts,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


def make_worker(
    client: Client, settings: Settings, engine: Engine, metrics: WorkerMetrics | None = None
) -> tuple[Worker, Relays]:
    """The Temporal worker and the relays that run beside it (start them yourself). Its
    activities are counted in `metrics` (served by `serve_worker_metrics`)."""
    effects = Effects(settings, engine)
    imports = ImportActivities(ImportStore(engine, DealStore(engine)), client, settings.task_queue)
    # The forecast's win probabilities: the learned model's, the stage rules until one is.
    snapshots = ForecastActivities(Forecaster(ForecastBook(engine), WinScorer(engine)))
    counted = ActivityMetrics(metrics or WorkerMetrics())
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            *effects.activities,
            imports.start_import_batch,
            imports.finish_import,
            snapshots.snapshot_forecast,
        ],
        activity_executor=ThreadPoolExecutor(settings.activity_threads),
        workflow_runner=workflow_runner(),
        interceptors=[*chaos_from(settings), counted],
        max_concurrent_activities=settings.activity_threads,
        # A deal's workflow task runs its command's commit (a local activity) before it
        # completes: take no more tasks at once than commits can run, or under a backlog
        # (an import of thousands of leads) tasks wait for threads, time out and are retried.
        max_concurrent_workflow_tasks=settings.activity_threads,
        max_concurrent_local_activities=settings.activity_threads,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_grace_seconds),
    )
    hooks = WebhookRelay(engine, client, settings.task_queue, webhook_retry(settings))
    return worker, Relays(effects.relay, hooks)


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create the Temporal Schedules l2c runs, or bring them up to the settings (every
    worker does this at start; the last one to start wins, with the same settings)."""
    schedule = Schedule(
        # By the workflow's name: passing WinModelTraining.run here makes mypy (1.x) infer
        # Never for the typed workflow handles of api/gateway.py.
        action=ScheduleActionStartWorkflow(
            "WinModelTraining",
            id=f"win-model-training-{settings.task_queue}",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[settings.win_model_schedule_cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    schedule_id = win_model_schedule_id(settings.task_queue)
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)
        await handle.update(lambda _: ScheduleUpdate(schedule=schedule))
    await ensure_forecast_snapshot_schedule(client, settings.task_queue)


async def run_worker(settings: Settings) -> None:
    """Run against the configured servers until SIGINT or SIGTERM, then stop gracefully:
    poll no more, let running activities finish within `L2C_WORKER_GRACE_SECONDS` (then
    cancel them; Temporal retries them elsewhere), stop the outbox relay."""
    settings.check_secret()
    if settings.database_url is None:
        raise ValueError("DATABASE_URL is not set")
    engine = make_engine(
        settings.database_url,
        pool_size=settings.activity_threads,
        audit_key=settings.audit_secret,
    )
    if settings.otel_enabled:
        install_tracer_provider(settings, "l2c-worker")
    metrics = serve_worker_metrics(settings, engine)
    try:
        client = await connect_temporal(settings, worker=True)
        worker, relay = make_worker(client, settings, engine, metrics)
        await ensure_schedules(client, settings)
        relay.start()
        try:
            await _run_until_signalled(worker, settings)
        finally:
            await asyncio.to_thread(relay.stop)
    finally:
        metrics.stop()
        engine.dispose()


FORECAST_SNAPSHOT_EVERY = timedelta(days=7)


async def ensure_forecast_snapshot_schedule(client: Client, task_queue: str) -> bool:
    """The weekly snapshot of the forecast (docs/forecast.md), created once: every worker
    asks at start, the first creates it; True when this call created it."""
    schedule = Schedule(
        # By name, as the win model's schedule: see ensure_schedules.
        action=ScheduleActionStartWorkflow(
            "ForecastSnapshotWorkflow",
            id=f"forecast-snapshot-{task_queue}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=FORECAST_SNAPSHOT_EVERY)]),
    )
    try:
        await client.create_schedule(forecast_schedule_id(task_queue), schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True


def serve_worker_metrics(settings: Settings, engine: Engine) -> WorkerMetrics:
    """The worker's metrics, the outbox's depth among them, on `L2C_WORKER_METRICS_PORT`
    (stop them after the worker)."""
    metrics = WorkerMetrics()
    metrics.watch_database(engine)
    metrics.serve(settings.metrics_host, settings.worker_metrics_port)
    return metrics


async def _run_until_signalled(worker: Worker, settings: Settings) -> None:
    log = logging.getLogger(__name__)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    running = asyncio.create_task(worker.run())
    log.info("worker on task queue %s", settings.task_queue)
    signalled = asyncio.create_task(stopping.wait())
    await asyncio.wait([running, signalled], return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    if not running.done():
        grace = settings.worker_grace_seconds
        log.info("stopping: running activities may finish within %ss", grace)
        await worker.shutdown()
    await running  # re-raises why the worker failed, if it did
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
