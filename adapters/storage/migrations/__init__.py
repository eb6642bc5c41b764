"""Alembic migrations of the l2c schema; `adapters.storage.db.migrate` applies them."""
