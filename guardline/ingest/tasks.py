"""Background import: runs in the task worker, reporting progress on its Job record."""

from __future__ import annotations

from pathlib import Path

from django_tasks import task

from guardline.accounts.models import User
from guardline.core.models import Job
from guardline.core.services import job_finish, job_is_done, job_progress, job_start

from .services import import_file


@task()
def import_file_task(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    if job_is_done(job):  # a re-run after the worker died once the job was done
        return
    params = job.params
    actor = User.objects.get(pk=params["user_id"])
    job_start(job)
    try:
        batch = import_file(
            params["kind"],
            Path(params["path"]),
            actor=actor,
            job=job,
            display_name=params["display_name"],
            progress=lambda done, total, stage: job_progress(job, done, total, stage),
        )
    except Exception as exc:  # the failure is shown on the job page; the batch record keeps the details
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result={"batch_id": batch.pk, "message": batch.message, "status": batch.status})
