"""Background reports: run in the task worker, reporting progress on their Job record (as imports do)."""

from __future__ import annotations

from django_tasks import task

from guardline.core.models import Job
from guardline.core.services import job_finish, job_is_done, job_progress, job_start

from .services import report_build


@task()
def report_build_task(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    if job_is_done(job):  # a re-run after the worker died once the job was done
        return
    job_start(job)
    try:
        result = report_build(job, progress=lambda done, total, stage: job_progress(job, done, total, stage))
    except Exception as exc:  # shown on the job page
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result=result)
