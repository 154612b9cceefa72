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

from engine.screening import Override, screen
from engine.screening.params import PARAM_NAMES, validate_override
from engine.screening.rules import RISK_CODES
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope
from guardline.regions.models import Region

from . import extract
from .services import overrides_in_force, rules_in_force

FLAGGED = ("red", "yellow")


@dataclass
class WhatIf:
    region: str
    changes: dict[str, float]
    households: int = 0
    flagged_now: int = 0
    flagged_then: int = 0
    entering: list[int] = field(
        default_factory=list
    )  # household ids green now, yellow/red under the proposal
    leaving: list[int] = field(default_factory=list)
    by_village: list[dict] = field(default_factory=list)
    by_risk: list[dict] = field(default_factory=list)
    seconds: float = 0.0


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
    if not has_perm(user, Perm.RUN_SCREENING):
        raise PermissionDenied("您的角色不能进行政策模拟")
    if not Region.objects.filter(code=region).exists() or not in_scope(user, region):
        raise PermissionDenied(f"地区 {region} 不在您的管辖范围内")
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

    def grades(result) -> dict[int, str]:
        g = result.grades
        return dict(zip(g.column("household_id").to_pylist(), g.column("grade").to_pylist(), strict=True))

    before, after = grades(now), grades(then)
    out = WhatIf(region=region, changes=changes, households=len(before))
    out.flagged_now = sum(1 for g in before.values() if g in FLAGGED)
    out.flagged_then = sum(1 for g in after.values() if g in FLAGGED)
    out.entering = sorted(h for h, g in after.items() if g in FLAGGED and before.get(h) not in FLAGGED)
    out.leaving = sorted(h for h, g in before.items() if g in FLAGGED and after.get(h) not in FLAGGED)

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
    out.seconds = round(time.perf_counter() - started, 2)
    return out
