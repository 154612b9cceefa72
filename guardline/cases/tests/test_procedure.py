"""Every transition, guard, role and region rule of the identification procedure, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from guardline.accounts.models import Role
from guardline.cases import procedure, services
from guardline.cases.models import Case, CaseStep, Clue
from guardline.cases.procedure import Action, ProcedureError, State
from guardline.core.models import ChangeLog

from .conftest import REVIEW, T0, scan, walk

pytestmark = pytest.mark.django_db


def test_roles_in_the_table_are_real_roles():
    for t in procedure.TRANSITIONS.values():
        assert t.roles <= set(Role.values)


def test_full_path_records_every_step(case, people, households):
    case = walk(case, people)
    assert case.state == State.IDENTIFIED
    assert case.category == "marginal" and case.risk_list == ["01"]
    assert case.identification_month == "2026-03"
    assert case.plan_due == case.decided_at + timedelta(days=10)
    steps = list(case.steps.values_list("action", "from_state", "to_state", "actor_role"))
    assert [s[0] for s in steps] == ["open", "home_check", "compare", "village_review", "notice_close",
                                     "township_approve", "county_identify"]  # fmt: skip
    assert [s[2] for s in steps[1:]] == list(procedure.PATH[1:])
    home = case.steps.get(action="home_check")
    assert home.evidence.get().kind == "commitment"
    review = case.steps.get(action="village_review")
    assert review.data["votes_for"] == 4 and len(review.data["participants"]) == 5
    households["A"].refresh_from_db()
    assert households["A"].monitor_category == "marginal"
    assert ChangeLog.objects.filter(entity="case", entity_id=case.pk).count() == 7
    assert "per_capita_income" in case.decision_snapshot


def test_home_check_needs_the_signed_commitment(case, people):
    with pytest.raises(ProcedureError, match="承诺授权"):
        services.case_transition(actor=people["village"], case=case, action="home_check", notes="已入户")
    sig = scan("signature.png")
    case = services.case_transition(actor=people["grid"], case=case, action="home_check", notes="已入户",
                                    files=[("signature", sig)])  # fmt: skip
    assert case.state == State.COMPARISON


def test_wrong_state_is_refused(case, people):
    with pytest.raises(ProcedureError) as exc:
        services.case_transition(actor=people["county"], case=case, action="county_identify",
                                 data={"category": "marginal", "risk_types": ["01"]})  # fmt: skip
    assert exc.value.code == "state"
    assert Case.objects.get(pk=case.pk).state == State.HOME_CHECK


def test_village_cadre_cannot_take_the_county_decision(case, people):
    case = walk(case, people, until="county_decision")
    with pytest.raises(ProcedureError) as exc:
        services.case_transition(actor=people["village"], case=case, action="county_identify",
                                 data={"category": "marginal", "risk_types": ["01"]})  # fmt: skip
    assert exc.value.code == "role"
    with pytest.raises(ProcedureError):
        services.case_transition(actor=people["township"], case=case, action="county_identify",
                                 data={"category": "marginal", "risk_types": ["01"]})  # fmt: skip


def test_cadre_of_another_village_is_refused(case, people):
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=people["village_b"], case=case, action="home_check", notes="x",
                                 files=[("commitment", scan())])  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=people["township_b"], case=case, action="reject", reason="x")


def test_province_and_auditor_take_no_step(case, people, make_user, villages):
    auditor = make_user("aud", Role.AUDITOR, villages["A"].code[:6])
    for user in (people["province"], auditor):
        with pytest.raises((ProcedureError, PermissionDenied)):
            services.case_transition(actor=user, case=case, action="reject", reason="x")


def test_notice_cannot_close_before_five_days(case, people):
    case = walk(case, people, until="public_notice")
    started = case.notice_started_at
    assert case.notice_ends_at == started + timedelta(days=5)
    for early in (started, started + timedelta(days=4, hours=23, minutes=59)):
        with pytest.raises(ProcedureError, match="公示期未满"):
            services.case_transition(actor=people["village"], case=case, action="notice_close", now=early)
    case = services.case_transition(actor=people["village"], case=case, action="notice_close",
                                    now=started + timedelta(days=5))  # fmt: skip
    assert case.state == State.TOWNSHIP_REVIEW


def test_notice_period_is_a_setting(case, people, settings):
    settings.GUARDLINE = {**settings.GUARDLINE, "CLOCKS": {"notice": {"days": 7, "working_days": False}}}
    case = walk(case, people, until="public_notice")
    assert case.notice_ends_at - case.notice_started_at == timedelta(days=7)


def test_village_review_guards(case, people):
    case = walk(case, people, until="village_review")
    bad = [
        {**REVIEW, "participants": []},
        {**REVIEW, "minutes": ""},
        {**REVIEW, "votes_for": 9},
        {**REVIEW, "votes_for": 2, "votes_against": 3},
    ]
    for data in bad:
        with pytest.raises(ProcedureError):
            services.case_transition(actor=people["village"], case=case, action="village_review", data=data)
    case = services.case_transition(actor=people["village"], case=case, action="reject", reason="评议未通过",
                                    data={**REVIEW, "votes_for": 1, "votes_against": 4})  # fmt: skip
    assert case.state == State.REJECTED
    assert case.steps.get(action="reject").data["votes_against"] == 4


def test_decision_guards(case, people):
    case = walk(case, people, until="county_decision")
    for data in (
        {"category": "", "risk_types": ["01"]},
        {"category": "marginal", "risk_types": []},
        {"category": "marginal", "risk_types": ["01", "03", "04", "05", "06", "07"]},
        {"category": "marginal", "risk_types": ["01", "01"]},
        {"category": "marginal", "risk_types": ["88"]},
    ):
        with pytest.raises(ProcedureError):
            services.case_transition(actor=people["county"], case=case, action="county_identify", data=data)
    case = services.case_transition(actor=people["county_admin"], case=case, action="county_identify",
                                    data={"category": "sudden_hardship",
                                          "risk_types": ["01", "0201", "03", "04", "05"]})  # fmt: skip
    assert case.state == State.IDENTIFIED and len(case.risk_list) == 5


@pytest.mark.parametrize("state", ["home_check", "comparison", "village_review", "public_notice",
                                   "township_review", "county_decision"])  # fmt: skip
def test_rejection_at_any_step_keeps_its_reason(case, people, state):
    case = walk(case, people, until=state)
    assert case.state == state
    who = {"home_check": "village", "comparison": "township", "village_review": "village",
           "public_notice": "village", "township_review": "township", "county_decision": "county"}[state]  # fmt: skip
    with pytest.raises(ProcedureError, match="理由"):
        services.case_transition(actor=people[who], case=case, action="reject", reason=" ")
    case = services.case_transition(actor=people[who], case=case, action="reject", reason="收入高于监测线")
    assert case.state == State.REJECTED and case.reject_reason == "收入高于监测线"
    with pytest.raises(ProcedureError):
        services.case_transition(actor=people["county"], case=case, action="reject", reason="again")


def test_fast_track_helps_first_and_skips_no_step(case, people):
    with pytest.raises(ProcedureError, match="自然灾害或意外事故"):
        services.case_transition(actor=people["township"], case=case, action="fast_track", reason="住院",
                                 data={"risk_types": ["01"]})  # fmt: skip
    with pytest.raises(ProcedureError, match="角色"):
        services.case_transition(actor=people["village"], case=case, action="fast_track", reason="洪水",
                                 data={"risk_types": ["0201"]})  # fmt: skip
    case = services.case_transition(actor=people["township"], case=case, action="fast_track", reason="洪水冲毁房屋",
                                    data={"risk_types": ["0201"]})  # fmt: skip
    assert case.fast_track and case.help_started_at and case.state == State.HOME_CHECK
    with pytest.raises(ProcedureError, match="已启动"):
        services.case_transition(actor=people["township"], case=case, action="fast_track", reason="x",
                                 data={"risk_types": ["0201"]})  # fmt: skip
    case = walk(case, people)
    assert case.state == State.IDENTIFIED
    assert CaseStep.objects.filter(case=case, action="notice_close").exists()


def test_decision_clock_runs_from_the_first_clue(households, people):
    first = services.clue_report(actor=people["grid"], village_code="", household=households["A"],
                                 concern="job", description="失业", now=T0)  # fmt: skip
    second = services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                  concern="illness", description="生病", now=T0 + timedelta(days=3))  # fmt: skip
    assert second.status == Clue.Status.MERGED and second.merged_into == first
    case = services.case_open(actor=people["township"], clue=first, now=T0 + timedelta(days=4))
    assert case.decision_due == T0 + timedelta(days=15)
    assert set(case.clues.values_list("pk", flat=True)) == {first.pk, second.pk}
    third = services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                 concern="illness", description="又住院", now=T0 + timedelta(days=5))  # fmt: skip
    assert third.status == Clue.Status.MERGED and third.case == case and third.merged_into == first


def test_one_open_case_per_household(clue, people, households):
    case = services.case_open(actor=people["township"], clue=clue)
    other = Clue.objects.create(receipt_no="SBTEST", channel="visit", village_code=clue.village_code,
                                household=households["A"], received_at=T0)  # fmt: skip
    assert services.case_open(actor=people["township"], clue=other) == case


def test_actions_offered_match_the_table():
    assert {t.action for t in procedure.actions_for("county_decision", "county_staff")} == {
        Action.COUNTY_IDENTIFY, Action.REJECT, Action.FAST_TRACK}  # fmt: skip
    assert procedure.actions_for("county_decision", "village_cadre") == []
    assert procedure.actions_for("identified", "county_admin") == []
