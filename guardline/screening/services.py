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
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from engine.screening import DEFAULT_RULES, Override, Rule, screen
from engine.screening.model import ScreeningModel
from engine.screening.params import validate_override
from engine.screening.rules import validate as validate_rule
from guardline.core import failpoints
from guardline.core.changelog import change_entry, log_changes, log_rows
from guardline.core.locks import write_lock
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
    with write_lock():  # queued with the API's writers (guardline.core.locks), not in SQLite's busy handler
        run = ScreeningRun.objects.create(
            as_of=as_of,
            backend=backend,
            scope="" if household_ids is None else f"households:{len(household_ids)}",
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
            consume=True,  # the province's input tables are freed as soon as the engine is done with them
        )
        if progress:
            progress("写入预警", 2, 4)
        current = _current_grades(household_ids)
        failpoints.hit("screening_before_write")
        with write_lock(), transaction.atomic(), _page_cache_for_bulk_write():
            written: dict[str, float] = {}
            counts = _apply(
                run, result.grades, current, result.warning_table, scoped=household_ids, timings=written
            )
            run.households = result.grades.num_rows
            for grade, n in result.counts().items():
                setattr(run, grade, n)
            run.opened, run.updated, run.unchanged, run.closed = counts
            run.timings = {k: round(v, 3) for k, v in result.timings.items()} | written
            run.scorer = result.scorer
            run.model_name = (
                str(model_dir or settings.GUARDLINE.get("SCREENING_MODEL", ""))[:200] if model else ""
            )
            run.status = ScreeningRun.Status.DONE
            run.finished_at = timezone.now()
            run.message = (
                f"筛查 {run.households} 户：红色 {run.red}，黄色 {run.yellow}，绿色 {run.green}；"
                f"新增预警 {run.opened}，更新 {run.updated}，未变 {run.unchanged}，关闭 {run.closed}"
            )
            note = result.scorer_note or model_note
            if note:
                run.message += f"（{note}）"
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


@contextlib.contextmanager
def _page_cache_for_bulk_write():
    """SQLite: a page cache large enough for the indexes a full pass writes into (a province's grades, warnings
    and change log), for this connection and only while it writes — the default keeps each connection small.
    With a cache of a few MB every index insert re-reads pages from the OS."""
    if connection.vendor != "sqlite":
        yield
        return
    megabytes = int(settings.GUARDLINE.get("SCREENING_WRITE_CACHE_MB", 512))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-1024 * megabytes}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


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


