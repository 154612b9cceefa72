"""Linkage-fund milestones (DOMAIN §9), pure: what share of the budget should be spent by a date, and which
alerts a project raises (spending lagging the plan, not started, not completed). The thresholds are settings
(`GUARDLINE["FUND_MILESTONES"]`)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings


def config() -> dict[str, Any]:
    return settings.GUARDLINE["FUND_MILESTONES"]


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def planned_percent(year: int, on: date) -> tuple[int, date | None]:
    """The spending share due by `on` (the last milestone passed) and that milestone's date."""
    due, when = 0, None
    for month, percent in config()["SPENDING"]:
        end = month_end(year, int(month))
        if end <= on:
            due, when = int(percent), end
    return due, when


def percent(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0")
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Alert:
    code: str  # spending_lag | not_started | completion_lag
    message: str


def project_alerts(
    *, year: int, budget: Decimal, spent: Decimal, status: str, completion: int, on: date
) -> list[Alert]:
    cfg = config()
    alerts: list[Alert] = []
    due, when = planned_percent(year, on)
    actual = percent(spent, budget)
    if due and actual < due:
        alerts.append(Alert("spending_lag", f"截至{when:%Y-%m-%d}应支出{due}%，实际{actual}%"))
    start_by = month_end(year, int(cfg["START_BY_MONTH"]))
    if status == "planned" and on > start_by:
        alerts.append(Alert("not_started", f"应于{start_by:%Y-%m-%d}前开工，尚未开工"))
    month, goal = cfg["COMPLETION"]
    complete_by = month_end(year, int(month))
    if status != "completed" and on > complete_by and completion < int(goal):
        alerts.append(Alert("completion_lag", f"截至{complete_by:%Y-%m-%d}应完成{goal}%，实际{completion}%"))
    return alerts
