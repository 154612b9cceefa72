"""Runs that overlap — a county's run in one worker while live re-screens go on in another, or a nightly `guardline
screen` from cron beside the live path: what a later-started run wrote from fresher data is never overwritten by an
earlier one, and a run compares its grades with what others wrote while it was grading, not with what it read."""

from __future__ import annotations

import pytest
from django.utils import timezone

from engine.screening import Rule
from guardline.core import failpoints
from guardline.screening.models import HouseholdGrade, RiskWarning, ScreeningRun
from guardline.screening.services import screening_rule_save, screening_run

pytestmark = pytest.mark.django_db

# A rule the run under way does not know (it read the rules when it started): what a later run finds with it
# tells the later run's grade from the earlier one's.
EVERYONE = Rule("everyone", "全体测试", "99", "severe", "size > 0", "", "测试规则")


def _meanwhile(monkeypatch, action) -> None:
    """Do `action` once, when the run under way has graded and is about to write."""
    real = failpoints.hit
    done: list[bool] = []

    def hit(name: str) -> None:
        real(name)
        if name == "screening_before_write" and not done:
            done.append(True)
            action()

    monkeypatch.setattr(failpoints, "hit", hit)


def _green_household() -> int:
    return HouseholdGrade.objects.filter(grade="green").order_by("household_id").first().household_id


def _later_live_rescreen(household: int):
    def action():
        screening_rule_save(actor=None, rule=EVERYONE)
        live = screening_run(household_ids=[household])
        assert live.red == 1

    return action


def test_an_earlier_county_run_leaves_what_a_later_live_rescreen_wrote(screened_county, monkeypatch):
    screening_run()
    household = _green_household()
    _meanwhile(monkeypatch, _later_live_rescreen(household))
    county = screening_run()
    grade = HouseholdGrade.objects.get(household_id=household)
    assert (grade.grade, grade.rules) == ("red", "everyone")
    warning = RiskWarning.objects.get(household_id=household, status="open")
    assert warning.rules == "everyone" and warning.last_run_id > county.pk
    assert "1 户已由更晚开始的筛查写入" in county.message
    # Every other household carries the county run's grades: it did not know the rule.
    assert (
        not HouseholdGrade.objects.exclude(household_id=household).filter(rules__contains="everyone").exists()
    )


def test_an_earlier_live_rescreen_leaves_what_a_later_county_run_wrote(screened_county, monkeypatch):
    screening_run()
    household = _green_household()

    def later_county_run():
        screening_rule_save(actor=None, rule=EVERYONE)
        assert screening_run().green == 0

    _meanwhile(monkeypatch, later_county_run)
    live = screening_run(household_ids=[household])
    assert live.green == 1  # what it found, with the rules it started with
    grade = HouseholdGrade.objects.get(household_id=household)
    assert (grade.grade, grade.rules) == ("red", "everyone")
    assert RiskWarning.objects.filter(household_id=household, status="open", rules="everyone").exists()
    assert "1 户已由更晚开始的筛查写入" in live.message


def test_a_grade_written_by_another_run_meanwhile_is_compared_afresh(screened_county, monkeypatch):
    screening_run()
    graded = HouseholdGrade.objects.filter(grade="red").order_by("household_id").first()

    def another_writer():
        HouseholdGrade.objects.filter(household_id=graded.household_id).update(
            grade="green", score=-1, updated_at=timezone.now()
        )

    _meanwhile(monkeypatch, another_writer)
    live = screening_run(household_ids=[graded.household_id])
    # The run's own grade equals the one it read before the other writer; it is written all the same.
    now = HouseholdGrade.objects.get(household_id=graded.household_id)
    assert (now.grade, now.score, now.run_id) == ("red", graded.score, live.pk)
    assert "更晚开始" not in live.message


def test_runs_record_the_households_they_screened(screened_county):
    everyone = screening_run()
    households = sorted(HouseholdGrade.objects.values_list("household_id", flat=True)[:3])
    some = screening_run(household_ids=households + households[:1])
    assert ScreeningRun.objects.get(pk=everyone.pk).household_ids is None
    assert ScreeningRun.objects.get(pk=some.pk).household_ids == households
