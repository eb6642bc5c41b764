"""One engine per process, made from the configured URL; transactions are `with db.begin()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine

from .audit import AUDIT_KEY, anchor_legacy_heads

MIGRATIONS = Path(__file__).parent / "migrations"
AUDIT_HEADS = "0011"  # the migration that adds signed audit heads


def normalize_url(url: str) -> str:
    """Accept plain postgres:// URLs as users write them; we speak psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


# A request gives up rather than hang: Postgres down or restarting answers within seconds.
CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 15_000
POOL_TIMEOUT_S = 5


def make_engine(
    url: str, pool_size: int = 10, audit_key: bytes | None = None, fail_fast: bool = False
) -> Engine:
    """An engine; one that writes audit events carries the audit key (adapters/storage/audit).
    `fail_fast` (the API's): short connect, statement and pool timeouts."""
    options = {AUDIT_KEY: audit_key} if audit_key is not None else {}
    connect_args: dict[str, object] = {}
    if fail_fast:
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }
    return create_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_S if fail_fast else 30,
        future=True,
        execution_options=options,
        connect_args=connect_args,
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str, audit_key: bytes | None = None) -> list[str]:
    """Bring the schema to the newest migration (safe to run on every start). With the audit
    key, an upgrade across 0011 signs the heads of the chains written before it; the deals
    whose chain could not be signed (already broken) are returned."""
    before = _revision(url)
    command.upgrade(alembic_config(url), "head")
    if audit_key is None or before is None or before >= AUDIT_HEADS:
        return []
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            return anchor_legacy_heads(conn, audit_key)
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
