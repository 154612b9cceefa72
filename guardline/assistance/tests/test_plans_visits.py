"""Plans, measures, paired cadres, visits (flowing into the registry), the due-visit list by grade, and the pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from guardline.assistance import selectors, services
from guardline.assistance.models import Measure, Visit
from guardline.cases.models import Case
from guardline.core.models import ChangeLog
from guardline.registry.models import HouseholdYear
from guardline.screening.models import HouseholdGrade
from tests.support import PASSWORD

from .conftest import LATER, REVIEW, scan, set_income

pytestmark = pytest.mark.django_db


def test_plan_stops_the_clock_and_records_the_recommendation(case, people):
    assert case.plan_due == case.decided_at + timedelta(days=10)
    plan = services.plan_create(actor=people["village"], case=case, notes="就医报销+务工",
                                now=case.decided_at + timedelta(days=3))  # fmt: skip
    case.refresh_from_db()
    assert case.plan_made_at == plan.created_at and not plan.late
    assert plan.recommendation["proposals"][0]["code"] == "100A45"
    with pytest.raises(ValidationError, match="已有帮扶计划"):
        services.plan_create(actor=people["village"], case=case)
    assert ChangeLog.objects.filter(entity="assistance_plan", entity_id=plan.pk).exists()


def test_late_plan_is_flagged(case, people):
    plan = services.plan_create(actor=people["township"], case=case, now=case.decided_at + timedelta(days=11))
    assert plan.late


def test_plan_needs_identification_scope_and_permission(households, people, case):
    with pytest.raises(PermissionDenied):
        services.plan_create(actor=people["grid"], case=case)
    with pytest.raises(PermissionDenied):
        services.plan_create(actor=people["village_b"], case=case)
    Case.objects.filter(pk=case.pk).update(state="county_decision")
    with pytest.raises(ValidationError, match="已认定"):
        services.plan_create(actor=people["village"], case=case)


def test_measure_lifecycle(case, people):
    plan = services.plan_create(actor=people["village"], case=case)
    with pytest.raises(ValidationError, match="代码表"):
        services.measure_add(actor=people["village"], plan=plan, code="100A43")
    with pytest.raises(ValidationError, match="结束日期"):
        services.measure_add(actor=people["village"], plan=plan, code="100A40", start_date=date(2026, 5, 1),
                             end_date=date(2026, 4, 1))  # fmt: skip
    with pytest.raises(ValidationError, match="责任人"):
        services.measure_add(
            actor=people["village"], plan=plan, code="100A40", responsible=people["village_b"]
        )
    with pytest.raises(ValidationError, match="数字"):
        services.measure_add(actor=people["village"], plan=plan, code="100A40", amount="abc")
    m = services.measure_add(actor=people["village"], plan=plan, code="100A40", amount="1,200",
                             start_date=date(2026, 4, 1), responsible=people["grid"])  # fmt: skip
    assert m.amount == Decimal("1200.00") and m.status == Measure.Status.PLANNED and m.kind == "开发式帮扶"
    m = services.measure_update(actor=people["township"], measure=m, status="in_progress", amount=1500)
    assert m.status == "in_progress"
    with pytest.raises(ValidationError, match="实施中"):
        services.measure_update(actor=people["village"], measure=m, status="delivered")
    with pytest.raises(ValidationError, match="佐证"):
        services.measure_complete(actor=people["village"], measure=m, evidence=None)
    m = services.measure_complete(actor=people["village"], measure=m, evidence=scan("photo.jpg"))
    assert m.status == "delivered" and m.sha256 and m.evidence and m.completed_by == people["village"]
    with pytest.raises(ValidationError):
        services.measure_cancel(actor=people["village"], measure=m, reason="x")
    with pytest.raises(ValidationError):
        services.measure_update(actor=people["village"], measure=m, amount=1)
    other = services.measure_add(actor=people["village"], plan=plan, code="100A52")
    with pytest.raises(ValidationError, match="理由"):
        services.measure_cancel(actor=people["village"], measure=other, reason="")
    other = services.measure_cancel(actor=people["village"], measure=other, reason="重复")
    assert other.status == "cancelled"
    assert ChangeLog.objects.filter(entity="measure", entity_id=m.pk).count() == 3
    checks = {c.rule: c for c in services.plan_checks(plan)}
    assert checks["R3"].ok  # cancelled measures do not count


def test_plan_checks_reflect_labour(case, people, households):
    member = households["A"].members.get()
    from guardline.registry.services import member_update

    member_update(actor=people["village"], member=member, labour_capacity="ordinary")
    plan = services.plan_create(actor=people["village"], case=case)
    assert {p["code"] for p in plan.recommendation["proposals"]} == {"100A45", "100A40"}
    services.measure_add(actor=people["village"], plan=plan, code="100A45")
    r1 = next(c for c in services.plan_checks(plan) if c.rule == "R1")
    assert not r1.ok


def test_cadre_pairing(households, people):
    h = households["A"]
    p = services.cadre_pair(actor=people["village"], household=h, cadre=people["township"])
    with pytest.raises(ValidationError, match="已与此户结对"):
        services.cadre_pair(actor=people["village"], household=h, cadre=people["township"])
    with pytest.raises(ValidationError):
        services.cadre_pair(actor=people["village"], household=h, cadre=people["village_b"])
    with pytest.raises(PermissionDenied):
        services.cadre_pair(actor=people["grid"], household=h, cadre=people["village"])
    assert list(selectors.household_cadres(people["county"], h)) == [p]
    services.cadre_unpair(actor=people["village"], pairing=p)
    assert not selectors.household_cadres(people["county"], h).exists()
    assert services.cadre_pair(actor=people["village"], household=h, cadre=people["township"]).pk != p.pk


def test_visit_updates_the_registry_through_its_service(households, people):
    h = households["A"]
    set_income(h, people, year=2026, per_capita=Decimal("6000"), claim_income=Decimal("500"))
    v = services.visit_record(actor=people["grid"], household=h, notes="务工收入增加，饮水管道已修复",
                              updates={"year": 2026, "wage_income": "9000", "water_unsafe": True})  # fmt: skip
    assert v.updates == {"wage_income": "9000.00", "water_unsafe": True, "year": 2026}
    y = HouseholdYear.objects.get(household=h, year=2026, snapshot_kind="annual")
    assert y.wage_income == Decimal("9000") and y.water_unsafe is True
    assert y.claim_income == Decimal("500") and y.housing_unsafe is False  # untouched figures stay
    h.refresh_from_db()
    assert h.latest_per_capita_income == y.per_capita_net_income
    assert ChangeLog.objects.filter(entity="household_year", household_id=h.pk, actor=people["grid"]).exists()
    assert ChangeLog.objects.filter(entity="visit", entity_id=v.pk).exists()
    services.visit_record(
        actor=people["grid"], household=h, notes="情况稳定"
    )  # no updates: registry untouched
    with pytest.raises(PermissionDenied):
        services.visit_record(actor=people["village_b"], household=h, notes="x")
    with pytest.raises(ValidationError):
        services.visit_record(actor=people["grid"], household=h, notes=" ")
    with pytest.raises(ValidationError, match="年度"):
        services.visit_record(
            actor=people["grid"], household=h, notes="x", updates={"year": 1990, "wage_income": 1}
        )


def _grade(h, grade):
    now = timezone.now()
    return HouseholdGrade.objects.create(household=h, village_code=h.village_code, grade=grade, score=50,
                                         as_of=now.date() - timedelta(days=1), updated_at=now)  # fmt: skip


def test_due_visits_by_grade_and_scope(households, people, settings):
    a, a2, b = households["A"], households["A2"], households["B"]
    _grade(a, "red"), _grade(a2, "green"), _grade(b, "yellow")
    now = timezone.now()
    due = selectors.due_visits(people["county"], now)
    assert [d.household for d in due] == [a, b, a2]  # never visited: due at once, red first
    assert [d.grade for d in due] == ["red", "yellow", "green"]
    assert [d.household for d in selectors.due_visits(people["grid"], now)] == [a]
    Visit.objects.create(household=a, village_code=a.village_code, visitor=people["grid"], at=now - timedelta(hours=2),
                         notes="x")  # fmt: skip
    Visit.objects.create(household=a2, village_code=a2.village_code, visitor=people["grid"],
                         at=now - timedelta(days=30), notes="x")  # fmt: skip
    assert [d.household for d in selectors.due_visits(people["county"], now)] == [b]
    assert [d.household for d in selectors.due_visits(people["county"], now + timedelta(days=1))] == [a, b]
    settings.GUARDLINE = {**settings.GUARDLINE, "VISIT_CADENCE_DAYS": {"red": 1, "yellow": 7, "green": 20}}
    due = selectors.due_visits(people["county"], now)
    assert [d.household for d in due] == [b, a2] and due[1].due == Visit.objects.get(
        household=a2
    ).at + timedelta(days=20)


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_pages(client, ready, people, households):
    h = households["A"]
    _grade(h, "red")
    services.cadre_pair(actor=people["village"], household=h, cadre=people["township"])
    _login(client, people["village"])
    plan = ready.plan
    assert client.get(reverse("assistance:plan_detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("assistance:case_home", args=[ready.pk])).status_code == 302
    assert client.get(reverse("assistance:plan_list")).status_code == 200
    r = client.post(reverse("assistance:measure_add", args=[plan.pk]), {"code": "100A52", "amount": "100"})
    assert r.status_code == 302 and plan.measures.filter(code="100A52").exists()
    r = client.post(reverse("assistance:elimination_start", args=[ready.pk]), {"mode": "assisted"})
    elim = ready.eliminations.get()
    assert r.url == reverse("assistance:elimination_detail", args=[elim.pk])
    page = client.get(r.url).content.decode()
    assert "确认符合消除条件" in page
    page = client.get(reverse("registry:household_detail", args=[h.pk])).content.decode()
    assert "帮扶全过程" in page and "制定帮扶计划" in page and "风险消除" in page and "识别认定" in page
    client.logout()
    _login(client, people["grid"])
    page = client.get(reverse("assistance:visits_due")).content.decode()
    assert h.head_name in page
    r = client.post(reverse("assistance:visit_new", args=[h.pk]), {"kind": "routine", "notes": "到户", "year": 2026,
                                                                    "wage_income": "9500", "water_unsafe": "0"})  # fmt: skip
    assert r.status_code == 302 and Visit.objects.filter(household=h).count() == 1
    assert HouseholdYear.objects.get(household=h, year=2026).wage_income == Decimal("9500")
    assert client.get(reverse("assistance:plan_detail", args=[households["B"].pk + 999])).status_code == 404


def test_other_region_cannot_see(client, ready, people):
    _login(client, people["village_b"])
    assert client.get(reverse("assistance:plan_detail", args=[ready.plan.pk])).status_code == 404


def test_templates_have_no_inline_script_style_or_handlers():
    root = Path(__file__).resolve().parents[2] / "templates" / "assistance"
    for path in root.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", text), path.name


__all__ = ["LATER", "REVIEW"]
