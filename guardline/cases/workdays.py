"""Working-day arithmetic over an editable holiday calendar (pure: no Django, no database).

China's calendar has public holidays on weekdays and "adjusted working days" (调休) on weekends, so a working day is:
a date marked as a working day, or else a Monday–Friday that is not marked as a holiday.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Calendar:
    holidays: Collection[date] = field(default_factory=frozenset)  # weekdays off
    workdays: Collection[date] = field(default_factory=frozenset)  # weekends worked (调休)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The date of the n-th working day after `start` (start itself does not count; n = 0 gives `start`)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start
        left = n
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
