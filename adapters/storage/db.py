"""One engine per process, made from the configured URL; transactions are `with db.begin()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain postgres:// URLs as users write them; we speak psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = 10) -> Engine:
    return create_engine(
        normalize_url(url), pool_size=pool_size, max_overflow=20, pool_pre_ping=True, future=True
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (safe to run on every start)."""
    command.upgrade(alembic_config(url), "head")
