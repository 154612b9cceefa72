"""The elimination procedure through the services: every transition, guard, role and region rule, the notice
clock, reversal, re-identification and the label periods."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from guardline.assistance import procedure, selectors, services
from guardline.assistance.models import Elimination, EliminationStep
from guardline.assistance.procedure import Action, ProcedureError, State
from guardline.cases.models import Case
from guardline.core.models import ChangeLog

from .conftest import LATER, REVIEW, scan, set_income, walk_case

pytestmark = pytest.mark.django_db


def start(case, people, mode="assisted", now=LATER):
    return services.elimination_start(actor=people["village"], case=case, mode=mode, now=now)


def walk(elim, people, until=State.ELIMINATED, now=LATER):
    steps = [
        (Action.CONFIRM, "village", {"notes": "入户核查，收入稳定"}),
        (Action.VILLAGE_REVIEW, "village", {"data": REVIEW}),
        (Action.NOTICE_CLOSE, "township", {"notes": "无异议"}),
        (Action.TOWNSHIP_APPROVE, "township", {"notes": "同意"}),
        (Action.COUNTY_ELIMINATE, "county", {"notes": "同意消除"}),
    ]
    for action, who, kw in steps:
        if elim.state == until:
            break
        now += timedelta(hours=2)
        if action == Action.NOTICE_CLOSE:
            now = elim.notice_ends_at
        elim = services.elimination_transition(
            actor=people[who], elimination=elim, action=action, now=now, **kw
        )
    return elim


def test_full_path_eliminates_and_clears_the_label(ready, people, households):
    elim = start(ready, people)
    assert elim.state == State.ELIGIBILITY and elim.eligible
    elim = walk(elim, people)
    assert elim.state == State.ELIMINATED and not elim.premature
    assert elim.decided_by == people["county"]
    assert [s.to_state for s in elim.steps.all()] == list(procedure.PATH)
    assert elim.notice_ends_at - elim.notice_started_at == timedelta(days=5)
    households["A"].refresh_from_db()
    assert households["A"].monitor_category == ""  # through registry.household_update: logged
    assert ChangeLog.objects.filter(entity="household", household_id=households["A"].pk,
                                    after__monitor_category="").exists()  # fmt: skip
    assert ChangeLog.objects.filter(entity="elimination", entity_id=elim.pk).count() == 6
    periods = selectors.label_periods(people["county"], households["A"])
    assert len(periods) == 1 and periods[0].ended == elim.decided_at


def test_confirm_needs_eligibility_and_notes(case, people, line, households):
    elim = start(case, people)  # no plan, no measure, no income: the check records why
    assert not elim.eligible
    keys = {r["key"] for r in elim.eligibility["rules"] if not r["ok"]}
    assert {"measures", "income", "housing_unsafe"} <= keys
    with pytest.raises(ProcedureError, match="不符合风险消除条件"):
        services.elimination_transition(actor=people["village"], elimination=elim, action="confirm", notes="x",
                                        now=LATER)  # fmt: skip
    with pytest.raises(ProcedureError, match="请填写核查情况"):
        services.elimination_transition(
            actor=people["village"], elimination=elim, action="confirm", now=LATER
        )


def test_six_month_clock(ready, people):
    early = ready.decided_at + timedelta(days=100)
    elim = start(ready, people, now=early)
    assert not elim.eligible
    with pytest.raises(ProcedureError, match="认定未满 6 个月"):
        services.elimination_transition(actor=people["village"], elimination=elim, action="confirm", notes="x",
                                        now=early)  # fmt: skip
    elim = services.elimination_transition(actor=people["village"], elimination=elim, action="confirm",
                                           notes="x", now=LATER)  # fmt: skip
    assert elim.state == State.VILLAGE_REVIEW


def test_village_review_guards(ready, people):
    elim = walk(start(ready, people), people, until=State.VILLAGE_REVIEW)
    for data, msg in [({}, "参会人员"), ({**REVIEW, "minutes": ""}, "评议记录"),
                      ({**REVIEW, "votes_for": 2, "votes_against": 3}, "未过半数"),
                      ({**REVIEW, "votes_for": 9}, "合计不能超过")]:  # fmt: skip
        with pytest.raises(ProcedureError, match=msg):
            services.elimination_transition(actor=people["village"], elimination=elim, action="village_review",
                                            data=data, now=LATER)  # fmt: skip


def test_notice_cannot_close_early(ready, people):
    elim = walk(start(ready, people), people, until=State.PUBLIC_NOTICE)
    assert elim.state == State.PUBLIC_NOTICE
    with pytest.raises(ProcedureError, match="公示期未满"):
        services.elimination_transition(actor=people["village"], elimination=elim, action="notice_close",
                                        now=elim.notice_ends_at - timedelta(seconds=1))  # fmt: skip
    elim = services.elimination_transition(actor=people["village"], elimination=elim, action="notice_close",
                                           now=elim.notice_ends_at)  # fmt: skip
    assert elim.state == State.TOWNSHIP_REVIEW


@override_settings(GUARDLINE={**__import__("django.conf").conf.settings.GUARDLINE,
                              "CLOCKS": {"notice": {"days": 7, "working_days": False}}})  # fmt: skip
def test_notice_period_is_the_cases_setting(ready, people):
    elim = walk(start(ready, people), people, until=State.PUBLIC_NOTICE)
    assert elim.notice_ends_at - elim.notice_started_at == timedelta(days=7)


def test_eligibility_is_checked_again_at_the_decision(ready, people, households):
    elim = walk(start(ready, people), people, until=State.COUNTY_DECISION)
    set_income(households["A"], people, per_capita=__import__("decimal").Decimal("5000"))  # income fell
    with pytest.raises(ProcedureError, match="未稳定高于"):
        services.elimination_transition(actor=people["county"], elimination=elim, action="county_eliminate",
                                        now=LATER + timedelta(days=10))  # fmt: skip
    elim.refresh_from_db()
    assert elim.state == State.COUNTY_DECISION


def test_roles_and_regions(ready, people):
    elim = start(ready, people)
    with pytest.raises(PermissionDenied):  # another township
        services.elimination_transition(actor=people["township_b"], elimination=elim, action="confirm",
                                        notes="x", now=LATER)  # fmt: skip
    with pytest.raises(PermissionDenied):  # grid workers do not manage assistance
        services.elimination_transition(actor=people["grid"], elimination=elim, action="confirm", notes="x",
                                        now=LATER)  # fmt: skip
    with pytest.raises(ProcedureError) as exc:  # county staff may manage, but the village step is not theirs
        services.elimination_transition(actor=people["county"], elimination=elim, action="confirm", notes="x",
                                        now=LATER)  # fmt: skip
    assert exc.value.code == "role"
    elim = walk(elim, people, until=State.COUNTY_DECISION)
    with pytest.raises(PermissionDenied):  # only the county decides
        services.elimination_transition(actor=people["township"], elimination=elim, action="county_eliminate",
                                        now=LATER + timedelta(days=10))  # fmt: skip
    with pytest.raises(ProcedureError) as exc:
        services.elimination_transition(actor=people["county"], elimination=elim, action="reverse",
                                        reason="x", now=LATER + timedelta(days=10))  # fmt: skip
    assert exc.value.code == "state"
    with pytest.raises(PermissionDenied):
        services.elimination_start(actor=people["auditor"], case=ready, mode="natural")


@pytest.mark.parametrize("until", [State.ELIGIBILITY, State.VILLAGE_REVIEW, State.PUBLIC_NOTICE,
                                   State.TOWNSHIP_REVIEW, State.COUNTY_DECISION])  # fmt: skip
def test_reject_at_every_step_needs_a_reason(ready, people, households, until):
    elim = walk(start(ready, people), people, until=until)
    who = {State.TOWNSHIP_REVIEW: "township", State.COUNTY_DECISION: "county"}.get(until, "village")
    with pytest.raises(ProcedureError, match="理由"):
        services.elimination_transition(actor=people[who], elimination=elim, action="reject",
                                        now=LATER + timedelta(days=10))  # fmt: skip
    elim = services.elimination_transition(actor=people[who], elimination=elim, action="reject",
                                           reason="收入来源不稳定", now=LATER + timedelta(days=10))  # fmt: skip
    assert elim.state == State.REJECTED and elim.reject_reason == "收入来源不稳定"
    households["A"].refresh_from_db()
    assert households["A"].monitor_category == "marginal"  # still monitored
    for action in Action:  # a final state never moves
        with pytest.raises(ProcedureError):
            services.elimination_transition(actor=people["county"], elimination=elim, action=action, reason="x",
                                            now=LATER + timedelta(days=11))  # fmt: skip
    assert start(ready, people).state == State.ELIGIBILITY  # a new run may start


def test_one_live_elimination_per_case(ready, people):
    start(ready, people)
    with pytest.raises(ValidationError):
        start(ready, people)


def test_reversal_restores_the_label(ready, people, households):
    elim = walk(start(ready, people), people)
    with pytest.raises(ProcedureError, match="理由"):
        services.elimination_reverse(actor=people["county"], elimination=elim, reason=" ")
    elim = services.elimination_reverse(actor=people["county_admin"], elimination=elim, reason="收入核算有误",
                                        now=LATER + timedelta(days=20))  # fmt: skip
    assert elim.state == State.REVERSED and elim.reversed_at
    households["A"].refresh_from_db()
    assert households["A"].monitor_category == "marginal"
    periods = selectors.label_periods(people["county"], households["A"])
    assert periods[0].ended is None  # the label runs on
    assert start(ready, people, now=LATER + timedelta(days=60)).state == State.ELIGIBILITY


def test_reidentification_opens_a_new_case_and_period(ready, people, households):
    elim = walk(start(ready, people), people)
    with pytest.raises(ValidationError):
        services.elimination_start(actor=people["village"], case=ready, mode="natural", now=LATER)
    new = services.elimination_reidentify(actor=people["township"], elimination=elim, concern="job",
                                          description="务工返乡，收入下降", now=LATER + timedelta(days=40))  # fmt: skip
    assert new.pk != ready.pk and new.kind == Case.Kind.IDENTIFICATION and new.is_open
    elim.refresh_from_db()
    assert elim.reidentified_case == new
    with pytest.raises(ValidationError):
        services.elimination_reidentify(actor=people["township"], elimination=elim, concern="job",
                                        description="再次", now=LATER + timedelta(days=41))  # fmt: skip
    new = walk_case(new, people, start=LATER + timedelta(days=41), risks=("07",))
    assert new.state == "identified"
    periods = selectors.label_periods(people["county"], households["A"])
    assert [p.ended is None for p in periods] == [False, True]
    with pytest.raises(ValidationError, match="更新的认定"):
        services.elimination_start(actor=people["village"], case=ready, mode="assisted", now=LATER)


def test_no_labour_household_on_the_safety_net_is_not_eliminated(ready, people, households):
    plan = ready.plan
    m = services.measure_add(
        actor=people["village"], plan=plan, code="100A48", now=LATER - timedelta(days=90)
    )
    services.measure_update(actor=people["village"], measure=m, status="in_progress")
    households["A"].no_labour_household = True
    households["A"].save(update_fields=["no_labour_household"])
    elim = start(ready, people)
    assert not elim.eligible
    assert any(r["key"] == "safety_net" and not r["ok"] for r in elim.eligibility["rules"])


def test_open_warning_blocks(ready, people, households):
    from guardline.screening.models import RiskWarning

    RiskWarning.objects.create(household=households["A"], village_code=households["A"].village_code, grade="yellow",
                               score=40, risk_types="07", first_signal_date=LATER.date(), opened_at=LATER,
                               updated_at=LATER, graded_at=LATER)  # fmt: skip
    elim = start(ready, people)
    assert not elim.eligible and "07" in " ".join(r["message"] for r in elim.eligibility["rules"])


def test_premature_elimination_is_flagged(case, people, line, households, settings):
    settings.GUARDLINE = {**settings.GUARDLINE, "ELIMINATION_MIN_MONTHS": 0}
    plan = services.plan_create(actor=people["village"], case=case, now=case.decided_at + timedelta(hours=1))
    m = services.measure_add(actor=people["village"], plan=plan, code="100A45")
    services.measure_complete(actor=people["village"], measure=m, evidence=scan(),
                              now=case.decided_at + timedelta(days=1))  # fmt: skip
    set_income(households["A"], people)
    soon = case.decided_at + timedelta(days=2)
    elim = walk(start(case, people, now=soon), people, now=soon)
    assert elim.state == State.ELIMINATED and elim.premature
    assert EliminationStep.objects.get(elimination=elim, action="county_eliminate").data["premature"] is True
    assert Elimination.objects.filter(premature=True).count() == 1


def test_start_needs_an_identified_case(households, people):
    from guardline.cases import services as case_services

    clue = case_services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                     concern="illness", description="x", now=timezone.now())  # fmt: skip
    open_case = case_services.case_open(actor=people["township"], clue=clue)
    with pytest.raises(ValidationError, match="已认定"):
        services.elimination_start(actor=people["village"], case=open_case, mode="assisted")
    with pytest.raises(ValidationError):
        services.elimination_start(actor=people["village"], case=open_case, mode="quick")
