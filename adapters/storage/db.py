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


def make_engine(url: str, pool_size: int = 10, audit_key: bytes | None = None) -> Engine:
    """An engine; one that writes audit events carries the audit key (adapters/storage/audit)."""
    options = {AUDIT_KEY: audit_key} if audit_key is not None else {}
    return create_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=True,
        future=True,
        execution_options=options,
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
