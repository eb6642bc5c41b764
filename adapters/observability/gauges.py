"""Gauges read from Postgres when Prometheus scrapes: deals by stage and the outbox's depth.

Read at scrape time (one short, read-only query each) rather than kept in memory, so every
API and worker process reports the same truth, however many of them run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from adapters.storage.tables import deals, emails
from domain.stages import DealStage

log = logging.getLogger(__name__)


def _deals_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("l2c_deals", "Deals by their current stage", labels=["stage"])


def _outbox_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("l2c_outbox_depth", "E-mails in the outbox not yet sent")


class DealsByStage(Collector):
    """`l2c_deals{stage}`: one GROUP BY over deals; every stage reported, empty ones as 0."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [_deals_family()]  # registration must not query

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = _deals_family()
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(deals.c.stage, func.count()).group_by(deals.c.stage))
                counts = {stage: n for stage, n in rows}
        except SQLAlchemyError as err:  # a scrape never fails for the database: no sample
            log.warning("metrics: deals by stage unavailable (%s)", str(err).splitlines()[0])
            return []
        for stage in [*DealStage, *(s for s in counts if s not in DealStage.__members__)]:
            family.add_metric([str(stage)], counts.get(str(stage), 0))
        return [family]


class OutboxDepth(Collector):
    """`l2c_outbox_depth`: pending e-mails (a partial index covers exactly these rows)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [_outbox_family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = _outbox_family()
        try:
            with self.engine.connect() as conn:
                depth = conn.execute(
                    select(func.count()).select_from(emails).where(emails.c.status == "pending")
                ).scalar_one()
        except SQLAlchemyError as err:
            log.warning("metrics: outbox depth unavailable (%s)", str(err).splitlines()[0])
            return []
        family.add_metric([], depth)
        return [family]
