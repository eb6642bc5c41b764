"""Money: exact Decimal amounts with an ISO 4217 currency, rounded to its minor unit."""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# ISO 4217 minor units of the currencies l2c prices in. Add a currency here to sell in it.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "INR": 2,
    "CNY": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "SGD": 2,
    "NZD": 2,
    "HKD": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
}


def _currency(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in MINOR_UNITS:
        return value.upper()
    raise ValueError(f"unsupported currency {value!r}; one of {', '.join(sorted(MINOR_UNITS))}")


def _no_float(value: Any) -> Any:
    # A JSON number with a fraction arrives as a float and may already be inexact.
    if isinstance(value, float):
        raise ValueError('give money and rates as decimal strings, e.g. "12.50", not floats')
    return value


Currency = Annotated[str, BeforeValidator(_currency)]
ExactDecimal = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False)]


def exact() -> AbstractContextManager[object]:
    """Arithmetic wide enough that no product or sum of amounts we accept is ever rounded
    by Decimal itself (its default keeps only 28 digits); only round_money rounds."""
    return localcontext(prec=80)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half away from zero to the currency's minor unit (the rule used everywhere)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def has_minor_precision(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no digits below the currency's minor unit."""
    return round_money(amount, currency) == amount


class Money(BaseModel):
    """An amount in a currency, always held at the currency's minor unit."""

    model_config = ConfigDict(frozen=True)

    amount: ExactDecimal
    currency: Currency

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        currency = _currency(currency)
        return cls(amount=round_money(Decimal(amount), currency), currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount - other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
