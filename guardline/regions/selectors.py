"""Reads of regions and their parameters."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from guardline.accounts.scope import region_code_q

from .models import MonitoringLine, Region, ancestor_codes


def regions_for_user(user, *, level: int | None = None, parent: str | None = None) -> QuerySet[Region]:
    """Regions inside the user's scope, optionally of one level or under one parent."""
    qs = Region.objects.filter(region_code_q(user))
    if level is not None:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    return qs


def monitoring_line_on(village_code: str, on: date) -> MonitoringLine | None:
    """The monitoring line that applied to a place on a date.

    Rule: among lines of the place's county, city or province already in effect on that date, take the latest
    year; within that year the most specific region wins (county override over province default); within that
    region the latest effective date wins. A county override for 2024 therefore does not carry into 2025 once the
    province publishes its 2025 line."""
    codes = [village_code, *ancestor_codes(village_code)]
    lines = list(MonitoringLine.objects.filter(region_id__in=codes, effective_from__lte=on))
    if not lines:
        return None
    year = max(line.year for line in lines)
    same_year = [line for line in lines if line.year == year]
    return max(same_year, key=lambda line: (len(line.region_id), line.effective_from, line.pk))


def monitoring_line_for_household(household, on: date) -> MonitoringLine | None:
    """Which line applied to household H on date D."""
    return monitoring_line_on(household.village_code, on)


def monitoring_line_history(region: Region) -> QuerySet[MonitoringLine]:
    codes = [region.code, *ancestor_codes(region.code)]
    return (
        MonitoringLine.objects.filter(region_id__in=codes)
        .select_related("region", "created_by")
        .order_by("-year", "-effective_from", "-id")
    )


def grids_for_user(user) -> QuerySet:
    """Grids in the villages of the user's regions."""
    from .models import Grid

    return (
        Grid.objects.filter(region_code_q(user, "village__code"))
        .select_related("village")
        .prefetch_related("workers")
    )
