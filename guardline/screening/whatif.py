"""Policy what-if and rule trials: before a region adopts a different monitoring line or trigger threshold, or a
province a new version of a trigger, grade its current registry both ways in the engine (features once, the
grading twice: engine.screening.run.grade_variants) and count the households that would enter or leave monitoring
(green ⇄ yellow/red), by village and risk type. Only those households are explained. Nothing is written.

A region up to GUARDLINE_WHATIF_MAX_HOUSEHOLDS households is graded inside the web request (1M households: about
17 s); a larger one, a province, in the task worker as a Job with progress (`*_enqueue`, tasks.whatif_task), whose
result page shows the same summary."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from engine.screening import Override, Rule, WarningOut, screen
from engine.screening.model import ScreeningModel
from engine.screening.params import PARAM_NAMES, validate_override
from engine.screening.rules import RISK_CODES
from engine.screening.run import grade_variants
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope
from guardline.core.models import Job
from guardline.core.services import job_create
from guardline.regions.models import Region
from guardline.registry.models import Household

from . import extract
from .models import Grade
from .services import overrides_in_force, rules_in_force, screening_model

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
    scorer: str = "index"  # "model" where the configured learned model grades, as in a real run
    seconds: float = 0.0

    @property
    def entering_count(self) -> int:
        return len(self.entering)

    @property
    def leaving_count(self) -> int:
        return len(self.leaving)

    def summary(self) -> dict:
        """What the result page shows, as JSON for a background job's result: the counts, not the id lists (a
        province's can run to hundreds of thousands)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("entering", "leaving")}
        out = {**out, "entering_count": self.entering_count, "leaving_count": self.leaving_count}
        # The grade labels are lazy translations: stored as text here, labelled again for the reader (whatif_job).
        return json.loads(json.dumps(out, default=str))


@dataclass
class RuleTrial(WhatIf):
    """A proposed trigger tried on a region: besides the grade changes, where the rule fires now and would fire."""

    code: str = ""
    fires_now: int = 0
    fires_then: int = 0
    examples: list[dict] = field(default_factory=list)  # households it would newly fire on, with its reason


def _region_inputs(region: str, as_of: date) -> dict[str, pa.Table]:
    # Isolated: this runs in a web server's thread, beside others whose SQLite connections stay open.
    inputs = extract.screening_inputs(as_of=as_of, isolated=True, region=region)
    households = inputs["households"]
    inside = pc.starts_with(households.column("village_code"), region)
    if pc.all(inside).as_py() is not False:  # read for the region already (or it is the whole registry)
        return inputs
    return _subset(inputs, households.filter(inside).column("household_id"), region)


def _subset(
    inputs: dict[str, pa.Table], ids: pa.Array | pa.ChunkedArray, region: str = ""
) -> dict[str, pa.Table]:
    """The rows of the households `ids` (with `region`, also the village-level events of its villages; without,
    those of the households' own villages): what screening them alone reads, so they grade exactly as in a pass
    over everyone (a household's grade rests on its own rows, its village's and the parameters)."""
    households = inputs["households"].filter(
        pc.is_in(inputs["households"].column("household_id"), value_set=ids)
    )
    events = inputs["events"]
    if region:
        at_village = pc.starts_with(pc.fill_null(events.column("village_code"), ""), region)
    else:
        at_village = pc.is_in(
            events.column("village_code"), value_set=pc.unique(households.column("village_code"))
        )
    in_scope = pc.or_kleene(
        pc.is_in(events.column("household_id"), value_set=ids),
        pc.and_kleene(pc.is_null(events.column("household_id")), at_village),
    )
    return {
        "households": households,
        "members": inputs["members"].filter(
            pc.is_in(inputs["members"].column("household_id"), value_set=ids)
        ),
        "household_years": inputs["household_years"].filter(
            pc.is_in(inputs["household_years"].column("household_id"), value_set=ids)
        ),
        "events": events.filter(pc.fill_null(in_scope, False)),
    }


