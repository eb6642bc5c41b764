"""Typed business errors. The API maps them to HTTP codes in one place; activities and
workflows turn them into non-retryable ApplicationErrors carrying the same type name."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal by a business rule: never retried, always explained."""

    status = 400

    def __init__(self, message: str, *, field: tuple[str | int, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "message": self.message, "field": self.field}


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule (unknown SKU, over-delivery...)."""

    status = 422


class QuoteInvalid(InvalidInput):
    """A quote that cannot be priced."""


class PaymentRefused(InvalidInput):
    """A payment over the open balance, in another currency, or otherwise not acceptable."""


class WrongStage(DomainError):
    """The deal is not at a stage where this action is allowed."""

    status = 409


class Conflict(DomainError):
    """The action collides with something already done (a decided step, a reused key)."""

    status = 409


class CreditHold(Conflict):
    """The customer is on credit hold (domain/credit.py): nothing more is delivered until
    its cause is gone."""


class NotAllowed(DomainError):
    """The actor's role may not do this."""

    status = 403


class NotApprover(NotAllowed):
    """The actor may not decide this approval step (wrong role, or their own deal)."""


class NotFound(DomainError):
    """Unknown, or not the actor's to see."""

    status = 404


ERRORS: dict[str, type[DomainError]] = {
    cls.__name__: cls
    for cls in (
        DomainError,
        InvalidInput,
        QuoteInvalid,
        PaymentRefused,
        WrongStage,
        Conflict,
        CreditHold,
        NotAllowed,
        NotApprover,
        NotFound,
    )
}


def error_from_details(details: dict[str, Any]) -> DomainError:
    """Rebuild a domain error from `DomainError.details()` (as carried by Temporal failures)."""
    cls = ERRORS.get(str(details.get("type")), DomainError)
    field = details.get("field")
    return cls(str(details.get("message", "")), field=tuple(field) if field else None)
