"""Policy what-if: before a region adopts a different monitoring line or trigger threshold, screen its current
registry twice in the engine — with the parameters in force and with the proposed ones — and count the households
that would enter or leave monitoring (green ⇄ yellow/red), by village and risk type. Nothing is written."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from engine.screening import Override, Rule, screen
from engine.screening.params import PARAM_NAMES, validate_override
from engine.screening.rules import RISK_CODES
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope
from guardline.regions.models import Region

from . import extract
from .models import Grade
from .services import overrides_in_force, rules_in_force

FLAGGED = ("red", "yellow")


@dataclass
class WhatIf:
    region: str
    changes: dict[str, float]  # parameter name → proposed value (empty for a rule's trial)
    households: int = 0
    flagged_now: int = 0
    flagged_then: int = 0
    entering: list[int] = field(
        default_factory=list
    )  # household ids green now, yellow/red under the proposal
    leaving: list[int] = field(default_factory=list)
    by_village: list[dict] = field(default_factory=list)
    by_risk: list[dict] = field(default_factory=list)
    moves: list[dict] = field(default_factory=list)  # grade now → grade then, with how many households
    seconds: float = 0.0


@dataclass
class RuleTrial(WhatIf):
    """A proposed trigger tried on a region: besides the grade changes, where the rule fires now and would fire."""

    code: str = ""
    fires_now: int = 0
    fires_then: int = 0
    examples: list[dict] = field(default_factory=list)  # households it would newly fire on, with its reason


def _region_inputs(region: str, as_of: date) -> dict[str, pa.Table]:
    # Isolated: this runs in a web server's thread, beside others whose SQLite connections stay open.
    inputs = extract.screening_inputs(as_of=as_of, isolated=True)
    households = inputs["households"]
    households = households.filter(pc.starts_with(households.column("village_code"), region))
    ids = households.column("household_id")
    events = inputs["events"]
    in_region = pc.or_kleene(
        pc.is_in(events.column("household_id"), value_set=ids),
        pc.starts_with(pc.fill_null(events.column("village_code"), ""), region),
    )
    return {
        "households": households,
        "members": inputs["members"].filter(
            pc.is_in(inputs["members"].column("household_id"), value_set=ids)
        ),
        "household_years": inputs["household_years"].filter(
            pc.is_in(inputs["household_years"].column("household_id"), value_set=ids)
        ),
        "events": events.filter(pc.fill_null(in_region, False)),
    }


def proposal_overrides(current: list[Override], region: str, villages: list[str], changes: dict[str, float]):
    """The overrides in force with each changed parameter set for every village of `region` (the most specific
    level, so no stored county, township or village value or monitoring line of the region shadows it)."""
    kept = [o for o in current if not (o.name in changes and o.region_prefix.startswith(region))]
    return kept + [Override(name, v, value) for name, value in changes.items() for v in sorted(set(villages))]


def policy_whatif(*, user, region: str, changes: dict[str, float], as_of: date | None = None) -> WhatIf:
    """Count who would enter or leave monitoring in `region` under `changes` (parameter name → value)."""
    _check(user, region)
    if not changes:
        raise ValidationError("请至少修改一个参数")
    for name, value in changes.items():
        if name not in PARAM_NAMES:
            raise ValidationError(f"未知参数 {name}")
        try:
            validate_override(Override(name, region, value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    inputs = _region_inputs(region, as_of)
    villages = inputs["households"].column("village_code").to_pylist()
    rules = rules_in_force()
    current = overrides_in_force(villages, as_of)
    now = screen(inputs, as_of, overrides=current, rules=rules)
    then = screen(
        inputs, as_of, overrides=proposal_overrides(current, region, villages, changes), rules=rules
    )
    out = WhatIf(region=region, changes=changes)
    _differences(out, inputs, now, then)
    out.seconds = round(time.perf_counter() - started, 2)
    return out


def _check(user, region: str) -> None:
    if not has_perm(user, Perm.RUN_SCREENING):
        raise PermissionDenied("您的角色不能进行政策模拟")
    if not Region.objects.filter(code=region).exists() or not in_scope(user, region):
        raise PermissionDenied(f"地区 {region} 不在您的管辖范围内")


def _grades(result) -> dict[int, str]:
    g = result.grades
    return dict(zip(g.column("household_id").to_pylist(), g.column("grade").to_pylist(), strict=True))


def _differences(out: WhatIf, inputs: dict[str, pa.Table], now, then) -> None:
    """Fill `out` with who enters or leaves monitoring between two screenings of the same inputs."""
    before, after = _grades(now), _grades(then)
    out.households = len(before)
    out.flagged_now = sum(1 for g in before.values() if g in FLAGGED)
    out.flagged_then = sum(1 for g in after.values() if g in FLAGGED)
    out.entering = sorted(h for h, g in after.items() if g in FLAGGED and before.get(h) not in FLAGGED)
    out.leaving = sorted(h for h, g in before.items() if g in FLAGGED and after.get(h) not in FLAGGED)
    moves = Counter((before[h], g) for h, g in after.items() if before.get(h, g) != g)
    order = {"red": 0, "yellow": 1, "green": 2}
    out.moves = [
        {"from": a, "to": b, "from_label": Grade(a).label, "to_label": Grade(b).label, "households": n}
        for (a, b), n in sorted(moves.items(), key=lambda m: (order[m[0][0]], order[m[0][1]]))
    ]

    villages = inputs["households"].column("village_code").to_pylist()
    village_of = dict(zip(inputs["households"].column("household_id").to_pylist(), villages, strict=True))
    risks_now = {w.household_id: w.risk_types for w in now.warnings}
    risks_then = {w.household_id: w.risk_types for w in then.warnings}
    enter_v, leave_v = (
        Counter(village_of[h] for h in out.entering),
        Counter(village_of[h] for h in out.leaving),
    )
    names = dict(Region.objects.filter(code__in=set(enter_v) | set(leave_v)).values_list("code", "name"))
    out.by_village = [
        {"code": v, "name": names.get(v, v), "entering": enter_v[v], "leaving": leave_v[v]}
        for v in sorted(set(enter_v) | set(leave_v))
    ]
    enter_r = Counter(r for h in out.entering for r in risks_then.get(h, []))
    leave_r = Counter(r for h in out.leaving for r in risks_now.get(h, []))
    out.by_risk = [
        {"code": r, "name": RISK_CODES.get(r, r), "entering": enter_r[r], "leaving": leave_r[r]}
        for r in sorted(set(enter_r) | set(leave_r))
    ]


def rule_whatif(
    *, user, region: str, rule: Rule, is_active: bool = True, as_of: date | None = None, examples: int = 20
) -> RuleTrial:
    """Try a trigger (a new one, or a new version of one in force; `is_active` False: switching it off) on the
    region's current registry before it is saved: screen twice — rules in force, and with this one in their
    place — and count where it fires and who would enter or leave monitoring. Nothing is written.

    The rule must already pass the engine's validation (the rule editor's form checks it)."""
    _check(user, region)
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    inputs = _region_inputs(region, as_of)
    villages = inputs["households"].column("village_code").to_pylist()
    rules = rules_in_force()
    proposed = [r for r in rules if r.code != rule.code]
    if is_active:
        at = next((i for i, r in enumerate(rules) if r.code == rule.code), len(proposed))
        proposed.insert(at, rule)
    overrides = overrides_in_force(villages, as_of)
    now = screen(inputs, as_of, overrides=overrides, rules=rules)
    then = screen(inputs, as_of, overrides=overrides, rules=proposed)
    out = RuleTrial(region=region, changes={}, code=rule.code)
    _differences(out, inputs, now, then)

    def firing(result) -> set[int]:
        g = result.grades
        fired = pc.fill_null(g.column("fired_rules"), "")
        hit = pc.match_substring_regex(fired, f"(^|;){rule.code}(;|$)")
        return set(g.column("household_id").filter(hit).to_pylist())

    fired_now, fired_then = firing(now), firing(then)
    out.fires_now, out.fires_then = len(fired_now), len(fired_then)
    new = fired_then - fired_now
    shown = [w for w in then.warnings if w.household_id in new][:examples]
    names = dict(Region.objects.filter(code__in={w.village_code for w in shown}).values_list("code", "name"))
    after = _grades(then)
    for w in shown:
        reason = w.reasons[w.rules.index(rule.code)] if rule.code in w.rules[: len(w.reasons)] else ""
        out.examples.append(
            {"household_id": w.household_id, "household_no": w.household_no, "village": names.get(w.village_code, w.village_code),
             "grade": after.get(w.household_id, w.grade), "grade_label": Grade(after.get(w.household_id, w.grade)).label,
             "reason": reason}
        )  # fmt: skip
    out.seconds = round(time.perf_counter() - started, 2)
    return out
