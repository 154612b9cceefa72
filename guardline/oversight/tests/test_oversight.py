"""Oversight ledgers: rectification to closing, complaints with figures, fund projects against the milestones
(with every money movement in the tamper-evident ledger), assets with income distribution; regions and roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.core.models import ChangeLog
from guardline.ledger.models import LedgerEntry
from guardline.ledger.services import ledger_verify
from guardline.oversight import milestones, selectors, services
from guardline.oversight.models import Complaint, FundProject, Rectification
from tests.support import PASSWORD

NOW = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


@pytest.fixture
def staff(make_user, villages):
    return make_user("county_o", Role.COUNTY_STAFF, villages["A"].code[:6])


@pytest.fixture
def project(staff, villages):
    return services.fund_project_create(
        actor=staff, name="茶叶加工厂", region_code=villages["A"].code[:9], year=2026, category="industry",
        budget="1000000", industry_amount="800000", sources={"central": "600000", "county": "400000"}, now=NOW,
    )  # fmt: skip


def test_rectification_from_problem_to_closing(staff, villages, make_user):
    r = services.rectification_create(
        actor=staff, problem="部分监测户帮扶措施未落实", source="audit", region_code=villages["A"].code[:9],
        measures="逐户核查补齐措施", responsible_unit="乡村振兴局", responsible_person="王科长",
        deadline=date(2026, 3, 31), now=NOW,
    )  # fmt: skip
    assert r.status == Rectification.Status.OPEN
    assert list(selectors.rectifications(staff, overdue=True, on=date(2026, 4, 1))) == [r]
    services.rectification_progress_add(
        actor=staff, rectification=r, note="已核查 60 户", percent=50, now=NOW
    )
    r.refresh_from_db()
    assert r.status == Rectification.Status.IN_PROGRESS
    with pytest.raises(ValidationError):
        services.rectification_close(actor=staff, rectification=r, evidence=" ")
    services.rectification_close(actor=staff, rectification=r, evidence="核查报告及补录清单", now=NOW)
    r.refresh_from_db()
    assert (
        r.status == Rectification.Status.CLOSED and not selectors.rectifications(staff, overdue=True).exists()
    )
    months = selectors.rectification_months(staff, months=2, on=date(2026, 3, 15))
    assert [(m.month, m.opened, m.closed, m.progress_notes) for m in months][-1] == ("2026-03", 1, 1, 1)
    assert ChangeLog.objects.filter(entity="rectification", entity_id=r.pk).count() == 3
    other = make_user("town_other", Role.TOWNSHIP_REVIEWER, villages["B"].code[:9])  # another township
    assert not selectors.rectifications(other).exists()
    auditor = make_user("aud_o", Role.AUDITOR, villages["A"].code[:6])
    assert selectors.rectifications(auditor).count() == 1
    with pytest.raises(PermissionDenied):
        services.rectification_progress_add(actor=auditor, rectification=r, note="x", percent=1)


def test_complaints_routing_completion_rate_and_satisfaction(staff, villages, make_user, households):
    township = make_user("town_o", Role.TOWNSHIP_REVIEWER, villages["A"].code[:9])
    a = villages["A"].code
    c1 = services.complaint_create(actor=staff, channel="hotline", region_code=a, content="低保未到账",
                                   household=households["A"], now=NOW)  # fmt: skip
    c2 = services.complaint_create(actor=staff, channel="online", region_code=villages["B"].code,
                                   content="咨询小额信贷", now=NOW)  # fmt: skip
    assert c1.deadline == date(2026, 3, 17) and c1.receipt_no.startswith("SQ20260302")
    services.complaint_route(actor=staff, complaint=c1, to_code=a[:9], unit="民政办")
    assert selectors.complaints(township).filter(pk=c1.pk).exists()
    services.complaint_complete(actor=township, complaint=c1, reply="已核实补发", now=NOW + timedelta(days=3))
    with pytest.raises(PermissionDenied):
        services.complaint_complete(actor=township, complaint=c2, reply="x")
    services.complaint_rate(actor=staff, complaint=c1, satisfaction=5)
    total, per = selectors.complaint_figures(staff, on=date(2026, 4, 1))
    assert (total.total, total.completed, total.on_time, total.overdue_open) == (2, 1, 1, 1)
    assert total.completion_rate == 50.0 and total.satisfaction_avg == 5.0 and not total.meets_goal
    assert {f.region_code for f in per} == {a[:9], villages["B"].code[:9]}
    with pytest.raises(ValidationError):
        services.complaint_rate(actor=staff, complaint=c2, satisfaction=4)  # not completed yet
    assert Complaint.objects.get(pk=c1.pk).status == Complaint.Status.COMPLETED


def test_milestones_and_lag_alerts():
    assert milestones.planned_percent(2026, date(2026, 3, 30)) == (0, None)
    assert milestones.planned_percent(2026, date(2026, 3, 31)) == (25, date(2026, 3, 31))
    assert milestones.planned_percent(2026, date(2026, 10, 1))[0] == 75
    alerts = milestones.project_alerts(year=2026, budget=Decimal(100), spent=Decimal(40), status="planned",
                                       completion=0, on=date(2026, 7, 1))  # fmt: skip
    assert [a.code for a in alerts] == ["spending_lag", "not_started"]
    alerts = milestones.project_alerts(year=2026, budget=Decimal(100), spent=Decimal(80), status="started",
                                       completion=50, on=date(2026, 10, 1))  # fmt: skip
    assert [a.code for a in alerts] == ["completion_lag"]


def test_fund_movements_are_in_the_ledger_and_drive_the_milestones(staff, project):
    assert project.sources.count() == 2
    services.fund_movement_record(actor=staff, project=project, kind="allocation", amount="1000000",
                                  on=date(2026, 2, 1))  # fmt: skip
    m = services.fund_movement_record(actor=staff, project=project, kind="spending", amount="200000",
                                      on=date(2026, 3, 20), voucher_no="记-001")  # fmt: skip
    entry = LedgerEntry.objects.get(seq=m.ledger_seq)
    assert entry.kind == "fund" and entry.payload["amount"] == "200000.00"
    with pytest.raises(ValidationError):
        services.fund_movement_record(actor=staff, project=project, kind="spending", amount="900000",
                                      on=date(2026, 4, 1))  # fmt: skip
    status = selectors.project_status(staff, project, on=date(2026, 4, 1))
    assert status.spent_percent == Decimal("20.0") and status.planned_percent == 25
    assert [a.code for a in status.alerts] == ["spending_lag"]
    services.fund_movement_record(actor=staff, project=project, kind="spending", amount="100000",
                                  on=date(2026, 3, 25))  # fmt: skip
    assert not selectors.project_status(staff, project, on=date(2026, 4, 1)).alerts
    services.fund_project_progress(actor=staff, project=project, status="started", completion_percent=30,
                                   on=date(2026, 4, 2))  # fmt: skip
    fig = selectors.fund_figures(staff, on=date(2026, 4, 1))[0]
    assert fig.industry_share == Decimal("80.0") and not fig.industry_below_min and fig.started == 1
    assert ledger_verify().ok


def test_project_sources_must_add_up(staff, villages):
    with pytest.raises(ValidationError):
        services.fund_project_create(actor=staff, name="x", region_code=villages["A"].code[:6], year=2026,
                                     category="industry", budget="100", sources={"central": "50"})  # fmt: skip
    assert not FundProject.objects.exists()


def test_assets_and_income_distribution(staff, project, villages):
    a = services.asset_create(actor=staff, project=project, name="茶叶加工厂房", asset_type="operating",
                              region_code=villages["A"].code, owner="村集体经济组织", custodian="村委会",
                              value="900000", formed_on=date(2026, 9, 1))  # fmt: skip
    with pytest.raises(ValidationError):
        services.asset_income_record(actor=staff, asset=a, year=2026, amount="10000",
                                     distribution={"农户": "6000", "村集体": "3000"})  # fmt: skip
    dist = services.parse_distribution(["农户：6000", "村集体: 3000", "管护: 1000"])
    inc = services.asset_income_record(actor=staff, asset=a, year=2026, amount="10000", distribution=dist)
    assert (
        inc.ledger_seq
        and LedgerEntry.objects.get(seq=inc.ledger_seq).payload["distribution"]["农户"] == "6000.00"
    )
    assert selectors.assets(staff).get().income_total == Decimal("10000")
    assert selectors.asset_totals(staff)[0]["n"] == 1


def test_pages_render_for_staff_and_auditor(client, staff, project, villages, make_user):
    services.rectification_create(actor=staff, problem="问题", source="inspection", region_code=villages["A"].code[:6],
                                  measures="措施", responsible_unit="单位", responsible_person="人",
                                  deadline=date(2026, 1, 1))  # fmt: skip
    c = services.complaint_create(
        actor=staff, channel="hotline", region_code=villages["A"].code, content="诉求"
    )
    client.login(username="county_o", password=PASSWORD)
    for name, args in [("index", []), ("rectification_list", []), ("rectification_new", []),
                       ("complaint_list", []), ("complaint_new", []), ("complaint_detail", [c.pk]),
                       ("project_list", []), ("project_new", []), ("project_detail", [project.pk]),
                       ("asset_list", []), ("asset_new", [project.pk])]:  # fmt: skip
        r = client.get(reverse(f"oversight:{name}", args=args))
        assert r.status_code == 200, name
    r = client.post(reverse("oversight:movement_add", args=[project.pk]),
                    {"kind": "spending", "amount": "1000", "date": "2026-03-01", "voucher_no": "v1", "note": ""})  # fmt: skip
    assert r.status_code == 302 and project.movements.count() == 1
    r = client.post(reverse("oversight:rectification_new"), {
        "problem": "新问题", "source": "audit", "region_code": villages["A"].code[:6], "measures": "m",
        "responsible_unit": "u", "responsible_person": "p", "deadline": "2026-06-30", "source_ref": ""})  # fmt: skip
    assert r.status_code == 302 and Rectification.objects.count() == 2
    make_user("aud_p", Role.AUDITOR, villages["A"].code[:6])
    client.logout()
    client.login(username="aud_p", password=PASSWORD)
    assert client.get(reverse("oversight:project_detail", args=[project.pk])).status_code == 200
    assert client.get(reverse("oversight:rectification_new")).status_code == 403
