"""Working days with an editable holiday calendar, and every clock as a setting with the DOMAIN default."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from guardline.cases import clocks, pull_services, services
from guardline.cases.models import Holiday
from guardline.cases.workdays import Calendar

from .conftest import T0

NATIONAL_DAY = Calendar(
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)


def test_weekends_are_skipped():
    cal = Calendar()
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday → Monday
    assert cal.add_working_days(date(2026, 3, 2), 4) == date(2026, 3, 6)
    assert cal.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)


def test_holidays_and_adjusted_working_days():
    # Wed 30 Sep + 4 working days: Oct 1–7 off, Thu 8, Fri 9, Sat 10 (worked), Mon 12.
    assert NATIONAL_DAY.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert NATIONAL_DAY.is_working_day(date(2026, 9, 27))  # a Sunday worked
    assert not NATIONAL_DAY.is_working_day(date(2026, 10, 5))
    assert NATIONAL_DAY.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 40))
def test_add_and_count_agree(start, n):
    due = NATIONAL_DAY.add_working_days(start, n)
    assert NATIONAL_DAY.working_days_between(start, due) == n
    assert n == 0 or NATIONAL_DAY.is_working_day(due)


def test_defaults_follow_the_domain(settings):
    settings.GUARDLINE = {k: v for k, v in settings.GUARDLINE.items() if k != "CLOCKS"}
    assert clocks.clock("clue_to_decision") == {"days": 15, "working_days": False}
    assert clocks.clock("notice") == {"days": 5, "working_days": False}
    assert clocks.clock("warning_verification") == {"days": 4, "working_days": True}
    assert clocks.clock("plan_after_identification") == {"days": 10, "working_days": False}
    from guardline.screening.models import response_clock

    assert response_clock("red")["on_site_hours"] == 2 and response_clock("red")["plan_hours"] == 24


@pytest.mark.django_db
def test_verification_clock_counts_the_edited_calendar(people):
    start = timezone.make_aware(datetime(2026, 9, 30, 10, 0))
    assert timezone.localtime(clocks.due("warning_verification", start)).date() == date(2026, 10, 6)
    for d in range(1, 8):
        services.holiday_set(
            actor=people["county_admin"], date=date(2026, 10, d), kind="holiday", name="国庆节"
        )
    services.holiday_set(actor=people["county_admin"], date=date(2026, 10, 10), kind="workday", name="调休")
    due = timezone.localtime(clocks.due("warning_verification", start))
    assert due.date() == date(2026, 10, 12) and (due.hour, due.minute) == (23, 59)
    services.holiday_delete(actor=people["county_admin"], date=date(2026, 10, 10))
    assert timezone.localtime(clocks.due("warning_verification", start)).date() == date(2026, 10, 13)
    assert Holiday.objects.count() == 7


@pytest.mark.django_db
def test_clocks_are_settings(settings, households, people):
    settings.GUARDLINE = {
        **settings.GUARDLINE,
        "CLOCKS": {"clue_to_decision": {"days": 10, "working_days": True}},
    }
    clue = services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                concern="job", description="失业", now=T0)  # fmt: skip
    case = services.case_open(actor=people["township"], clue=clue, now=T0)
    assert timezone.localtime(case.decision_due).date() == date(2026, 3, 16)  # Mon 2 Mar + 10 working days


@pytest.mark.django_db
def test_red_warning_clue_has_the_response_clock(households, people, client):
    from guardline.cases.selectors import overdue
    from guardline.screening.models import RiskWarning

    opened = timezone.now() - timedelta(hours=3)
    warning = RiskWarning.objects.create(
        household=households["A"], village_code=households["A"].village_code, grade="red", score=80,
        risk_types="01", reasons=["医疗自付超过阈值"], first_signal_date=opened.date(), opened_at=opened,
        updated_at=opened, graded_at=opened,
    )  # fmt: skip
    assert pull_services.clues_pull_warnings() == 1
    assert pull_services.clues_pull_warnings() == 0  # idempotent
    clue = warning.clues.get()
    assert clue.channel == "warning" and clue.grade == "red" and clue.received_at == opened
    kinds = {i.kind for i in overdue(people["township"])}
    assert "red_on_site" in kinds and "red_plan" not in kinds
    # A visit report about the same household merges into the warning's clue and keeps the red grade.
    visit = services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                 concern="illness", description="住院")  # fmt: skip
    assert visit.merged_into == clue


@pytest.mark.django_db
def test_plan_clock_after_identification(case, people):
    from .conftest import walk

    case = walk(case, people)
    from guardline.cases.selectors import overdue

    later = case.plan_due + timedelta(minutes=1)
    assert "plan" in {i.kind for i in overdue(people["township"], now=later)}
    services.case_plan_made(case=case, at=later)
    assert "plan" not in {i.kind for i in overdue(people["township"], now=later)}