def proposal_overrides(current: list[Override], region: str, villages: list[str], changes: dict[str, float]):
    """The overrides in force with each changed parameter set for every village of `region` (the most specific
    level, so no stored county, township or village value or monitoring line of the region shadows it)."""
    kept = [o for o in current if not (o.name in changes and o.region_prefix.startswith(region))]
    return kept + [Override(name, v, value) for name, value in changes.items() for v in sorted(set(villages))]


Progress = Callable[[str, int, int], None]  # (stage, done, total), as a Job shows it
STAGES = 4


def _noop(stage: str, done: int, total: int) -> None:
    pass


def policy_whatif(
    *, user, region: str, changes: dict[str, float], as_of: date | None = None, progress: Progress = _noop
) -> WhatIf:
    """Count who would enter or leave monitoring in `region` under `changes` (parameter name → value)."""
    _check(user, region)
    _validate_changes(region, changes)
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    progress("读取台账", 0, STAGES)
    inputs = _region_inputs(region, as_of)
    villages = inputs["households"].column("village_code").to_pylist()
    rules = rules_in_force()
    current = overrides_in_force(villages, as_of)
    proposal = proposal_overrides(current, region, villages, changes)
    model = _model()
    progress("按现行和调整后的参数评分", 1, STAGES)
    now, then = grade_variants(inputs, as_of, [(current, rules), (proposal, rules)], model=model)
    out = WhatIf(region=region, changes=changes, scorer="model" if model else "index")
    progress("比较两次评分", 2, STAGES)
    _differences(out, now, then)
    progress(f"解释变动的 {out.entering_count + out.leaving_count:,} 户", 3, STAGES)
    _risks(out, inputs, as_of, (current, rules, model), (proposal, rules, model))
    out.seconds = round(time.perf_counter() - started, 2)
    progress("完成", STAGES, STAGES)
    return out


