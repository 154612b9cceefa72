"""People of every level around village A, an identified household (walked through the cases services), and a
household that meets every elimination condition seven months later."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.cases import services as case_services
from guardline.cases.models import Case
from guardline.regions.models import MonitoringLine, Region
from guardline.registry.import_services import income_apply_rows

T0 = timezone.make_aware(datetime(2026, 3, 2, 9, 0))  # a Monday
LATER = T0 + timedelta(days=215)  # seven months on (2026-10-03)
REVIEW = {
    "participants": ["甲", "乙", "丙", "丁", "戊"],
    "votes_for": 4,
    "votes_against": 1,
    "minutes": "同意",
}


def scan(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


@pytest.fixture
def people(make_user, villages, cadre_a):
    a = villages["A"].code
    return {
        "grid": make_user("grid_a", Role.GRID_WORKER, a),
        "village": cadre_a,
        "village_b": make_user("cadre_b", Role.VILLAGE_CADRE, villages["B"].code),
        "township": make_user("town_a", Role.TOWNSHIP_REVIEWER, a[:9]),
        "township_b": make_user("town_b", Role.TOWNSHIP_REVIEWER, villages["B"].code[:9]),
        "county": make_user("county_s", Role.COUNTY_STAFF, a[:6]),
        "county_admin": make_user("county_x", Role.COUNTY_ADMIN, a[:6]),
        "auditor": make_user("aud", Role.AUDITOR, a[:6]),
    }


def identify(household, people, start=T0, risks=("01",), category="marginal") -> Case:
    clue = case_services.clue_report(actor=people["village"], village_code="", household=household,
                                     concern="illness", description="户主住院", now=start)  # fmt: skip
    case = case_services.case_open(actor=people["township"], clue=clue, now=start + timedelta(hours=1))
    return walk_case(case, people, start, risks, category)


def walk_case(case: Case, people, start=T0, risks=("01",), category="marginal") -> Case:
    now = start + timedelta(days=1)
    steps = [
        ("home_check", "village", {"notes": "已入户", "files": [("commitment", scan("c.pdf"))]}),
        ("compare", "township", {"notes": "无车辆"}),
        ("village_review", "village", {"data": REVIEW}),
        ("notice_close", "village", {"notes": "无异议"}),
        ("township_approve", "township", {"notes": "同意"}),
        ("county_identify", "county", {"data": {"category": category, "risk_types": list(risks)}}),
    ]
    for action, who, kw in steps:
        if action == "notice_close":
            now = case.notice_ends_at
        case = case_services.case_transition(actor=people[who], case=case, action=action, now=now, **kw)
        now += timedelta(days=1)
    return case


@pytest.fixture
def case(households, people) -> Case:
    return identify(households["A"], people)


@pytest.fixture
def line(villages):
    county = Region.objects.get(code=villages["A"].code[:6])
    return MonitoringLine.objects.create(region=county, year=2026, effective_from=date(2026, 1, 1),
                                         amount=Decimal("7000"))  # fmt: skip


def set_income(household, people, year=2026, per_capita=Decimal("9000"), **flags):
    """An annual row for a one-person household: wage income = per-capita income, conditions all secure."""
    row = {"household_no": household.household_no, "year": year, "source_row": 0, "wage_income": per_capita,
           "housing_unsafe": False, "dropout": False, "water_unsafe": False, "uninsured_member": False, **flags}  # fmt: skip
    result = income_apply_rows([row], actor_id=people["county"].pk)
    assert not result.issues


@pytest.fixture
def ready(case, people, line, households):
    """The identified case, with a plan, one delivered measure, income above the line and conditions secure."""
    from guardline.assistance import services

    plan = services.plan_create(actor=people["village"], case=case, now=case.decided_at + timedelta(days=2))
    m = services.measure_add(actor=people["village"], plan=plan, code="100A45", amount="3000",
                             responsible=people["village"], now=case.decided_at + timedelta(days=2))  # fmt: skip
    services.measure_complete(actor=people["village"], measure=m, evidence=scan(),
                              now=case.decided_at + timedelta(days=30))  # fmt: skip
    set_income(households["A"], people)
    return case
