"""Writes of the screening app: running a screening pass and keeping warnings and grades in step with it, and
editing the rules and parameters it runs with. Every write is atomic and change-logged."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from engine.screening import DEFAULT_RULES, Override, Rule, screen
from engine.screening.model import ScreeningModel
from engine.screening.params import validate_override
from engine.screening.rules import validate as validate_rule
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, scope_codes
from guardline.core import failpoints
from guardline.core.changelog import change_entry, log_changes, log_rows
from guardline.core.locks import write_lock
from guardline.ledger.services import ledger_append
from guardline.regions.models import MonitoringLine

from . import extract, writeback_services
from .models import ScreeningParameter, ScreeningRule, ScreeningRun
from .selectors import rule_entries, rule_of

Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------------------- rules, params
def rules_in_force() -> list[Rule]:
    """The engine's default triggers, with every code's newest stored version taking its place (a newest version
    that is inactive switches the trigger off); stored codes the defaults lack are added."""
    return [entry.rule for entry in rule_entries() if entry.is_active]


def rules_fingerprint(rules: Iterable[Rule]) -> str:
    text = json.dumps([r.as_dict() for r in rules], ensure_ascii=False, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def can_edit_rules(user, region: str | None = None) -> bool:
    """Who keeps a trigger of `region`: a province-wide trigger ("") a province-level manager; a region's own
    trigger (a county's) also that region's managers. `region` None: whether the user may keep any trigger at all
    (and so add one, for a region of theirs)."""
    if not has_perm(user, Perm.MANAGE_SCREENING):
        return False
    codes = scope_codes(user)
    if region is None:
        return bool(codes)
    if not region:
        return any(len(c) <= 2 for c in codes)
    return in_scope(user, region)


@transaction.atomic
def screening_rule_save(*, actor, rule: Rule, is_active: bool = True, note: str = "") -> ScreeningRule:
    """Store a new version of a trigger after the engine has validated it (RuleError says what is wrong). `note`
    says why (a document number, a decision); `actor` None is the system (a management command)."""
    previous = ScreeningRule.objects.filter(code=rule.code).order_by("-version").first()
    if actor is not None:
        default = next((r for r in DEFAULT_RULES if r.code == rule.code), None)
        # Both the region it had and the one it gets: a county cannot take over the province's trigger.
        was = previous.region_code if previous else (default.region if default else rule.region)
        for region in dict.fromkeys((was, rule.region)):
            if not can_edit_rules(actor, region):
                raise PermissionDenied(
                    "全省统一的预警规则由省级管理人员维护"
                    if not region
                    else f"地区 {region} 的预警规则不在您的管辖范围内"
                )
    validate_rule(rule)
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
        region_code=rule.region,
        is_active=is_active,
        note=note[:200],
        created_by=actor,
    )
    if previous:
        before: dict | None = {**rule_of(previous).as_dict(), "is_active": previous.is_active,
                               "version": previous.version}  # fmt: skip
    else:
        default = next((r for r in DEFAULT_RULES if r.code == rule.code), None)
        before = {**default.as_dict(), "is_active": True, "version": 0} if default else None
    after = {**rule.as_dict(), "is_active": is_active, "version": row.version, "note": row.note}
    log_changes(
        [
            change_entry(
                entity="screening_rule",
                entity_id=row.pk,
                household_id=None,
                action="update" if before else "create",
                before=before,
                after=after,
                actor_id=getattr(actor, "pk", None),
            )
        ]
    )
    ledger_append(kind="admin", entity="screening_rule", entity_id=row.pk, actor=actor, payload=after)
    return row


def screening_rule_restore(*, actor, code: str, version: int, note: str = "") -> ScreeningRule:
    """Put an earlier version of a trigger back in force, as a new version with its content (history only grows);
    version 0 is the built-in default of a code the engine ships with."""
    if version == 0:
        old = next((r for r in DEFAULT_RULES if r.code == code), None)
        if old is None:
            raise ScreeningRule.DoesNotExist(f"规则 {code} 没有内置默认版本")
        active = True
    else:
        row = ScreeningRule.objects.get(code=code, version=version)
        old, active = rule_of(row), row.is_active
    return screening_rule_save(actor=actor, rule=old, is_active=active, note=note or f"恢复为第 {version} 版")


@transaction.atomic
def screening_parameter_set(
    *, actor, name: str, region_code: str, value: float, year: int | None = None, note: str = ""
) -> ScreeningParameter:
    """Set a regional parameter or weight (validated: known name, sane range, region code shape; `actor` None is
    the system, anyone else sets values only inside their own regions)."""
    from engine.screening.catalogue import default_weights

    if actor is not None and not (has_perm(actor, Perm.MANAGE_SCREENING) and in_scope(actor, region_code)):
        raise PermissionDenied("只能为本人管辖的区域设置参数")
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


@transaction.atomic
def screening_parameter_clear(*, actor, pk: int) -> None:
    """Remove a regional value: the region falls back to the value of the region above it (or the default)."""
    row = ScreeningParameter.objects.select_for_update().filter(pk=pk).first()
    if row is None or (actor is not None and not in_scope(actor, row.region_code or "")):
        raise ScreeningParameter.DoesNotExist(f"没有参数设置 {pk}")
    if actor is not None and not has_perm(actor, Perm.MANAGE_SCREENING):
        raise PermissionDenied("您的角色不能修改筛查参数")
    before = {"name": row.name, "region_code": row.region_code, "year": row.year, "value": row.value,
              "note": row.note}  # fmt: skip
    row.delete()
    log_changes(
        [
            change_entry(
                entity="screening_parameter",
                entity_id=pk,
                household_id=None,
                action="delete",
                before=before,
                after=None,
                actor_id=getattr(actor, "pk", None),
            )
        ]
    )
    ledger_append(kind="admin", entity="screening_parameter", entity_id=pk, actor=actor,
                  payload={**before, "cleared": True})  # fmt: skip


def overrides_in_force(villages: Iterable[str], as_of: date) -> list[Override]:
    """Stored parameters, plus the monitoring line (and 低保 standard where the line is a formula) that applies
    to each village on `as_of` by the rule of regions.selectors.monitoring_line_on."""
    stored = [Override(p.name, p.region_code, p.value, p.year) for p in ScreeningParameter.objects.all()]
    return stored + line_overrides(villages, as_of)


def line_overrides(villages: Iterable[str], as_of: date) -> list[Override]:
    """The monitoring line (and 低保 standard) in force for each village on `as_of`, one override per village."""
    out: list[Override] = []
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
    with write_lock():  # queued with the API's writers (guardline.core.locks), not in SQLite's busy handler
        run = ScreeningRun.objects.create(
            as_of=as_of,
            backend=backend,
            scope="" if household_ids is None else f"households:{len(household_ids)}",
            household_ids=None if household_ids is None else sorted({int(i) for i in household_ids}),
            created_by=actor if getattr(actor, "pk", None) else None,
            job=job,
            rules_version=rules_fingerprint(rules),
        )
    alive = _run_alive_lock(run)
    try:
        stale_runs_fail(by=run)
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
        read: dict[str, float] = {}
        inputs = extract.screening_inputs(household_ids, villages, as_of, timings=read)
        if progress:
            progress("计算指标与等级", 1, 4)
        all_villages = inputs["households"].column("village_code").to_pylist()
        known = writeback_services.open_digests(household_ids)
        result = screen(
            inputs,
            as_of,
            overrides=overrides_in_force(all_villages, as_of),
            rules=rules,
            backend=backend,
            model=model,
            consume=True,  # the province's input tables are freed as soon as the engine is done with them
            known=known,  # warnings found exactly as stored are not explained again
            explain_later=True,
        )
        if progress:
            progress("写入预警", 2, 4)

        # The warnings are explained, and put in their stored form, in another thread (DuckDB, out of the GIL) while
        # this one writes the grades; leaving the pool waits for it whatever happens here.
        def explained_and_stored():
            table = result.warning_table
            t = time.perf_counter()
            stored = writeback_services.warnings_stored(table, run.pk)
            result.timings["explain_stored"] = time.perf_counter() - t
            return stored

        with ThreadPoolExecutor(max_workers=1) as pool:
            explained = pool.submit(explained_and_stored)
            read_at = timezone.now()
            current = writeback_services.current_grades(household_ids)
            failpoints.hit("screening_before_write")
            with write_lock(), transaction.atomic(), writeback_services.page_cache_for_bulk_write():
                # Another run may have written while this one graded (a live re-screen beside a county's run, in
                # another worker): what it wrote from fresher data stays, and what it changed is compared afresh.
                writeback_services.writers_serialised()
                overtaken = households_overtaken(run, result.grades)
                current = writeback_services.current_refreshed(current, household_ids, read_at)
                written: dict[str, float] = dict(read)
                counts = writeback_services.results_write(
                    run,
                    result.grades,
                    current,
                    explained.result,
                    scoped=household_ids,
                    timings=written,
                    kept=result.kept,
                    overtaken=overtaken,
                )
                if household_ids is None:
                    t = time.perf_counter()
                    writeback_services.firings_write(run, result.grades)
                    written["write_firings"] = round(time.perf_counter() - t, 3)
                _run_finish(run, result, counts, written, model_dir, model is not None, model_note)
                if overtaken:
                    run.message += f"；{len(overtaken)} 户已由更晚开始的筛查写入，未以本次较早的数据覆盖"
                # Inside the write transaction: a kill here rolls all of it back.
                failpoints.hit("screening_in_write")
                run.save()
        if progress:
            progress("完成", 4, 4)
    except Exception as exc:
        run.status = ScreeningRun.Status.FAILED
        run.finished_at = timezone.now()
        run.message = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "message"])
        raise
    finally:
        alive.close()
    return run


def households_overtaken(run: ScreeningRun, grades) -> list[int]:
    """The households of `grades` that a run started after `run` has already written (it is done): that run read
    the data later, so its grades and warnings stand. Runs are numbered in the order they start, and each reads
    its data right after it starts. Every household, when the later run graded them all."""
    later = ScreeningRun.objects.filter(pk__gt=run.pk, status=ScreeningRun.Status.DONE)
    households: set[int] = set()
    for scope, ids in later.values_list("scope", "household_ids"):
        if not scope:
            return grades.column("household_id").to_pylist()
        households.update(ids or ())
    if not households:
        return []
    ids = grades.column("household_id")
    return sorted(ids.filter(pc.is_in(ids, pa.array(sorted(households), pa.int64()))).to_pylist())


def _run_finish(
    run: ScreeningRun, result, counts, written: dict[str, float], model_dir, with_model: bool, model_note: str
) -> None:
    """The run's figures and message, once its results are written."""
    run.households = result.grades.num_rows
    for grade, n in result.counts().items():
        setattr(run, grade, n)
    run.opened, run.updated, run.unchanged, run.closed = counts
    run.timings = {k: round(v, 3) for k, v in result.timings.items()} | written
    run.scorer = result.scorer
    run.model_name = ""
    if with_model:
        run.model_name = str(model_dir or settings.GUARDLINE.get("SCREENING_MODEL", ""))[:200]
    run.status = ScreeningRun.Status.DONE
    run.finished_at = timezone.now()
    run.message = (
        f"筛查 {run.households} 户：红色 {run.red}，黄色 {run.yellow}，绿色 {run.green}；"
        f"新增预警 {run.opened}，更新 {run.updated}，未变 {run.unchanged}，关闭 {run.closed}"
    )
    note = result.scorer_note or model_note
    if note:
        run.message += f"（{note}）"


def _run_lock_path(pk: int) -> Path:
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"screening-run-{pk}.lock"


class _AliveLock:
    """An exclusive flock held for as long as a run's process lives: the kernel drops it when the process dies,
    however it dies (SIGKILL, OOM, power), so another run can tell a live run from a dead one."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def close(self) -> None:
        os.close(self.fd)
        self.path.unlink(missing_ok=True)


def _run_alive_lock(run: ScreeningRun) -> _AliveLock:
    return _AliveLock(_run_lock_path(run.pk))


def _run_is_dead(run: ScreeningRun) -> bool:
    """A 'running' run is dead when its alive lock can be taken (its process is gone) or, where no lock file is to
    be seen (started on another host, or before the locks existed), when it started more than
    GUARDLINE["SCREENING_STALE_HOURS"] hours ago."""
    path = _run_lock_path(run.pk)
    if not path.exists():
        hours = float(settings.GUARDLINE.get("SCREENING_STALE_HOURS", 12))
        return (timezone.now() - run.started_at).total_seconds() > hours * 3600
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:  # the run just finished and removed it
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def stale_runs_fail(*, by: ScreeningRun | None = None) -> list[int]:
    """Mark runs left 'running' by a process that died (killed, crashed) as failed, with the reason. Their writes
    were all-or-nothing (one transaction), so nothing of theirs needs undoing. Returns the runs marked."""
    marked = []
    for run in ScreeningRun.objects.filter(status=ScreeningRun.Status.RUNNING).exclude(
        pk=getattr(by, "pk", None)
    ):
        if not _run_is_dead(run):
            continue
        note = f"，由第 {by.pk} 次筛查发现" if by else ""
        with write_lock(), transaction.atomic():
            n = ScreeningRun.objects.filter(pk=run.pk, status=ScreeningRun.Status.RUNNING).update(
                status=ScreeningRun.Status.FAILED,
                finished_at=timezone.now(),
                message=f"进程中断，筛查未完成，结果未写入{note}",
            )
            if n:
                log_rows([("screening_run", run.pk, None, "update", {"status": "running"},
                           {"status": "failed", "reason": "process died"})])  # fmt: skip
        with contextlib.suppress(FileNotFoundError):
            _run_lock_path(run.pk).unlink()
        marked.append(run.pk)
    return marked


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
