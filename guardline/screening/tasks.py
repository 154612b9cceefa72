"""Background screening: a pass over a county's households runs in the task worker, with progress on its Job."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django_tasks import task

from guardline.accounts.models import User
from guardline.core.models import Job
from guardline.core.services import job_finish, job_progress, job_start

from .services import screening_run


@task()
def screening_run_task(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
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
    clues = _warnings_to_clues()
    job_finish(job, result={"run_id": run.pk, "message": run.message, "clues": clues})
    _refresh_aggregates()


def _refresh_aggregates() -> None:
    """The dashboards' aggregate table follows a full screening run (incremental, in its own task)."""
    from guardline.dashboards.tasks import aggregates_refresh_task

    aggregates_refresh_task.enqueue()


def _warnings_to_clues() -> int:
    """Open warnings land in the clue inbox (cases app) unless GUARDLINE["WARNINGS_TO_CLUES"] is off."""
    if not settings.GUARDLINE.get("WARNINGS_TO_CLUES", True):
        return 0
    from guardline.cases.services import clues_pull_warnings

    return clues_pull_warnings()


@task()
def household_rescreen_task(household_ids: list[int]) -> None:
    """The live path: events arrived for these households; grade just them again at once."""
    screening_run(household_ids=[int(i) for i in household_ids])
    _warnings_to_clues()