def _apply(
    run: ScreeningRun,
    grades: pa.Table,
    current: pa.Table,
    warnings: pa.Table,
    scoped: list[int] | None,
    timings: dict[str, float] | None = None,
) -> tuple[int, int, int, int]:
    """Set-based write-back: grades upserted only where they changed; warnings inserted, updated where their
    content changed (RiskWarning.digest) and closed, with one executemany each, and their change-log entries in
    bulk — all in the caller's transaction. `warnings` is the engine's warning table
    (engine.screening.explain.WARNINGS_SCHEMA). Returns (opened, updated, unchanged, closed)."""
    now = timezone.now()
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    clock = time.perf_counter()
    timings = {} if timings is None else timings

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    _grades_write(run, grades, current, stamp)
    lap("write_grades")
    open_qs = RiskWarning.objects.filter(status=RiskWarning.Status.OPEN)
    if scoped is not None:
        open_qs = open_qs.filter(household_id__in=scoped)
    existing = list(open_qs.values_list("household_id", "pk", "grade", "digest", "first_signal_date"))
    rows, unchanged, gone = _warnings_to_write(warnings, existing)
    del existing
    fresh: list[tuple] = []
    changed: list[tuple] = []
    logs: list[tuple[Any, ...]] = []
    columns = [rows.column(name).to_pylist() for name in rows.column_names]
    for (
        hid,
        village,
        grade,
        score,
        risks,
        reasons,
        sources,
        rules,
        points,
        signal,
        digest,
        pk,
        old_grade,
    ) in zip(*columns, strict=True):
        values = (village, grade, score, risks, reasons, sources, rules, points, digest)
        # `signal` is ISO text: what SQLite stores, and a date literal to PostgreSQL
        if pk is None:
            fresh.append(
                (hid, *values, signal, RiskWarning.Status.OPEN, stamp, stamp, stamp, run.pk, run.pk, "")
            )
            logs.append(("warning", 0, hid, "open", None,
                         {"grade": grade, "score": score, "risk_types": risks, "run": run.pk}))  # fmt: skip
            continue
        if old_grade != grade:
            logs.append(
                ("warning", pk, hid, "regrade", {"grade": old_grade}, {"grade": grade, "run": run.pk})
            )
        # The first signal of an open warning never moves later: later runs only add evidence.
        changed.append((grade, stamp, *values, signal, signal, stamp, run.pk, pk))
    del rows, columns
    lap("write_prepare")
    table = ops.quote_name(RiskWarning._meta.db_table)
    with connection.cursor() as cursor:
        if fresh:
            cursor.executemany(
                f"INSERT INTO {table} (household_id, village_code, grade, score, risk_types, reasons, sources, rules, "
                "points, digest, first_signal_date, status, opened_at, updated_at, graded_at, opened_by_run_id, "
                "last_run_id, close_reason) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                fresh,
            )
        if changed:
            cursor.executemany(
                f"UPDATE {table} SET graded_at = CASE WHEN grade <> %s THEN %s ELSE graded_at END, "
                "village_code = %s, grade = %s, score = %s, risk_types = %s, reasons = %s, sources = %s, rules = %s, "
                "points = %s, digest = %s, first_signal_date = CASE WHEN first_signal_date <= %s THEN first_signal_date "
                "ELSE %s END, updated_at = %s, last_run_id = %s WHERE id = %s",
                changed,
            )
        score_of: dict[int, float] = {}
        if gone:
            mask = pc.is_in(grades.column("household_id"), pa.array(list(gone), pa.int64()))
            kept = grades.filter(mask)
            score_of = dict(
                zip(kept.column("household_id").to_pylist(), kept.column("score").to_pylist(), strict=True)
            )
        closing = []
        for hid, pk in gone.items():
            reason = f"{run.as_of} 复筛未再发现风险（风险分值 {score_of.get(hid, 0):.1f}，绿色）"
            closing.append((RiskWarning.Status.CLOSED, stamp, stamp, run.pk, reason, pk))
            logs.append(("warning", pk, hid, "close", {"status": "open"},
                         {"status": "closed", "reason": reason, "run": run.pk}))  # fmt: skip
        if closing:
            cursor.executemany(
                f"UPDATE {table} SET status = %s, closed_at = %s, updated_at = %s, last_run_id = %s, "
                "close_reason = %s WHERE id = %s",
                closing,
            )
    lap("write_warnings")
    log_rows(logs, at=now)
    lap("write_log")
    return len(fresh), len(changed), unchanged, len(closing)


