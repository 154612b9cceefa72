"""Background data-quality check, queued after every import (and run nightly by `guardline check_quality`)."""

from __future__ import annotations

from django_tasks import task

from .services import quality_check_run


@task()
def quality_check_task() -> str:
    return quality_check_run().message
