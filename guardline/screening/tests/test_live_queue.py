"""The live path under the database task backend: one worker run takes every waiting live re-screen."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guardline.registry.models import Household
from guardline.screening.models import HouseholdGrade, ScreeningRun
from guardline.screening.tasks import household_rescreen_task

pytestmark = pytest.mark.django_db


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@override_settings(TASKS=DATABASE_TASKS)
def test_waiting_rescreens_are_merged_into_one_run(screened_county):
    ids = list(Household.objects.order_by("pk").values_list("pk", flat=True)[:4])
    for hid in ids:
        household_rescreen_task.enqueue([hid])
    rows = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert len(rows) == 4 and all(r.status == TaskResultStatus.READY for r in rows)
    # On the live path's own queue: a worker reserved for it takes them, one busy with a county's run does not.
    assert {r.queue_name for r in rows} == {"live"}
    first = rows[0]
    first.claim("test-worker")  # what db_worker does before running the task
    out = household_rescreen_task.call(*first.task_result.args)
    assert out["households"] == 4 and out["merged_tasks"] == 3
    assert ScreeningRun.objects.get(pk=out["run_id"]).households == 4
    assert set(HouseholdGrade.objects.filter(household_id__in=ids).values_list("run_id", flat=True)) == {
        out["run_id"]
    }
    merged = DBTaskResult.objects.exclude(pk=first.pk)
    assert all(r.status == TaskResultStatus.SUCCESSFUL and r.finished_at for r in merged)


@override_settings(TASKS=DATABASE_TASKS)
def test_a_worker_started_without_options_takes_every_queue():
    from guardline.core.management.commands.db_worker import Command

    parser = Command().create_parser("guardline", "db_worker")
    assert parser.parse_args([]).queue_name == "*"
    assert parser.parse_args(["--queue-name", "live"]).queue_name == "live"
