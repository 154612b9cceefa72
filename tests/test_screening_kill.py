"""Kill `guardline screen` (SIGKILL, no cleanup) during its write-back and at a random moment, run it again, and
prove the result equals a clean run's: the same grades, one open warning per household, the same warnings, and the
killed runs marked failed (not left 'running') by the next run. Real commands in subprocesses on SQLite files."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # ~1 min on 2 busy cores

AS_OF = "2025-12-31"
SETUP = """
import django, sys
from pathlib import Path
django.setup()
from django.conf import settings
from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.services import import_file
from simulate import simulate_county
from datetime import date
out = Path(sys.argv[1])
simulate_county(households=150, seed=21, out_dir=out, divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"],
                start=date(2024, 1, 1))
import_file("registry", out / "registry.csv")
for path in sorted(out.glob("income_*.csv")):
    import_file("income", path)
for key in FEED_KEYS:
    import_file(key, out / "feeds" / f"{key}.csv")
"""


def command(env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-c", "from config.cli import main; main()", *args]


def guardline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(env, *args), env=env, capture_output=True, text=True, timeout=300)


def env_for(tmp_path: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "GUARDLINE_FAILPOINT")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / name}",
        GUARDLINE_VAR_DIR=str(tmp_path / f"var-{name}"),
        DJANGO_SETTINGS_MODULE="config.settings.base",
        GUARDLINE_LIVE_SCREENING="0",
    )
    return env


def state(env) -> dict:
    db = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        open_per_household = db.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM screening_riskwarning WHERE status='open' "
            "GROUP BY household_id)"
        ).fetchone()[0]
        return {
            "grades": db.execute(
                "SELECT h.household_no, g.grade, round(g.score, 4), g.rules FROM screening_householdgrade g "
                "JOIN registry_household h ON h.id = g.household_id ORDER BY 1"
            ).fetchall(),
            "warnings": db.execute(
                "SELECT h.household_no, w.status, w.grade, round(w.score, 4), w.risk_types, w.first_signal_date "
                "FROM screening_riskwarning w JOIN registry_household h ON h.id = w.household_id ORDER BY 1, 2"
            ).fetchall(),
            "open_per_household": open_per_household,
            "runs": db.execute("SELECT status, message FROM screening_screeningrun ORDER BY id").fetchall(),
        }
    finally:
        db.close()


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    """A migrated database with a simulated county imported, copied for each scenario."""
    tmp = tmp_path_factory.mktemp("county")
    env = env_for(tmp, "county.sqlite3")
    assert guardline(env, "migrate", "-v0").returncode == 0
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(tmp / "out")], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return tmp / "county.sqlite3"


def copy_db(src: Path, tmp_path: Path, name: str) -> dict[str, str]:
    s, d = sqlite3.connect(src), sqlite3.connect(tmp_path / name)
    s.backup(d)
    s.close()
    d.close()
    return env_for(tmp_path, name)


def test_killed_screening_reruns_to_the_clean_result(county_db, tmp_path):
    clean = copy_db(county_db, tmp_path, "clean.sqlite3")
    done = guardline(clean, "screen", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    expected = state(clean)
    assert expected["warnings"], "the simulated county should raise some warnings"

    env = copy_db(county_db, tmp_path, "killed.sqlite3")
    # 1. Killed inside the write transaction of the first run: nothing of it is kept.
    killed = guardline({**env, "GUARDLINE_FAILPOINT": "screening_in_write:1"}, "screen", "--as-of", AS_OF)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    got = state(env)
    assert (got["grades"], got["warnings"]) == ([], [])
    assert got["runs"] == [("running", "")]

    # 2. Killed at a random moment of a second attempt (start-up, computing, writing or already done).
    proc = subprocess.Popen(command(env, "screen", "--as-of", AS_OF), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(random.uniform(1.0, 8.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    # 3. Re-run: the clean result, and no run left 'running'.
    again = guardline(env, "screen", "--as-of", AS_OF)
    assert again.returncode == 0, again.stderr
    got = state(env)
    assert got["grades"] == expected["grades"]
    assert got["warnings"] == expected["warnings"]
    assert got["open_per_household"] == expected["open_per_household"] == 1
    statuses = [s for s, _ in got["runs"]]
    assert "running" not in statuses and statuses[-1] == "done"
    assert statuses[0] == "failed" and "进程中断" in got["runs"][0][1]

    # 4. Killed after a done run, inside the next run's write-back: the warnings stay as the done run left them.
    killed = guardline({**env, "GUARDLINE_FAILPOINT": "screening_in_write:1"}, "screen", "--as-of", AS_OF)
    assert killed.returncode == -signal.SIGKILL
    after = state(env)
    assert (after["grades"], after["warnings"]) == (expected["grades"], expected["warnings"])
    again = guardline(env, "screen", "--as-of", AS_OF)
    assert again.returncode == 0, again.stderr
    final = state(env)
    assert (final["grades"], final["warnings"], final["open_per_household"]) == (
        expected["grades"], expected["warnings"], 1)  # fmt: skip
    assert [s for s, _ in final["runs"]][-2:] == ["failed", "done"]
