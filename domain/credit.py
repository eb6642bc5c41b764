"""A customer's credit: the terms finance sets (a limit in one currency, payment terms) and
the standing they give. A customer is on hold while its open invoices exceed its limit or one
of them is overdue past its grace; a deal of a customer on hold, or that would take it over
its limit, needs finance's approval. Nobody lifts a hold by hand: it ends with its cause.

Exposure is counted in the limit's currency only: open invoices in other currencies are
listed beside it, never converted (l2c has no FX rates) and never summed into it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .errors import CreditHold, InvalidInput
from .money import Currency, ExactDecimal, Money, has_minor_precision


class CreditTerms(BaseModel):
    """What finance set for a customer."""

    model_config = ConfigDict(frozen=True)

    limit: Money
    payment_terms_days: int = Field(ge=0, le=365)


class CreditTermsIn(BaseModel):
    """The body of `PUT /customers/{id}/credit`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    credit_limit: Annotated[ExactDecimal, Field(ge=0, le=10**12)]
    currency: Currency
    payment_terms_days: int = Field(ge=0, le=365)

    def terms(self) -> CreditTerms:
        """The terms, or 422 naming `credit_limit` when it has digits below the currency's."""
        if not has_minor_precision(self.credit_limit, self.currency):
            raise InvalidInput(f"more decimals than {self.currency} has", field=("credit_limit",))
        return CreditTerms(
            limit=Money.of(self.credit_limit, self.currency),
            payment_terms_days=self.payment_terms_days,
        )


class Receivable(BaseModel):
    """An open invoice as credit sees it: what is still owed, when it was due, and how long
    it may stay unpaid after that (its deal's policy) before the customer is held."""

    model_config = ConfigDict(frozen=True)

    number: str
    balance: Money
    due_date: datetime
    grace: timedelta


class OverdueInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    balance: Decimal
    currency: str
    due_date: datetime


class CreditStanding(BaseModel):
    """A customer's credit at one moment. `limit` is None for a customer finance gave no
    terms, read without a deal (each deal then judges by its policy's default limit)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    customer_name: str
    limit: Decimal | None
    currency: str | None
    payment_terms_days: int | None  # None: finance set no terms
    exposure: Decimal | None  # open balances in `currency`
    other_currencies: list[Money]  # open balances in other currencies: not counted, no FX
    overdue: list[OverdueInvoice]  # past their grace
    on_hold: bool
    hold_reasons: list[str]


def credit_standing(
    customer_id: str,
    customer_name: str,
    terms: CreditTerms | None,
    receivables: list[Receivable],
    at: datetime,
    default_limit: Money | None = None,
) -> CreditStanding:
    """Judge the customer at `at`: by finance's terms, else by `default_limit` (a deal's
    policy limit, in the deal's currency). Over the limit means exposure strictly above it;
    overdue means unpaid strictly longer than the invoice's grace after its due date."""
    limit = terms.limit if terms is not None else default_limit
    by_currency: dict[str, Money] = {}
    for r in receivables:
        currency = r.balance.currency
        by_currency[currency] = by_currency.get(currency, Money.zero(currency)) + r.balance
    exposure = None
    if limit is not None:
        exposure = by_currency.pop(limit.currency, Money.zero(limit.currency))
    others = [by_currency[currency] for currency in sorted(by_currency)]
    overdue = [r for r in receivables if at - r.due_date > r.grace]
    reasons: list[str] = []
    if limit is not None and exposure is not None and exposure.amount > limit.amount:
        reasons.append(_over_limit(exposure, limit, others))
    reasons += [
        f"invoice {r.number} ({r.balance}) due {r.due_date.isoformat(timespec='seconds')} "
        "is unpaid past its grace period"
        for r in overdue
    ]
    return CreditStanding(
        customer_id=customer_id,
        customer_name=customer_name,
        limit=None if limit is None else limit.amount,
        currency=None if limit is None else limit.currency,
        payment_terms_days=None if terms is None else terms.payment_terms_days,
        exposure=None if exposure is None else exposure.amount,
        other_currencies=others,
        overdue=[
            OverdueInvoice(
                number=r.number,
                balance=r.balance.amount,
                currency=r.balance.currency,
                due_date=r.due_date,
            )
            for r in overdue
        ],
        on_hold=bool(reasons),
        hold_reasons=reasons,
    )


def _over_limit(exposure: Money, limit: Money, others: list[Money]) -> str:
    reason = f"open invoices of {exposure} exceed the credit limit of {limit}"
    if others:
        uncounted = ", ".join(m.currency for m in others)
        reason += f" (open invoices in {uncounted} are not counted: no FX)"
    return reason


def credit_check(standing: CreditStanding, deal_total: Money) -> str | None:
    """Why finance must approve a deal of `deal_total` for this customer, or None: the
    customer is on hold, or its exposure plus this deal exceeds its limit, or the deal is
    in another currency than the limit (not comparable without FX)."""
    reasons = []
    if standing.on_hold:
        reasons.append(f"customer on credit hold: {'; '.join(standing.hold_reasons)}")
    if standing.limit is not None and standing.currency is not None:
        limit = Money.of(standing.limit, standing.currency)
        exposure = Money.of(standing.exposure or 0, standing.currency)
        if deal_total.currency != limit.currency:
            reasons.append(
                f"the deal is in {deal_total.currency}, the credit limit in {limit.currency}: "
                "not compared (no FX)"
            )
        elif exposure.amount + deal_total.amount > limit.amount:
            reasons.append(f"{exposure} open plus {deal_total} exceeds the limit of {limit}")
    return f"credit check: {'; '.join(reasons)}" if reasons else None


def check_not_on_hold(standing: CreditStanding) -> None:
    """Refuse (409) what a customer on hold may not have, saying why it is held."""
    if standing.on_hold:
        raise CreditHold(
            f"customer {standing.customer_name} is on credit hold: "
            + "; ".join(standing.hold_reasons)
        )
