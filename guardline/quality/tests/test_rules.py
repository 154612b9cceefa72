"""Each rule positive and negative; re-runs resolve what no longer holds and never duplicate; findings are
listed per village within the user's regions, with a fix link."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from guardline.accounts.models import Role
from guardline.ingest.models import FeedEvent
from guardline.quality.models import QualityFinding
from guardline.quality.rules import RULES_BY_CODE
from guardline.quality.services import quality_check_run
from guardline.registry.models import Household, Member
from tests.support import PASSWORD

from .conftest import T, eliminated, identified, income, line

pytestmark = pytest.mark.django_db


def hits(code: str) -> set[int]:
    return set(RULES_BY_CODE[code].find().values_list("pk", flat=True))


def set_labour(household, capacity: str) -> None:
    Member.objects.filter(household=household).update(labour_capacity=capacity)


def test_unstable_job_without_labour(households):
    h, other = households["A"], households["B"]
    identified(h, "07;01")
    identified(other, "07")
    set_labour(h, "lost")
    set_labour(other, "ordinary")
    assert hits("risk07_no_labour") == {h.pk}
    identified(households["A2"], "0207")  # not a code; contains "07" only as a substring
    set_labour(households["A2"], "none")
    assert hits("risk07_no_labour") == {h.pk}


def test_illness_without_out_of_pocket(households):
    h, paid, other_risk = households["A"], households["A2"], households["B"]
    identified(h, "01")
    income(h, compliant_out_of_pocket=Decimal(0))
    identified(paid, "03;01")
    income(paid, compliant_out_of_pocket=Decimal("3200"))
    identified(other_risk, "03")
    income(other_risk, compliant_out_of_pocket=Decimal(0))
    assert hits("risk01_no_medical_cost") == {h.pk}


def test_no_labour_household_not_flagged(households):
    h, flagged, capable = households["A"], households["A2"], households["B"]
    set_labour(h, "lost")
    set_labour(flagged, "none")
    Household.objects.filter(pk=flagged.pk).update(no_labour_household=True)
    set_labour(capable, "weak")
    assert hits("no_labour_not_flagged") == {h.pk}
    Member.objects.create(household=h, name="张小", id_number="520526201001010011", relation="son",
                          labour_capacity="")  # fmt: skip
    assert hits("no_labour_not_flagged") == set()  # one member's capacity unknown: no finding


def test_elimination_below_line(households, villages):
    line(villages["A"].code, "8000")
    low, high = households["A"], households["B"]
    income(low, 2025, per_capita_net_income=Decimal("7200"))
    income(high, 2025, per_capita_net_income=Decimal("9500"))
    eliminated(identified(low, "01"))
    eliminated(identified(high, "01"))
    assert hits("eliminated_below_line") == {low.pk}


def test_dibao_with_zero_transfer_income(households):
    h, paid, no_dibao = households["A"], households["A2"], households["B"]
    for household, transfer in ((h, 0), (paid, 4800), (no_dibao, 0)):
        income(household, 2025, transfer_income=Decimal(transfer))
    for n, household in enumerate((h, paid)):
        FeedEvent.objects.create(feed="civil_assistance", key_hash=f"k{n}", event_date=date(2025, 4, 1),
                                 kind="低保", household=household, payload={})  # fmt: skip
    FeedEvent.objects.create(feed="civil_assistance", key_hash="k9", event_date=date(2025, 4, 1), kind="临时救助",
                             household=no_dibao, payload={})  # fmt: skip
    assert hits("dibao_zero_transfer") == {h.pk}


def test_rerun_resolves_and_does_not_duplicate(households):
    h = households["A"]
    set_labour(h, "lost")
    first = quality_check_run(now=T)
    assert first.opened == 1 and first.per_rule["no_labour_not_flagged"] == 1
    again = quality_check_run(now=T + timedelta(days=1))
    assert again.opened == 0 and again.resolved == 0
    finding = QualityFinding.objects.get(rule="no_labour_not_flagged")
    assert finding.first_seen == T and finding.last_seen == T + timedelta(days=1)
    Household.objects.filter(pk=h.pk).update(no_labour_household=True)  # fixed
    fixed = quality_check_run(now=T + timedelta(days=2))
    assert fixed.resolved == 1 and fixed.open_total == 0
    finding.refresh_from_db()
    assert finding.resolved_at == T + timedelta(days=2)
    Household.objects.filter(pk=h.pk).update(no_labour_household=False)  # broken again: a new finding
    quality_check_run(now=T + timedelta(days=3))
    assert QualityFinding.objects.filter(rule="no_labour_not_flagged").count() == 2
    assert QualityFinding.objects.filter(rule="no_labour_not_flagged", resolved_at__isnull=True).count() == 1


def test_region_run_leaves_other_regions_alone(households, villages):
    set_labour(households["A"], "lost")
    set_labour(households["B"], "lost")
    quality_check_run(region_code=villages["A"].code)
    assert set(QualityFinding.objects.values_list("household_id", flat=True)) == {households["A"].pk}


def test_command_and_pages_scoped(client, households, villages, make_user):
    from django.core.management import call_command

    set_labour(households["A"], "lost")
    set_labour(households["B"], "lost")
    out = io.StringIO()
    call_command("check_quality", stdout=out, stderr=io.StringIO())
    assert "no_labour_not_flagged: 2" in out.getvalue()
    cadre = make_user("q_cadre", Role.VILLAGE_CADRE, villages["A"].code)
    client.login(username=cadre.username, password=PASSWORD)
    page = client.get(reverse("quality:index")).content.decode()
    assert villages["A"].name in page and villages["B"].name not in page
    listing = client.get(reverse("quality:finding_list"), {"region": villages["A"].code}).content.decode()
    assert households["A"].household_no in listing and households["B"].household_no not in listing
    assert reverse("registry:household_detail", args=[households["A"].pk]) in listing
    assert client.get(reverse("quality:finding_list"), {"region": villages["B"].code}).status_code == 403
    everything = client.get(reverse("quality:finding_list")).content.decode()
    assert households["B"].household_no not in everything


def test_import_queues_a_check(tmp_path, households, villages, make_user):
    """Imports end with a data-quality check (the test settings run tasks at once)."""
    from engine.ids import check_char
    from guardline.ingest.services import import_file

    set_labour(households["A"], "lost")  # already breaking a rule before the import
    admin = make_user("q_admin", Role.COUNTY_ADMIN, villages["A"].code[:6])
    first17 = "52052619800101007"
    path = tmp_path / "registry.csv"
    path.write_text(
        "户编号,行政区划代码,户类型,姓名,证件号码,与户主关系\n"
        f"520526000000000077,{villages['A'].code},一般农户,赵六,{first17}{check_char(first17)},户主\n",
        encoding="utf-8",
    )
    assert not QualityFinding.objects.exists()
    batch = import_file("registry", path, actor=admin)
    assert batch.status == "done", batch.message
    assert QualityFinding.objects.filter(household=households["A"], rule="no_labour_not_flagged").exists()
