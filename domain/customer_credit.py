"""A customer's credit: money received beyond what its invoices asked, or paid for what a
deal that ended will never deliver, held for it (a liability) until its next invoice in
that currency takes it, or finance pays it back."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .errors import Conflict, PaymentRefused
from .money import Currency, ExactDecimal, has_minor_precision


class CreditMove(StrEnum):
    RECEIVED = "received"  # an overpayment (a bank statement line)
    APPLIED = "applied"  # taken by a new invoice
    REFUNDED = "refunded"  # paid back by finance
    OWED = "owed"  # paid for goods a cancelled or written-off deal never delivered


class CreditBalance(BaseModel):
    """What a customer holds in one currency (shared/API.md `credit: [{amount, currency}]`)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str


class RefundIn(BaseModel):
    """Finance pays credit back (`POST /customers/{id}/refunds`); idempotent by `reference`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[ExactDecimal, Field(gt=0, le=10**12)]
    currency: Currency
    reference: str = Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str
    customer_id: str
    amount: Decimal
    currency: str


def credit_to_apply(available: Decimal, invoice_balance: Decimal) -> Decimal:
    """A new invoice takes as much of the credit as it asks, never more."""
    return max(min(available, invoice_balance), Decimal(0))


def check_refund(available: Decimal, refund: RefundIn) -> None:
    """Pay back at most the credit held in that currency, to its minor unit."""
    if not has_minor_precision(refund.amount, refund.currency):
        raise PaymentRefused(f"more decimals than {refund.currency} has", field=("amount",))
    if refund.amount > available:
        raise PaymentRefused(
            f"{refund.amount} {refund.currency} is more than the customer's credit {available}",
            field=("amount",),
        )


def check_refund_repeat(earlier: Refund, customer_id: str, refund: RefundIn) -> None:
    """A reference names one refund: sent again it must say the same."""
    if (earlier.customer_id, earlier.amount, earlier.currency) != (
        customer_id,
        refund.amount,
        refund.currency,
    ):
        raise Conflict(f"reference {refund.reference} was used for another refund")
