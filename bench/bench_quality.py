"""Screening quality on a simulated county (see bench/quality.py for the definitions).

uv run python bench/bench_quality.py --households 100000            # simulate, screen monthly, report
uv run python bench/bench_quality.py --dir /tmp/sim20k               # reuse a simulated county
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import add_months, evaluate, month_end, outcomes
from engine.screening import screen
from simulate.screening_inputs import screening_inputs

HORIZON = 6


def screening_dates(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out


def collect(out_dir: Path, dates: list[date], progress=print) -> tuple[list[dict], dict]:
    truth = outcomes(out_dir)
    inputs = screening_inputs(out_dir)
    samples: list[dict] = []
    flagged_at: dict[str, list[date]] = {}
    seconds = []
    for t in dates:
        started = time.perf_counter()
        result = screen(inputs, t)
        seconds.append(time.perf_counter() - started)
        horizon_end = add_months(t, HORIZON)
        cols = result.grades.to_pydict()
        for no, score, grade, fired in zip(
            cols["household_no"], cols["score"], cols["grade"], cols["fired_rules"], strict=True
        ):
            o = truth[no]
            if grade != "green":
                flagged_at.setdefault(no, []).append(t)
            if o.excluded or (o.first is not None and o.first <= t):
                continue
            label = int(o.first is not None and t < o.first <= horizon_end)
            samples.append(
                {"as_of": t, "household_no": no, "label": label, "score": score, "grade": grade,
                 "rules": bool(fired)}
            )  # fmt: skip
        progress(f"{t}: {result.counts()} in {seconds[-1]:.1f}s")
    return samples, {"truth": truth, "flagged_at": flagged_at, "seconds": seconds}


def lead_times(truth: dict, flagged_at: dict[str, list[date]], dates: list[date]) -> list[int]:
    """Days from the first warning of the unbroken run of monthly warnings that reaches the fall to the first day
    of the month the income falls below the line; households without a warning before then are not counted here
    (they are the missed fallers)."""
    out = []
    for no, o in truth.items():
        if o.excluded or o.below is None or o.below <= dates[0]:
            continue
        flagged = set(flagged_at.get(no, []))
        before = [d for d in dates if d < o.below]
        if not before or before[-1] not in flagged:
            continue
        start = before[-1]
        for d in reversed(before):
            if d not in flagged:
                break
            start = d
        out.append((o.below - start).days)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", type=Path, help="a simulated county to reuse")
    ap.add_argument("--first", default="2024-03", help="first screening month (YYYY-MM)")
    ap.add_argument("--last", default="2025-06", help="last screening month (6 months of truth must follow)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    if args.dir is None:
        from simulate import simulate_county

        args.dir = Path(tempfile.mkdtemp(prefix="quality-"))
        print(f"simulating {args.households:,} households (seed {args.seed}) into {args.dir}")
        simulate_county(
            county="520526",
            households=args.households,
            seed=args.seed,
            out_dir=args.dir,
            divisions_dir=Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "divisions",
        )
    y1, m1 = map(int, args.first.split("-"))
    y2, m2 = map(int, args.last.split("-"))
    dates = screening_dates(month_end(y1, m1), month_end(y2, m2))
    samples, extra = collect(args.dir, dates)
    report = {"index": evaluate(samples)}
    leads = lead_times(extra["truth"], extra["flagged_at"], dates)
    report["lead_time_days"] = {
        "fallers_warned_before": len(leads),
        "median": median(leads) if leads else None,
    }
    report["seconds_per_screen"] = median(extra["seconds"])
    print(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
