"""Benchmark: import a registry of ~N member rows (default 1,000,000) into a fresh SQLite database.

    uv run python bench/bench_import.py --members 1000000

Simulates the county (not timed), then times `guardline import_registry` end to end (read, validate, normalise in
DuckDB, write households, members and change log), and prints one result line to add to bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def guardline(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", *args], env=env, check=True, cwd=ROOT
    )
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--county", default="520526")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="guardline-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        GUARDLINE_VAR_DIR=str(work / "var"),
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    env.pop("GUARDLINE_FAILPOINT", None)
    guardline(env, "migrate", "-v0")
    guardline(env, "import_divisions", "--county", args.county)
    households = max(1, round(args.members / 3.8))
    out = work / "county"
    if not (out / "registry.csv").exists():
        guardline(
            env,
            "simulate",
            "--county",
            args.county,
            "--households",
            str(households),
            "--seed",
            "1",
            "--out",
            str(out),
        )
    with open(out / "registry.csv", encoding="utf-8") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    seconds = guardline(env, "import_registry", str(out / "registry.csv"))
    again = guardline(env, "import_registry", "--force", str(out / "registry.csv"))
    print(
        f"registry import: {rows:,} member rows ({households:,} households) in {seconds:.1f}s "
        f"({rows / seconds:,.0f} rows/s); forced re-import of the same file (no changes) {again:.1f}s"
    )


if __name__ == "__main__":
    main()
