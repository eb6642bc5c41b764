"""Trained win-probability models kept in Postgres (migration 0027): once per version, the
latest answers with the same predictions it gave before it was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from adapters.storage.tables import win_models
from adapters.storage.win_models import WinModelStore
from domain.deal_history import generate_closed_deals
from domain.win_model import WinModel, train

START = datetime(2024, 1, 1, tzinfo=UTC)


def trained(deals: int, now: datetime) -> WinModel:
    model = train(generate_closed_deals(deals, start=START, seed=5), now)
    assert isinstance(model, WinModel)
    return model


def test_the_latest_model_comes_back_and_predicts_as_before(fresh_engine):
    store = WinModelStore(fresh_engine)
    assert store.latest() is None  # no model yet: the rules are in charge
    older = trained(600, START + timedelta(days=800))
    newer = trained(800, START + timedelta(days=900))
    store.save(newer)
    store.save(older)
    store.save(newer)  # a retried save

    with fresh_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(win_models)).scalar_one() == 2
    latest = store.latest()
    assert latest is not None and latest.version == newer.version
    deals = generate_closed_deals(10, start=START, seed=9)
    assert [latest.predict(d) for d in deals] == [newer.predict(d) for d in deals]
    assert store.metrics() == [newer.metrics, older.metrics]
