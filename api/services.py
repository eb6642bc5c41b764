"""The services a command uses, made once in the app's lifespan and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio.client import Client

from adapters.documents import Documents
from adapters.finance.bank_statements import BankStatements
from adapters.finance.customer_credit import CreditBalances
from adapters.observability.metrics import ApiMetrics
from adapters.portal_tokens import PortalTokens, portal_tokens
from adapters.storage.assignment import AssignmentRules
from adapters.storage.catalogue import Catalogue
from adapters.storage.credit import CustomerCredit
from adapters.storage.customer_details import CustomerDirectory
from adapters.storage.idempotency import IdempotencyStore
from adapters.storage.imports import ImportStore
from adapters.storage.login_attempts import LoginAttempts
from adapters.storage.notes import NoteBook
from adapters.storage.policies import PolicyVersions
from adapters.storage.users import UserDirectory
from adapters.storage.views import Views
from adapters.storage.win_models import WinModelStore
from adapters.storage.win_scores import WinScorer
from adapters.webhooks.secrets import SecretBox
from adapters.webhooks.store import WebhookStore
from config import Settings

from .gateway import TemporalGateway
from .rate_limits import RateLimiter


@dataclass
class Services:
    """Made once in the app's lifespan; shared by every request."""

    settings: Settings
    engine: Engine
    views: Views
    users: UserDirectory
    logins: LoginAttempts
    catalogue: Catalogue
    credit: CustomerCredit
    credit_balances: CreditBalances
    bank: BankStatements
    customers: CustomerDirectory
    policies: PolicyVersions
    assignment: AssignmentRules
    notes: NoteBook
    imports: ImportStore
    idempotency: IdempotencyStore
    portal: PortalTokens
    documents: Documents
    temporal: TemporalGateway
    webhooks: WebhookStore
    public_leads: RateLimiter  # the web-to-lead form's, per client address
    win_scores: WinScorer  # keeps the latest win model loaded
    win_models: WinModelStore


def make_services(
    settings: Settings, engine: Engine, client: Client, metrics: ApiMetrics | None = None
) -> Services:
    """The one wiring of the API's services, on the app's one engine and Temporal client;
    commands are timed in the app's `metrics`."""
    views = Views(engine)
    return Services(
        settings=settings,
        engine=engine,
        views=views,
        users=UserDirectory(engine),
        logins=LoginAttempts(engine),
        catalogue=Catalogue(engine),
        credit=CustomerCredit(engine),
        credit_balances=CreditBalances(engine),
        bank=BankStatements(engine),
        customers=CustomerDirectory(engine),
        policies=PolicyVersions(engine),
        assignment=AssignmentRules(engine),
        notes=NoteBook(engine),
        imports=ImportStore(engine),
        idempotency=IdempotencyStore(engine),
        portal=portal_tokens(settings.secret_key, settings.portal_token_days),
        documents=Documents(views, settings.seller),
        temporal=TemporalGateway(
            client, settings.task_queue, metrics.command_seconds if metrics else None
        ),
        webhooks=WebhookStore(engine, SecretBox(settings.webhook_sealing_key)),
        public_leads=RateLimiter(settings.public_leads_per_minute, settings.public_leads_burst),
        win_scores=WinScorer(engine),
        win_models=WinModelStore(engine),
    )
