"""Recovery of tasks left RUNNING by dead workers (the SIGKILL test with real workers: tests/test_worker_restart.py)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guardline.core import worker_services
from guardline.core.models import Job, WorkerHeartbeat
from guardline.core.worker_services import tasks_recover, worker_register

pytestmark = pytest.mark.django_db


def _task(worker_ids: list[str], *, started_ago: int = 5, path: str = "guardline.quality.tasks.quality_check_task",
          args: list | None = None) -> DBTaskResult:  # fmt: skip
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        started_at=now - dt.timedelta(seconds=started_ago),
        args_kwargs={"args": args or [], "kwargs": {}},
        task_path=path,
        worker_ids=worker_ids,
        backend_name="default",
        run_after=now,
        exception_class_path="",
        traceback="",
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _beat(worker_id: str, *, pid: int, host: str | None = None, seen_ago: int = 0) -> WorkerHeartbeat:
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname=host or worker_services._host(),
        pid=pid,
        started_at=now - dt.timedelta(seconds=seen_ago),
        seen_at=now - dt.timedelta(seconds=seen_ago),
    )


def _status(task: DBTaskResult) -> str:
    task.refresh_from_db()
    return task.status


def test_a_task_of_a_dead_process_on_this_machine_goes_back_to_the_queue():
    _beat("dead", pid=_dead_pid())
    _beat("alive", pid=os.getpid())
    dead, alive = _task(["dead"]), _task(["alive"])
    result = tasks_recover()
    assert result.requeued == [str(dead.pk)] and result.failed == []
    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.READY and dead.started_at is None
    assert dead.worker_ids == ["dead"]  # the history of attempts stays
    assert _status(alive) == TaskResultStatus.RUNNING
    assert not WorkerHeartbeat.objects.filter(worker_id="dead").exists()  # forgotten once recovered
    assert tasks_recover().requeued == []  # nothing twice


@override_settings(GUARDLINE_WORKER_STALE_SECONDS=60)
def test_workers_on_other_machines_are_dead_when_their_heartbeat_is_stale():
    _beat("fresh", pid=1, host="other-host", seen_ago=30)
    _beat("stale", pid=1, host="other-host", seen_ago=61)
    fresh, stale = _task(["fresh"], started_ago=600), _task(["stale"], started_ago=600)
    assert tasks_recover().requeued == [str(stale.pk)]
    assert _status(fresh) == TaskResultStatus.RUNNING


@override_settings(GUARDLINE_WORKER_STALE_SECONDS=60)
def test_a_worker_without_heartbeat_counts_as_dead_once_its_task_started_too_long_ago():
    recent, old = _task(["plain-worker"], started_ago=10), _task(["plain-worker"], started_ago=120)
    claimed_by_nobody = _task([], started_ago=120)
    assert sorted(tasks_recover().requeued) == sorted([str(old.pk), str(claimed_by_nobody.pk)])
    assert _status(recent) == TaskResultStatus.RUNNING


@override_settings(GUARDLINE_TASK_MAX_ATTEMPTS=3)
def test_a_task_that_lost_its_worker_too_often_is_given_up_and_its_job_fails():
    job = Job.objects.create(kind="import_registry", status=Job.Status.RUNNING)
    dead = _dead_pid()
    for name in ("w1", "w2", "w3"):
        _beat(name, pid=dead)
    task = _task(["w1", "w2", "w3"], path="guardline.ingest.tasks.import_file_task", args=[job.pk])
    again = _task(["w1", "w2"])
    result = tasks_recover()
    assert result.failed == [str(task.pk)] and result.requeued == [str(again.pk)]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and task.exception_class_path == worker_services.WORKER_LOST
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error


def test_finished_or_reclaimed_tasks_are_left_alone():
    _beat("dead", pid=_dead_pid())
    task = _task(["dead"])
    DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.SUCCESSFUL)
    assert tasks_recover().requeued == []
    assert _status(task) == TaskResultStatus.SUCCESSFUL


def test_register_and_the_command(capsys, monkeypatch):
    monkeypatch.setattr(worker_services, "current_worker_id", None)  # restored after the test
    beat = worker_register("me")
    assert beat.pid == os.getpid() and worker_services.current_worker_id == "me"
    _beat("dead", pid=_dead_pid())
    _task(["dead"])
    call_command("recover_tasks")
    assert "1 queued again, 0 given up" in capsys.readouterr().out


def test_job_tasks_do_not_redo_a_done_job(monkeypatch):
    """A worker killed after the job was finished but before the task was marked done: the re-run does nothing."""
    from guardline.ingest import tasks

    job = Job.objects.create(kind="import_registry", status=Job.Status.DONE, result={"batch_id": 1})
    monkeypatch.setattr(tasks, "import_file", lambda *a, **k: pytest.fail("imported again"))
    tasks.import_file_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result == {"batch_id": 1}


def test_a_worker_counted_dead_writes_its_heartbeat_again():
    """The database was out of reach too long and another worker removed this one's heartbeat: the next beat
    writes it again, so this worker's later tasks are not taken for a dead worker's."""
    worker_services.worker_beat("back")
    beat = WorkerHeartbeat.objects.get(worker_id="back")
    assert beat.pid == os.getpid() and beat.hostname == worker_services._host()
    worker_services.worker_beat("back")
    assert WorkerHeartbeat.objects.filter(worker_id="back").count() == 1
