"""Benchmark: a mixed load of 100 simulated users (locust) against a live county server — gunicorn, production
settings, on loopback; SQLite in WAL mode, or PostgreSQL when DATABASE_URL names a PostgreSQL server.

    uv run python bench/bench_load.py                                  # 100 users for 60 s, 5,000-household county
    uv run python bench/bench_load.py --seconds 20 --keep /tmp/bench-load
    scripts/with_postgres.sh uv run python bench/bench_load.py         # the same against a throw-away PostgreSQL

With PostgreSQL the bench works in its own database on that server (`guardline_bench_load`, dropped and created
again, prepared afresh each run); the county files are still reused with --keep.

The users (`bench/locustfile.py`): cadres (6 in 10) signed in as county staff reading household list pages (some
filtered by township) and household pages; households (2 in 10) loading the public declaration page and submitting it
(the per-address rate limit is raised for the run: every simulated household comes from 127.0.0.1); departments
(2 in 10) posting one feed event per request through the API, each about a different registry member. Think time
between a user's requests: cadres 2–6 s, households 4–12 s between forms, departments 1–3 s (about 30 requests/s from
100 users); `--think 0.25` divides them by four (a stress pace: about 100 requests/s). Set-up as in
`bench_api.py` (a prepared county database, reused with --keep), plus a county staff login, the cache table and
the API tokens. Prints one JSON line: requests, failures, throughput, p50/p95/p99/max over all requests and per
kind of request, from locust's CSV statistics.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
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
    prepare_postgres,
    start_server,
    stop_server,
)
from screening_pg import on_postgres  # noqa: E402

USERNAME, PASSWORD = "bench_load", "Bench-Load-Password-2026"
PG_DATABASE = "guardline_bench_load"


def query(env: dict[str, str], code: str):
    """The JSON a snippet prints through `guardline shell` (the ORM works on either database and decrypts IDs)."""
    return json.loads(guardline(env, "shell", "-c", code).strip().splitlines()[-1])


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
    registry = query(
        env,
        "import json\n"
        "from guardline.regions.models import Region\n"
        "from guardline.registry.models import Household, Member\n"
        "print(json.dumps({\n"
        " 'households': list(Household.objects.order_by('id').values_list('id', flat=True)),\n"
        f" 'villages': list(Region.objects.filter(level=5, code__startswith={county!r}).order_by('code')"
        ".values_list('code', flat=True)),\n"
        " 'people': [{'name': n, 'id_number': i} for n, i in"
        " Member.objects.order_by('id').values_list('name', 'id_number')[:6000] if len(i) == 18][:5000],\n"
        "}, ensure_ascii=False))",
    )
    households, villages, people = registry["households"], registry["villages"], registry["people"]
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

    def ms(text: str) -> float | None:
        return None if text in ("", "N/A") else float(text)  # N/A: no request of this kind finished

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 1),
            "p50_ms": ms(row["50%"]),
            "p95_ms": ms(row["95%"]),
            "p99_ms": ms(row["99%"]),
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
    parser.add_argument(
        "--think", type=float, default=1.0, help="think-time factor (1: working pace; 0.25: stress pace)"
    )
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

    database = os.environ.get("DATABASE_URL", "")
    if on_postgres(database):
        env = prepare_postgres(
            work, database, PG_DATABASE, households=args.households, county=args.county, say=say
        )
    else:
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
            env={**env, "GUARDLINE_LOCUST_PLAN": str(plan_path), "GUARDLINE_LOCUST_THINK": str(args.think)},
            cwd=ROOT,
            check=True,
        )  # fmt: skip
        wall = time.monotonic() - started
    finally:
        stop_server(server)
    result = summary(Path(f"{prefix}_stats.csv"))
    result.update(
        users=args.users, think=args.think, seconds=args.seconds, wall_seconds=round(wall, 1), households=args.households,
        workers=args.workers, threads=args.threads,
    )  # fmt: skip
    result["database"] = env["DATABASE_URL"].split(":", 1)[0]
    result.update(
        query(
            env,
            "import json\n"
            "from guardline.cases.models import Clue\n"
            "from guardline.ingest.models import FeedEvent\n"
            "print(json.dumps({'declarations_stored': Clue.objects.filter(channel='declaration').count(),"
            " 'events_stored': FeedEvent.objects.count()}))",
        )
    )
    print(json.dumps(result, ensure_ascii=False))
    say(
        f"{result['requests']:,} requests, {result['failures']} failures, {result['rps']}/s; "
        f"p50 {result['p50_ms']} / p95 {result['p95_ms']} / p99 {result['p99_ms']} / max {result['max_ms']} ms"
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
