"""Benchmark: department feeds at scale — ~1M mixed feed rows ingested, normalised and linked (exactly by ID number,
then probabilistically for rows without a usable ID) against a registry of ~1M members, on SQLite.

    uv run python bench/bench_feeds.py --members 1000000 --feed-rows 1000000

Set-up (not timed): a fresh database, the county's divisions, a simulated county (with rows about people outside the
registry mixed into the feeds) and its registry import. Timed: every feed file imported with the platform's importer
(`guardline import_feed`'s service) in one process, whose peak memory is reported. Prints one JSON line with
wall-clock and CPU seconds (whole process, DuckDB's threads included) in total, per feed and per stage, and the load
average before and after: on a shared machine wall-clock includes waiting for a core, CPU seconds do not.

`--phase setup --workdir DIR` only builds the registry and feed files; `--phase feeds --workdir DIR` then times the
feeds against that database (copy the database first to time again from the same start).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def feeds_phase(work: Path) -> None:
    """Runs in its own process: import every feed file, report time, counts and peak memory."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Count

    from engine.ingest.feeds import FEED_KEYS
    from guardline.ingest.models import FeedEvent
    from guardline.ingest.services import import_file
    from guardline.ingest.stages import stage_cpu_totals, stage_totals

    started, cpu_started = time.monotonic(), time.process_time()
    load_before = os.getloadavg()
    per_feed = {}
    for key in FEED_KEYS:
        t, c = time.monotonic(), time.process_time()
        batch = import_file(key, work / "county" / "feeds" / f"{key}.csv")
        per_feed[key] = {
            "rows": batch.rows_read,
            "linked": batch.linked,
            "review": batch.review,
            "unlinked": batch.unlinked,
            "seconds": round(time.monotonic() - t, 1),
            "cpu_seconds": round(time.process_time() - c, 1),
        }
    seconds = time.monotonic() - started
    cpu_seconds = time.process_time() - cpu_started
    by_status = dict(FeedEvent.objects.values_list("link_status").annotate(n=Count("id")))
    print(
        json.dumps(
            {
                "feed_rows": sum(f["rows"] for f in per_feed.values()),
                "seconds": round(seconds, 1),
                "events_by_link_status": by_status,
                "peak_rss_gib": peak_rss_gib(),
                "cpu_seconds": round(cpu_seconds, 1),
                "per_stage": stage_totals(),
                "per_stage_cpu": stage_cpu_totals(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "per_feed": per_feed,
            },
            ensure_ascii=False,
        )
    )


def peak_rss_gib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 2**20, 2)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--feed-rows", type=int, default=1_000_000, help="about this many feed rows (via --months)"
    )
    parser.add_argument("--county", default="520526")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--phase",
        choices=["all", "setup", "feeds"],
        default="all",
        help="setup: only build the registry and feed files (re-use them with --workdir)",
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="guardline-bench-feeds-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        GUARDLINE_VAR_DIR=str(work / "var"),
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    env.pop("GUARDLINE_FAILPOINT", None)
    if args.phase == "feeds":
        os.environ.update(env)
        feeds_phase(work)
        return
    households = max(1, round(args.members / 3.8))
    # The simulated county writes ≈ 0.092 person and village rows per household per month.
    months = max(1, round(args.feed_rows / (households * 0.092)))
    out = work / "county"
    if not (out / "registry.csv").exists():
        guardline(env, "migrate", "-v0")
        guardline(env, "import_divisions", "--county", args.county)
        sys.path.insert(0, str(ROOT))
        from simulate import simulate_county

        simulate_county(
            county=args.county,
            households=households,
            months=months,
            out_dir=out,
            divisions_dir=ROOT.parent / "shared" / "data" / "divisions",
            outsiders=True,
        )
        setup = guardline(env, "import_registry", str(out / "registry.csv"))
        print(f"set-up: registry of {households:,} households imported in {setup:.1f}s", file=sys.stderr)
    if args.phase == "setup":
        return
    subprocess.run(
        [sys.executable, __file__, "--phase", "feeds", "--workdir", str(work)], env=env, check=True
    )


if __name__ == "__main__":
    main()
