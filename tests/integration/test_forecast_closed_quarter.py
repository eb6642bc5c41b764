"""Issue 19's test: the forecast of a closed quarter is compared with what closed.

A quarter's deals are written straight into an empty database; the forecast is snapshotted
at the quarter's start; then some deals are signed in the quarter, one after it, one is
lost and one stays open. The ended quarter's forecast shows each snapshot beside what
actually closed, and every number below is worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from sqlalchemy import Engine, update

from adapters.forecasting import Forecaster
from adapters.storage.forecast import ForecastBook, Quota, StageScorer
from adapters.storage.tables import contacts, customers, deal_forecasts, deals, users
from api.commands.forecast import forecast
from domain.forecast import parse_period
from domain.users import Actor, Role

Q3 = parse_period("2025-Q3")
MANAGER = Actor(username="boss", role=Role.SALES_MANAGER)


def at(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 12, tzinfo=UTC)


# deal: owner, amount, stage at the quarter's start (its rules probability), category, close
OPEN_AT_START = {
    "A1": ("ann", D(10000), "PROPOSED", "commit", date(2025, 8, 15)),  # p 0.6
    "A2": ("ann", D(5000), "QUOTING", "best_case", date(2025, 9, 10)),  # p 0.3
    "A3": ("ann", D(4000), "AWAITING_SIGNATURE", "commit", date(2025, 9, 30)),  # p 0.8
    "A4": ("ann", D(2000), "QUALIFYING", "pipeline", date(2025, 7, 20)),  # p 0.1
    "B1": ("bob", D(8000), "AWAITING_SIGNATURE", "commit", date(2025, 8, 1)),  # p 0.8
    "B2": ("bob", D(3000), "PROPOSED", "best_case", date(2025, 9, 1)),  # p 0.6
    "B3": ("bob", D(6000), "QUOTING", "omitted", date(2025, 9, 1)),  # p 0.3
}
# What happened: signed (won) or lost, when; B2 stays open.
SIGNED = {"A1": at(8, 20), "A4": at(7, 25), "B1": at(8, 3), "B3": at(9, 5), "A3": at(10, 2)}
LOST = {"A2": at(9, 12)}


def load(engine: Engine) -> None:
    with engine.begin() as conn:
        for name in ("ann", "bob"):
            conn.execute(
                users.insert().values(
                    username=name,
                    role="sales_rep",
                    email=f"{name}@x.example",
                    password_hash="-",
                    created_at=at(1, 1),
                    team="north",
                )
            )
        conn.execute(
            customers.insert().values(customer_id="C", name="C", name_key="c", created_at=at(1, 1))
        )
        conn.execute(
            contacts.insert().values(
                contact_id="K", customer_id="C", name="C", email="c@x.example", created_at=at(1, 1)
            )
        )
        for deal_id, (owner, amount, stage, category, close) in OPEN_AT_START.items():
            conn.execute(
                deals.insert().values(
                    deal_id=deal_id,
                    workflow_id=f"deal-{deal_id}",
                    customer_id="C",
                    contact_id="K",
                    owner=owner,
                    created_by=owner,
                    source="web",
                    email_key=f"{deal_id}@x.example",
                    stage=stage,
                    score=50,
                    score_reasons=[],
                    lead={},
                    policy={},
                    amount=amount,
                    currency="EUR",
                    created_at=at(6, 1),
                    updated_at=at(6, 1),
                )
            )
            conn.execute(
                deal_forecasts.insert().values(
                    deal_id=deal_id,
                    category=category,
                    close_date=close,
                    set_by=owner,
                    set_at=at(6, 30),
                )
            )


def close_the_quarter(engine: Engine) -> None:
    with engine.begin() as conn:
        for deal_id, signed in SIGNED.items():
            conn.execute(
                update(deals)
                .where(deals.c.deal_id == deal_id)
                .values(stage="FULFILLING", signed_at=signed)
            )
        for deal_id, lost in LOST.items():
            conn.execute(
                update(deals).where(deals.c.deal_id == deal_id).values(stage="LOST", closed_at=lost)
            )


def test_the_forecast_of_a_closed_quarter_is_compared_with_what_closed(
    fresh_engine: Engine,
) -> None:
    load(fresh_engine)
    book = ForecastBook(fresh_engine)
    forecaster = Forecaster(book, StageScorer(fresh_engine))
    start = datetime(2025, 7, 1, tzinfo=UTC)
    book.set_quota(
        Quota(
            owner="ann",
            period="2025-Q3",
            amount=D(15000),
            currency="EUR",
            set_by="admin",
            set_at=start,
        )
    )

    assert forecaster.take_snapshot(Q3, start) == 2  # one row per owner (all in EUR)
    assert forecaster.take_snapshot(Q3, start) == 2  # a retried snapshot writes nothing new
    close_the_quarter(fresh_engine)
    report = forecast(forecaster, MANAGER, "2025-Q3")

    assert report.ended
    rows = {(r.owner, r.currency): r for r in report.vs_actual}
    assert set(rows) == {("ann", "EUR"), ("bob", "EUR")}
    ann, bob = rows["ann", "EUR"], rows["bob", "EUR"]
    # ann at the start: commit A1 + A3 = 14000; best case + A2 = 19000;
    # expected .6*10000 + .3*5000 + .8*4000 + .1*2000 = 10900.
    # Closed in Q3: A1 10000 + A4 2000 = 12000 (A3 signed on 2 October, A2 lost).
    assert (ann.commit, ann.best_case, ann.expected) == (D(14000), D(19000), D(10900))
    assert ann.actual == D(12000)
    assert (ann.commit_error, ann.best_case_error, ann.expected_error) == (
        D(-2000),
        D(-7000),
        D(1100),
    )
    # bob at the start: commit B1 8000; best case + B2 = 11000 (B3 omitted);
    # expected .8*8000 + .6*3000 + .3*6000 = 10000. Closed: B1 8000 + B3 6000 = 14000.
    assert (bob.commit, bob.best_case, bob.expected) == (D(8000), D(11000), D(10000))
    assert bob.actual == D(14000)
    assert (bob.commit_error, bob.best_case_error, bob.expected_error) == (
        D(6000),
        D(3000),
        D(4000),
    )
    owners = {line.key: line for line in report.owners}
    assert owners["ann"].figures["EUR"].closed == D(12000)
    assert owners["ann"].attainment == {"EUR": D("0.8")}  # 12000 / 15000
    # B2 is still open and dated inside the ended quarter: it shows, overdue, in the list.
    assert [d.deal_id for d in report.deals] == ["B2"]
    [north] = report.teams
    assert north.key == "north" and north.figures["EUR"].closed == D(26000)
    assert north.quota == {"EUR": D(15000)}
