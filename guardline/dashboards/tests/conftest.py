"""A small county story walked through the real services: a household identified from a warning and left without a
plan, a household identified, helped and eliminated (then re-identified), open and closed warnings, grades, income
and a member with a damaged ID — then one refresh of the aggregate table."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guardline.assistance import services as assistance
from guardline.assistance.tests.conftest import (  # noqa: F401  (fixtures)
    LATER,
    T0,
    case,
    identify,
    line,
    people,
    ready,
    set_income,
)
from guardline.assistance.tests.test_elimination import walk
from guardline.cases import services as case_services
from guardline.registry.models import Household, Member
from guardline.screening.models import HouseholdGrade, RiskWarning
from tests.support import make_household


def _warning(household, grade: str, opened, closed=None) -> RiskWarning:
    return RiskWarning.objects.create(
        household=household, village_code=household.village_code, grade=grade, score=60.0, risk_types="01",
        reasons=["住院"], first_signal_date=opened.date(), opened_at=opened, updated_at=closed or opened,
        graded_at=opened, status="closed" if closed else "open", closed_at=closed,
        close_reason="已认定" if closed else "",
    )  # fmt: skip


def _grade(household, grade: str) -> None:
    HouseholdGrade.objects.create(household=household, village_code=household.village_code, grade=grade,
                                  score=50.0, as_of=T0.date(), updated_at=T0)  # fmt: skip


@pytest.fixture
def story(ready, people, households, villages):  # noqa: F811  (fixtures)
    """Returns the moment of the refresh."""
    a, b = households["A"], households["B"]
    a2 = make_household(villages["A"].code, "520526000000000004", "钱七", "52052619800101007")
    Household.objects.filter(pk=a.pk).update(household_type="former_poor")
    # A: identified at T0 (ready: plan, delivered health measure, income 9000 > line 7000), eliminated at LATER.
    elim = assistance.elimination_start(actor=people["village"], case=ready, mode="assisted", now=LATER)
    elim = walk(elim, people)
    assert elim.state == "eliminated"
    identify(a, people, start=LATER + timedelta(days=20))  # the risk returned: identified again
    # A2: a red warning → clue → case → identified (lack of labour + flood), no plan; no-labour household.
    Household.objects.filter(pk=a2.pk).update(no_labour_household=True)
    w = _warning(a2, "red", T0 - timedelta(hours=30))
    clue = case_services.clue_from_warning(w, now=T0 - timedelta(hours=29))
    case2 = case_services.case_open(actor=people["township"], clue=clue, now=T0)
    from guardline.assistance.tests.conftest import walk_case

    walk_case(case2, people, start=T0, risks=("04", "0201"), category="unstable_former_poor")
    RiskWarning.objects.filter(pk=w.pk).update(
        status="closed", closed_at=T0 + timedelta(days=9), updated_at=T0
    )
    set_income(a2, people, per_capita=Decimal("5000"))
    # B: an open yellow warning from last month (its on-site time has passed), a second household with a damaged
    # ID and no income.
    now = timezone.now()
    _warning(b, "yellow", now - timedelta(days=40))
    bad = make_household(villages["B"].code, "520526000000000009", "赵六")
    Member.objects.filter(household=bad).update(id_status="bad_checksum")
    _grade(a, "green")
    _grade(a2, "red")
    _grade(b, "yellow")
    return now
