"""The forecast's pure rules: periods, suggestions, roll-ups (numbers checked by hand) and
the interval (checked against a simulation)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.forecast import (
    ForecastCategory,
    OpenDeal,
    SnapshotFigures,
    WonDeal,
    attainment,
    compare_with_actual,
    expected_interval,
    parse_period,
    quarter_of,
    roll_up,
    suggest_category,
    suggest_close_date,
)

Q4 = parse_period("2026-Q4")


def test_quarters_and_months_parse_to_their_dates() -> None:
    assert (Q4.start, Q4.end) == (date(2026, 10, 1), date(2027, 1, 1))
    november = parse_period("2026-11")
    assert (november.start, november.end, november.last_day) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2026, 11, 30),
    )
    assert parse_period("2026-12").end == date(2027, 1, 1)
    assert parse_period("2026-Q1").end == date(2026, 4, 1)
    assert quarter_of(date(2026, 8, 15)).key == "2026-Q3"
    assert Q4.contains(date(2026, 12, 31)) and not Q4.contains(date(2027, 1, 1))
    assert Q4.has_ended(date(2027, 1, 1)) and not Q4.has_ended(date(2026, 12, 31))


@pytest.mark.parametrize(
    "text", ["2026-Q5", "2026-13", "2026-1", "Q4-2026", "", "2026-Q4 ", "0000-Q1", "9999-12"]
)
def test_a_bad_period_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    assert refused.value.field == ("period",)


def test_the_suggested_category_follows_the_thresholds() -> None:
    assert suggest_category(Decimal("0.7")) is ForecastCategory.COMMIT
    assert suggest_category(Decimal("0.69")) is ForecastCategory.BEST_CASE
    assert suggest_category(Decimal("0.4")) is ForecastCategory.BEST_CASE
    assert suggest_category(Decimal("0.39")) is ForecastCategory.PIPELINE


def test_the_suggested_close_date_is_the_median_cycle_or_the_quote_validity() -> None:
    created = datetime(2026, 10, 1, 12, tzinfo=UTC)
    day = Decimal(86400)
    assert suggest_close_date(created, Decimal(20), day) == date(2026, 10, 21)
    assert suggest_close_date(created, None, day) == date(2026, 10, 31)  # the default 30
    later_quote = datetime(2026, 11, 5, tzinfo=UTC)
    assert suggest_close_date(created, Decimal(20), day, later_quote) == date(2026, 11, 5)
    earlier_quote = datetime(2026, 10, 3, tzinfo=UTC)
    assert suggest_close_date(created, Decimal(20), day, earlier_quote) == date(2026, 10, 21)
    # A test policy's "day" of 60 seconds: 20 of them are 20 minutes.
    assert suggest_close_date(created, Decimal(20), Decimal(60)) == date(2026, 10, 1)


def _open(
    deal_id: str, owner: str, amount: str, p: str, category: str, day: date, team: str = "north"
) -> OpenDeal:
    return OpenDeal(
        deal_id=deal_id,
        owner=owner,
        team=team,
        amount=Decimal(amount),
        currency="EUR",
        probability=Decimal(p),
        category=ForecastCategory(category),
        close_date=day,
    )


def test_the_roll_up_adds_categories_onto_what_closed() -> None:
    nov = date(2026, 11, 15)
    won = [WonDeal(deal_id="w", owner="ann", team="north", amount=Decimal(1000), currency="EUR")]
    open_deals = [
        _open("c", "ann", "500", "0.8", "commit", nov),
        _open("b", "ann", "300", "0.5", "best_case", nov),
        _open("p", "ann", "200", "0.1", "pipeline", nov),
        _open("o", "ann", "100", "0.5", "omitted", nov),
        _open("late", "ann", "9999", "0.9", "commit", date(2027, 1, 1)),  # next quarter
        _open("bob", "bob", "400", "0.5", "commit", nov, team="south"),
    ]

    ann = roll_up(open_deals, won, Q4)["ann"]["EUR"]

    assert ann.closed == Decimal("1000.00")
    assert ann.commit == Decimal("1500.00")  # 1000 + 500
    assert ann.best_case == Decimal("1800.00")  # + 300
    assert ann.pipeline == Decimal("2000.00")  # + 200; omitted counts nowhere
    # 1000 + 0.8*500 + 0.5*300 + 0.1*200 + 0.5*100 (the model's view includes omitted)
    assert ann.expected == Decimal("1620.00")
    # variance: .16*250000 + .25*90000 + .09*40000 + .25*10000 = 68600; sd 261.916
    # 1.28155 * 261.916 = 335.66
    assert ann.expected_low == Decimal("1284.34")
    assert ann.expected_high == Decimal("1955.66")
    teams = roll_up(open_deals, won, Q4, by="team")
    assert set(teams) == {"north", "south"}
    assert teams["south"]["EUR"].commit == Decimal("400.00")
    assert teams["north"]["EUR"].commit == Decimal("1500.00")


def test_attainment_and_the_error_against_what_closed() -> None:
    assert attainment(Decimal(1300), Decimal(1600)) == Decimal("0.8125")
    assert attainment(Decimal(5), None) is None
    assert attainment(Decimal(5), Decimal(0)) is None
    taken = datetime(2026, 10, 1, tzinfo=UTC)
    snap = SnapshotFigures(
        taken_at=taken,
        owner="ann",
        currency="EUR",
        commit=Decimal(1000),
        best_case=Decimal(1500),
        pipeline=Decimal(2000),
        expected=Decimal(1200),
    )
    [row] = compare_with_actual([snap], {("ann", "EUR"): Decimal(1300)})
    assert (row.commit_error, row.best_case_error, row.expected_error) == (
        Decimal(300),
        Decimal(-200),
        Decimal(100),
    )


def test_the_80_percent_interval_holds_about_80_percent_of_simulated_outcomes() -> None:
    rng = random.Random(19)
    deals = [
        (Decimal(rng.randint(1, 50) * 100), Decimal(rng.randint(5, 95)) / 100) for _ in range(60)
    ]
    expected = sum((a * p for a, p in deals), Decimal(0))
    variance = sum((p * (1 - p) * a * a for a, p in deals), Decimal(0))
    low, high = expected_interval(expected, variance)
    runs, inside, below = 20000, 0, 0
    for _ in range(runs):
        total = sum(int(a) for a, p in deals if rng.random() < float(p))
        inside += low <= total <= high
        below += total < low
    assert 0.77 < inside / runs < 0.83
    assert 0.07 < below / runs < 0.13
