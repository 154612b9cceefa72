"""Benchmark: simulate a county of N households (default 1,000,000) and report time per stage and peak memory.

    uv run python bench/bench_simulate.py --households 1000000
    uv run python bench/bench_simulate.py --households 20000 --quirks

Goal (bench/README.md): 1M households in < 3 min and < 8 GB RAM; 20k households in a few seconds. Writes into a
temporary directory that is removed afterwards unless --out is given.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from simulate import simulate_county

DIVISIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "divisions"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the files here (default: a removed temp dir)"
    )
    parser.add_argument("--quirks", action="store_true")
    parser.add_argument("--divisions", type=Path, default=DIVISIONS)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="guardline-sim-"))
    stages: list[tuple[str, float]] = []
    started = last = time.monotonic()
    current = ["start"]

    def progress(done: int, total: int, stage: str) -> None:
        nonlocal last
        now = time.monotonic()
        stages.append((current[0], now - last))
        current[0], last = stage, now
        print(f"  [{done}/{total}] {stage}", file=sys.stderr, flush=True)

    try:
        summary = simulate_county(
            households=args.households,
            seed=args.seed,
            out_dir=out,
            divisions_dir=args.divisions,
            quirks=args.quirks,
            progress=progress,
        )
        seconds = time.monotonic() - started
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    timings = ", ".join(f"{name} {t:.1f}s" for name, t in stages[1:] if t >= 0.05)
    print(f"stages: {timings}")
    figures = {
        k: summary[k]
        for k in ("per_capita_net_income", "share_below_line_at_start", "share_falling_in_window")
    }
    print(f"measured: {json.dumps(figures, ensure_ascii=False)}")
    print(
        f"simulate: {summary['households']:,} households, {summary['members']:,} members, "
        f"{summary['feed_rows']:,} feed rows, {size / 1e9:.2f} GB of files in {seconds:.1f}s, "
        f"peak RSS {peak:.2f} GiB"
    )


if __name__ == "__main__":
    main()
