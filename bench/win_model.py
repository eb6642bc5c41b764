"""Benchmark: the learned win probability against the fixed rules, on a generated history.

Generates closed deals over two years whose endings follow known effects plus noise
(domain/deal_history.py), trains (domain/win_model.py: judged on the latest 20 % of
closings, then refit on all), and prints the holdout metrics of the model and of each fixed
rule. Run by hand:  python bench/win_model.py [--deals 20000] [--seed 16]
Writes nothing to the repository; paste the table into docs/benchmarks.md. The last line is
JSON: {"deals": N, "model_auc": .., "model_brier": .., "model_ece": .., "rules": {..}, ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

from domain.deal_history import generate_closed_deals
from domain.win_model import RulesStayInCharge, train

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 730


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    began = time.perf_counter()
    deals = generate_closed_deals(args.deals, start=START, seed=args.seed, days=DAYS)
    generated_s = time.perf_counter() - began
    now = max(deal.closed_at for deal in deals)
    began = time.perf_counter()
    model = train(deals, now + timedelta(seconds=1))
    trained_s = time.perf_counter() - began
    if isinstance(model, RulesStayInCharge):
        print(f"rules stay in charge: {model.reason}")
        sys.exit(1)

    m = model.metrics
    print(f"{args.deals:,} generated deals (seed {args.seed}), {DAYS} days from {START:%Y-%m-%d}")
    print(
        f"holdout: {m.holdout_deals:,} deals closed from {m.holdout_from:%Y-%m-%d} "
        f"(win rate {m.holdout_win_rate:.3f}); judged model learned from "
        f"{m.holdout_trained_on:,} earlier closings"
    )
    print(f"generated in {generated_s:.1f} s, trained and judged in {trained_s:.1f} s\n")
    print("| predictor | AUC | Brier | calibration error (10 bins) |")
    print("|---|---:|---:|---:|")
    for scores in (m.model, *m.rules):
        print(
            f"| {scores.name} | {scores.auc:.3f} | {scores.brier:.3f} "
            f"| {scores.calibration_error:.3f} |"
        )
    print("\ncalibration of the model (predicted -> observed, deals):")
    for point in m.model.calibration:
        print(f"  {point.predicted:.3f} -> {point.observed:.3f}  ({point.deals})")
    print(
        json.dumps(
            {
                "deals": args.deals,
                "holdout_deals": m.holdout_deals,
                "model_auc": round(m.model.auc, 4),
                "model_brier": round(m.model.brier, 4),
                "model_ece": round(m.model.calibration_error, 4),
                "rules": {
                    r.name: {"auc": round(r.auc, 4), "brier": round(r.brier, 4)} for r in m.rules
                },
                "generate_s": round(generated_s, 2),
                "train_s": round(trained_s, 2),
                "version": m.version,
            }
        )
    )


if __name__ == "__main__":
    main()
