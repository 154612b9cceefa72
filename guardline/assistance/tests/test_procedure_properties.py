"""Property tests of the elimination table (pure): whatever actions, roles, times and facts come in, the procedure
only moves along its table, final states stay final, nothing is eliminated without a passed eligibility check, a
majority village review and a public notice that ran its full period, and only the county decides or reverses."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from guardline.accounts.models import Role
from guardline.assistance import procedure
from guardline.assistance.procedure import Action, Facts, ProcedureError, State
from guardline.cases.procedure import COUNTY

START = datetime(2026, 10, 1, 9, 0)
NOTICE = timedelta(days=5)

step = st.fixed_dictionaries({
    "action": st.sampled_from(list(Action)),
    "role": st.sampled_from(list(Role.values)),
    "hours": st.integers(min_value=0, max_value=24 * 4),
    "eligible": st.booleans(),
    "notes": st.sampled_from(["", "核查完毕"]),
    "reason": st.sampled_from(["", "收入不稳定"]),
    "participants": st.integers(min_value=0, max_value=7),
    "votes_for": st.integers(min_value=-1, max_value=7),
    "votes_against": st.integers(min_value=0, max_value=7),
    "minutes": st.sampled_from(["", "同意"]),
})  # fmt: skip


def test_table_covers_every_state_and_roles_are_real():
    sources = {s for s, _ in procedure.TRANSITIONS}
    assert sources == set(State) - procedure.FINAL_STATES
    for t in procedure.TRANSITIONS.values():
        assert t.roles <= set(Role.values)
        assert t.source not in procedure.FINAL_STATES
    assert {t.roles for t in procedure.TRANSITIONS.values()
            if t.action in (Action.COUNTY_ELIMINATE, Action.REVERSE)} == {COUNTY}  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(step, max_size=40))
def test_no_sequence_reaches_an_illegal_state_or_skips_the_notice(steps):
    state, now, notice_ends = State.ELIGIBILITY, START, None
    history = [state]
    confirmed_eligible = False
    for s in steps:
        now += timedelta(hours=s["hours"])
        facts = Facts(now=now, eligible=s["eligible"], notice_ends_at=notice_ends, notes=s["notes"],
                      reason=s["reason"], participants=tuple(str(i) for i in range(s["participants"])),
                      votes_for=s["votes_for"], votes_against=s["votes_against"], minutes=s["minutes"])  # fmt: skip
        try:
            t = procedure.check(state, s["action"], s["role"], facts)
        except ProcedureError as exc:
            assert exc.code in ("state", "role", "guard")
            continue
        assert (state, s["action"]) in procedure.TRANSITIONS
        assert s["role"] in t.roles
        if t.action == Action.CONFIRM:
            assert s["eligible"] and s["notes"]
            confirmed_eligible = True
        if t.action == Action.VILLAGE_REVIEW:
            assert s["votes_for"] * 2 > s["votes_for"] + s["votes_against"] and s["minutes"]
            notice_ends = now + NOTICE
        if t.action == Action.NOTICE_CLOSE:
            assert notice_ends is not None and now >= notice_ends  # never closes early
        if t.action in (Action.COUNTY_ELIMINATE, Action.TOWNSHIP_APPROVE):
            assert s["eligible"]  # eligibility re-checked at the decision
        if t.action in (Action.COUNTY_ELIMINATE, Action.REVERSE):
            assert s["role"] in COUNTY
        if t.action in (Action.REJECT, Action.REVERSE):
            assert s["reason"]
        state = t.target
        history.append(state)
    assert history[-1] in set(State)
    for earlier, later in itertools.pairwise(history):
        assert earlier not in procedure.FINAL_STATES  # final states never move
        if later == State.ELIMINATED:
            assert earlier == State.COUNTY_DECISION
    if State.ELIMINATED in history:
        assert confirmed_eligible
        idx = history.index(State.ELIMINATED)
        assert history[: idx + 1] == list(procedure.PATH)  # the whole path, in order, nothing skipped
    if State.REVERSED in history:
        assert history[-2] == State.ELIMINATED or State.ELIMINATED in history


def test_actions_for_offers_only_what_the_role_may_take():
    assert [t.action for t in procedure.actions_for(State.COUNTY_DECISION, "county_staff")] == [
        Action.COUNTY_ELIMINATE, Action.REJECT]  # fmt: skip
    assert procedure.actions_for(State.COUNTY_DECISION, "village_cadre") == []
    assert procedure.actions_for(State.REVERSED, "county_admin") == []