def _validate_changes(region: str, changes: dict[str, float]) -> None:
    if not changes:
        raise ValidationError("请至少修改一个参数")
    for name, value in changes.items():
        if name not in PARAM_NAMES:
            raise ValidationError(f"未知参数 {name}")
        try:
            validate_override(Override(name, region, value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _model() -> ScreeningModel | None:
    """The learned model a real run would grade with (services.screening_model), or None: the index grades."""
    model, _ = screening_model()
    return model if model is not None and model.beats_index else None


def _check(user, region: str) -> None:
    if not has_perm(user, Perm.RUN_SCREENING):
        raise PermissionDenied("您的角色不能进行政策模拟")
    if not Region.objects.filter(code=region).exists() or not in_scope(user, region):
        raise PermissionDenied(f"地区 {region} 不在您的管辖范围内")


def in_background(region: str) -> bool:
    """Whether `region` has more households than the page grades inside a web request (a web worker's time and
    memory): larger regions are tried as a background job."""
    limit = settings.GUARDLINE["WHATIF_MAX_HOUSEHOLDS"]
    return Household.objects.filter(village_code__startswith=region, is_active=True).count() > limit


def policy_whatif_enqueue(*, user, region: str, changes: dict[str, float]) -> Job:
    """Check and validate as `policy_whatif` does, then queue it for the task worker; the Job (its creator's alone)
    carries the progress and, when done, the result's summary."""
    _check(user, region)
    _validate_changes(region, changes)
    return _enqueue(user, "whatif", {"region": region, "changes": changes})


def rule_whatif_enqueue(*, user, region: str, rule: Rule, is_active: bool = True) -> Job:
    """A rule's trial (see `rule_whatif`) queued for the task worker."""
    _check(user, region)
    return _enqueue(user, "rule_trial", {"region": region, "rule": asdict(rule), "is_active": is_active})


CANCELLED = "已由提交人取消"


def whatif_job_cancel(*, user, job: Job) -> bool:
    """Cancel a background what-if or rule trial of the user's that has not finished: it is marked failed with
    the reason at once; a queued one never starts, a running one stops at its next stage (whatif_task). False when
    it had finished already. Nothing else was written by it, so nothing is undone."""
    if job.created_by_id != user.pk:
        raise PermissionDenied("只能取消本人提交的试算")
    return bool(
        Job.objects.filter(pk=job.pk, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).update(
            status=Job.Status.FAILED, error=CANCELLED, finished_at=timezone.now()
        )
    )


def whatif_job_cancelled(job: Job) -> bool:
    return Job.objects.filter(pk=job.pk, status=Job.Status.FAILED, error=CANCELLED).exists()


def _enqueue(user, kind: str, params: dict) -> Job:
    from .tasks import whatif_task

    job = job_create(kind=kind, user=user, params={"user_id": user.pk, **params})
    whatif_task.enqueue(job.pk)
    return job


def _differences(out: WhatIf, now: pa.Table, then: pa.Table) -> None:
    """Fill `out` with who enters or leaves monitoring between two gradings of the same households, computed over
    the columns (both in household order)."""
    if not now.column("household_id").equals(then.column("household_id")):  # same inputs, same households
        raise RuntimeError("what-if: the two screenings graded different households")
    flagged = pa.array(FLAGGED)
    diff = pa.table({
        "household_id": now.column("household_id"), "village_code": now.column("village_code"),
        "grade_now": now.column("grade"), "grade_then": then.column("grade"),
        "flagged_now": pc.is_in(now.column("grade"), value_set=flagged),
        "flagged_then": pc.is_in(then.column("grade"), value_set=flagged),
    })  # fmt: skip
    out.households = diff.num_rows
    out.flagged_now = pc.sum(diff.column("flagged_now")).as_py() or 0
    out.flagged_then = pc.sum(diff.column("flagged_then")).as_py() or 0
    entering = pc.and_(pc.invert(diff.column("flagged_now")), diff.column("flagged_then"))
    leaving = pc.and_(diff.column("flagged_now"), pc.invert(diff.column("flagged_then")))
    out.entering = diff.column("household_id").filter(entering).to_pylist()
    out.leaving = diff.column("household_id").filter(leaving).to_pylist()
    moved = diff.filter(pc.not_equal(diff.column("grade_now"), diff.column("grade_then")))
    order = {"red": 0, "yellow": 1, "green": 2}
    moves = moved.group_by(["grade_now", "grade_then"]).aggregate([("household_id", "count")]).to_pylist()
    out.moves = [
        {"from": m["grade_now"], "to": m["grade_then"], "from_label": Grade(m["grade_now"]).label,
         "to_label": Grade(m["grade_then"]).label, "households": m["household_id_count"]}
        for m in sorted(moves, key=lambda m: (order[m["grade_now"]], order[m["grade_then"]]))
    ]  # fmt: skip
    enter_v = dict(Counter(diff.column("village_code").filter(entering).to_pylist()))
    leave_v = dict(Counter(diff.column("village_code").filter(leaving).to_pylist()))
    names = dict(Region.objects.filter(code__in=set(enter_v) | set(leave_v)).values_list("code", "name"))
    out.by_village = [
        {"code": v, "name": names.get(v, v), "entering": enter_v.get(v, 0), "leaving": leave_v.get(v, 0)}
        for v in sorted(set(enter_v) | set(leave_v))
    ]


def _explained(
    inputs: dict[str, pa.Table],
    ids: list[int],
    as_of: date,
    overrides: list[Override],
    rules: list[Rule],
    model: ScreeningModel | None = None,
) -> dict[int, WarningOut]:
    """The warnings of just the households `ids`, screened on their own rows (they grade as in the whole pass)."""
    if not ids:
        return {}
    subset = _subset(inputs, pa.array(ids, pa.int64()))
    result = screen(subset, as_of, overrides=overrides, rules=rules, model=model)
    return {w.household_id: w for w in result.warnings}


def _risks(
    out: WhatIf, inputs, as_of: date, now_setup, then_setup, also: Sequence[int] = ()
) -> dict[int, WarningOut]:
    """Risk types of the households entering (as the proposal would explain them) and leaving (as now), counted
    into `out.by_risk`; returns the proposal's warnings of the entering households and of `also`."""
    then_warnings = _explained(inputs, sorted(set(out.entering) | set(also)), as_of, *then_setup)
    now_warnings = _explained(inputs, out.leaving, as_of, *now_setup)
    enter_r = Counter(
        r for h in out.entering for r in (then_warnings[h].risk_types if h in then_warnings else [])
    )
    leave_r = Counter(
        r for h in out.leaving for r in (now_warnings[h].risk_types if h in now_warnings else [])
    )
    out.by_risk = [
        {"code": r, "name": RISK_CODES.get(r, r), "entering": enter_r[r], "leaving": leave_r[r]}
        for r in sorted(set(enter_r) | set(leave_r))
    ]
    return then_warnings


def rule_whatif(
    *,
    user,
    region: str,
    rule: Rule,
    is_active: bool = True,
    as_of: date | None = None,
    examples: int = 20,
    progress: Progress = _noop,
) -> RuleTrial:
    """Try a trigger (a new one, or a new version of one in force; `is_active` False: switching it off) on the
    region's current registry before it is saved: screen twice — rules in force, and with this one in their
    place — and count where it fires and who would enter or leave monitoring. Nothing is written.

    The rule must already pass the engine's validation (the rule editor's form checks it)."""
    _check(user, region)
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    progress("读取台账", 0, STAGES)
    inputs = _region_inputs(region, as_of)
    villages = inputs["households"].column("village_code").to_pylist()
    rules = rules_in_force()
    proposed = [r for r in rules if r.code != rule.code]
    if is_active:
        at = next((i for i, r in enumerate(rules) if r.code == rule.code), len(proposed))
        proposed.insert(at, rule)
    overrides = overrides_in_force(villages, as_of)
    model = _model()
    progress("按现行和修改后的规则评分", 1, STAGES)
    now, then = grade_variants(inputs, as_of, [(overrides, rules), (overrides, proposed)], model=model)
    out = RuleTrial(region=region, changes={}, code=rule.code, scorer="model" if model else "index")
    progress("比较两次评分", 2, STAGES)
    _differences(out, now, then)

    def firing(grades: pa.Table) -> pa.Array:
        fired = pc.fill_null(grades.column("fired_rules"), "")
        return pc.match_substring_regex(fired, f"(^|;){re.escape(rule.code)}(;|$)")

    fired_now, fired_then = firing(now), firing(then)
    out.fires_now = pc.sum(fired_now).as_py() or 0
    out.fires_then = pc.sum(fired_then).as_py() or 0
    new = now.column("household_id").filter(pc.and_(fired_then, pc.invert(fired_now)))
    example_ids = new.slice(0, examples).to_pylist()
    progress(f"解释变动的 {out.entering_count + out.leaving_count:,} 户", 3, STAGES)
    warnings = _risks(
        out, inputs, as_of, (overrides, rules, model), (overrides, proposed, model), also=example_ids
    )
    shown = [warnings[h] for h in example_ids if h in warnings]
    names = dict(Region.objects.filter(code__in={w.village_code for w in shown}).values_list("code", "name"))
    for w in shown:
        reason = w.reasons[w.rules.index(rule.code)] if rule.code in w.rules[: len(w.reasons)] else ""
        out.examples.append(
            {"household_id": w.household_id, "household_no": w.household_no,
             "village": names.get(w.village_code, w.village_code), "grade": w.grade,
             "grade_label": Grade(w.grade).label, "reason": reason}
        )  # fmt: skip
    out.seconds = round(time.perf_counter() - started, 2)
    progress("完成", STAGES, STAGES)
    return out
