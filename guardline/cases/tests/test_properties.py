"""Property tests: no sequence of actions, by any role, at any time, reaches an illegal state or skips a step or
the notice period — first on the pure transition table, then through the real services and database."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from guardline.accounts.models import Role
from guardline.cases import procedure, services
from guardline.cases.models import Case, CaseStep
from guardline.cases.procedure import Action, Facts, ProcedureError, State

from .conftest import REVIEW, T0, scan

NOTICE = timedelta(days=5)
ROLES = list(Role.values)
FACTS = st.fixed_dictionaries({
    "commitment": st.booleans(),
    "notes": st.sampled_from(["", "已核实"]),
    "reason": st.sampled_from(["", "收入超过监测线"]),
    "participants": st.sampled_from([(), ("甲",), ("甲", "乙", "丙")]),
    "votes_for": st.integers(-1, 4),
    "votes_against": st.integers(0, 3),
    "minutes": st.sampled_from(["", "同意"]),
    "category": st.sampled_from(["", "marginal", "bogus"]),
    "risk_types": st.sampled_from([(), ("01",), ("0201",), ("05", "01"), ("01",) * 2, ("01", "03", "04", "05", "06", "07")]),
})  # fmt: skip
STEP = st.tuples(st.sampled_from(list(Action)), st.sampled_from(ROLES), st.integers(0, 4 * 24), FACTS)


@given(st.lists(STEP, max_size=40))
@settings(max_examples=400, deadline=None)
def test_pure_machine_never_reaches_an_illegal_state(steps):
    state, now = State.HOME_CHECK, datetime(2026, 1, 1)
    notice_ends, fast, history = None, False, [State.HOME_CHECK]
    for action, role, hours, facts in steps:
        now += timedelta(hours=hours)
        try:
            t = procedure.check(state, action, role,
                                Facts(now=now, notice_ends_at=notice_ends, fast_track=fast, **facts))  # fmt: skip
        except ProcedureError:
            continue
        assert state in procedure.OPEN_STATES, "a final state moved"
        assert role in t.roles
        if action == Action.VILLAGE_REVIEW:
            notice_ends = now + NOTICE
        if action == Action.NOTICE_CLOSE:
            assert notice_ends is not None and now >= notice_ends
        if action == Action.FAST_TRACK:
            assert not fast
            fast = True
        new = procedure.next_state(state, t)
        if new != state:
            history.append(new)
        state = new
        assert state in set(State)
    if state == State.IDENTIFIED:
        assert tuple(history) == procedure.PATH  # every step, in order, each once
    if State.REJECTED in history:
        assert history[-1] == State.REJECTED
        assert tuple(history[:-1]) == procedure.PATH[: len(history) - 1]


ACTORS = ["grid", "village", "village_b", "township", "township_b", "county", "county_admin", "province"]
RIGHT_ACTOR = {Action.HOME_CHECK: "village", Action.COMPARE: "township", Action.VILLAGE_REVIEW: "village",
               Action.NOTICE_CLOSE: "village", Action.TOWNSHIP_APPROVE: "township",
               Action.COUNTY_IDENTIFY: "county"}  # fmt: skip
ANY_STEP = st.tuples(st.sampled_from(list(Action)), st.sampled_from(ACTORS), st.integers(0, 3 * 24),
                     st.booleans(), st.booleans())  # fmt: skip
# Two thirds of the steps are the right person doing the next step properly, at a random time: deep paths get explored.
NEXT = {t.source: t.action for t in procedure.TRANSITIONS.values() if t.action in RIGHT_ACTOR}
FORWARD_STEP = st.tuples(st.just("next"), st.just(""), st.integers(0, 6 * 24), st.just(True), st.just(True))
DB_STEP = st.one_of(FORWARD_STEP, FORWARD_STEP, ANY_STEP)


REACHED: set[str] = set()


class Rollback(Exception):
    pass


@pytest.mark.django_db
@given(steps=st.lists(DB_STEP, min_size=1, max_size=24))
@example(steps=[("next", "", 6 * 24, True, True)] * 7)  # the whole path
@example(
    steps=[("next", "", 1, True, True)] * 4 + [("reject", "village", 1, True, False)]
)  # refused in notice
@example(
    steps=[("next", "", 1, True, True)] * 3 + [("notice_close", "village", 119, True, False)]
)  # 4 d 23 h
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_services_never_skip_a_step_or_the_notice(steps, households, people):
    try:
        with transaction.atomic():
            clue = services.clue_report(actor=people["village"], village_code="", household=households["A"],
                                        concern="disaster", description="洪水", now=T0)  # fmt: skip
            case = services.case_open(actor=people["township"], clue=clue, now=T0)
            now = T0
            for action, who, hours, complete, with_file in steps:
                now += timedelta(hours=hours)
                if action == "next":
                    if case.state not in NEXT:
                        continue
                    action = NEXT[State(case.state)]
                    who = RIGHT_ACTOR[action]
                kw: dict = {"notes": "情况" if complete else "", "reason": "理由" if complete else ""}
                if with_file:
                    kw["files"] = [("commitment", scan())]
                if action in (Action.VILLAGE_REVIEW,):
                    kw["data"] = REVIEW if complete else {}
                elif action == Action.COUNTY_IDENTIFY:
                    kw["data"] = {"category": "marginal", "risk_types": ["0201"]} if complete else {}
                elif action == Action.FAST_TRACK:
                    kw["data"] = {"risk_types": ["0201"]}
                with contextlib.suppress(ProcedureError, PermissionDenied):
                    case = services.case_transition(
                        actor=people[who], case=case, action=action, now=now, **kw
                    )
                case = Case.objects.get(pk=case.pk)
                assert case.state in set(State)
            _check_history(case)
            REACHED.add(case.state)
            raise Rollback
    except Rollback:
        pass


def _check_history(case: Case) -> None:
    steps = list(
        CaseStep.objects.filter(case=case).exclude(action__in=["open", "fast_track"]).order_by("at", "id")
    )
    path = [State.HOME_CHECK] + [State(s.to_state) for s in steps]
    for s in steps:
        assert s.actor.role in procedure.TRANSITIONS[(State(s.from_state), Action(s.action))].roles
        assert s.actor.scopes.filter(region_id__in=[case.village_code[:n] for n in (2, 4, 6, 9, 12)]).exists()
    if path[-1] == State.REJECTED:
        path = path[:-1]
        assert case.reject_reason
    assert tuple(path) == procedure.PATH[: len(path)]
    closes = [s for s in steps if s.action == Action.NOTICE_CLOSE]
    reviews = [s for s in steps if s.action == Action.VILLAGE_REVIEW]
    assert len(reviews) <= 1 and len(closes) <= 1  # review and notice once
    if closes:
        assert closes[0].at - reviews[0].at >= NOTICE
    if case.state == State.IDENTIFIED:
        assert case.category and 1 <= len(case.risk_list) <= 5


def test_zz_the_database_machine_went_deep():
    """The service-level exploration above reached the end of the procedure both ways (runs after it in one
    process; skipped when run alone or split across workers)."""
    if not REACHED:
        pytest.skip("the service-level property test did not run in this process")
    assert {"identified", "rejected", "public_notice"} <= REACHED
