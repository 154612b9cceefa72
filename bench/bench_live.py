"""Benchmark: the live screening path — an event pushed through the API re-screens its household; how long until
the household's new grade and warning are committed.

    uv run python bench/bench_live.py                          # 20 events/s for 60 s, 20,000-household county
    uv run python bench/bench_live.py --rate 20 --seconds 60 --interval 1 --keep /tmp/guardline-bench-live

The production configuration, as bench_api.py starts it: gunicorn (2 gthread workers) on loopback, SQLite in WAL
mode, settings.production with GUARDLINE_LIVE_SCREENING=1 and the django-tasks database backend, plus one real
`guardline db_worker` process (its polling interval is --interval; the command's default is 1 s). Set-up (not
timed, kept with --keep): the simulated county of bench_api.py with its registry, both income years and every
department feed except medical settlements imported, then one full `guardline screen`, so every household already
has a grade and the red/yellow ones a warning. The load: single-event medical-settlement pushes, each about a
different registry member, open loop at --rate.

Latency of an event = the time its re-screen task finished (the run's transaction had committed: the new grade and
warning are visible to every reader from then on) − the time the event row was written by the API request (its
arrival; the request itself adds the few ms measured by bench_api.py). Both are the database's own timestamps, read
after the load: each push enqueues one task with its household, so an event is matched to the first task for its
household enqueued after it. Goal (issue 4): p99 < 1 s, no errors. Prints one JSON line.

Beside long work (`--county-runs SECONDS`): a county's full screening run is queued every SECONDS during the load,
as the county's page or a scheduler would queue it, so the worker spends part of the minute on it. With one worker
the live re-screens wait behind each county run; `--live-worker` starts a second worker reserved for the live
path's queue (`db_worker --queue-name live`, the first one `--exclude-queues live`), as README → Workers advises.

On PostgreSQL (DATABASE_URL names a server, e.g. `scripts/with_postgres.sh uv run python bench/bench_live.py`): the
county is set up afresh in database `guardline_bench_live` on that server (the simulated files are reused from
--keep), and everything else is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import screening_pg
from bench_api import (
    ROOT,
    create_tokens,
    guardline,
    load_events,
    prepare,
    prepare_postgres,
    run_load,
    start_server,
    stop_server,
    use_cached,
    warm_up,
)

LIVE_PREPARED = "live-prepared.sqlite3"
PG_DATABASE = "guardline_bench_live"


def rows(env: dict[str, str], sql: str) -> list[tuple]:
    """The rows of `sql` on the bench's database (SQLite file or PostgreSQL)."""
    url = env["DATABASE_URL"]
    if screening_pg.on_postgres(url):
        import psycopg

        with psycopg.connect(url) as con:
            return con.execute(sql).fetchall()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
        return con.execute(sql).fetchall()


def prepare_live_postgres(work: Path, server: str, households: int, say) -> dict[str, str]:
    """The county of `prepare_live` in a fresh PostgreSQL database on `server`, set up anew each time (the
    simulated files are reused from `work`)."""
    env = prepare_postgres(work, server, PG_DATABASE, households=households, say=say)
    env["GUARDLINE_LIVE_SCREENING"] = "1"
    env.pop("GUARDLINE_TASK_BACKEND", None)
    started = time.monotonic()
    county_loaded(env, work)
    say(f"set-up: incomes, feeds and a first full screening in {time.monotonic() - started:.0f}s")
    return env


def county_loaded(env: dict[str, str], work: Path) -> None:
    """The prepared county's income years and department feeds imported, then its first full screening."""
    for path in sorted((work / "county").glob("income_*.csv")):
        guardline(env, "import_income", str(path))
    for path in sorted((work / "county" / "feeds").glob("*.csv")):
        if path.stem != "medical_settlement":  # the load sends medical settlements: they must be new
            guardline(env, "import_feed", path.stem, str(path))
    guardline(env, "screen")


