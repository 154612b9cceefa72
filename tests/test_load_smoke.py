"""The load test in short, bounded form (issue 7): `bench/bench_load.py` — gunicorn with production settings on
loopback, locust users reading list and household pages, declaring on the public page and posting API events — for
a few seconds against a small county. Under `make test`'s PostgreSQL run (DATABASE_URL set) it runs against that
server. No latency is asserted here (figures belong to bench/README.md, measured on a quiet machine); what must hold
under concurrency is that nothing fails and everything sent is stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mixed_load_of_concurrent_users_has_no_errors_and_stores_what_it_sent(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "bench_load.py"), "--households", "300", "--users", "20",
            "--spawn-rate", "20", "--think", "0.25", "--seconds", "8", "--events", "200", "--sessions", "3", "--keep", str(tmp_path),
        ],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected_database = "postgres" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert result["database"] == expected_database
    assert result["failures"] == 0, result["by_request"]
    assert result["requests"] >= 50
    kinds = result["by_request"]
    for kind in (
        "GET /households/?page=N",
        "GET /households/<pk>/",
        "POST /declare/<village>/ POST",
        "POST /api/v1/feeds/<feed>/events",
    ):
        assert kinds[kind]["requests"] > 0, kind
    # every accepted declaration and event is in the database (requests still in flight at the stop may add more)
    assert result["declarations_stored"] >= kinds["POST /declare/<village>/ POST"]["requests"]
    assert result["events_stored"] >= kinds["POST /api/v1/feeds/<feed>/events"]["requests"]
