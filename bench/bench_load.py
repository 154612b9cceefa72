"""Benchmark: a mixed load of 100 simulated users (locust) against a live county server — gunicorn, SQLite in WAL
mode, production settings, on loopback.

    uv run python bench/bench_load.py                                  # 100 users for 60 s, 5,000-household county
    uv run python bench/bench_load.py --seconds 20 --keep /tmp/bench-load

The users (`bench/locustfile.py`): cadres (6 in 10) signed in as county staff reading household list pages (some
filtered by township) and household pages; households (2 in 10) loading the public declaration page and submitting it
(the per-address rate limit is raised for the run: every simulated household comes from 127.0.0.1); departments
(2 in 10) posting one feed event per request through the API, each about a different registry member. Set-up as in
`bench_api.py` (a prepared county database, reused with --keep), plus a county staff login, the cache table and
the API tokens. Prints one JSON line: requests, failures, throughput, p50/p95/p99/max over all requests and per
kind of request, from locust's CSV statistics.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_api import (  # noqa: E402
    create_tokens,
    guardline,
    load_events,
    prepare,
    start_server,
    stop_server,
)

from guardline.core import crypto  # noqa: E402

USERNAME, PASSWORD = "bench_load", "Bench-Load-Password-2026"


def plan(work: Path, env: dict[str, str], *, county: str, events: int) -> Path:
    """What the simulated users need: a login, household ids, villages, people, API tokens and feed events."""
    guardline(env, "createcachetable")
    guardline(
        env,
        "shell",
        "-c",
        "from guardline.accounts.models import Role, User\n"
        "from guardline.accounts.services import user_create\n"
        f"User.objects.filter(username={USERNAME!r}).exists() or user_create(actor=None, username={USERNAME!r},"
        f" password={PASSWORD!r}, role=Role.COUNTY_STAFF, regions=[{county!r}])",
    )
    with sqlite3.connect(work / "bench.sqlite3") as con:
        households = [r[0] for r in con.execute("SELECT id FROM registry_household ORDER BY id")]
        villages = [
            r[0]
            for r in con.execute(
                "SELECT code FROM regions_region WHERE level = 5 AND code LIKE ? ORDER BY code",
                (county + "%",),
            )
        ]
        ring = crypto.parse_keyring(
            env["GUARDLINE_DATA_KEYS"], env["GUARDLINE_LOOKUP_KEY"]
        )  # IDs are encrypted
        people = [
            {"name": name, "id_number": number}
            for name, number in (
                (name, crypto.decrypt(stored, ring))
                for name, stored in con.execute(
                    "SELECT name, id_number FROM registry_member ORDER BY id LIMIT 6000"
                )
            )
            if len(number) == 18
        ][:5000]
    feed_events = load_events(work / "county", events)
    tokens = create_tokens(env, {e.department for e in feed_events}, county)
    path = work / "locust_plan.json"
    path.write_text(
        json.dumps(
            {
                "username": USERNAME,
                "password": PASSWORD,
                "households": households,
                "list_pages": max(1, len(households) // 25),
                "villages": villages,
                "people": people,
                "tokens": tokens,
                "events": [
                    {"feed": e.feed, "department": e.department, "record": e.record} for e in feed_events
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def sign_in(port: int, plan_path: Path, sessions: int) -> None:
    """Sign the cadres in before the clock starts (password hashing is deliberately slow: a hundred logins at once
    would measure nothing else), and warm every worker up with a few pages. The session cookies go into the plan."""
    import re

    import requests

    base = f"http://127.0.0.1:{port}"
    data = json.loads(plan_path.read_text(encoding="utf-8"))
    cookies = []
    for _ in range(sessions):
        s = requests.Session()
        page = s.get(f"{base}/accounts/login/")
        for cookie in s.cookies:  # Secure in production settings; this is plain HTTP on loopback
            cookie.secure = False
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        answer = s.post(
            f"{base}/accounts/login/",
            {
                "username": USERNAME,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            allow_redirects=False,
        )
        session = answer.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            raise SystemExit(f"sign-in failed: {answer.status_code}")
        cookies.append(session)
        for url in (
            "/households/",
            f"/households/{data['households'][0]}/",
            f"/declare/{data['villages'][0]}/",
        ):
            s.get(base + url, cookies={"sessionid": session})
    data["sessions"] = cookies
    plan_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def summary(stats_csv: Path) -> dict:
    rows = list(csv.DictReader(stats_csv.open(encoding="utf-8")))

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": round(float(row["Max Response Time"]), 1),
        }

    total = next(r for r in rows if r["Name"] == "Aggregated")
    return {
        **figures(total),
        "by_request": {f"{r['Type']} {r['Name']}": figures(r) for r in rows if r["Name"] != "Aggregated"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--events", type=int, default=3000, help="distinct feed events the departments send")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--sessions", type=int, default=10, help="cadre sessions signed in before the run")
    parser.add_argument("--county", default="520526")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep (and reuse)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="guardline-bench-load-"))

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    env = prepare(work, households=args.households, county=args.county, say=say)
    # every simulated household declares from 127.0.0.1: lift the per-address limit for the run
    env.update(GUARDLINE_DECLARATION_RATE="1000000000", GUARDLINE_2FA="0")
    plan_path = plan(work, env, county=args.county, events=args.events)
    server, port = start_server(env, work, workers=args.workers, threads=args.threads)
    prefix = work / "locust"
    try:
        sign_in(port, plan_path, args.sessions)
        say(f"load: {args.users} users for {args.seconds}s → 127.0.0.1:{port}")
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
                "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
                "--exit-code-on-error", "0", "--stop-timeout", "5",
            ],
            env={**env, "GUARDLINE_LOCUST_PLAN": str(plan_path)},
            cwd=ROOT,
            check=True,
        )  # fmt: skip
        wall = time.monotonic() - started
    finally:
        stop_server(server)
    result = summary(Path(f"{prefix}_stats.csv"))
    result.update(
        users=args.users, seconds=args.seconds, wall_seconds=round(wall, 1), households=args.households,
        workers=args.workers, threads=args.threads,
    )  # fmt: skip
    with sqlite3.connect(work / "bench.sqlite3") as con:
        result["declarations_stored"] = con.execute(
            "SELECT count(*) FROM cases_clue WHERE channel = 'declaration'"
        ).fetchone()[0]
        result["events_stored"] = con.execute("SELECT count(*) FROM ingest_feedevent").fetchone()[0]
    print(json.dumps(result, ensure_ascii=False))
    say(
        f"{result['requests']:,} requests, {result['failures']} failures, {result['rps']}/s; "
        f"p50 {result['p50_ms']} / p95 {result['p95_ms']} / p99 {result['p99_ms']} / max {result['max_ms']} ms"
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
