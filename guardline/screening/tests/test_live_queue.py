"""The live path under the database task backend: one worker run takes every waiting live re-screen."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guardline.registry.models import Household
from guardline.screening.models import HouseholdGrade, ScreeningRun
from guardline.screening.tasks import household_rescreen_task

pytestmark = pytest.mark.django_db


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_waiting_rescreens_are_merged_into_one_run(screened_county):
    ids = list(Household.objects.order_by("pk").values_list("pk", flat=True)[:4])
    for hid in ids:
        household_rescreen_task.enqueue([hid])
    rows = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert len(rows) == 4 and all(r.status == TaskResultStatus.READY for r in rows)
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
