"""The sales forecast: periods, forecast categories, the model's suggestions, and the
roll-up of deals into per-owner and per-team figures with an interval. Pure: storage reads
the deals, a `WinScorer` gives the probabilities, the clock is passed in.

Definitions (docs/forecast.md says the same for people):
- closed: deals won in the period, i.e. signed (deals.signed_at) in it.
- commit = closed + open deals in the commit category closing in the period;
  best_case = commit + open best_case; pipeline = best_case + open pipeline; omitted counts
  nowhere.
- expected = closed + the sum of p * amount over open deals closing in the period (omitted
  ones too: the model's view does not care what the rep calls them), with an 80 % interval
  from the normal approximation of a sum of independent Bernoulli outcomes.
Every figure is per currency: no FX.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput

# The model suggests a category from the win probability: at least COMMIT_AT is commit,
# at least BEST_CASE_AT best case, anything below is pipeline (it never suggests omitted).
COMMIT_AT = Decimal("0.7")
BEST_CASE_AT = Decimal("0.4")
# Without any signed deal to learn a median sales cycle from, a deal is expected to close
# this many policy days after it was created.
DEFAULT_CYCLE_DAYS = Decimal(30)
# The interval: P(sum <= low) = P(sum >= high) = 10 %; z is the standard normal's 90th
# percentile.
INTERVAL_LEVEL = Decimal("0.8")
Z_80 = Decimal("1.2815515655446004")
CENT = Decimal("0.01")


class ForecastCategory(StrEnum):
    COMMIT = "commit"
    BEST_CASE = "best_case"
    PIPELINE = "pipeline"
    OMITTED = "omitted"


# ---- periods ---------------------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 1900, 2999
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Period(BaseModel):
    """A calendar month ("2026-11") or quarter ("2026-Q4"): [start, end) in dates."""

    model_config = ConfigDict(frozen=True)

    key: str
    start: date
    end: date  # exclusive: the first day after the period

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def has_ended(self, today: date) -> bool:
        return today >= self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(text: str, field: str = "period") -> Period:
    """ "2026-Q4" or "2026-11"; anything else is a 422 naming `field`."""
    quarter, month = _QUARTER.match(text), _MONTH.match(text)
    if (quarter or month) and not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
        raise InvalidInput(f"a year from {FIRST_YEAR} to {LAST_YEAR}", field=(field,))
    if quarter:
        year, first = int(quarter[1]), (int(quarter[2]) - 1) * 3 + 1
        return Period(key=text, start=date(year, first, 1), end=_month_start(year, first + 3))
    if month:
        year, number = int(month[1]), int(month[2])
        return Period(key=text, start=date(year, number, 1), end=_month_start(year, number + 1))
    raise InvalidInput("a period is a quarter like 2026-Q4 or a month like 2026-11", field=(field,))


def quarter_of(day: date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


# ---- suggestions -----------------------------------------------------------------------


def suggest_category(probability: Decimal) -> ForecastCategory:
    if probability >= COMMIT_AT:
        return ForecastCategory.COMMIT
    if probability >= BEST_CASE_AT:
        return ForecastCategory.BEST_CASE
    return ForecastCategory.PIPELINE


def suggest_close_date(
    created_at: datetime,
    median_cycle_days: Decimal | None,
    day_seconds: Decimal,
    quote_valid_until: datetime | None = None,
) -> date:
    """created_at + the median sales cycle (in the deal's policy days), or the end of the
    quote's validity when that is later (a customer holding a valid quote may sign up to
    its last day). Kept simple on purpose: no seasonality, no per-owner cycle."""
    cycle = median_cycle_days if median_cycle_days is not None else DEFAULT_CYCLE_DAYS
    expected = created_at + timedelta(seconds=float(cycle * day_seconds))
    if quote_valid_until is not None and quote_valid_until > expected:
        expected = quote_valid_until
    return expected.date()


# ---- roll-up ---------------------------------------------------------------------------


class OpenDeal(BaseModel):
    """An open deal with an amount, as the forecast sees it."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    owner: str
    team: str | None = None
    amount: Decimal
    currency: str
    probability: Decimal
    category: ForecastCategory  # the rep's, or the suggested one when set_by is None
    close_date: date
    set_by: str | None = None  # None: both category and close date are the model's


