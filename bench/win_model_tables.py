"""Benchmark: the win model as production runs it, from the deal tables.

Starts an embedded Postgres of its own (throwaway folder), migrates it, loads a generated
history (domain/deal_history.py) with adapters/storage/deal_history_loader, and times each
step of the weekly retraining and of scoring: the history read back (one row per stage
visit), the activity `train_win_model` (train, judge on the latest 20 % of closings, store),
a second run with no new closing, and `WinScorer.scores` over open deals. Prints the holdout
figures over all stage rows and over the rows before signature (the pipeline a forecast is
about). Run by hand:  python bench/win_model_tables.py [--deals 20000] [--open 2000]
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from activities.win_model import WinModelActivities
from adapters.embedded import free_port
from adapters.embedded.postgres import EmbeddedPostgres
from adapters.storage.db import make_engine, migrate
from adapters.storage.deal_history_loader import as_stored, load_deals
from adapters.storage.win_history import WinHistory
from adapters.storage.win_models import WinModelStore
from adapters.storage.win_scores import WinScorer
from domain.deal_history import generate_closed_deals
from domain.win_features import DealAtStage
from domain.win_metrics import Scores

START = datetime(2024, 1, 1, tzinfo=UTC)


def row(scores: Scores) -> str:
    figures = f"{scores.auc:.3f} | {scores.brier:.3f} | {scores.calibration_error:.3f}"
    return f"| {scores.name} | {figures} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--open", type=int, default=2_000, help="open deals to score")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="l2c-bench-win-"))
    postgres = EmbeddedPostgres(root / "pg", free_port()).start()
    try:
        postgres.ensure_database("l2c")
        url = postgres.url("l2c")
        migrate(url)
        engine = make_engine(url)
        closed = generate_closed_deals(args.deals, start=START, seed=args.seed)
        deals = [as_stored(d) for d in closed]
        now = max(d.closed_at for d in closed) + timedelta(days=1)
        # Deals still open now, at the stage they were seen at (another seed's deals).
        opened = [
            DealAtStage(
                **d.model_dump(exclude={"won", "closed_at", "deal_id", "decided_at"}),
                deal_id=f"open-{index}",
                decided_at=now,
            )
            for index, d in enumerate(generate_closed_deals(args.open, start=START, seed=77))
        ]
        began = time.perf_counter()
        load_deals(engine, [*deals, *opened])
        load_s = time.perf_counter() - began

        history = WinHistory(engine)
        began = time.perf_counter()
        rows = history.closed_deals()
        read_s = time.perf_counter() - began

        activities = WinModelActivities(history, WinModelStore(engine), clock=lambda: now)
        began = time.perf_counter()
        version = activities.train_win_model()
        train_s = time.perf_counter() - began
        began = time.perf_counter()
        again = activities.train_win_model()
        again_s = time.perf_counter() - began
        assert version is not None and again is None

        metrics = WinModelStore(engine).metrics()[0]
        reopened = [d.deal_id for d in opened]
        scorer = WinScorer(engine, clock=lambda: now)
        scorer.scores(reopened[:1])  # load the model once, as a running API has
        began = time.perf_counter()
        scores = scorer.scores(reopened)
        score_s = time.perf_counter() - began
        mean = sum((s.probability for s in scores.values()), Decimal(0)) / max(len(scores), 1)

        print(f"{args.deals:,} generated deals (seed {args.seed}) in the tables")
        print(f"load {load_s:.1f} s; history read {read_s:.1f} s ({len(rows):,} stage rows)")
        print(f"train, judge and store {train_s:.1f} s; again with no new closing {again_s:.2f} s")
        print(f"score {len(scores):,} open deals {score_s:.2f} s (mean p {mean:.3f})\n")
        print(f"all holdout stage rows ({metrics.holdout_deals:,}):")
        print("| predictor | AUC | Brier | calibration error |\n|---|---:|---:|---:|")
        for judged in (metrics.model, *metrics.rules):
            print(row(judged))
        print(f"\nholdout rows before signature ({metrics.pipeline_deals:,}):")
        print("| predictor | AUC | Brier | calibration error |\n|---|---:|---:|---:|")
        pipeline_rows = [metrics.pipeline] if metrics.pipeline is not None else []
        for judged in (*pipeline_rows, *metrics.pipeline_rules):
            print(row(judged))
        pipeline = metrics.pipeline
        print(
            json.dumps(
                {
                    "deals": args.deals,
                    "stage_rows": len(rows),
                    "load_s": round(load_s, 2),
                    "read_s": round(read_s, 2),
                    "train_s": round(train_s, 2),
                    "again_s": round(again_s, 3),
                    "score_s": round(score_s, 3),
                    "scored": len(scores),
                    "holdout_rows": metrics.holdout_deals,
                    "model_auc": round(metrics.model.auc, 4),
                    "model_brier": round(metrics.model.brier, 4),
                    "model_ece": round(metrics.model.calibration_error, 4),
                    "pipeline_rows": metrics.pipeline_deals,
                    "pipeline_auc": None if pipeline is None else round(pipeline.auc, 4),
                    "pipeline_brier": None if pipeline is None else round(pipeline.brier, 4),
                    "pipeline_ece": None
                    if pipeline is None
                    else round(pipeline.calibration_error, 4),
                }
            )
        )
        engine.dispose()
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
