"""Benchmark: one event per request through the live API — gunicorn, SQLite in WAL mode, an open-loop load.

    uv run python bench/bench_api.py                      # 200 events/s for 60 s against a 20,000-household county
    uv run python bench/bench_api.py --rate 300 --seconds 30 --threads 4 --keep /tmp/bench-api

Set-up (not timed): a fresh SQLite database, the county's divisions, a simulated county and its registry import, a
token per department that sends events (`guardline create_api_token`). With --keep the directory is kept and
reused: the prepared database is saved once and every run starts from a copy of it.

The load: every event is a row of the simulated department feeds (medical_settlement first, then the other feeds)
about a different person of the registry with a valid ID number, so each is stored and linked exactly. Requests are
sent open loop: request i is due at start + i/rate whatever happened to the ones before, and its latency runs from
that due time to the end of the response, so any queueing (in the client, the kernel or gunicorn) shows in the
figures. Before the clock starts, 200 warm-up requests (an event with an impossible date: rejected, nothing stored)
pass through every worker and thread. Goal: p99 < 100 ms and no errors at 200 events/s for 60 s on the 2-core reference machine. The server is
gunicorn with gthread workers, by default one process per core with one thread each (--threads 4 also meets the
goal, with a longer tail: threads of a process queue for its GIL while one of them holds the write lock). Afterwards
the database is checked: stored events = successful requests, all linked by ID number. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import http.client
import json
import os
import queue
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from engine.ids import classify_id_number  # noqa: E402
from engine.ingest import SPECS  # noqa: E402
from engine.ingest.feeds import DEPARTMENT_FEEDS, FEED_KEYS  # noqa: E402

PREPARED = "prepared.sqlite3"
FIRST_FEEDS = ("medical_settlement",)  # the feed most events come from; the others top up
PATH = "/api/v1/feeds/{feed}/events"


def guardline(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def environment(work: Path) -> dict[str, str]:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        GUARDLINE_VAR_DIR=str(work / "var"),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        GUARDLINE_LEDGER_KEY=secrets.token_urlsafe(32),
        # Fixed bench keys (a prepared database is reused between runs): never a production key.
        GUARDLINE_DATA_KEYS="bench:"
        + base64.b64encode(hashlib.sha256(b"guardline bench data key").digest()).decode(),
        GUARDLINE_LOOKUP_KEY=base64.b64encode(
            hashlib.sha256(b"guardline bench lookup key").digest()
        ).decode(),
        GUARDLINE_SSL_REDIRECT="0",
        GUARDLINE_ALLOWED_HOSTS="127.0.0.1,localhost",
        GUARDLINE_LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
    )
    env.pop("GUARDLINE_FAILPOINT", None)
    return env


def prepare(work: Path, *, households: int, county: str = "520526", say=print) -> dict[str, str]:
    """A county in `work` (reused when already prepared) and a fresh copy of its database for this run."""
    work.mkdir(parents=True, exist_ok=True)
    env = environment(work)
    prepared = work / PREPARED
    marker = work / "prepared.json"
    wanted = {"households": households, "county": county}
    if not prepared.exists() or not marker.exists() or json.loads(marker.read_text()) != wanted:
        prepared.unlink(missing_ok=True)
        shutil.rmtree(work / "county", ignore_errors=True)
        for name in ("bench.sqlite3", "bench.sqlite3-wal", "bench.sqlite3-shm"):
            (work / name).unlink(missing_ok=True)
        started = time.monotonic()
        guardline(env, "migrate", "-v0")
        guardline(env, "import_divisions", "--county", county)
        guardline(
            env,
            "simulate",
            "--county",
            county,
            "--households",
            str(households),
            "--seed",
            "1",
            "--out",
            str(work / "county"),
        )
        guardline(env, "import_registry", str(work / "county" / "registry.csv"))
        with sqlite3.connect(work / "bench.sqlite3") as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(work / "bench.sqlite3", prepared)
        marker.write_text(json.dumps(wanted))
        say(f"set-up: county of {households:,} households prepared in {time.monotonic() - started:.0f}s")
    use_cached(env, work, prepared, say)
    return env


def prepare_postgres(
    work: Path, url: str, database: str, *, households: int, county: str = "520526", say=print
) -> dict[str, str]:
    """The county of `prepare` in a fresh PostgreSQL database `database` on the server of `url`: migrations,
    divisions, the simulated registry (the simulated files reused from `work`)."""
    from screening_pg import fresh_database  # a bench script's sibling: bench/ is on its path

    work.mkdir(parents=True, exist_ok=True)
    env = environment(work)
    env["DATABASE_URL"] = fresh_database(url, database)
    started = time.monotonic()
    guardline(env, "migrate", "-v0")
    guardline(env, "import_divisions", "--county", county)
    marker = work / "county" / "households.json"
    if not marker.exists() or json.loads(marker.read_text()) != {"households": households, "county": county}:
        shutil.rmtree(work / "county", ignore_errors=True)
        guardline(
            env, "simulate", "--county", county, "--households", str(households), "--seed", "1",
            "--out", str(work / "county"),
        )  # fmt: skip
        marker.write_text(json.dumps({"households": households, "county": county}))
    guardline(env, "import_registry", str(work / "county" / "registry.csv"))
    say(
        f"set-up: PostgreSQL county of {households:,} households prepared in {time.monotonic() - started:.0f}s"
    )
    return env


def use_cached(env: dict[str, str], work: Path, cached: Path, say=print) -> None:
    """`cached` copied to the run's database and migrated: the schema may have moved on since the file was made
    (a run against an old schema fails on every request). A migrated copy becomes the cache, so the next run
    starts from it."""
    for name in ("bench.sqlite3-wal", "bench.sqlite3-shm"):
        (work / name).unlink(missing_ok=True)
    shutil.copyfile(cached, work / "bench.sqlite3")
    applied = [
        line for line in guardline(env, "migrate", "-v1", "--no-input").splitlines() if "Applying" in line
    ]
    if applied:
        with sqlite3.connect(work / "bench.sqlite3") as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(work / "bench.sqlite3", cached)
        say(f"cached database {cached.name} migrated: {len(applied)} migrations")


def create_tokens(env: dict[str, str], departments: set[str], county: str = "520526") -> dict[str, str]:
    tokens = {}
    for department in sorted(departments):
        out = guardline(
            env,
            "create_api_token",
            "--name",
            f"bench {department}",
            "--department",
            department,
            "--region",
            county,
        )
        tokens[department] = out.strip().splitlines()[-1].strip()
    return tokens


@dataclass
class Event:
    feed: str
    department: str
    record: dict[str, str]
    body: bytes = b""

    def __post_init__(self) -> None:
        self.body = json.dumps({"events": [self.record]}, ensure_ascii=False).encode()


def department_of(feed: str) -> str:
    return next(d for d, feeds in DEPARTMENT_FEEDS.items() if feed in feeds)


def load_events(county_dir: Path, n: int, seed: int = 1) -> list[Event]:
    """`n` feed rows, each about a different registry member with a valid ID (so each is stored and linked)."""
    with open(county_dir / "registry.csv", encoding="utf-8-sig", newline="") as fh:
        members = {row["证件号码"].upper() for row in csv.DictReader(fh)}
    used: set[str] = set()
    events: list[Event] = []
    person_feeds = [k for k in FEED_KEYS if "id_number" in SPECS[k].require_one_of]
    for feed in (*FIRST_FEEDS, *(k for k in person_feeds if k not in FIRST_FEEDS)):
        with open(county_dir / "feeds" / f"{feed}.csv", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                raw = row.get("证件号码", "")
                number = classify_id_number(raw).number if raw else None
                if number is None or number not in members or number in used:
                    continue
                used.add(number)
                events.append(Event(feed, department_of(feed), {k: v for k, v in row.items() if v != ""}))
                if len(events) == n:
                    random.Random(seed).shuffle(events)  # departments interleave, as they would
                    return events
    raise SystemExit(
        f"only {len(events):,} people with a valid ID in the simulated feeds; {n:,} events need more "
        "households (--households) or fewer events (--rate × --seconds)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    env: dict[str, str], work: Path, *, workers: int, threads: int, port: int = 0, timeout: float = 60
) -> tuple[subprocess.Popen, int]:
    """gunicorn (gthread workers) on 127.0.0.1; returns once the API answers."""
    port = port or free_port()
    log = open(work / "gunicorn.log", "ab")  # noqa: SIM115 — handed to the server process
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {work / 'gunicorn.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return server, port
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer in time")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children still running (gunicorn's master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores, /proc/stat), to tell what other work took."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # of every completed request, from its due time
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (due second, latency ms) per request
    seconds: float = 0.0  # from the first due time to the last response
    send_lag_ms: float = 0.0  # how late the client itself started the latest request

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]

    def summary(self, rate: float) -> dict:
        return {
            "target_rate": rate,
            "sent": self.sent,
            "ok": self.ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "achieved_rate": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 1),
            "max_client_send_lag_ms": round(self.send_lag_ms, 1),
        }


def warm_up(port: int, tokens: dict[str, str], *, requests: int = 200, concurrency: int = 16) -> None:
    """Requests through every worker and thread before measuring: first requests import modules, open database
    connections and fill caches. Their event has an impossible date, so it is rejected and nothing is stored."""
    feed = FIRST_FEEDS[0]
    token = tokens[department_of(feed)]
    body = json.dumps({"events": [{"姓名": "预热", "结算日期": "预热"}]}, ensure_ascii=False).encode()

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(n):
            conn.request(
                "POST",
                PATH.format(feed=feed),
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            response = conn.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200 and answer["results"][0]["status"] == "rejected", answer
        conn.close()

    threads = [threading.Thread(target=worker, args=(requests // concurrency,)) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_load(
    port: int,
    events: list[Event],
    tokens: dict[str, str],
    *,
    rate: float,
    seconds: float,
    concurrency: int = 64,
) -> LoadResult:
    """Open loop: event i is due at start + i/rate; `concurrency` sender threads with keep-alive connections take
    due events in order; latency is measured from the due time, so a request that waits for a free sender or
    connection is charged for the wait."""
    n = min(len(events), int(rate * seconds))
    due: queue.SimpleQueue = queue.SimpleQueue()
    result = LoadResult()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def send(conn: http.client.HTTPConnection, event: Event) -> tuple[int, bytes]:
        conn.request(
            "POST",
            PATH.format(feed=event.feed),
            body=event.body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens[event.department]}",
            },
        )
        response = conn.getresponse()
        return response.status, response.read()

    def sender() -> None:
        conn: http.client.HTTPConnection | None = None
        while (item := due.get()) is not None:
            i, at = item
            event = events[i]
            kind = None
            for attempt in (1, 2):
                fresh = conn is None
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    status, body = send(conn, event)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                    conn.close()
                    conn = None
                    if fresh or attempt == 2:  # an idle keep-alive connection the server closed: send again
                        kind = type(exc).__name__
                        break
                    continue
                except OSError as exc:
                    conn.close()
                    conn = None
                    kind = type(exc).__name__
                    break
                if status != 200:
                    kind = f"http_{status}"
                else:
                    item_result = json.loads(body)["results"][0]
                    if item_result["status"] != "created" or item_result.get("link_status") != "linked":
                        kind = f"{item_result['status']}/{item_result.get('link_status')}"
                break
            done = time.perf_counter()
            with lock:
                result.latencies_ms.append((done - at) * 1000)
                result.timeline.append((at - start, (done - at) * 1000))
                result.seconds = max(result.seconds, done - start)
                if kind is None:
                    result.ok += 1
                else:
                    result.errors[kind] += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for i in range(n):
        at = start + i / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        else:
            result.send_lag_ms = max(result.send_lag_ms, -pause * 1000)
        due.put((i, at))
        result.sent += 1
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    return result


def verify(database: Path) -> dict:
    """What the database holds after the load."""
    with sqlite3.connect(database) as con:
        stored, linked, exact = con.execute(
            "SELECT count(*), coalesce(sum(link_status = 'linked'), 0), coalesce(sum(link_method = 'id_exact'), 0) "
            "FROM ingest_feedevent"
        ).fetchone()
        batches = con.execute(
            "SELECT count(*) FROM ingest_importbatch WHERE file_name LIKE 'API:%'"
        ).fetchone()[0]
    return {"stored": stored, "linked": linked, "linked_by_id": exact, "api_batches": batches}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=200, help="events (= requests) per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (gthread); more threads share one GIL, which lengthens the tail",
    )
    parser.add_argument("--concurrency", type=int, default=64, help="client connections / sender threads")
    parser.add_argument("--county", default="520526")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep (and reuse)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="guardline-bench-api-"))

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    env = prepare(work, households=args.households, county=args.county, say=say)
    events = load_events(work / "county", int(args.rate * args.seconds))
    tokens = create_tokens(env, {e.department for e in events}, args.county)
    server, port = start_server(env, work, workers=args.workers, threads=args.threads)
    try:
        warm_up(port, tokens)
        say(f"load: {len(events):,} events at {args.rate:g}/s for {args.seconds:g}s → 127.0.0.1:{port}")
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        machine, wall = machine_busy_seconds(), time.monotonic()
        result = run_load(
            port, events, tokens, rate=args.rate, seconds=args.seconds, concurrency=args.concurrency
        )
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
        machine, wall = machine_busy_seconds() - machine, time.monotonic() - wall
    finally:
        stop_server(server)
    summary = result.summary(args.rate)
    done = max(result.ok + sum(result.errors.values()), 1)
    summary["server_cpu_ms_per_request"] = round(server_cpu * 1000 / done, 2)
    summary["client_cpu_ms_per_request"] = round(client_cpu * 1000 / done, 2)
    # Cores busy with anything but this benchmark during the load (the reference machine is shared).
    summary["other_work_cores"] = round(max(0.0, machine - server_cpu - client_cpu) / wall, 2)
    summary.update(verify(work / "bench.sqlite3"))
    summary["stored_equals_ok"] = summary["stored"] == summary["ok"] == summary["linked_by_id"]
    summary.update(
        households=args.households,
        seconds=args.seconds,
        workers=args.workers,
        threads=args.threads,
        feeds=dict(Counter(e.feed for e in events)),
    )
    print(json.dumps(summary, ensure_ascii=False))
    goal = summary["p99_ms"] < 100 and summary["errors"] == 0 and summary["stored_equals_ok"]
    say(
        f"{'PASS' if goal else 'MISS'}: p50 {summary['p50_ms']} / p95 {summary['p95_ms']} / p99 {summary['p99_ms']}"
        f" / max {summary['max_ms']} ms, {summary['ok']:,} ok, {summary['errors']} errors, "
        f"{summary['achieved_rate']}/s; stored {summary['stored']:,} (linked by ID {summary['linked_by_id']:,})"
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    if not goal:
        sys.exit(1)


if __name__ == "__main__":
    main()
