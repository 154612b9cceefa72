"""The check queued after imports: one waiting check serves every import that finishes before a worker takes it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guardline.quality.services import quality_check_after_import

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@override_settings(TASKS=DATABASE_TASKS)
def test_imports_in_a_row_queue_one_check_and_a_started_one_does_not_count():
    for _ in range(3):
        quality_check_after_import()
    waiting = DBTaskResult.objects.filter(task_path__endswith="quality_check_task")
    assert waiting.count() == 1
    waiting.first().claim("test-worker")  # a worker took it: it may have read the data before the next import
    quality_check_after_import()
    assert list(waiting.order_by("enqueued_at").values_list("status", flat=True)) == [
        TaskResultStatus.RUNNING,
        TaskResultStatus.READY,
    ]
