"""The identification procedure (识别认定, DOMAIN §6) as explicit data: states, actions, who may take them, guards.

One table (`TRANSITIONS`): state → action → next state, the roles that may act, and the guards that must hold. The
services (`services.case_transition`) read it; nothing else moves a case. The region rule (the case's village must
lie in the actor's scope) is checked by the service; the role rule (a village cadre cannot take the county decision)
lives here. This module is pure: no Django, no database, so the whole machine can be explored by property tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from engine import vocab
from engine.screening.rules import RISK_CODES

MAX_RISK_TYPES = 5
# Risks that allow "help first, identify after" (先帮后认): natural disasters (02xx) and accidents (05).
FAST_TRACK_RISKS = frozenset({c for c in RISK_CODES if c.startswith("02")} | {"05"})


class State(StrEnum):
    HOME_CHECK = "home_check"
    COMPARISON = "comparison"
    VILLAGE_REVIEW = "village_review"
    PUBLIC_NOTICE = "public_notice"
    TOWNSHIP_REVIEW = "township_review"
    COUNTY_DECISION = "county_decision"
    IDENTIFIED = "identified"
    REJECTED = "rejected"


STATE_LABELS = {
    State.HOME_CHECK: "待入户核实",
    State.COMPARISON: "待信息比对",
    State.VILLAGE_REVIEW: "待民主评议",
    State.PUBLIC_NOTICE: "公示中",
    State.TOWNSHIP_REVIEW: "待乡镇审核",
    State.COUNTY_DECISION: "待县级审定",
    State.IDENTIFIED: "已认定",
    State.REJECTED: "不予纳入",
}
FINAL_STATES = frozenset({State.IDENTIFIED, State.REJECTED})
OPEN_STATES = frozenset(State) - FINAL_STATES
# The path every identification takes, in order (the fast track helps first but skips none of these).
PATH = (
    State.HOME_CHECK,
    State.COMPARISON,
    State.VILLAGE_REVIEW,
    State.PUBLIC_NOTICE,
    State.TOWNSHIP_REVIEW,
    State.COUNTY_DECISION,
    State.IDENTIFIED,
)


class Action(StrEnum):
    HOME_CHECK = "home_check"
    COMPARE = "compare"
    VILLAGE_REVIEW = "village_review"
    NOTICE_CLOSE = "notice_close"
    TOWNSHIP_APPROVE = "township_approve"
    COUNTY_IDENTIFY = "county_identify"
    REJECT = "reject"
    FAST_TRACK = "fast_track"


ACTION_LABELS = {
    Action.HOME_CHECK: "完成入户核实",
    Action.COMPARE: "完成信息比对",
    Action.VILLAGE_REVIEW: "记录民主评议",
    Action.NOTICE_CLOSE: "结束公示",
    Action.TOWNSHIP_APPROVE: "乡镇审核通过",
    Action.COUNTY_IDENTIFY: "县级审定认定",
    Action.REJECT: "不予纳入",
    Action.FAST_TRACK: "启动先帮后认",
}

# Roles by level (values of accounts.models.Role; kept as plain strings so this module stays pure).
GRID = "grid_worker"
VILLAGE = "village_cadre"
TOWNSHIP = "township_reviewer"
COUNTY_STAFF = "county_staff"
COUNTY_ADMIN = "county_admin"
COUNTY = frozenset({COUNTY_STAFF, COUNTY_ADMIN})


@dataclass(frozen=True)
class Facts:
    """What the guards look at: the case as it stands plus what the actor submits with the action."""

    now: datetime
    notice_ends_at: datetime | None = None
    fast_track: bool = False
    commitment: bool = False  # a scan of the signed commitment and authorisation, or a signature captured
    notes: str = ""
    reason: str = ""
    participants: tuple[str, ...] = ()
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    minutes: str = ""
    category: str = ""
    risk_types: tuple[str, ...] = ()


Guard = Callable[[Facts], str | None]  # None when the guard holds, else the message shown to the user


def _needs_commitment(f: Facts) -> str | None:
    return None if f.commitment else "须上传农户签字的承诺授权书扫描件或现场签名"


def _needs_notes(f: Facts) -> str | None:
    return None if f.notes.strip() else "请填写核实或比对情况"


def _needs_reason(f: Facts) -> str | None:
    return None if f.reason.strip() else "请填写理由"


def _review_valid(f: Facts) -> str | None:
    if not f.participants:
        return "请填写参会人员"
    votes = (f.votes_for, f.votes_against, f.votes_abstain)
    if min(votes) < 0 or sum(votes) > len(f.participants):
        return "票数不能为负，且合计不能超过参会人数"
    if not f.minutes.strip():
        return "请填写评议记录（会议纪要）"
    if f.votes_for * 2 <= sum(votes):
        return "同意票未过半数：评议未通过，请选择“不予纳入”并写明理由"
    return None


def _notice_elapsed(f: Facts) -> str | None:
    if f.notice_ends_at is None:
        return "公示尚未开始"
    if f.now < f.notice_ends_at:
        return f"公示期未满，{f.notice_ends_at:%Y-%m-%d %H:%M} 后方可进入下一步"
    return None


def _decision_valid(f: Facts) -> str | None:
    if f.category not in vocab.MONITOR_CATEGORIES:
        return "请选择监测对象类别"
    codes = list(f.risk_types)
    if not 1 <= len(codes) <= MAX_RISK_TYPES:
        return f"风险类型须选择 1 至 {MAX_RISK_TYPES} 项"
    if len(set(codes)) != len(codes) or any(c not in RISK_CODES for c in codes):
        return "风险类型不在代码表中或有重复"
    return None


def _fast_track_allowed(f: Facts) -> str | None:
    if f.fast_track:
        return "已启动先帮后认"
    if not f.risk_types or not set(f.risk_types) <= FAST_TRACK_RISKS:
        return "先帮后认仅适用于自然灾害或意外事故"
    return _needs_reason(f)


@dataclass(frozen=True)
class Transition:
    source: State
    action: Action
    target: State | None  # None: the case stays where it is (the fast track records help, it skips no step)
    roles: frozenset[str]
    guards: tuple[Guard, ...] = field(default=())


_FORWARD = (
    Transition(State.HOME_CHECK, Action.HOME_CHECK, State.COMPARISON, frozenset({GRID, VILLAGE, TOWNSHIP}),
               (_needs_commitment, _needs_notes)),
    Transition(State.COMPARISON, Action.COMPARE, State.VILLAGE_REVIEW, frozenset({TOWNSHIP, *COUNTY}),
               (_needs_notes,)),
    Transition(State.VILLAGE_REVIEW, Action.VILLAGE_REVIEW, State.PUBLIC_NOTICE, frozenset({VILLAGE, TOWNSHIP}),
               (_review_valid,)),
    Transition(State.PUBLIC_NOTICE, Action.NOTICE_CLOSE, State.TOWNSHIP_REVIEW, frozenset({VILLAGE, TOWNSHIP}),
               (_notice_elapsed,)),
    Transition(State.TOWNSHIP_REVIEW, Action.TOWNSHIP_APPROVE, State.COUNTY_DECISION, frozenset({TOWNSHIP}), ()),
    Transition(State.COUNTY_DECISION, Action.COUNTY_IDENTIFY, State.IDENTIFIED, COUNTY, (_decision_valid,)),
)  # fmt: skip

TRANSITIONS: dict[tuple[State, Action], Transition] = {(t.source, t.action): t for t in _FORWARD}
for _t in _FORWARD:
    # Rejection with a reason at any step, by whoever may take that step forward.
    TRANSITIONS[(_t.source, Action.REJECT)] = Transition(_t.source, Action.REJECT, State.REJECTED, _t.roles,
                                                         (_needs_reason,))  # fmt: skip
    # Help first, identify after: any open step, township or county.
    TRANSITIONS[(_t.source, Action.FAST_TRACK)] = Transition(_t.source, Action.FAST_TRACK, None,
                                                             frozenset({TOWNSHIP, *COUNTY}), (_fast_track_allowed,))  # fmt: skip


class ProcedureError(Exception):
    """An action that the procedure does not allow now (wrong state, wrong role, or a guard that fails)."""

    def __init__(self, message: str, *, code: str = "guard"):
        super().__init__(message)
        self.code = code


def transition_for(state: str, action: str) -> Transition:
    try:
        return TRANSITIONS[(State(state), Action(action))]
    except (KeyError, ValueError):
        raise ProcedureError(
            f"“{STATE_LABELS.get(state, state)}”阶段不能执行“{ACTION_LABELS.get(action, action)}”",  # type: ignore[call-overload]
            code="state",
        ) from None


def check(state: str, action: str, role: str, facts: Facts) -> Transition:
    """The transition if `role` may take `action` in `state` with these facts; ProcedureError otherwise."""
    t = transition_for(state, action)
    if role not in t.roles:
        raise ProcedureError("您的角色不能执行此步骤（须由相应层级办理）", code="role")
    for guard in t.guards:
        message = guard(facts)
        if message:
            raise ProcedureError(message)
    return t


def actions_for(state: str, role: str) -> list[Transition]:
    """The actions a role could take in a state (guards not yet checked): what the case page offers."""
    return [t for (s, _), t in TRANSITIONS.items() if s == state and role in t.roles]


def next_state(state: str, t: Transition) -> State:
    return t.target if t.target is not None else State(state)
