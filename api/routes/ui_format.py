"""How the web UI writes amounts, numbers and times: in the reader's locale and time zone
(babel), every amount with its currency, rounded by the one rule of domain/money.py.

The Jinja filters here are registered once on the UI's templates (ui.py) and read the
page's `display` (the user's locale and time zone, else the company's), so every page
writes a figure the same way: `money`, `net_tax_gross`, `datetime` (alias `when`), `date`,
`number`, `percent`, and `sentence` (an audit event in plain words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from domain.display import valid_locale, valid_time_zone
from domain.history_text import describe
from domain.money import MINOR_UNITS, round_money

NONE = "—"


@dataclass(frozen=True)
class Display:
    """A reader's locale (`de_DE`) and IANA time zone (`Europe/Berlin`)."""

    locale: str = "en_GB"
    time_zone: str = "UTC"

    @classmethod
    def choose(cls, locale: str | None, time_zone: str | None, default: Display) -> Display:
        """The user's choice where it is a known locale / zone, else the default's."""
        return cls(
            locale=locale if locale and valid_locale(locale) else default.locale,
            time_zone=time_zone if time_zone and valid_time_zone(time_zone) else default.time_zone,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def html_lang(self) -> str:
        """`de-DE`: the BCP 47 tag for <html lang>."""
        return self.locale.replace("_", "-")


def _decimal(amount: Decimal | str | int | None) -> Decimal | None:
    if amount is None:
        return None
    try:
        return Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return None


def format_money(amount: Decimal | str | int | None, currency: str | None, display: Display) -> str:
    """`€231,840.00` (en_GB), `231.840,00 €` (de_DE): rounded half away from zero to the
    currency's minor unit as everywhere in l2c, then written the reader's way."""
    value = _decimal(amount)
    if value is None:
        return NONE if amount is None else str(amount)
    if not currency:
        return format_decimal(value, locale=display.locale)
    if currency in MINOR_UNITS:
        value = round_money(value, currency)
    return str(format_currency(value, currency, locale=display.locale, currency_digits=True))


def format_when(at: datetime | None, display: Display) -> str:
    """`30 Nov 2026, 10:07` in the reader's zone (a naive time is taken as UTC)."""
    if at is None:
        return NONE
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(display.zone)
    locale = Locale.parse(display.locale)
    day = format_date(local.date(), "medium", locale=locale)
    time = format_time(local.time(), "short", locale=locale)
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return pattern.replace("'", "").format(time, day)


def format_day(day: date | datetime | None, display: Display) -> str:
    """`30 Nov 2026`; a datetime is first moved into the reader's zone."""
    if day is None:
        return NONE
    if isinstance(day, datetime):
        day = (day if day.tzinfo else day.replace(tzinfo=UTC)).astimezone(display.zone).date()
    return str(format_date(day, "medium", locale=display.locale))


def format_net_tax_gross(
    net: Decimal | str | None,
    tax: Decimal | str | None,
    gross: Decimal | str | None,
    currency: str | None,
    display: Display,
) -> Markup:
    """The three amounts, each labelled, so nobody reads a net figure as the gross one."""
    parts = (("net", net), ("tax", tax), ("gross", gross))
    items = "".join(
        f'<span class="ntg-{label}"><small>{label}</small> '
        f"{escape(format_money(value, currency, display))}</span>"
        for label, value in parts
    )
    return Markup(f'<span class="ntg">{items}</span>')


def _display(ctx: Context) -> Display:
    found = ctx.get("display")
    return found if isinstance(found, Display) else Display()


@pass_context
def money_filter(ctx: Context, amount: Any, currency: str | None = None) -> str:
    return format_money(amount, currency, _display(ctx))


@pass_context
def net_tax_gross_filter(
    ctx: Context, net: Any, tax: Any = None, gross: Any = None, currency: str | None = None
) -> Markup:
    return format_net_tax_gross(net, tax, gross, currency, _display(ctx))


@pass_context
def datetime_filter(ctx: Context, at: datetime | None) -> str:
    return format_when(at, _display(ctx))


@pass_context
def date_filter(ctx: Context, day: date | datetime | None) -> str:
    return format_day(day, _display(ctx))


@pass_context
def number_filter(ctx: Context, value: Any) -> str:
    number = _decimal(value)
    return NONE if number is None else str(format_decimal(number, locale=_display(ctx).locale))


@pass_context
def percent_filter(ctx: Context, rate: Any) -> str:
    """A rate of 0.125 as `12.5%` (one decimal at most)."""
    number = _decimal(rate)
    if number is None:
        return NONE
    rounded = number.quantize(Decimal("0.001"))
    return str(format_percent(rounded, locale=_display(ctx).locale, decimal_quantization=False))


@pass_context
def sentence_filter(ctx: Context, event: Any) -> str:
    """An audit event (`action`, `actor`, `data`) in plain words, amounts the reader's way."""
    display = _display(ctx)
    return describe(
        str(event.action),
        str(event.actor),
        event.data if isinstance(event.data, dict) else {},
        lambda amount, currency: format_money(amount, currency, display),
    )


def register_filters(env: Environment) -> None:
    """The one set of formatting filters every UI page uses."""
    env.filters.update(
        money=money_filter,
        net_tax_gross=net_tax_gross_filter,
        datetime=datetime_filter,
        when=datetime_filter,
        date=date_filter,
        number=number_filter,
        percent=percent_filter,
        sentence=sentence_filter,
    )