def prepare_live(work: Path, households: int, say) -> dict[str, str]:
    env = prepare(work, households=households, say=say)
    env["GUARDLINE_LIVE_SCREENING"] = "1"
    env.pop("GUARDLINE_TASK_BACKEND", None)  # the production default: django_tasks_db.DatabaseBackend
    live = work / LIVE_PREPARED
    if not live.exists():
        started = time.monotonic()
        county_loaded(env, work)
        with sqlite3.connect(work / "bench.sqlite3") as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(work / "bench.sqlite3", live)
        say(f"set-up: incomes, feeds and a first full screening in {time.monotonic() - started:.0f}s")
    use_cached(env, work, live, say)
    return env


def wait_idle(env: dict[str, str], seconds: float) -> None:
    """Until the task queue is empty (or `seconds` have passed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ((pending,),) = rows(
            env,
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')",
        )
        if not pending:
            return
        time.sleep(0.2)


# Queues a county run (a Job and its task, as the inbox's "run now" does) every `interval` seconds until killed.
COUNTY_RUNS = """
import sys, time
import django
django.setup()
from guardline.core.services import job_create
from guardline.screening.tasks import screening_run_task
interval = float(sys.argv[1])
while True:
    time.sleep(interval)
    screening_run_task.enqueue(job_create(kind="screening", user=None, params={}).pk)
