"""The clocks of the clue inbox and the procedure: every limit is a setting (GUARDLINE["CLOCKS"]) with the DOMAIN
defaults; working days count with the editable holiday calendar (`Holiday`)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .workdays import Calendar

DEFAULTS: dict[str, dict] = {
    "clue_to_decision": {"days": 15, "working_days": False},  # DOMAIN §6
    "notice": {"days": 5, "working_days": False},  # DOMAIN §6: public notice at least 5 days
    "warning_verification": {"days": 4, "working_days": True},  # DOMAIN §4
    "plan_after_identification": {"days": 10, "working_days": False},  # DOMAIN §7
}


def clock(name: str) -> dict:
    configured = (settings.GUARDLINE.get("CLOCKS") or {}).get(name, {})
    return {**DEFAULTS[name], **configured}


def calendar() -> Calendar:
    from .models import Holiday

    holidays, workdays = set(), set()
    for day, kind in Holiday.objects.values_list("date", "kind"):
        (workdays if kind == Holiday.Kind.WORKDAY else holidays).add(day)
    return Calendar(holidays=frozenset(holidays), workdays=frozenset(workdays))


def due(name: str, start: datetime, cal: Calendar | None = None) -> datetime:
    """When the clock `name` started at `start` runs out. Working-day clocks run to the end of the n-th working day
    after the start day (local time); calendar-day clocks run n × 24 hours."""
    c = clock(name)
    if not c["working_days"]:
        return start + timedelta(days=c["days"])
    local = timezone.localtime(start)
    day = (cal or calendar()).add_working_days(local.date(), c["days"])
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)), local.tzinfo)


def days_label(name: str) -> str:
    c = clock(name)
    return f"{c['days']} 个工作日" if c["working_days"] else f"{c['days']} 天"
