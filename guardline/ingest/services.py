"""Importing registry and income files: the engine reads and validates, this applies accepted rows in chunks of
whole households, and records a batch with counts and a downloadable row-level error report."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from engine.ingest import SPECS, load_table, write_error_report
from engine.ingest.feeds import FEED_KEYS
from guardline.accounts.scope import in_scope
from guardline.core import failpoints
from guardline.core.context import acting
from guardline.regions.models import Region
from guardline.registry.import_services import ApplyResult, RowIssue, income_apply_rows, registry_apply_rows

from .feed_services import feed_events_store
from .link_services import batch_counts_refresh, feed_events_link_probabilistic
from .models import ImportBatch
from .stages import stage

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
SAMPLE_ERRORS = 200


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unknown_village_issues(result) -> list[RowIssue]:
    """Village codes the division table does not know: kept, but reported as warnings."""
    codes = [r[0] for r in result.con.execute(f"SELECT DISTINCT village_code FROM {result.clean}").fetchall()]
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True)) if codes else set()
    unknown = [c for c in codes if c not in known]
    if not unknown:
        return []
    rows = result.con.execute(
        f"SELECT source_row, village_code FROM {result.clean} WHERE village_code IN ({','.join('?' * len(unknown))})",
        unknown,
    ).fetchall()
    return [
        RowIssue(
            row,
            "行政区划代码",
            code,
            "unknown_region",
            "行政区划代码不在区划表中（可能已撤并、更名或为新设区划），已保留原代码，请核实",
            "warning",
        )
        for row, code in rows
    ]


def _duplicate_person_issues(result) -> tuple[list[RowIssue], set[int]]:
    """The same ID number listed in two households of one file: keep the first, reject the others."""
    rows = result.con.execute(
        f"""SELECT source_row, id_number, first_row FROM (
              SELECT source_row, id_number, min(source_row) OVER (PARTITION BY id_number) AS first_row
              FROM {result.clean}) WHERE source_row <> first_row"""
    ).fetchall()
    issues = [
        RowIssue(
            row, "证件号码", idn, "duplicate_person", f"同一证件号码已出现在第{first}行（另一户），本行未导入"
        )
        for row, idn, first in rows
    ]
    return issues, {row for row, _, _ in rows}


def import_file(
    kind: str,
    path: Path,
    *,
    actor=None,
    job=None,
    progress: Progress | None = None,
    force: bool = False,
    display_name: str | None = None,
) -> ImportBatch:
    """Import a registry, income or department-feed file (kind = "registry", "income" or a feed key). Returns the
    batch record (status, counts, error report).

    Idempotent: a file whose content was already imported completely is recognised and not applied again (status
    `duplicate`); with `force`, it is applied again, which changes nothing because every write is an upsert."""
    if kind not in SPECS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of: {', '.join(SPECS)}")
    spec = SPECS[kind]
    feed = kind if kind in FEED_KEYS else ""
    batch_kind = ImportBatch.Kind.FEED if feed else kind
    path = Path(path)
    sha = file_sha256(path)
    name = display_name or path.name
    previous = ImportBatch.objects.filter(
        kind=batch_kind, feed=feed, sha256=sha, status=ImportBatch.Status.DONE
    ).first()
    if previous and not force:
        return ImportBatch.objects.create(
            kind=batch_kind,
            feed=feed,
            file_name=name,
            sha256=sha,
            status=ImportBatch.Status.DUPLICATE,
            created_by=actor,
            job=job,
            finished_at=timezone.now(),
            message=f"该文件已于 {previous.started_at:%Y-%m-%d %H:%M} 导入（批次 "
            f"#{previous.pk}），未重复导入。",
        )
    batch = ImportBatch.objects.create(
        kind=batch_kind, feed=feed, file_name=name, sha256=sha, created_by=actor, job=job
    )
    # An earlier run of the same file that died mid-way is finished by this one.
    interrupted = ImportBatch.objects.filter(
        kind=batch_kind, feed=feed, sha256=sha, status=ImportBatch.Status.RUNNING
    ).exclude(pk=batch.pk)
    interrupted_ids = tuple(interrupted.values_list("pk", flat=True))
    interrupted.update(
        status=ImportBatch.Status.FAILED,
        finished_at=timezone.now(),
        message=f"导入中断（进程异常退出）；已由批次 #{batch.pk} 重新导入，已写入的户不会重复。",
    )
    allowed = (lambda code: in_scope(actor, code)) if actor is not None else None
    try:
        with acting(job_id=job.pk if job else None, reason=f"import:{kind}:{batch.pk}"):
            _run(batch, kind, path, spec, actor, allowed, progress, interrupted_ids)
    except Exception as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.message = f"{type(exc).__name__}: {exc}"
        batch.finished_at = timezone.now()
        batch.save()
        raise
    from guardline.quality.services import quality_check_after_import

    quality_check_after_import()
    return batch


def _run(
    batch, kind, path, spec, actor, allowed, progress: Progress | None, interrupted: tuple[int, ...] = ()
) -> None:
    if progress:
        progress(0, 0, "读取与校验文件")
    with stage("read_normalise"):
        result = load_table(path, spec)
    extra: list[RowIssue] = []
    skip_rows: set[int] = set()
    if kind == "registry":
        extra += _unknown_village_issues(result)
        dup_issues, skip_rows = _duplicate_person_issues(result)
        extra += dup_issues
    rejected_households: set[str] = set()
    if kind == "registry":
        # Households with a rejected row keep the members the file does not list: the missing one may be that row.
        rejected_households = {
            r[0]
            for r in result.con.execute(
                f"SELECT DISTINCT household_no FROM {result.raw} WHERE household_no IS NOT NULL AND source_row IN "
                f"(SELECT source_row FROM {result.errors} WHERE severity = 'error')"
            ).fetchall()
        }
    total = int((result.con.execute(f"SELECT count(*) FROM {result.clean}").fetchone() or (0,))[0])
    totals = ApplyResult()
    if kind in FEED_KEYS:
        _run_feed(batch, result, total, totals, actor, allowed, progress, interrupted)
        with stage("report"):
            _finish(batch, kind, result, totals, extra)
        return
    done = 0
    chunk: list[dict] = []
    current_household = None
    actor_id = actor.pk if actor is not None else None

    def flush() -> None:
        nonlocal chunk, done
        if not chunk:
            return
        if kind == "registry":
            part = registry_apply_rows(
                chunk, actor_id=actor_id, allowed=allowed, keep_absent_members=frozenset(rejected_households)
            )
            totals.add(part)
        elif kind == "income":
            totals.add(income_apply_rows(chunk, actor_id=actor_id, allowed=allowed))
        failpoints.hit("import_after_chunk")
        done += len(chunk)
        chunk = []
        if progress:
            progress(done, total, "写入数据库")

    limit = settings.GUARDLINE["IMPORT_CHUNK_ROWS"]
    group = "household_no" if "household_no" in {f.name for f in spec.fields} else "source_row"
    with stage("store"):
        for rows in result.iter_clean(batch_size=5000, order_by=(group, "source_row")):
            for row in rows:
                if row["source_row"] in skip_rows:
                    continue
                # Cut chunks only between households, so a household is always applied whole.
                if len(chunk) >= limit and row[group] != current_household:
                    flush()
                chunk.append(row)
                current_household = row[group]
        flush()
    with stage("report"):
        _finish(batch, kind, result, totals, extra)


def _run_feed(
    batch, result, total: int, totals: ApplyResult, actor, allowed, progress: Progress | None, interrupted=()
) -> None:
    """A department feed: events stored set-based and linked by ID number, then the rows without a usable ID
    linked by name, birth date, sex and village: this batch's, and those an interrupted run of the same file
    stored but never got to link."""

    def after_chunk(done: int, _rows: int) -> None:
        failpoints.hit("import_after_chunk")
        if progress:
            progress(done, total, "写入数据库")

    with stage("store"):
        stored = feed_events_store(
            result,
            batch=batch,
            allowed=allowed,
            chunk_rows=settings.GUARDLINE["FEED_CHUNK_ROWS"],
            after_chunk=after_chunk,
        )
        totals.created, totals.unchanged = stored.created, stored.unchanged
        batch_counts_refresh([batch.pk])
        batch.refresh_from_db(fields=["linked", "unlinked", "review"])
    if batch.unlinked or interrupted:
        with stage("link_probabilistic"):
            feed_events_link_probabilistic(
                batch=batch, also_batches=interrupted, actor=actor, progress=progress
            )
        batch.refresh_from_db(fields=["linked", "unlinked", "review"])


def _finish(batch, kind, result, totals, extra) -> None:
    """The row-level report, the batch's counts and status."""
    result.add_issues([i.__dict__ for i in totals.issues + extra])
    report = Path(tempfile.mkstemp(prefix=f"guardline-report-{batch.pk}-", suffix=".xlsx")[1])
    write_error_report(result, report)
    error_rows = result.con.execute(
        f"SELECT count(DISTINCT source_row) FILTER (WHERE severity='error'), count(*) FILTER (WHERE severity='warning')"
        f" FROM {result.errors}"
    ).fetchone() or (0, 0)
    batch.rows_read = result.rows_read
    batch.rows_rejected = error_rows[0]
    batch.warnings = error_rows[1]
    batch.rows_accepted = result.rows_read - batch.rows_rejected
    batch.created, batch.updated, batch.unchanged = totals.created, totals.updated, totals.unchanged
    batch.errors_sample = [
        dict(zip(("source_row", "column", "value", "code", "message", "severity"), r, strict=True))
        for r in result.con.execute(
            f'SELECT source_row, "column", value, code, message, severity FROM {result.errors} '
            f"ORDER BY severity, source_row LIMIT {SAMPLE_ERRORS}"
        ).fetchall()
    ]
    with open(report, "rb") as fh:
        batch.error_report.save(f"batch-{batch.pk}-errors.xlsx", File(fh), save=False)
    report.unlink(missing_ok=True)
    batch.status = ImportBatch.Status.DONE
    batch.finished_at = timezone.now()
    batch.message = (
        f"读取 {batch.rows_read} 行，接受 {batch.rows_accepted} 行，拒绝 {batch.rows_rejected} 行；"
        f"新增 {totals.created}，更新 {totals.updated}，未变 {totals.unchanged}"
        + (f"，停用成员 {totals.deactivated}" if totals.deactivated else "")
        + (
            f"；关联 {batch.linked}，待人工核对 {batch.review}，未关联 {batch.unlinked}"
            if kind in FEED_KEYS
            else ""
        )
    )
    batch.save()
