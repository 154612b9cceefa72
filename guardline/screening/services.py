"""Writes of the screening app: running a screening pass and keeping warnings and grades in step with it, and
editing the rules and parameters it runs with. Every write is atomic and change-logged."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from engine.screening import DEFAULT_RULES, Override, Rule, WarningOut, screen
from engine.screening.model import ScreeningModel
from engine.screening.params import validate_override
from engine.screening.rules import validate as validate_rule
from guardline.core.bulk import insert_rows, update_rows
from guardline.core.changelog import change_entry, log_changes
from guardline.ledger.services import ledger_append
from guardline.regions.models import MonitoringLine

from . import extract
from .models import HouseholdGrade, RiskWarning, ScreeningParameter, ScreeningRule, ScreeningRun

Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------------------- rules, params
def rules_in_force() -> list[Rule]:
    """The engine's default triggers, with every code's newest stored version taking its place (a newest version
    that is inactive switches the trigger off); stored codes the defaults lack are added."""
    latest: dict[str, ScreeningRule] = {}
    for row in ScreeningRule.objects.order_by("code", "-version"):
        latest.setdefault(row.code, row)
    out: list[Rule] = []
    for rule in DEFAULT_RULES:
        row = latest.pop(rule.code, None)
        if row is None:
            out.append(rule)
        elif row.is_active:
            out.append(_as_rule(row))
    out.extend(_as_rule(row) for row in latest.values() if row.is_active)
    return out


def _as_rule(row: ScreeningRule) -> Rule:
    return Rule(
        code=row.code,
        title_zh=row.title,
        risk_type=row.risk_type,
        severity=row.severity,
        condition=row.condition,
        signal_date=row.signal_date,
        reason=row.reason,
        sources=tuple(row.sources or ()),
    )


def rules_fingerprint(rules: Iterable[Rule]) -> str:
    text = json.dumps([r.as_dict() for r in rules], ensure_ascii=False, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@transaction.atomic
def screening_rule_save(*, actor, rule: Rule, is_active: bool = True) -> ScreeningRule:
    """Store a new version of a trigger after the engine has validated it (RuleError says what is wrong)."""
    validate_rule(rule)
    previous = ScreeningRule.objects.filter(code=rule.code).order_by("-version").first()
    row = ScreeningRule.objects.create(
        code=rule.code,
        version=(previous.version + 1) if previous else 1,
        title=rule.title_zh,
        risk_type=rule.risk_type,
        severity=rule.severity,
        condition=rule.condition,
        signal_date=rule.signal_date,
        reason=rule.reason,
        sources=list(rule.sources),
        is_active=is_active,
        created_by=actor,
    )
    before = _as_rule(previous).as_dict() if previous else None
    after = {**rule.as_dict(), "is_active": is_active, "version": row.version}
    log_changes(
        [
            change_entry(
                entity="screening_rule",
                entity_id=row.pk,
                household_id=None,
                action="update" if previous else "create",
                before=before,
                after=after,
                actor_id=getattr(actor, "pk", None),
            )
        ]
    )
    ledger_append(kind="admin", entity="screening_rule", entity_id=row.pk, actor=actor, payload=after)
    return row


@transaction.atomic
def screening_parameter_set(
    *, actor, name: str, region_code: str, value: float, year: int | None = None, note: str = ""
) -> ScreeningParameter:
    """Set a regional parameter or weight (validated: known name, sane range, region code shape)."""
    from engine.screening.catalogue import default_weights

    validate_override(Override(name, region_code, value, year), known=default_weights())
    row, created = ScreeningParameter.objects.get_or_create(
        name=name,
        region_code=region_code,
        year=year,
        defaults={"value": value, "note": note, "updated_by": actor},
    )
    before = None if created else {"value": row.value, "note": row.note}
    if not created:
        row.value, row.note, row.updated_by = value, note, actor
        row.save()
    log_changes(
        [
            change_entry(
                entity="screening_parameter",
                entity_id=row.pk,
                household_id=None,
                action="create" if created else "update",
                before=before,
                after={"name": name, "region_code": region_code, "year": year, "value": value, "note": note},
                actor_id=getattr(actor, "pk", None),
            )
        ]
    )
    ledger_append(kind="admin", entity="screening_parameter", entity_id=row.pk, actor=actor, payload={"name": name, "region_code": region_code, "year": year, "value": value})  # fmt: skip
    return row


def overrides_in_force(villages: Iterable[str], as_of: date) -> list[Override]:
    """Stored parameters, plus the monitoring line (and 低保 standard where the line is a formula) that applies
    to each village on `as_of` by the rule of regions.selectors.monitoring_line_on."""
    out = [Override(p.name, p.region_code, p.value, p.year) for p in ScreeningParameter.objects.all()]
    lines = list(MonitoringLine.objects.filter(effective_from__lte=as_of))
    if not lines:
        return out
    by_region: dict[str, list[MonitoringLine]] = {}
    for line in lines:
        by_region.setdefault(line.region_id, []).append(line)
    for village in set(villages):
        candidates = [
            line
            for code in (village[:2], village[:4], village[:6], village[:9], village)
            for line in by_region.get(code, [])
        ]
        if not candidates:
            continue
        year = max(line.year for line in candidates)
        best = max(
            (line for line in candidates if line.year == year),
            key=lambda line: (len(line.region_id), line.effective_from, line.pk),
        )
        out.append(Override("monitoring_line", village, float(best.amount)))
        if best.dibao_monthly:
            out.append(Override("dibao_standard", village, float(best.dibao_monthly) * 12))
    return out


# ------------------------------------------------------------------------------------------------------------ runs
def screening_run(
    *,
    actor=None,
    as_of: date | None = None,
    backend: str = "duckdb",
    household_ids: list[int] | None = None,
    job=None,
    progress: Progress | None = None,
    model_dir: str | Path | None = None,
) -> ScreeningRun:
    """Grade every active household (or just `household_ids`) and bring warnings in step: a warning already open
    for a household is updated, never duplicated; one that no longer holds is closed with the reason.

    `model_dir` (default: settings GUARDLINE["SCREENING_MODEL"]) names a learned model; it grades only when its
    held-out comparison beats the index, and the run's message says which scorer graded and why."""
    as_of = as_of or timezone.localdate()
    rules = rules_in_force()
    model, model_note = screening_model(model_dir)
    run = ScreeningRun.objects.create(
        as_of=as_of,
        backend=backend,
        scope="" if household_ids is None else f"households:{len(household_ids)}",
        created_by=actor if getattr(actor, "pk", None) else None,
        job=job,
        rules_version=rules_fingerprint(rules),
    )
    try:
        if progress:
            progress("读取数据", 0, 4)
        villages = None
        if household_ids is not None:
            from guardline.registry.models import Household

            villages = list(
                Household.objects.filter(pk__in=household_ids)
                .values_list("village_code", flat=True)
                .distinct()
            )
        inputs = extract.screening_inputs(household_ids, villages)
        if progress:
            progress("计算指标与等级", 1, 4)
        all_villages = inputs["households"].column("village_code").to_pylist()
        result = screen(
            inputs,
            as_of,
            overrides=overrides_in_force(all_villages, as_of),
            rules=rules,
            backend=backend,
            model=model,
        )
        if progress:
            progress("写入预警", 2, 4)
        with transaction.atomic():
            counts = _apply(run, result.grades.to_pydict(), result.warnings, scoped=household_ids)
            run.households = result.grades.num_rows
            for grade, n in result.counts().items():
                setattr(run, grade, n)
            run.opened, run.updated, run.closed = counts
            run.timings = {k: round(v, 3) for k, v in result.timings.items()}
            run.scorer = result.scorer
            run.model_name = (
                str(model_dir or settings.GUARDLINE.get("SCREENING_MODEL", ""))[:200] if model else ""
            )
            run.status = ScreeningRun.Status.DONE
            run.finished_at = timezone.now()
            run.message = (
                f"筛查 {run.households} 户：红色 {run.red}，黄色 {run.yellow}，绿色 {run.green}；"
                f"新增预警 {run.opened}，更新 {run.updated}，关闭 {run.closed}"
            )
            note = result.scorer_note or model_note
            if note:
                run.message += f"（{note}）"
            run.save()
        if progress:
            progress("完成", 4, 4)
    except Exception as exc:
        run.status = ScreeningRun.Status.FAILED
        run.finished_at = timezone.now()
        run.message = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "message"])
        raise
    return run


