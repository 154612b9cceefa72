"""A background worker SIGKILLed mid-task: the next worker queues the task again and runs it to the end, and the
result is the one a single run gives (every household once, one creation entry per member). Real `guardline
db_worker` processes against an SQLite file.

django_tasks_db alone leaves such a task RUNNING forever (nothing looks at a claimed task again); the recovery is
Guardline's (guardline/core/worker_services.py), run by every `guardline db_worker` at start."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.files import REGISTRY_HEADERS, registry_rows, write_csv

ENQUEUE = """
import django, sys
django.setup()
from guardline.accounts.services import user_create
from guardline.core.services import job_create
from guardline.ingest.tasks import import_file_task
from guardline.regions.models import Region

Region.objects.create(code="520526", name="威宁县", level=Region.Level.COUNTY)
user = user_create(actor=None, username="admin", password="Test-Password-2026", role="county_admin",
                   regions=["520526"])
job = job_create(kind="import_registry", user=user, params={
    "kind": "registry", "path": sys.argv[1], "display_name": "台账.csv", "user_id": user.pk})
import_file_task.enqueue(job.pk)
print(job.pk)
"""


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from config.cli import main; main()", *args]


def worker_args(*extra: str) -> list[str]:
    return command("db_worker", "--no-startup-delay", "--interval", "0.1", "--no-reload", *extra)


@pytest.fixture
def env(tmp_path):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs on its own SQLite file; done once in the SQLite run of the suite")
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "GUARDLINE_FAILPOINT")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GUARDLINE_VAR_DIR=str(tmp_path / "var"),
        GUARDLINE_IMPORT_CHUNK_ROWS="300",
        GUARDLINE_TASK_BACKEND="django_tasks_db.DatabaseBackend",
        GUARDLINE_LIVE_SCREENING="0",
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    done = subprocess.run(command("migrate", "-v0"), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


def test_task_of_a_killed_worker_runs_again_to_one_result(env, tmp_path):
    villages = [f"520526{100 + i:03d}{200 + i:03d}" for i in range(10)]
    rows = registry_rows(villages, 600)
    path = write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows)
    enqueued = subprocess.run(
        [sys.executable, "-c", ENQUEUE, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert enqueued.returncode == 0, enqueued.stderr
    job_id = int(enqueued.stdout.split()[-1])
    db = sqlite3.connect(tmp_path / "db.sqlite3", timeout=30)

    def task_row():
        return db.execute(
            "SELECT status, worker_ids, return_value FROM django_tasks_database_dbtaskresult"
        ).fetchone()

    # Worker 1 stops for a minute after the import's first committed chunk; it is killed there.
    first = subprocess.Popen(
        worker_args(),
        env={**env, "GUARDLINE_PAUSEPOINT": "import_after_chunk:60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db.execute("SELECT count(*) FROM registry_household").fetchone()[0]:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the first worker never got into the import")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    written = db.execute("SELECT count(*) FROM registry_household").fetchone()[0]
    assert 0 < written < 600, "the kill should land mid-way"
    status, workers, _ = task_row()
    assert status == "RUNNING"  # left so by the killed worker: django_tasks_db does not look at it again
    assert len(json.loads(workers)) == 1

    # Worker 2 (--batch: runs what is queued, then exits) finds the dead worker's task and runs it again.
    second = subprocess.run(worker_args("--batch"), env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "1 queued again" in second.stdout

    status, workers, _ = task_row()
    assert status == "SUCCESSFUL"
    assert len(json.loads(workers)) == 2  # claimed twice: by the killed worker, then the new one
    assert db.execute("SELECT status FROM core_job WHERE id = ?", (job_id,)).fetchone() == ("done",)
    # One result, as from a single run: every household and member once, one creation entry per member.
    assert db.execute("SELECT count(*), count(DISTINCT household_no) FROM registry_household").fetchone() == (
        600,
        600,
    )
    assert db.execute("SELECT count(*) FROM registry_member").fetchone()[0] == len(rows)
    assert db.execute(
        "SELECT count(*), count(DISTINCT entity_id) FROM core_changelog WHERE entity='member' AND action='create'"
    ).fetchone() == (len(rows), len(rows))
    assert db.execute("SELECT count(*) FROM core_changelog WHERE action='update'").fetchone()[0] == 0
    # The killed attempt's batch is marked failed by the re-run, which is the one done.
    assert [r[0] for r in db.execute("SELECT status FROM ingest_importbatch ORDER BY id")] == [
        "failed",
        "done",
    ]
    assert db.execute("SELECT count(*) FROM core_workerheartbeat").fetchone()[0] == 0  # both gone
    db.close()
    assert Path(path).exists()
