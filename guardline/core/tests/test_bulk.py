"""core.bulk's writes give the same rows whichever way they go: statements, or on PostgreSQL COPY (taken here from
one row on), with encrypted, decimal and date values, and a duplicate key fails as Django's IntegrityError."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from guardline.core import bulk
from guardline.registry.models import Household

pytestmark = pytest.mark.django_db


FIELDS = [
    "household_no", "village_code", "household_type", "monitor_category", "no_labour_household", "relocation_site",
    "head_name", "phone", "member_count", "latest_per_capita_income", "is_active", "created_at", "updated_at",
]  # fmt: skip


def _households(count: int) -> list[Household]:
    now = timezone.now()
    return [
        Household(household_no=f"BULK{i:04d}", village_code="520526100201", head_name=f"户主{i}",
                  phone=f"1380000{i:04d}", latest_per_capita_income=Decimal("8700.50") + i, created_at=now,
                  updated_at=now)
        for i in range(count)
    ]  # fmt: skip


def test_rows_inserted_and_updated_read_back_the_same(write_path):
    with transaction.atomic():
        assert bulk.insert_rows(Household, _households(3), FIELDS) == 3
    stored = list(Household.objects.filter(household_no__startswith="BULK").order_by("household_no"))
    assert [(h.head_name, h.phone, h.latest_per_capita_income) for h in stored] == [
        ("户主0", "13800000000", Decimal("8700.50")),
        ("户主1", "13800000001", Decimal("8701.50")),
        ("户主2", "13800000002", Decimal("8702.50")),
    ]
    # The phone is stored encrypted, not as given.
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM registry_household WHERE household_no = 'BULK0000'")
        assert cursor.fetchone()[0] != "13800000000"
    for h in stored:
        h.phone, h.latest_per_capita_income = f"139{h.phone[3:]}", Decimal("100.25")
    with transaction.atomic():
        assert bulk.update_rows(Household, stored, ["phone", "latest_per_capita_income"]) == 3
    again = Household.objects.filter(household_no__startswith="BULK").order_by("household_no")
    assert [(h.phone, h.latest_per_capita_income) for h in again] == [
        ("13900000000", Decimal("100.25")),
        ("13900000001", Decimal("100.25")),
        ("13900000002", Decimal("100.25")),
    ]


def test_a_duplicate_key_fails_as_an_integrity_error_and_writes_nothing(write_path):
    with transaction.atomic():
        bulk.insert_rows(Household, _households(1), FIELDS)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Household, _households(2), FIELDS)
    assert Household.objects.filter(household_no__startswith="BULK").count() == 1
