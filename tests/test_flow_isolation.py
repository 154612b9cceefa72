"""Issue 5: "a cadre of another village is refused at every step". A household of village A is taken through the
whole flow (clue, identification with evidence, plan, measures with evidence, paired cadre, visit, elimination);
then a village cadre of another township's village and one of the same township's other village open every page
and post to every step URL of the flow: each answer is 403 or 404, and nothing changed. The cadre of village A
gets the same pages (so the URLs are real). The browser test (tests/test_browser_cases.py) checks the same refusal
on the phone for the case, plan and elimination pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.assistance import procedure as elim_procedure
from guardline.assistance import services as assistance
from guardline.assistance.models import (
    AssistancePlan,
    Elimination,
    EliminationStep,
    Measure,
    PairedCadre,
    Visit,
)
from guardline.assistance.tests.conftest import identify
from guardline.cases import procedure as case_procedure
from guardline.cases import services as cases
from guardline.cases.models import Case, CaseStep, Clue, Evidence
from guardline.core.models import ChangeLog
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


@pytest.fixture
def flow(households, villages, make_user, cadre_a):
    """Every object of the flow for household A, as the village cadre and township of A made them."""
    a = villages["A"].code
    people = {
        "village": cadre_a,
        "township": make_user("town_a", Role.TOWNSHIP_REVIEWER, a[:9]),
        "county": make_user("county_s", Role.COUNTY_STAFF, a[:6]),
    }
    make_user("cadre_b", Role.VILLAGE_CADRE, villages["B"].code)
    make_user("cadre_a2", Role.VILLAGE_CADRE, villages["A2"].code)
    household = households["A"]
    start = timezone.now() - timedelta(days=60)
    case = identify(household, people, start=start)
    open_clue = cases.clue_report(actor=cadre_a, village_code=a, concern="illness", description="邻居反映",
                                  now=timezone.now())  # fmt: skip
    plan = assistance.plan_create(actor=cadre_a, case=case)
    delivered = assistance.measure_add(actor=cadre_a, plan=plan, code="100A45", amount="3000")
    assistance.measure_complete(actor=cadre_a, measure=delivered, evidence=pdf())
    planned = assistance.measure_add(actor=cadre_a, plan=plan, code="100A40")
    pairing = assistance.cadre_pair(actor=people["township"], household=household, cadre=cadre_a)
    elim = assistance.elimination_start(actor=cadre_a, case=case, mode="assisted")
    evidence = Evidence.objects.filter(step__case=case).first()
    assert evidence is not None and case.state == "identified"
    return {"case": case, "clue": case.clues.first(), "open_clue": open_clue, "plan": plan,
            "delivered": delivered, "planned": planned, "pairing": pairing, "elim": elim, "evidence": evidence,
            "household": household, "village": a}  # fmt: skip


def pages(f) -> list[str]:
    """Every page of the flow a cadre opens (GET)."""
    return [
        reverse("cases:clue_detail", args=[f["clue"].pk]),
        reverse("cases:clue_detail", args=[f["open_clue"].pk]),
        reverse("cases:case_detail", args=[f["case"].pk]),
        reverse("cases:notice_print", args=[f["case"].pk]),
        reverse("cases:evidence_file", args=[f["evidence"].pk]),
        reverse("cases:qr_svg", args=[f["village"]]),
        reverse("cases:qr_sheet", args=[f["village"]]),
        reverse("assistance:case_home", args=[f["case"].pk]),
        reverse("assistance:plan_detail", args=[f["plan"].pk]),
        reverse("assistance:measure_evidence", args=[f["delivered"].pk]),
        reverse("assistance:visit_new", args=[f["household"].pk]),
        reverse("assistance:elimination_detail", args=[f["elim"].pk]),
    ]


def posts(f) -> list[tuple[str, dict]]:
    """Every step URL of the flow (POST), with plausible data."""
    case, elim = f["case"], f["elim"]
    review = {"participants": "甲,乙,丙", "votes_for": "3", "minutes": "同意"}
    out: list[tuple[str, dict]] = []
    for clue in (f["open_clue"], f["clue"]):
        for op, data in (("open", {}), ("match", {"household": f["household"].household_no}),
                         ("merge", {"into": f["clue"].pk}), ("dismiss", {"reason": "重复"})):  # fmt: skip
            out.append((reverse("cases:clue_action", args=[clue.pk, op]), data))
    for action in case_procedure.Action:
        data = {"notes": "已核实", "reason": "理由", "category": "marginal", "risk_types": ["01"], **review}
        out.append((reverse("cases:case_act", args=[case.pk, action.value]), data))
    out += [
        (reverse("assistance:plan_create", args=[case.pk]), {"code": ["100A39"], "notes": "另起计划"}),
        (reverse("assistance:measure_add", args=[f["plan"].pk]), {"code": "100A39"}),
        (reverse("assistance:cadre_pair", args=[f["household"].pk]), {"cadre": f["pairing"].cadre_id}),
        (reverse("assistance:cadre_unpair", args=[f["pairing"].pk]), {}),
        (reverse("assistance:visit_new", args=[f["household"].pk]), {"kind": "routine", "notes": "走访"}),
        (reverse("assistance:elimination_start", args=[case.pk]), {"mode": "natural"}),
        (
            reverse("assistance:elimination_reidentify", args=[elim.pk]),
            {"concern": "illness", "description": "x"},
        ),
    ]
    for measure in (f["planned"], f["delivered"]):
        for op in ("start", "complete", "cancel"):
            out.append((reverse("assistance:measure_act", args=[measure.pk, op]),
                        {"reason": "不需要", "notes": "已落实", "evidence": pdf()}))  # fmt: skip
    for action in elim_procedure.Action:
        out.append((reverse("assistance:elimination_act", args=[elim.pk, action.value]),
                    {"notes": "符合", "reason": "理由", **review}))  # fmt: skip
    return out


def state() -> dict:
    """Everything a step could change."""
    return {
        "clues": sorted(
            Clue.objects.values_list("pk", "status", "household_id", "case_id", "merged_into_id")
        ),
        "cases": sorted(Case.objects.values_list("pk", "state", "updated_at")),
        "case_steps": CaseStep.objects.count(),
        "evidence": Evidence.objects.count(),
        "plans": sorted(AssistancePlan.objects.values_list("pk", "updated_at")),
        "measures": sorted(Measure.objects.values_list("pk", "status", "updated_at")),
        "pairings": sorted(PairedCadre.objects.values_list("pk", "end_date")),
        "visits": Visit.objects.count(),
        "eliminations": sorted(Elimination.objects.values_list("pk", "state", "updated_at")),
        "elimination_steps": EliminationStep.objects.count(),
        "changelog": ChangeLog.objects.count(),
    }


@pytest.mark.parametrize("username", ["cadre_b", "cadre_a2"])
def test_cadre_of_another_village_is_refused_at_every_step(client, flow, username):
    before = state()
    assert client.login(username=username, password=PASSWORD)
    for url in pages(flow):
        response = client.get(url)
        assert response.status_code in (403, 404), ("GET", url, response.status_code)
    for url, data in posts(flow):
        response = client.post(url, data)
        assert response.status_code in (403, 404), ("POST", url, response.status_code)
    assert state() == before
    # Nor do the lists show the household.
    for name in ("cases:inbox", "cases:case_list", "cases:tasks", "assistance:plan_list",
                 "assistance:elimination_list", "assistance:visits_due"):  # fmt: skip
        body = client.get(reverse(name)).content.decode()
        assert flow["household"].household_no not in body, name
        assert flow["open_clue"].receipt_no not in body, name


def test_the_cadre_of_the_village_opens_the_same_pages(client, flow):
    assert client.login(username="cadre_a", password=PASSWORD)
    for url in pages(flow):
        assert client.get(url, follow=True).status_code == 200, url
    for name in ("assistance:plan_list", "assistance:elimination_list"):
        assert flow["household"].household_no in client.get(reverse(name)).content.decode(), name
