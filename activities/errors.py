"""Business refusals end an activity for good; everything else is retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from domain.errors import DomainError


@contextmanager
def refusals_are_final() -> Iterator[None]:
    """Re-raise a DomainError as a non-retryable ApplicationError of the same type name."""
    try:
        yield
    except DomainError as err:
        raise ApplicationError(
            err.message, err.details(), type=type(err).__name__, non_retryable=True
        ) from err
