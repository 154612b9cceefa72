"""Benchmark: simulate a county of N households (default 1,000,000).

uv run python bench/bench_simulate.py --households 1000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from simulate import simulate_county

DIVISIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "divisions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="guardline-sim-"))
    started = time.monotonic()
    summary = simulate_county(households=args.households, seed=1, out_dir=out, divisions_dir=DIVISIONS)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(
        f"simulate: {summary['households']:,} households, {summary['members']:,} members, "
        f"{summary['feed_rows']:,} feed rows in {seconds:.1f}s, peak RSS {peak:.1f} GiB → {out}"
    )


if __name__ == "__main__":
    main()