_MODELS: dict[tuple[str, float], ScreeningModel] = {}


def screening_model(model_dir: str | Path | None = None) -> tuple[ScreeningModel | None, str]:
    """The configured learned model (loaded once per file version), or None with the reason."""
    path = str(model_dir or settings.GUARDLINE.get("SCREENING_MODEL", "") or "")
    if not path:
        return None, ""
    meta = Path(path) / "model.json"
    if not meta.exists():
        return None, f"使用风险指数：未找到筛查模型 {path}"
    key = (path, meta.stat().st_mtime)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = ScreeningModel.load(path)
    return _MODELS[key], ""


def _apply(
    run: ScreeningRun, grades: dict, warnings: list[WarningOut], scoped: list[int] | None
) -> tuple[int, int, int]:
    now = timezone.now()
    _grades_write(run, grades, now)
    open_qs = RiskWarning.objects.filter(status=RiskWarning.Status.OPEN)
    if scoped is not None:
        open_qs = open_qs.filter(household_id__in=scoped)
    existing = {w.household_id: w for w in open_qs}
    fresh, changed, logs = [], [], []
    for out in warnings:
        w = existing.pop(out.household_id, None)
        fields = {
            "village_code": out.village_code,
            "grade": out.grade,
            "score": out.score,
            "risk_types": ";".join(out.risk_types),
            "reasons": out.reasons,
            "sources": out.sources,
            "rules": ";".join(out.rules),
            "points": [[c, p] for c, p in out.points[:10]],
            "first_signal_date": out.first_signal_date,
        }
        if w is None:
            fresh.append(
                RiskWarning(
                    household_id=out.household_id,
                    status=RiskWarning.Status.OPEN,
                    opened_at=now,
                    updated_at=now,
                    graded_at=now,
                    opened_by_run=run,
                    last_run=run,
                    **fields,
                )
            )
            continue
        if w.grade != out.grade:
            w.graded_at = now
            logs.append(_log(w, "regrade", {"grade": w.grade}, {"grade": out.grade}, run))
        # The first signal of an open warning never moves later: later runs only add evidence.
        fields["first_signal_date"] = min(w.first_signal_date, out.first_signal_date)
        for k, v in fields.items():
            setattr(w, k, v)
        w.updated_at, w.last_run = now, run
        changed.append(w)
    insert_rows(RiskWarning, fresh, [
        "household", "village_code", "status", "grade", "score", "risk_types", "reasons", "sources", "rules",
        "points", "first_signal_date", "opened_at", "updated_at", "graded_at", "opened_by_run", "last_run",
        "close_reason",
    ])  # fmt: skip
    update_rows(RiskWarning, changed, [
        "village_code", "grade", "score", "risk_types", "reasons", "sources", "rules", "points",
        "first_signal_date", "updated_at", "graded_at", "last_run",
    ])  # fmt: skip
    score_of = dict(zip(grades["household_id"], grades["score"], strict=True))
    closing = list(existing.values())
    for w in closing:
        w.status = RiskWarning.Status.CLOSED
        w.closed_at, w.updated_at, w.last_run = now, now, run
        w.close_reason = (
            f"{run.as_of} 复筛未再发现风险（风险分值 {score_of.get(w.household_id, 0):.1f}，绿色）"
        )
        logs.append(_log(w, "close", {"status": "open"}, {"status": "closed", "reason": w.close_reason}, run))
    update_rows(RiskWarning, closing, ["status", "closed_at", "updated_at", "last_run", "close_reason"])
    if fresh:
        logs.extend(
            change_entry(
                entity="warning",
                entity_id=0,
                household_id=w.household_id,
                action="open",
                before=None,
                after={"grade": w.grade, "score": w.score, "risk_types": w.risk_types, "run": run.pk},
                actor_id=None,
                at=now,
            )
            for w in fresh
        )
    log_changes(logs)
    return len(fresh), len(changed), len(closing)