def _warnings_to_write(warnings: pa.Table, existing: list[tuple]) -> tuple[pa.Table, int, dict[int, int]]:
    """The engine's warnings against the open ones (household_id, pk, grade, digest, first_signal_date), in
    DuckDB: (the rows to insert or update — stored columns, digest, and the open warning's pk and grade, NULL for a
    new one —, how many are found again exactly as they were, {household_id: pk} of the open ones to close).

    The digest (RiskWarning.digest) is DuckDB's 64-bit hash of the engine's values, lists as they are — everything
    a run writes but the first-signal date, which is compared on its own: it may only move earlier. (Four times
    cheaper than an MD5 of their JSON; a DuckDB upgrade that changed the hash would rewrite each warning once.)
    The stored columns (codes joined with ";", lists as JSON text, the ten largest points as [[indicator, points],
    …]) are built in DuckDB and only for the rows to write: a same-data re-run builds none."""
    import duckdb

    names = ("household_id", "pk", "grade", "digest", "first_signal_date")
    types = (pa.int64(), pa.int64(), pa.string(), pa.string(), pa.date32())
    columns = list(zip(*existing, strict=True)) if existing else [() for _ in names]
    open_ = pa.table({n: pa.array(c, t) for n, c, t in zip(names, columns, types, strict=True)})
    con = duckdb.connect()
    try:
        con.register("w", warnings)
        con.register("open_", open_)
        con.execute(
            "CREATE TEMP TABLE d AS SELECT n.household_id, n.digest, o.pk, o.grade AS old_grade, "
            "(o.pk IS NULL OR o.digest IS DISTINCT FROM n.digest OR n.first_signal_date < o.first_signal_date) "
            "AS write FROM (SELECT household_id, first_signal_date, printf('%016x', hash(village_code, grade, "
            "score, risk_types, reasons, sources, rules, points[1:10])) AS digest FROM w) AS n "
            "LEFT JOIN open_ AS o USING (household_id)"
        )
        rows = con.sql(
            "SELECT w.household_id, w.village_code, w.grade, w.score, array_to_string(w.risk_types, ';') "
            "AS risk_types, CAST(to_json(w.reasons) AS VARCHAR) AS reasons, CAST(to_json(w.sources) AS VARCHAR) "
            "AS sources, array_to_string(w.rules, ';') AS rules, CAST(to_json(list_transform(w.points[1:10], "
            "lambda p: [to_json(p.code), to_json(p.points)])) AS VARCHAR) AS points, "
            # SQLite stores a date as its ISO text (what Django's adapt_datefield_value gives); PostgreSQL takes it
            "CAST(w.first_signal_date AS VARCHAR) AS first_signal_date, d.digest, d.pk, d.old_grade "
            "FROM w JOIN d USING (household_id) WHERE d.write ORDER BY w.household_id"
        ).to_arrow_table()
        ((same,),) = con.execute("SELECT count(*) FROM d WHERE NOT d.write").fetchall()
        gone = con.sql(
            "SELECT household_id, pk FROM open_ ANTI JOIN w USING (household_id) ORDER BY household_id"
        ).fetchall()
    finally:
        con.close()
    return rows, same, dict(gone)


def _current_grades(household_ids: list[int] | None) -> pa.Table:
    """The stored grades of the households about to be written (read before the write transaction, columnar)."""
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    where = ""
    if household_ids is not None:
        where = f"WHERE household_id IN ({', '.join(str(int(i)) for i in household_ids) or 'NULL'})"
    got = extract.fetch(f"SELECT household_id, grade, score, rules FROM {table} {where}")
    schema = pa.schema([("household_id", pa.int64()), ("grade", pa.string()), ("score", pa.float64()),
                        ("rules", pa.string())])  # fmt: skip
    return pa.table(
        {
            f.name: pa.nulls(got.num_rows, f.type)
            if pa.types.is_null(got.column(f.name).type)
            else got.column(f.name).cast(f.type)
            for f in schema
        }
    )


def _grades_write(run: ScreeningRun, grades: pa.Table, current: pa.Table, stamp) -> int:
    """Insert or update only the households whose grade, score or triggers changed since the last run: the
    comparison runs in DuckDB over Arrow, the write is one executemany of upserts (a row a concurrent run added
    in between is updated, not duplicated)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("new", grades.select(["household_id", "village_code", "grade", "score", "fired_rules"]))
        con.register("cur", current)
        todo = con.sql(
            "SELECT n.household_id, n.village_code, n.grade, n.score, LEFT(COALESCE(n.fired_rules, ''), 400) AS rules "
            "FROM new AS n LEFT JOIN cur AS c ON c.household_id = n.household_id "
            "WHERE c.household_id IS NULL OR c.grade <> n.grade OR ROUND(c.score, 2) <> ROUND(n.score, 2) "
            "OR COALESCE(c.rules, '') <> LEFT(COALESCE(n.fired_rules, ''), 400)"
        ).to_arrow_table()
    finally:
        con.close()
    if not todo.num_rows:
        return 0
    as_of = connection.ops.adapt_datefield_value(run.as_of)
    n = todo.num_rows
    params = list(
        zip(
            *(
                todo.column(c).to_pylist()
                for c in ("household_id", "village_code", "grade", "score", "rules")
            ),
            [as_of] * n,
            [run.pk] * n,
            [stamp] * n,
            strict=True,
        )
    )
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (household_id, village_code, grade, score, rules, as_of, run_id, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (household_id) DO UPDATE SET "
            "village_code = excluded.village_code, grade = excluded.grade, score = excluded.score, "
            "rules = excluded.rules, as_of = excluded.as_of, run_id = excluded.run_id, updated_at = excluded.updated_at",
            params,
        )
    return n
