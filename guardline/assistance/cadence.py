"""Follow-up cadence by grade (DOMAIN §5: red daily, yellow weekly, green quarterly) from
GUARDLINE["VISIT_CADENCE_DAYS"]. Pure apart from reading the setting."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

DEFAULT_CADENCE_DAYS = {"red": 1, "yellow": 7, "green": 90}


def cadence_days() -> dict[str, int]:
    return {**DEFAULT_CADENCE_DAYS, **(settings.GUARDLINE.get("VISIT_CADENCE_DAYS") or {})}


def next_due(grade: str, last_visit: datetime | None, since: datetime) -> datetime:
    """When the next visit is due: `cadence` days after the last visit, or at once (`since`: when the household was
    graded) if never visited."""
    if last_visit is None:
        return since
    return last_visit + timedelta(days=cadence_days().get(grade, DEFAULT_CADENCE_DAYS["green"]))
