"""Background screening: a pass over a county's households runs in the task worker, with progress on its Job."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django_tasks import task

from guardline.accounts.models import User
from guardline.core.locks import write_lock
from guardline.core.models import Job
from guardline.core.services import job_finish, job_is_done, job_progress, job_start

from .services import screening_run


@task()
def screening_run_task(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    if job_is_done(job):  # a re-run after the worker died once the job was done
        return
    params = job.params
    actor = User.objects.filter(pk=params.get("user_id")).first()
    job_start(job)
    try:
        run = screening_run(
            actor=actor,
            as_of=dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None,
            job=job,
            progress=lambda stage, done, total: job_progress(job, done, total, stage),
        )
    except Exception as exc:  # shown on the job page
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    clues = warnings_to_clues()
    job_finish(job, result={"run_id": run.pk, "message": run.message, "clues": clues})
    aggregates_refresh_later()


@task()
def whatif_task(job_id: int) -> None:
    """A policy what-if or a rule's trial on a region too large to grade inside a web request (whatif.in_background),
    with its stages as the Job's progress and the result's summary (WhatIf.summary) as the Job's result. Nothing is
    written but the Job: a re-run after a worker died grades again. Cancelled by its user (whatif_job_cancel), it
    does not start, or stops at its next stage."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from engine.screening import Rule

    from .whatif import policy_whatif, rule_whatif, whatif_job_cancelled

    job = Job.objects.get(pk=job_id)
    if job_is_done(job) or whatif_job_cancelled(job):
        return
    params = job.params
    user = User.objects.filter(pk=params.get("user_id"), is_active=True).first()
    job_start(job)

    def progress(stage: str, done: int, total: int) -> None:
        if whatif_job_cancelled(job):
            raise _Cancelled
        job_progress(job, done, total, stage)

    try:
        if user is None:
            raise PermissionDenied("提交试算的用户已停用")
        if job.kind == "rule_trial":
            rule = Rule(**{**params["rule"], "sources": tuple(params["rule"].get("sources", ()))})
            out = rule_whatif(
                user=user,
                region=params["region"],
                rule=rule,
                is_active=params["is_active"],
                progress=progress,
            )
        else:
            out = policy_whatif(
                user=user, region=params["region"], changes=params["changes"], progress=progress
            )
    except _Cancelled:
        return
    except (PermissionDenied, ValidationError) as exc:
        # the user's rights or the input changed since it was queued
        job_finish(job, error="；".join(getattr(exc, "messages", [str(exc)])))
        return
    except Exception as exc:  # shown on the job page
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    if not whatif_job_cancelled(job):  # (cancelled after its last stage: it stays cancelled)
        job_finish(job, result=out.summary())


class _Cancelled(Exception):
    """Raised at a stage of a what-if whose user cancelled it."""


def aggregates_refresh_later() -> None:
    """The dashboards' aggregate table follows a full screening run (incremental, in its own task)."""
    from guardline.dashboards.tasks import aggregates_refresh_task

    aggregates_refresh_task.enqueue()


def warnings_to_clues(household_ids: list[int] | None = None) -> int:
    """Open warnings (of these households, or all) land in the clue inbox (cases app) unless
    GUARDLINE["WARNINGS_TO_CLUES"] is off."""
    if not settings.GUARDLINE.get("WARNINGS_TO_CLUES", True):
        return 0
    from guardline.cases.pull_services import clues_pull_warnings

    return clues_pull_warnings(household_ids=household_ids)


# One live re-screen costs about the same for one household as for a thousand (a fixed cost of compiling and
# running the screening SQL dominates), so a worker that finds several queued takes them all in one run.
LIVE_BATCH_HOUSEHOLDS = 5000


# The live path's own queue (settings.TASK_QUEUES): a worker reserved for it is never busy with a county's run.
LIVE_QUEUE = "live"


@task(queue_name=LIVE_QUEUE)
def household_rescreen_task(household_ids: list[int]) -> dict:
    """The live path: events arrived for these households; grade just them again at once, together with the
    households of every other live re-screen still waiting in the database queue (those tasks are claimed here and
    marked done with this run; if the run fails they go back to the queue)."""
    ids = {int(i) for i in household_ids}
    merged = _claim_waiting(ids)
    try:
        run = screening_run(household_ids=sorted(ids))
    except BaseException:
        _release(merged)
        raise
    _finish(merged, run.pk)
    # Only these households' warnings: the rest are the county runs' to pull, and a live re-screen stays short.
    warnings_to_clues(sorted(ids))
    return {"run_id": run.pk, "households": len(ids), "merged_tasks": len(merged)}


def _queue():
    """The django-tasks database queue of live re-screens, or None under another backend."""
    from guardline.core.worker_services import task_rows

    return task_rows(household_rescreen_task)


def _claim_waiting(ids: set[int]) -> list:
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.utils import exclusive_transaction

    from guardline.core.worker_services import current_worker_id

    queue = _queue()
    if queue is None:
        return []
    claimed = []
    with write_lock(), exclusive_transaction(queue.db):
        for row in queue.ready().order_by("enqueued_at").select_for_update(skip_locked=True)[:500]:
            more = {int(i) for i in row.args_kwargs.get("args", [[]])[0]}
            if len(ids | more) > LIVE_BATCH_HOUSEHOLDS:
                break
            ids |= more
            claimed.append(row)
        now = timezone.now()
        for row in claimed:
            # marked as this worker's, so a worker killed mid-run leaves them to recovery (core.worker_services)
            workers = [*row.worker_ids, current_worker_id] if current_worker_id else row.worker_ids
            queue.filter(pk=row.pk).update(
                status=TaskResultStatus.RUNNING, started_at=now, worker_ids=workers
            )
    return [row.pk for row in claimed]


def _finish(claimed: list, run_id: int) -> None:
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus

    queue = _queue()
    if claimed and queue is not None:
        with write_lock():
            queue.filter(pk__in=claimed).update(
                status=TaskResultStatus.SUCCESSFUL,
                finished_at=timezone.now(),
                return_value={"run_id": run_id},
            )


def _release(claimed: list) -> None:
    from django_tasks.base import TaskResultStatus

    queue = _queue()
    if claimed and queue is not None:
        queue.filter(pk__in=claimed).update(status=TaskResultStatus.READY, started_at=None)
