"""Reads of the screening app, always scoped to the user's regions."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import Http404

from guardline.accounts.scope import region_q

from .models import HouseholdGrade, RiskWarning, ScreeningRun

GRADE_ORDER = Case(
    When(grade="red", then=Value(0)),
    When(grade="yellow", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass
class InboxFilters:
    grade: str = ""
    region: str = ""
    risk_type: str = ""
    status: str = "open"


def warning_inbox(user, filters: InboxFilters | None = None) -> QuerySet[RiskWarning]:
    """Warnings in the user's regions, red first, then the oldest (the longest waiting) first."""
    f = filters or InboxFilters()
    qs = RiskWarning.objects.filter(region_q(user)).select_related("household")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.grade:
        qs = qs.filter(grade=f.grade)
    if f.region:
        qs = qs.filter(village_code__startswith=f.region)
    if f.risk_type:
        qs = qs.filter(risk_types__contains=f.risk_type)
    return qs.annotate(grade_rank=GRADE_ORDER).order_by("grade_rank", "graded_at", "id")


def warning_get(user, pk: int) -> RiskWarning:
    w = RiskWarning.objects.filter(region_q(user), pk=pk).select_related("household").first()
    if w is None:
        raise Http404("预警不存在")
    return w


def household_screening(user, household) -> tuple[HouseholdGrade | None, list[RiskWarning]]:
    """The household's current grade and its warnings (open first), for its page. The caller has already
    fetched the household through a scoped selector."""
    grade = HouseholdGrade.objects.filter(household=household).first()
    warnings = list(
        RiskWarning.objects.filter(region_q(user), household=household).order_by("status", "-opened_at")[:20]
    )
    return grade, warnings


def grade_counts(user) -> dict[str, int]:
    counts = {"red": 0, "yellow": 0, "green": 0}
    for row in (
        HouseholdGrade.objects.filter(region_q(user)).values("grade").order_by().annotate(n=Count("pk"))
    ):
        counts[row["grade"]] = row["n"]
    return counts


def latest_runs(limit: int = 10) -> QuerySet[ScreeningRun]:
    return ScreeningRun.objects.filter(scope="").order_by("-started_at")[:limit]
