"""Users of every level around village A, and a helper that walks a case through the procedure."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.cases import services
from guardline.cases.models import Case, Clue

T0 = timezone.make_aware(datetime(2026, 3, 2, 9, 0))  # a Monday


def scan(name: str = "commitment.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 signed commitment", content_type="application/pdf")


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
        "province": make_user("prov", Role.PROVINCE_OFFICER, a[:2]),
    }


@pytest.fixture
def clue(households, people):
    return services.clue_report(
        actor=people["village"], village_code="", household=households["A"], concern="illness",
        description="户主住院，医疗费用高", now=T0,
    )  # fmt: skip


@pytest.fixture
def case(clue, people) -> Case:
    return services.case_open(actor=people["township"], clue=clue, now=T0 + timedelta(hours=1))


REVIEW = {
    "participants": ["甲", "乙", "丙", "丁", "戊"],
    "votes_for": 4,
    "votes_against": 1,
    "minutes": "同意纳入",
}


def walk(case: Case, people, until: str = "identified", start=T0) -> Case:
    """Take the case forward step by step (each a day apart; the notice runs its full period)."""
    steps = [
        ("home_check", "village", {"notes": "已入户", "files": [("commitment", scan())]}),
        ("compare", "township", {"notes": "无车辆、无商品房"}),
        ("village_review", "village", {"data": REVIEW}),
        ("notice_close", "village", {"notes": "无异议"}),
        ("township_approve", "township", {"notes": "同意"}),
        ("county_identify", "county", {"data": {"category": "marginal", "risk_types": ["01"]}}),
    ]
    now = start + timedelta(days=1)
    for action, who, kw in steps:
        if case.state == until:
            break
        if action == "notice_close":
            now = case.notice_ends_at
        case = services.case_transition(actor=people[who], case=case, action=action, now=now, **kw)
        now += timedelta(days=1)
    return case


__all__ = ["REVIEW", "T0", "Clue", "scan", "walk"]
