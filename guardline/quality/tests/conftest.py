"""Helpers that put households into the states the rules look at (directly through the ORM: the rules read
data, whichever service wrote it)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from guardline.assistance.models import AssistancePlan, Elimination
from guardline.cases.models import Case
from guardline.regions.models import MonitoringLine, Region
from guardline.registry.models import HouseholdYear

T = timezone.make_aware(datetime(2026, 3, 10, 9, 0))


def identified(household, risks: str = "01", category: str = "marginal", at=T) -> Case:
    household.monitor_category = category
    household.save(update_fields=["monitor_category"])
    return Case.objects.create(
        household=household, village_code=household.village_code, state="identified", category=category,
        risk_types=risks, clue_received_at=at, opened_at=at, decision_due=at, decided_at=at,
        identification_month=f"{at:%Y-%m}", updated_at=at,
    )  # fmt: skip


def income(household, year: int = 2025, **values) -> HouseholdYear:
    row = HouseholdYear.objects.create(household=household, year=year, snapshot_kind="annual", **values)
    household.latest_income_year = year
    household.latest_per_capita_income = values.get("per_capita_net_income")
    household.save(update_fields=["latest_income_year", "latest_per_capita_income"])
    return row


def eliminated(case: Case, at=T, mode: str = "assisted") -> Elimination:
    return Elimination.objects.create(
        case=case, household=case.household, village_code=case.village_code, mode=mode, state="eliminated",
        started_at=at, decided_at=at, updated_at=at,
    )  # fmt: skip


def plan(case: Case, at=T) -> AssistancePlan:
    return AssistancePlan.objects.create(
        case=case, household=case.household, village_code=case.village_code, created_at=at, updated_at=at
    )


def line(village_code: str, amount: str = "8000", year: int = 2026) -> MonitoringLine:
    return MonitoringLine.objects.create(
        region=Region.objects.get(code=village_code[:6]), year=year, effective_from=date(year, 1, 1),
        amount=Decimal(amount),
    )  # fmt: skip