def _log(w: RiskWarning, action: str, before: dict, after: dict, run: ScreeningRun):
    return change_entry(
        entity="warning",
        entity_id=w.pk,
        household_id=w.household_id,
        action=action,
        before=before,
        after={**after, "run": run.pk},
        actor_id=None,
    )


def _grades_write(run: ScreeningRun, grades: dict, now) -> None:
    """Insert or update only the households whose grade, score or triggers changed since the last run."""
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    ids = grades["household_id"]
    current: dict[int, tuple] = {}
    with connection.cursor() as cursor:
        if len(ids) > 5000:
            cursor.execute(f"SELECT household_id, id, grade, score, rules FROM {table}")
            current = {r[0]: r[1:] for r in cursor.fetchall()}
        else:
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                cursor.execute(
                    f"SELECT household_id, id, grade, score, rules FROM {table} WHERE household_id IN "
                    f"({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                current.update((r[0], r[1:]) for r in cursor.fetchall())
    new, changed = [], []
    for hid, village, grade, score, rules in zip(
        ids, grades["village_code"], grades["grade"], grades["score"], grades["fired_rules"], strict=True
    ):
        rules = rules or ""
        row = HouseholdGrade(
            household_id=hid, village_code=village, grade=grade, score=score, rules=rules[:400],
            as_of=run.as_of, run=run, updated_at=now,
        )  # fmt: skip
        had = current.get(hid)
        if had is None:
            new.append(row)
        elif (had[1], round(had[2], 2), had[3]) != (grade, round(score, 2), rules[:400]):
            row.pk = had[0]
            changed.append(row)
    insert_rows(
        HouseholdGrade,
        new,
        ["household", "village_code", "grade", "score", "rules", "as_of", "run", "updated_at"],
    )
    update_rows(
        HouseholdGrade, changed, ["village_code", "grade", "score", "rules", "as_of", "run", "updated_at"]
    )
