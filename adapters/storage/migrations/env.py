"""Alembic environment: online migrations against the configured URL, one transaction."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from adapters.storage.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            # Two processes starting at once must not migrate twice.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(724242)")
            context.run_migrations()


run_migrations_online()
