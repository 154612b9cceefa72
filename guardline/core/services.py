"""Cross-cutting writes: background jobs and the personal-data access log."""

from __future__ import annotations

from django.utils import timezone

from .context import current
from .models import Job, PersonalDataAccess


def personal_data_access_log(
    *,
    user,
    purpose: str,
    household_id: int | None = None,
    channel: str = "page",  # PersonalDataAccess.Channel
    subject: str = "",
    region_code: str = "",
    job: Job | None = None,
) -> PersonalDataAccess:
    """Record that a user (None: an operator's command) saw personal data, and why: of one household, or of the
    many people of a file (`subject`). The region is the household's village unless given."""
    if household_id is not None and not region_code:
        from django.apps import apps

        household = apps.get_model("registry", "Household")
        region_code = (
            household.objects.filter(pk=household_id).values_list("village_code", flat=True).first() or ""
        )
    ctx = current()
    return PersonalDataAccess.objects.create(
        user=user,
        household_id=household_id,
        purpose=purpose.strip()[:200],
        request_id=ctx.request_id,
        channel=channel,
        subject=subject[:200],
        region_code=region_code,
        job_id=job.pk if job is not None else ctx.job_id,
    )


def job_create(*, kind: str, user=None, params: dict | None = None) -> Job:
    return Job.objects.create(kind=kind, created_by=user, params=params or {})


def job_is_done(job: Job) -> bool:
    """A background task runs again after its worker died (core.worker_services); if the death came after the job
    was finished, the second run must not redo it."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.DONE).exists()


def job_start(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())


def job_progress(job: Job, done: int, total: int, stage: str) -> None:
    """Progress is written with an UPDATE of its own, outside the import's transactions, so pages see it live."""
    Job.objects.filter(pk=job.pk).update(done=done, total=total, stage=stage[:200])


def job_finish(job: Job, *, result: dict | None = None, error: str = "") -> None:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED if error else Job.Status.DONE,
        finished_at=timezone.now(),
        result=result or {},
        error=error,
    )
