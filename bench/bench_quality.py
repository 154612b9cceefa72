"""Screening quality: rules alone, the index and the learned model side by side, on held-out data (see
bench/quality.py for the definitions).

The model trains on one simulated county (`--train`) at the early screening dates and is measured on another
county (`--test`, a different seed) at dates after the training labels' horizon: out of time and out of county.
The index and the rules are measured on exactly the same held-out households and dates. Lead time is measured on
the held-out county over every screening date (the model never saw that county).

uv run python bench/bench_quality.py --households 20000                     # simulate seeds 1 and 2, report
uv run python bench/bench_quality.py --train /tmp/hq/sim20k --test /tmp/hq/sim20k_s2 --model-out var/models/screening
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import TOP_SHARES, evaluate, lead_times, outcomes
from engine.screening.model import ScreeningModel
from engine.screening.rules import DEFAULT_RULES
from simulate.screening_labels import HORIZON, Frame, add_months, frames, monthly, train_model

SEVERE = {r.code for r in DEFAULT_RULES if r.severity == "severe"}
METHODS = ("rules", "index", "model")


def method_scores(frame: Frame, model: ScreeningModel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(score, grade) for every household of the frame, per method."""
    fired = [[c for c in (f or "").split(";") if c] for f in frame.scored.column("fired_rules").to_pylist()]
    severe = np.array([any(c in SEVERE for c in f) for f in fired], dtype=bool)
    hard = np.array([bool(f) for f in fired], dtype=bool)
    rules_score = 2.0 * severe + hard + np.array([len(f) for f in fired]) / 100.0
    rules_grade = np.where(severe, "red", np.where(hard, "yellow", "green"))
    prob = model.predict(frame.scored)
    return {
        "rules": (rules_score, rules_grade),
        "index": (
            np.asarray(frame.scored.column("score").to_pylist(), dtype=float),
            np.asarray(frame.scored.column("grade").to_pylist()),
        ),
        "model": (prob, model.grade(prob, severe, hard)),
    }


def simulate(households: int, seed: int) -> Path:
    from simulate import simulate_county

    out = Path(tempfile.mkdtemp(prefix=f"quality-s{seed}-"))
    print(f"simulating {households:,} households (seed {seed}) into {out}")
    simulate_county(
        county="520526",
        households=households,
        seed=seed,
        out_dir=out,
        divisions_dir=Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "divisions",
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=20000)
    ap.add_argument("--train", type=Path, help="simulated county to train on (default: simulate seed 1)")
    ap.add_argument("--test", type=Path, help="held-out simulated county (default: simulate seed 2)")
    ap.add_argument("--first", default="2024-03", help="first screening month (YYYY-MM)")
    ap.add_argument("--train-last", default="2024-08", help="last training month")
    ap.add_argument(
        "--test-first", default="2025-02", help="first held-out month (after the training horizon)"
    )
    ap.add_argument("--last", default="2025-06", help="last screening month (6 months of truth must follow)")
    ap.add_argument("--model-out", type=Path, help="save the trained model here (model.txt + model.json)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    train_dir = args.train or simulate(args.households, 1)
    test_dir = args.test or simulate(args.households, 2)
    all_dates = monthly(args.first, args.last)
    train_dates = monthly(args.first, args.train_last)
    test_dates = monthly(args.test_first, args.last)
    started = time.perf_counter()
    train_frames = frames(train_dir, train_dates, progress=print)
    test_frames = frames(test_dir, all_dates, progress=print)
    screening_seconds = time.perf_counter() - started
    t = time.perf_counter()
    held = [f for f in test_frames if f.as_of in set(test_dates)]
    model = train_model(
        train_dir,
        test_dir,
        train_dates,
        test_dates,
        train_frames=train_frames,
        test_frames=held,
        name="bench",
    )
    train_seconds = time.perf_counter() - t
    print(model.why)
    if args.model_out:
        model.save(args.model_out)
        print(f"model saved to {args.model_out}")

    truth = outcomes(test_dir)
    pooled: dict[str, dict[str, list]] = {
        m: {"labels": [], "scores": [], "grades": [], "dates": []} for m in METHODS
    }
    flagged_at: dict[str, dict[str, set[date]]] = {m: {} for m in METHODS}
    explain_seconds = []
    for f in test_frames:
        per = method_scores(f, model)
        nos = f.scored.column("household_no").to_pylist()
        for m, (score, grade) in per.items():
            for no in np.asarray(nos, dtype=object)[grade != "green"]:
                flagged_at[m].setdefault(no, set()).add(f.as_of)
            if f.as_of in set(test_dates):
                idx = np.flatnonzero(f.at_risk)
                pooled[m]["labels"].extend(f.labels[idx].tolist())
                pooled[m]["scores"].extend(score[idx].tolist())
                pooled[m]["grades"].extend(grade[idx].tolist())
                pooled[m]["dates"].extend([f.as_of] * len(idx))
        if f.as_of in set(test_dates):
            t = time.perf_counter()
            _, grade = per["model"]
            model.contributions(f.scored.take(np.flatnonzero(grade != "green")))
            explain_seconds.append(time.perf_counter() - t)
    report: dict = {
        "train": {"county": str(train_dir), "dates": [str(train_dates[0]), str(train_dates[-1])]},
        "held_out": {
            "county": str(test_dir),
            "dates": [str(test_dates[0]), str(test_dates[-1])],
            "lead_time_dates": [str(all_dates[0]), str(all_dates[-1])],
            "horizon_months": HORIZON,
            "out_of_time": test_dates[0] >= add_months(train_dates[-1], HORIZON),
        },
        "model_file": {k: v for k, v in model.meta.items() if k not in ("features",)},
    }
    for m in METHODS:
        p = pooled[m]
        report[m] = evaluate(p["labels"], p["scores"], p["grades"], p["dates"])
        leads = lead_times(truth, flagged_at[m], all_dates)
        report[m]["lead_time_days"] = {
            "fallers_warned_before": len(leads),
            "median": median(leads) if leads else None,
        }
    report["seconds"] = {
        "screening_per_date": screening_seconds / (len(train_dates) + len(all_dates)),
        "training": train_seconds,
        "contributions_per_date_red_yellow": median(explain_seconds) if explain_seconds else None,
    }
    print(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


def table(report: dict) -> str:
    rows = [
        "| method | AUC | recall@5 % | recall red+yellow | flagged | precision red+yellow | precision red | red share "
        "| missed fallers | false alarms red / yellow | median lead time (d) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in METHODS:
        r = report[m]
        rows.append(
            f"| {m} | {r['auc']:.3f} | {r['recall_at_workload']:.3f} | {r['recall_flagged']:.3f} | "
            f"{r['flagged_share']:.1%} | {r['precision_flagged']:.3f} | {r['precision_red']:.3f} | "
            f"{r['red_share']:.1%} | {r['missed_fallers']} of {r['positives']} | "
            f"{r['false_alarms']['red']:,} / {r['false_alarms']['yellow']:,} | {r['lead_time_days']['median']} |"
        )
    rows += [
        "",
        "| method | " + " | ".join(f"top {share:.1%}" for share in TOP_SHARES) + " |",
        "|---|" + "---|" * len(TOP_SHARES),
    ]
    for m in METHODS:
        top = report[m]["at_top"]
        rows.append(
            f"| {m} (precision / recall) | "
            + " | ".join(
                f"{top[share]['precision']:.3f} / {top[share]['recall']:.3f}" for share in TOP_SHARES
            )
            + " |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