"""


def worker_process(env: dict[str, str], interval: float, log, *queues: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from config.cli import main; main()", "db_worker", "--no-startup-delay",
         "--interval", str(interval), *queues],
        env=env, cwd=ROOT, stdout=log, stderr=log,
    )  # fmt: skip


def county_runs_done(env: dict[str, str], since: float) -> tuple[int, float]:
    """How many county runs finished after `since`, and their median length in seconds."""
    done = rows(
        env, "SELECT started_at, finished_at FROM screening_screeningrun WHERE scope = '' AND status = 'done'"
    )
    lengths = sorted(
        (_ts(f) or 0) - (_ts(s) or 0) for s, f in done if (_ts(s) or 0) >= since and f is not None
    )
    return len(lengths), round(lengths[len(lengths) // 2], 2) if lengths else -1.0


def _ts(value: str | datetime | None) -> float | None:
    if not value:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()  # Django keeps UTC in SQLite


def latencies(env: dict[str, str], since: float) -> dict:
    events = rows(
        env,
        "SELECT e.household_id, e.created_at FROM ingest_feedevent AS e JOIN ingest_importbatch AS b "
        "ON b.id = e.batch_id WHERE b.file_name LIKE 'API:%' AND e.household_id IS NOT NULL ORDER BY e.id",
    )
    tasks = rows(
        env,
        "SELECT args_kwargs, status, enqueued_at, started_at, finished_at FROM django_tasks_database_dbtaskresult "
        "WHERE task_path LIKE '%household_rescreen_task' ORDER BY enqueued_at",
    )
    (runs,) = rows(
        env,
        "SELECT COUNT(*), SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) FROM screening_screeningrun "
        "WHERE scope LIKE 'households:%'",
    )
    by_household: dict[int, list[tuple[float, float | None, str, float | None]]] = {}
    waits, runs_s = [], []
    for args_kwargs, status, enqueued, started, finished in tasks:
        e, s, f = _ts(enqueued), _ts(started), _ts(finished)
        if s is not None and e is not None:
            waits.append((s - e) * 1000)
        if f is not None and s is not None:
            runs_s.append((f - s) * 1000)
        arguments = (
            args_kwargs if isinstance(args_kwargs, dict) else json.loads(args_kwargs)
        )  # JSON on PostgreSQL
        for hid in arguments["args"][0]:
            by_household.setdefault(int(hid), []).append((e or 0.0, f, status, s))
    lat, missing, failed = [], 0, 0
    events = [(hid, created) for hid, created in events if (_ts(created) or 0) >= since]
    for hid, created in events:
        c = _ts(created)
        match = next((t for t in by_household.get(hid, []) if c is not None and t[0] >= c - 0.001), None)
        if match is None or match[1] is None:
            missing += 1
            continue
        if match[2] != "SUCCESSFUL":
            failed += 1
            continue
        lat.append((match[1] - c) * 1000)

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return (
            round(values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))], 1)
            if values
            else -1.0
        )

    return {
        "events": len(events),
        "tasks": len(tasks),
        "rescreen_runs": runs[0],
        "rescreen_runs_done": runs[1] or 0,
        "visible": len(lat),
        "not_rescreened": missing,
        "failed": failed,
        "p50_ms": pct(lat, 50),
        "p95_ms": pct(lat, 95),
        "p99_ms": pct(lat, 99),
        "max_ms": round(max(lat, default=-1.0), 1),
        "queue_wait_p50_ms": pct(waits, 50),
        "queue_wait_p99_ms": pct(waits, 99),
        "task_run_p50_ms": pct(runs_s, 50),
        "task_run_p99_ms": pct(runs_s, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=1.0, help="db_worker polling interval (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/guardline-bench-live"))
    parser.add_argument(
        "--county-runs",
        type=float,
        default=0,
        help="queue a county's full run every this many seconds (0: none)",
    )
    parser.add_argument(
        "--live-worker", action="store_true", help="a second worker reserved for the live path's queue"
    )
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    work = args.keep
    server = os.environ.get("DATABASE_URL", "")
    if screening_pg.on_postgres(server):
        env = prepare_live_postgres(work, server, args.households, say)
    else:
        env = prepare_live(work, args.households, say)
    events = load_events(work / "county", int(args.rate * args.seconds) + 1)
    first, events = events[0], events[1:]
    tokens = create_tokens(env, {e.department for e in events})
    log = open(work / "worker.log", "ab")  # noqa: SIM115 — handed to the worker processes
    if args.live_worker:
        workers = [
            worker_process(env, args.interval, log, "--exclude-queues", "live"),
            worker_process(env, args.interval, log, "--queue-name", "live"),
        ]
    else:
        workers = [worker_process(env, args.interval, log)]
    server, port = start_server(env, work, workers=args.workers, threads=1)
    county = None
    load_avg = Path("/proc/loadavg").read_text().split()[:3]
    try:
        warm_up(port, tokens)
        # The worker's first re-screen imports the engine and DuckDB and reads cold pages (≈ 5 s on the shared
        # machine); a long-lived worker pays that once, so one event goes through before the clock starts.
        run_load(port, [first], tokens, rate=1, seconds=1, concurrency=1)
        wait_idle(env, 60)
        say(
            f"load: {len(events):,} events at {args.rate:g}/s for {args.seconds:g}s, worker interval {args.interval}s"
        )
        since = time.time()
        if args.county_runs:
            county = subprocess.Popen(
                [sys.executable, "-c", COUNTY_RUNS, str(args.county_runs)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        result = run_load(port, events, tokens, rate=args.rate, seconds=args.seconds, concurrency=16)
        if county is not None:
            county.terminate()
            county.wait(timeout=30)
        wait_idle(env, 300)
    finally:
        if county is not None and county.poll() is None:
            county.kill()
        stop_server(server)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    runs, run_s = county_runs_done(env, since)
    summary = {
        "rate": args.rate,
        "seconds": args.seconds,
        "worker_interval_s": args.interval,
        "households": args.households,
        "county_runs_every_s": args.county_runs,
        "county_runs_done": runs,
        "county_run_median_s": run_s,
        "live_worker": args.live_worker,
        "api": result.summary(args.rate),
        **latencies(env, since),
        "database": "postgresql" if screening_pg.on_postgres(env["DATABASE_URL"]) else "sqlite",
        "load_average": " ".join(load_avg),
    }
    print(json.dumps(summary, ensure_ascii=False))
    goal = summary["p99_ms"] < 1000 and summary["not_rescreened"] == 0 and summary["failed"] == 0
    goal = goal and summary["api"]["errors"] == 0
    say(
        f"{'PASS' if goal else 'MISS'}: event → re-screen committed p50 {summary['p50_ms']} / p95 {summary['p95_ms']} "
        f"/ p99 {summary['p99_ms']} / max {summary['max_ms']} ms; {summary['visible']:,} of {summary['events']:,} "
        f"events; queue wait p50 {summary['queue_wait_p50_ms']} ms, task p50 {summary['task_run_p50_ms']} ms"
    )
    if not goal:
        sys.exit(1)


if __name__ == "__main__":
    main()
