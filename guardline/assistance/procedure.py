"""The risk-elimination procedure (风险消除, DOMAIN §8) as explicit data, mirroring identification:
eligibility check → village democratic review → public notice (≥ the notice clock) → township review → county
decision; rejection with a reason at any open step; reversal (回退) of a wrong elimination by the county.

Pure like `cases.procedure` (no Django): the services read `TRANSITIONS`, property tests explore it. The errors are
the cases app's `ProcedureError`, so pages handle both procedures alike; the role strings are shared too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from guardline.cases.procedure import COUNTY, TOWNSHIP, VILLAGE, ProcedureError

__all__ = ["TRANSITIONS", "Action", "Facts", "ProcedureError", "State", "actions_for", "check"]


class State(StrEnum):
    ELIGIBILITY = "eligibility"
    VILLAGE_REVIEW = "village_review"
    PUBLIC_NOTICE = "public_notice"
    TOWNSHIP_REVIEW = "township_review"
    COUNTY_DECISION = "county_decision"
    ELIMINATED = "eliminated"
    REJECTED = "rejected"
    REVERSED = "reversed"


STATE_LABELS = {
    State.ELIGIBILITY: "待资格核查",
    State.VILLAGE_REVIEW: "待民主评议",
    State.PUBLIC_NOTICE: "公示中",
    State.TOWNSHIP_REVIEW: "待乡镇审核",
    State.COUNTY_DECISION: "待县级审定",
    State.ELIMINATED: "已消除",
    State.REJECTED: "不予消除",
    State.REVERSED: "已回退",
}
FINAL_STATES = frozenset({State.REJECTED, State.REVERSED})
OPEN_STATES = frozenset(State) - FINAL_STATES - {State.ELIMINATED}
PATH = (
    State.ELIGIBILITY,
    State.VILLAGE_REVIEW,
    State.PUBLIC_NOTICE,
    State.TOWNSHIP_REVIEW,
    State.COUNTY_DECISION,
    State.ELIMINATED,
)


class Mode(StrEnum):
    ASSISTED = "assisted"
    NATURAL = "natural"


MODE_LABELS = {Mode.ASSISTED: "帮扶消除", Mode.NATURAL: "自然消除"}


class Action(StrEnum):
    CONFIRM = "confirm"
    VILLAGE_REVIEW = "village_review"
    NOTICE_CLOSE = "notice_close"
    TOWNSHIP_APPROVE = "township_approve"
    COUNTY_ELIMINATE = "county_eliminate"
    REJECT = "reject"
    REVERSE = "reverse"


ACTION_LABELS = {
    Action.CONFIRM: "确认符合消除条件",
    Action.VILLAGE_REVIEW: "记录民主评议",
    Action.NOTICE_CLOSE: "结束公示",
    Action.TOWNSHIP_APPROVE: "乡镇审核通过",
    Action.COUNTY_ELIMINATE: "县级审定消除",
    Action.REJECT: "不予消除",
    Action.REVERSE: "回退（撤销消除）",
}


@dataclass(frozen=True)
class Facts:
    now: datetime
    eligible: bool = False  # the eligibility check, run again at every step that needs it
    eligibility_reasons: tuple[str, ...] = ()
    notice_ends_at: datetime | None = None
    notes: str = ""
    reason: str = ""
    participants: tuple[str, ...] = ()
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    minutes: str = ""


Guard = Callable[[Facts], str | None]


def _eligible(f: Facts) -> str | None:
    if f.eligible:
        return None
    return "不符合风险消除条件：" + "；".join(f.eligibility_reasons or ("资格核查未通过",))


def _needs_reason(f: Facts) -> str | None:
    return None if f.reason.strip() else "请填写理由"


def _needs_notes(f: Facts) -> str | None:
    return None if f.notes.strip() else "请填写核查情况"


def _review_valid(f: Facts) -> str | None:
    if not f.participants:
        return "请填写参会人员"
    votes = (f.votes_for, f.votes_against, f.votes_abstain)
    if min(votes) < 0 or sum(votes) > len(f.participants):
        return "票数不能为负，且合计不能超过参会人数"
    if not f.minutes.strip():
        return "请填写评议记录（会议纪要）"
    if f.votes_for * 2 <= sum(votes):
        return "同意票未过半数：评议未通过，请选择“不予消除”并写明理由"
    return None


def _notice_elapsed(f: Facts) -> str | None:
    if f.notice_ends_at is None:
        return "公示尚未开始"
    if f.now < f.notice_ends_at:
        return f"公示期未满，{f.notice_ends_at:%Y-%m-%d %H:%M} 后方可进入下一步"
    return None


@dataclass(frozen=True)
class Transition:
    source: State
    action: Action
    target: State
    roles: frozenset[str]
    guards: tuple[Guard, ...] = field(default=())


_FORWARD = (
    Transition(State.ELIGIBILITY, Action.CONFIRM, State.VILLAGE_REVIEW, frozenset({VILLAGE, TOWNSHIP}),
               (_needs_notes, _eligible)),
    Transition(State.VILLAGE_REVIEW, Action.VILLAGE_REVIEW, State.PUBLIC_NOTICE, frozenset({VILLAGE, TOWNSHIP}),
               (_review_valid,)),
    Transition(State.PUBLIC_NOTICE, Action.NOTICE_CLOSE, State.TOWNSHIP_REVIEW, frozenset({VILLAGE, TOWNSHIP}),
               (_notice_elapsed,)),
    Transition(State.TOWNSHIP_REVIEW, Action.TOWNSHIP_APPROVE, State.COUNTY_DECISION, frozenset({TOWNSHIP}),
               (_eligible,)),
    Transition(State.COUNTY_DECISION, Action.COUNTY_ELIMINATE, State.ELIMINATED, COUNTY, (_eligible,)),
)  # fmt: skip

TRANSITIONS: dict[tuple[State, Action], Transition] = {(t.source, t.action): t for t in _FORWARD}
for _t in _FORWARD:
    TRANSITIONS[(_t.source, Action.REJECT)] = Transition(_t.source, Action.REJECT, State.REJECTED, _t.roles,
                                                         (_needs_reason,))  # fmt: skip
TRANSITIONS[(State.ELIMINATED, Action.REVERSE)] = Transition(State.ELIMINATED, Action.REVERSE, State.REVERSED,
                                                             COUNTY, (_needs_reason,))  # fmt: skip


def transition_for(state: str, action: str) -> Transition:
    try:
        return TRANSITIONS[(State(state), Action(action))]
    except (KeyError, ValueError):
        label = STATE_LABELS.get(state, state)  # type: ignore[call-overload]
        act = ACTION_LABELS.get(action, action)  # type: ignore[call-overload]
        raise ProcedureError(f"“{label}”阶段不能执行“{act}”", code="state") from None


def check(state: str, action: str, role: str, facts: Facts) -> Transition:
    t = transition_for(state, action)
    if role not in t.roles:
        raise ProcedureError("您的角色不能执行此步骤（须由相应层级办理）", code="role")
    for guard in t.guards:
        message = guard(facts)
        if message:
            raise ProcedureError(message)
    return t


def actions_for(state: str, role: str) -> list[Transition]:
    return [t for (s, _), t in TRANSITIONS.items() if s == state and role in t.roles]
