"""The forecast put together: storage's rows, the win scorer's probabilities and the rules
of domain/forecast.py. The API's commands and the weekly snapshot activity both use it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from adapters.storage.forecast import ForecastBook, ForecastDealRow
from domain.forecast import (
    Figures,
    ForecastCategory,
    OpenDeal,
    Period,
    WonDeal,
    roll_up,
    suggest_category,
    suggest_close_date,
)
from domain.stages import DealStage
from domain.win_score import WinScore, WinScorer

NO_SCORE = WinScore(probability=Decimal(0), source="rules", note="no score")


class ForecastDeal(BaseModel):
    """An open deal in the forecast: what the rep set beside what the model suggests."""

    deal_id: str
    owner: str
    team: str | None
    customer_name: str
    stage: DealStage
    amount: Decimal
    currency: str
    probability: Decimal
    probability_source: str
    category: ForecastCategory  # the rep's, else the suggested one
    close_date: date  # the rep's, else the suggested one
    suggested_category: ForecastCategory
    suggested_close_date: date
    set_by: str | None  # None: category and close date are the model's suggestion

    def as_open_deal(self) -> OpenDeal:
        return OpenDeal(**self.model_dump(include=set(OpenDeal.model_fields)))


class Forecaster:
    """Reads the forecast of a period; takes its snapshots."""

    def __init__(self, book: ForecastBook, scorer: WinScorer) -> None:
        self.book = book
        self.scorer = scorer

    def deals(
        self, owner: str | None = None, team: str | None = None, deal_id: str | None = None
    ) -> list[ForecastDeal]:
        rows = self.book.open_deals(owner, team, deal_id)
        scores = self.scorer.scores([r.deal_id for r in rows])
        median = self.book.median_cycle_days() if rows else None
        return [self._deal(r, scores.get(r.deal_id, NO_SCORE), median) for r in rows]

    @staticmethod
    def _deal(row: ForecastDealRow, score: WinScore, median: Decimal | None) -> ForecastDeal:
        category = suggest_category(score.probability)
        close = suggest_close_date(row.created_at, median, row.day_seconds, row.quote_valid_until)
        return ForecastDeal(
            **row.model_dump(include=set(ForecastDeal.model_fields) - {"category", "close_date"}),
            probability=score.probability,
            probability_source=score.source,
            category=row.category or category,
            close_date=row.close_date or close,
            suggested_category=category,
            suggested_close_date=close,
        )

    def figures(
        self,
        period: Period,
        deals: list[ForecastDeal],
        owner: str | None = None,
        team: str | None = None,
    ) -> tuple[dict[str, dict[str, Figures]], dict[str, dict[str, Figures]]]:
        """(per owner, per team) figures of the period for these open deals."""
        won = [WonDeal(**w.model_dump()) for w in self.book.won(period, owner, team)]
        open_deals = [d.as_open_deal() for d in deals]
        return roll_up(open_deals, won, period), roll_up(open_deals, won, period, by="team")

    def take_snapshot(self, period: Period, taken_at: datetime) -> int:
        """Keep every owner's forecast of `period` as it stands; rows written."""
        owners, _ = self.figures(period, self.deals())
        rows = [
            {"taken_at": taken_at, "owner": owner, "currency": currency, **f.model_dump()}
            for owner, by_currency in owners.items()
            for currency, f in by_currency.items()
        ]
        return self.book.save_snapshot(period.key, rows)
