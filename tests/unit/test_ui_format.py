"""The UI's one way of writing amounts and times: per locale and time zone (babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from jinja2 import Environment

from api.routes.ui_format import (
    Display,
    format_day,
    format_money,
    format_net_tax_gross,
    format_when,
    register_filters,
)

GERMAN = Display("de_DE", "Europe/Berlin")
AMERICAN = Display("en_US", "America/New_York")
FRENCH = Display("fr_FR", "Europe/Paris")
AT = datetime(2026, 11, 30, 9, 7, 32, 223608, tzinfo=UTC)


def test_money_is_written_the_readers_way_with_its_currency():
    amount = Decimal("231840.00")
    assert format_money(amount, "EUR", GERMAN) == "231.840,00\xa0€"
    assert format_money(amount, "EUR", AMERICAN) == "€231,840.00"
    assert format_money(amount, "EUR", FRENCH) == "231\u202f840,00\xa0€"


def test_money_rounds_half_away_from_zero_as_the_ledger_does():
    # babel alone would round half to even (1234); l2c's rule gives 1235.
    assert format_money(Decimal("1234.5"), "JPY", AMERICAN) == "¥1,235"
    assert format_money(Decimal("0.125"), "EUR", AMERICAN) == "€0.13"


def test_yen_has_no_minor_unit():
    assert format_money("5000", "JPY", GERMAN) == "5.000\xa0¥"


def test_a_missing_amount_is_a_dash():
    assert format_money(None, "EUR", GERMAN) == "—"


def test_times_are_shown_in_the_readers_zone():
    assert format_when(AT, GERMAN) == "30.11.2026, 10:07"
    assert format_when(AT, AMERICAN) == "Nov 30, 2026, 4:07\u202fAM"
    assert format_when(AT, Display("en_GB", "UTC")) == "30 Nov 2026, 09:07"


def test_a_date_near_midnight_is_the_readers_day():
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert format_day(late, GERMAN) == "01.12.2026"
    assert format_day(date(2026, 11, 30), FRENCH) == "30 nov. 2026"


def test_net_tax_and_gross_are_labelled():
    html = str(format_net_tax_gross("100", "19", "119", "EUR", GERMAN))
    assert "<small>net</small> 100,00\xa0€" in html
    assert "<small>tax</small> 19,00\xa0€" in html
    assert "<small>gross</small> 119,00\xa0€" in html


def test_an_unknown_locale_or_zone_falls_back_to_the_default():
    chosen = Display.choose("xx_YY", "Mars/Olympus", Display("en_GB", "UTC"))
    assert chosen == Display("en_GB", "UTC")
    assert Display.choose("de_DE", None, Display()) == Display("de_DE", "UTC")


def test_templates_format_with_the_pages_display():
    env = Environment(autoescape=True)
    register_filters(env)
    template = env.from_string("{{ a | money('EUR') }} {{ t | datetime }} {{ r | percent }}")
    text = template.render(a=Decimal("1.5"), t=AT, r=Decimal("0.125"), display=GERMAN)
    assert text == "1,50\xa0€ 30.11.2026, 10:07 12,5\xa0%"