class WonDeal(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal_id: str
    owner: str
    team: str | None = None
    amount: Decimal
    currency: str


class Figures(BaseModel):
    """One owner's (or team's) forecast in one currency."""

    closed: Decimal = Decimal(0)
    commit: Decimal = Decimal(0)
    best_case: Decimal = Decimal(0)
    pipeline: Decimal = Decimal(0)
    expected: Decimal = Decimal(0)
    expected_low: Decimal = Decimal(0)
    expected_high: Decimal = Decimal(0)
    variance: Decimal = Field(default=Decimal(0), exclude=True)


def _add_open(f: Figures, deal: OpenDeal) -> None:
    p, amount = deal.probability, deal.amount
    f.expected += p * amount
    f.variance += p * (1 - p) * amount * amount
    if deal.category is ForecastCategory.OMITTED:
        return
    f.pipeline += amount
    if deal.category is not ForecastCategory.PIPELINE:
        f.best_case += amount
    if deal.category is ForecastCategory.COMMIT:
        f.commit += amount


def _add_won(f: Figures, deal: WonDeal) -> None:
    for name in ("closed", "commit", "best_case", "pipeline", "expected"):
        setattr(f, name, getattr(f, name) + deal.amount)


def expected_interval(expected: Decimal, variance: Decimal) -> tuple[Decimal, Decimal]:
    """The 80 % interval of a sum of independent amount-weighted Bernoullis, by the normal
    approximation (mean ± z * sd), clipped at zero below."""
    spread = Z_80 * variance.sqrt() if variance > 0 else Decimal(0)
    return max(Decimal(0), expected - spread), expected + spread


def _finish(f: Figures) -> Figures:
    low, high = expected_interval(f.expected, f.variance)
    return Figures(
        closed=f.closed.quantize(CENT),
        commit=f.commit.quantize(CENT),
        best_case=f.best_case.quantize(CENT),
        pipeline=f.pipeline.quantize(CENT),
        expected=f.expected.quantize(CENT),
        expected_low=low.quantize(CENT),
        expected_high=high.quantize(CENT),
    )


def roll_up(
    open_deals: Iterable[OpenDeal], won: Iterable[WonDeal], period: Period, by: str = "owner"
) -> dict[str, dict[str, Figures]]:
    """Figures per owner (by="owner") or per team (by="team", no team: "") and currency.
    Open deals count when their close date falls in the period; won ones are given
    already filtered to the period."""
    raw: dict[str, dict[str, Figures]] = {}

    def cell(deal: OpenDeal | WonDeal) -> Figures:
        key = deal.owner if by == "owner" else (deal.team or "")
        return raw.setdefault(key, {}).setdefault(deal.currency, Figures())

    for deal in won:
        _add_won(cell(deal), deal)
    for open_deal in open_deals:
        if period.contains(open_deal.close_date):
            _add_open(cell(open_deal), open_deal)
    return {
        key: {c: _finish(f) for c, f in sorted(cur.items())} for key, cur in sorted(raw.items())
    }


def attainment(closed: Decimal, quota: Decimal | None) -> Decimal | None:
    """closed / quota, to four places (0.8125 is 81.25 %); None without a positive quota."""
    if quota is None or quota <= 0:
        return None
    return (closed / quota).quantize(Decimal("0.0001"))


class SnapshotFigures(BaseModel):
    """A forecast as it stood when a snapshot was taken, for one owner and currency."""

    model_config = ConfigDict(frozen=True)

    taken_at: datetime
    owner: str
    currency: str
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    expected: Decimal


class ForecastVsActual(BaseModel):
    """A snapshot's forecast next to what closed; error = actual - forecast."""

    taken_at: datetime
    owner: str
    currency: str
    actual: Decimal
    commit: Decimal
    best_case: Decimal
    expected: Decimal
    commit_error: Decimal
    best_case_error: Decimal
    expected_error: Decimal


def compare_with_actual(
    snapshots: Iterable[SnapshotFigures], actual: dict[tuple[str, str], Decimal]
) -> list[ForecastVsActual]:
    """Each snapshot's figures beside the actual closed of its owner and currency."""
    rows = []
    for s in snapshots:
        closed = actual.get((s.owner, s.currency), Decimal(0))
        rows.append(
            ForecastVsActual(
                taken_at=s.taken_at,
                owner=s.owner,
                currency=s.currency,
                actual=closed,
                commit=s.commit,
                best_case=s.best_case,
                expected=s.expected,
                commit_error=closed - s.commit,
                best_case_error=closed - s.best_case,
                expected_error=closed - s.expected,
            )
        )
    return sorted(rows, key=lambda r: (r.taken_at, r.owner, r.currency))
