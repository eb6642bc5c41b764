"""Temporal activities: thin, idempotent adapters between workflows and the outside world.

Each module holds one class whose constructor takes its adapters (wired in worker.py only)
and the pydantic inputs its methods take. Nothing here imports SQLAlchemy at runtime, so
workflows can import these modules for their stubs.
"""
