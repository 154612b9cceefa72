"""Background workers that die mid-task (SIGKILL, OOM, power loss, a redeploy) do not lose the task.

django-tasks' database backend (django_tasks_db 0.13) claims a task by setting it RUNNING and appending the
worker's id to `worker_ids`; nothing ever looks at a RUNNING task again, so a task whose worker was killed stays
RUNNING forever and never runs. Guardline's `db_worker` (guardline/core/management/commands/db_worker.py) adds:

- a heartbeat: each worker writes a `WorkerHeartbeat` row (host, pid) at start and refreshes `seen_at` every
  `GUARDLINE_WORKER_HEARTBEAT_SECONDS` from a thread;
- recovery (`tasks_recover`), at every worker start and with every heartbeat: a RUNNING task whose last worker is
  dead goes back to READY and runs again. A worker is dead when its process is gone (same host: the pid no longer
  exists), when its heartbeat is older than `GUARDLINE_WORKER_STALE_SECONDS`, or when it never wrote one (a worker
  without heartbeat) and the task started longer ago than that. A task whose workers died
  `GUARDLINE_TASK_MAX_ATTEMPTS` times is marked FAILED instead (a task that kills its worker must not loop).

Every task must therefore be safe to run twice; see README (Production deployment → Workers).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .locks import write_lock
from .models import Job, WorkerHeartbeat

logger = logging.getLogger("guardline.worker")

WORKER_LOST = "guardline.core.worker_services.WorkerLost"

# The id of the worker running in this process (set by db_worker), so tasks that claim other queued tasks
# themselves (live re-screens) can mark them as theirs.
current_worker_id: str | None = None


class WorkerLost(Exception):
    """The worker running a task died before finishing it."""


def task_rows(task):
    """The rows of `task` (a django-tasks Task) in the database task queue, or None under another backend (the
    tests' immediate one)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(backend_name=backend.alias, task_path=task.module_path)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def heartbeat_seconds() -> int:
    return _setting("GUARDLINE_WORKER_HEARTBEAT_SECONDS", 10)


def stale_seconds() -> int:
    return _setting("GUARDLINE_WORKER_STALE_SECONDS", 120)


def max_attempts() -> int:
    return _setting("GUARDLINE_TASK_MAX_ATTEMPTS", 3)


def _host() -> str:
    """This machine as heartbeats name it: the host name and the boot (after a reboot old pids mean nothing)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            boot = fh.read().strip()[:8]
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


def worker_register(worker_id: str) -> WorkerHeartbeat:
    """Record this process as a live worker."""
    global current_worker_id
    now = timezone.now()
    with write_lock():
        beat, _ = WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"hostname": _host(), "pid": os.getpid(), "started_at": now, "seen_at": now},
        )
    current_worker_id = worker_id
    return beat


def worker_beat(worker_id: str) -> None:
    """Refresh this worker's heartbeat. If its row is gone (the database was out of reach longer than the stale
    limit and another worker counted this one dead), write it again: a live worker without a heartbeat row would
    have every later task taken for a dead one's."""
    now = timezone.now()
    with write_lock():
        if not WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now):
            WorkerHeartbeat.objects.get_or_create(
                worker_id=worker_id,
                defaults={"hostname": _host(), "pid": os.getpid(), "started_at": now, "seen_at": now},
            )


def worker_unregister(worker_id: str) -> None:
    """A worker that stops cleanly removes its heartbeat (it finished or gave back its task)."""
    with write_lock():
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def worker_alive(beat: WorkerHeartbeat | None, *, now: dt.datetime, started_at: dt.datetime | None) -> bool:
    """Whether the worker with this heartbeat (None: no heartbeat row) may still be running a task it claimed at
    `started_at`."""
    limit = now - dt.timedelta(seconds=stale_seconds())
    if beat is None:
        return started_at is not None and started_at >= limit
    if beat.hostname == _host():
        # on this machine the process table is the truth; a stalled heartbeat (a long SQLite write holding the lock)
        # does not make a live worker dead
        return _pid_alive(beat.pid) and not _is_zombie(beat.pid)
    return beat.seen_at >= limit


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still has a pid; /proc says it is a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def tasks_recover(*, now: dt.datetime | None = None) -> Recovery:
    """Put RUNNING tasks of dead workers back in the queue (or fail them after too many attempts)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    result = Recovery()
    running = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids", "started_at")
    )
    if not running:
        return result
    beats = {b.worker_id: b for b in WorkerHeartbeat.objects.all()}
    dead_workers: set[str] = set()
    for task in running:
        last = task.worker_ids[-1] if task.worker_ids else None
        beat = beats.get(last) if last else None
        if worker_alive(beat, now=now, started_at=task.started_at):
            continue
        if last:
            dead_workers.add(last)
        with write_lock(), transaction.atomic():
            # the guard on status and worker_ids: a task finished or re-claimed meanwhile is left alone
            current = DBTaskResult.objects.filter(
                pk=task.pk, status=TaskResultStatus.RUNNING, worker_ids=task.worker_ids
            )
            if len(task.worker_ids) >= max_attempts():
                n = current.update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=WORKER_LOST,
                    traceback=f"WorkerLost: the worker died {len(task.worker_ids)} times running this task "
                    f"(workers {', '.join(task.worker_ids)}); not retried again\n",
                )
                if n:
                    result.failed.append(str(task.pk))
                    _fail_job(task, now)
            else:
                n = current.update(status=TaskResultStatus.READY, started_at=None)
                if n:
                    result.requeued.append(str(task.pk))
    if dead_workers:
        with write_lock():
            WorkerHeartbeat.objects.filter(worker_id__in=dead_workers).delete()
    for pk in result.requeued:
        logger.warning("Task %s was left running by a dead worker: queued again", pk)
    for pk in result.failed:
        logger.error("Task %s lost its worker %d times: marked failed", pk, max_attempts())
    return result


# Tasks whose first argument is a core.Job: when such a task is given up, its job page must say so.
JOB_TASKS = (
    "guardline.ingest.tasks.import_file_task",
    "guardline.reports.tasks.report_build_task",
    "guardline.screening.tasks.screening_run_task",
)


def _fail_job(task, now: dt.datetime) -> None:
    from django_tasks_db.models import DBTaskResult

    row = DBTaskResult.objects.filter(pk=task.pk).values("task_path", "args_kwargs").first()
    if not row or row["task_path"] not in JOB_TASKS:
        return
    args = (row["args_kwargs"] or {}).get("args") or []
    if args:
        Job.objects.filter(pk=args[0]).exclude(status=Job.Status.DONE).update(
            status=Job.Status.FAILED, finished_at=now, error="后台进程多次中断，任务已放弃"
        )


def heartbeat_stale_delete(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Forget heartbeats of workers gone for a day (a worker killed with nothing left to recover)."""
    with write_lock():
        deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted
