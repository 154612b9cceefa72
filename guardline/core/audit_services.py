"""Audit logs kept and handed over: the export of personal-data accesses and change-log entries (who, whose, when,
why or what, the request), and the pruning of entries past the retention period into a verified archive.

- `audit_log_export` writes one chronological table (csv or xlsx) of both logs, region-scoped through
  `core.selectors`. ID numbers and phones in the change log's before/after (and any that were typed into a purpose
  or reason) are masked as on every list; the export itself is recorded as a personal-data access (channel
  `audit_export`).
- `audit_log_prune` moves entries older than `GUARDLINE_AUDIT_RETENTION_DAYS` (never below 180 days: MLPS level 3,
  GB/T 22239-2019 8.1.4.3; the Cybersecurity Law, art. 21) to a gzip'd JSON-lines archive in
  `GUARDLINE_AUDIT_ARCHIVE_DIR` with a SHA-256 sidecar. The archive is written to `.part`, fsynced, read back and
  checked, renamed, and only then are exactly the archived rows deleted, in one transaction that also appends the
  archive's name, counts and hash to the tamper-evident ledger. A crash before the delete leaves every row in place;
  the next run archives them again into a new file. The ledger itself is never pruned.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import heapq
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engine.ids import check_char, mask_id_number, mask_phone

from . import crypto, failpoints, selectors
from .changelog import PERSONAL_KEYS, reveal
from .locks import write_lock
from .models import ChangeLog, PersonalDataAccess
from .services import personal_data_access_log
from .spreadsheets import csv_text, xlsx_options

MIN_RETENTION_DAYS = 180  # MLPS level 3 / Cybersecurity Law art. 21: network logs kept at least six months
REGION_LEVEL_LENGTHS = (12, 9, 6, 4, 2)  # GB/T 2260 + township and village codes
FORMATS = ("csv", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # one sheet holds 1,048,576 rows, the first is the header
ARCHIVE_FORMAT = "guardline-audit-archive/1"
DELETE_CHUNK = 500
AUDIT_EXPORT_CHANNEL = "audit_export"  # PersonalDataAccess.Channel.AUDIT_EXPORT


class AuditExportError(ValueError):
    """The export cannot be made as asked (unknown format, too many entries for a page download)."""


class AuditRetentionError(ValueError):
    """The configured retention is shorter than the law allows."""


# ------------------------------------------------------------------------------------------------------- masking

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
# Keys of before/after whose values are codes and numbers of the platform's own records, never a person's.
_CODE_KEYS = re.compile(r"(_no|_code|_codes|_seq|_id|^id|^seq|^regions)$")


def _looks_like_id(number: str) -> bool:
    if len(number) == 15:
        return True
    return check_char(number[:17]) == number[17].upper()


def mask_text(text: str) -> str:
    """Free text (a purpose, a reason, a note) with the ID numbers and mobile numbers in it masked."""
    if not text:
        return text
    text = _ID_RE.sub(
        lambda m: mask_id_number(m.group(1)) if _looks_like_id(m.group(1)) else m.group(1), text
    )
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(1)), text)


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(key, v) for v in value]
    if not isinstance(value, str) or not value:
        return value
    if crypto.is_encrypted(value):
        value = crypto.decrypt(value)
    if key.endswith("phone"):
        return mask_phone(value)
    if key in PERSONAL_KEYS or key.endswith("id_number"):
        return mask_id_number(value)
    if _CODE_KEYS.search(key):
        return value
    return mask_text(value)


def mask_personal(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A change-log before/after as it may leave the platform: personal values decrypted (`changelog.reveal`) and
    masked with the list masks (`engine.ids.mask_id_number` / `mask_phone`), nested values too."""
    values = reveal(values)
    if values is None:
        return None
    return {k: _mask_value(k, v) for k, v in values.items()}


# -------------------------------------------------------------------------------------------------------- export


def audit_columns() -> list[str]:
    return [
        _("记录类型"),
        _("时间"),
        _("操作人"),
        _("户编号"),
        _("对象"),
        _("地区代码"),
        _("渠道或操作"),
        _("事由"),
        _("变更前"),
        _("变更后"),
        _("请求编号"),
        _("任务编号"),
    ]


def _who(user) -> str:
    if user is None:
        return "—"
    return f"{user.username}（{user.full_name}）" if user.full_name else user.username


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def _json(values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    return json.dumps(mask_personal(values), ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)


def _access_rows(qs: Iterable[PersonalDataAccess]) -> Iterator[tuple[dt.datetime, int, list[Any]]]:
    label = _("个人信息访问")
    for a in qs:
        whose = (
            mask_text(a.subject) if a.subject else (f"household#{a.household_id}" if a.household_id else "")
        )
        yield (
            a.at,
            0,
            [
                label,
                _when(a.at),
                _who(a.user),
                getattr(a, "household_no", None) or "",
                whose,
                a.region_code,
                str(a.get_channel_display()),
                mask_text(a.purpose),
                "",
                "",
                a.request_id,
                a.job_id or "",
            ],
        )


def _change_rows(qs: Iterable[ChangeLog]) -> Iterator[tuple[dt.datetime, int, list[Any]]]:
    label = _("数据变更")
    for c in qs:
        yield (
            c.at,
            1,
            [
                label,
                _when(c.at),
                _who(c.actor),
                getattr(c, "household_no", None) or "",
                f"{c.entity}#{c.entity_id}",
                getattr(c, "place", None) or "",
                str(c.get_action_display()),
                mask_text(c.reason),
                _json(c.before),
                _json(c.after),
                c.request_id,
                c.job_id or "",
            ],
        )


def audit_rows(
    user, *, since: dt.datetime | None = None, until: dt.datetime | None = None, region: str = ""
) -> Iterator[list[Any]]:
    """Both logs as export rows, oldest first (accesses before changes of the same instant)."""
    accesses = selectors.audit_accesses(user, since=since, until=until, region=region).iterator(
        chunk_size=2000
    )
    changes = selectors.audit_changes(user, since=since, until=until, region=region).iterator(chunk_size=2000)
    for _at, _kind, row in heapq.merge(
        _access_rows(accesses), _change_rows(changes), key=lambda r: (r[0], r[1])
    ):
        yield row


def _write_csv(out: IO[bytes], columns: list[str], rows: Iterable[list[Any]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
        n += 1
    text.flush()
    text.detach()  # leave `out` open for the caller
    return n


def _write_xlsx(out: IO[bytes], columns: list[str], rows: Iterable[list[Any]]) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(out, xlsx_options(constant_memory=True, in_memory=False))
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(f"{_('审计日志')}1")
    sheet.write_row(0, 0, columns, bold)
    line = n = 0
    for row in rows:
        if line >= XLSX_MAX_ROWS:  # the sheet is full: go on in the next one
            sheet = book.add_worksheet(f"{_('审计日志')}{n // XLSX_MAX_ROWS + 1}")
            sheet.write_row(0, 0, columns, bold)
            line = 0
        line += 1
        sheet.write_row(line, 0, row)
        n += 1
    book.close()
    return n


def _common_region(codes: list[str]) -> str:
    """The smallest region holding all these region codes ("" if none does)."""
    prefix = codes[0] if codes else ""
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    for length in REGION_LEVEL_LENGTHS:
        if len(prefix) >= length:
            return prefix[:length]
    return ""


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class AuditExport:
    rows: int
    path: Path | None
    access: PersonalDataAccess


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def audit_log_export(
    *,
    actor,
    target: Path | IO[bytes],
    fmt: str,
    purpose: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    region: str = "",
    max_rows: int | None = None,
) -> AuditExport:
    """Write the audit logs of [since, until] (whole days, local time) to `target` — a path (written to `.part`
    and renamed when complete) or an open binary file — and record the export as a personal-data access.

    `actor` is the user exporting (the entries are limited to their regions) or None for an operator's command
    (every entry). `region` narrows to one region inside the actor's. With `max_rows`, an export that would hold
    more entries is refused before anything is written."""
    if fmt not in FORMATS:
        raise AuditExportError(_("导出格式只能是 csv 或 xlsx"))
    purpose = purpose.strip()
    if len(purpose) < 2:
        raise AuditExportError(_("请填写导出事由"))
    if actor is not None and not _may_audit(actor):
        raise PermissionDenied(_("您的角色无此权限"))
    region = region.strip()
    if actor is not None and region and not any(region.startswith(code) for code in _scope(actor)):
        raise PermissionDenied(_("该地区不在您的管辖范围内"))
    start = _day_start(since) if since else None
    end = _day_start(until + dt.timedelta(days=1)) if until else None
    if max_rows is not None:
        total = (
            selectors.audit_accesses(actor, since=start, until=end, region=region).count()
            + selectors.audit_changes(actor, since=start, until=end, region=region).count()
        )
        if total > max_rows:
            raise AuditExportError(
                _("共 %(total)s 条，超过页面导出上限 %(limit)s 条。") % {"total": total, "limit": max_rows}
                + _("请缩小日期范围或地区，或由运维人员用命令 export_audit_logs 导出。")
            )
    rows = audit_rows(actor, since=start, until=end, region=region)
    write = _write_csv if fmt == "csv" else _write_xlsx
    path = Path(target) if isinstance(target, str | os.PathLike) else None
    if path is not None:
        part = path.with_name(path.name + ".part")
        with open(part, "wb") as fh:
            n = write(fh, audit_columns(), rows)
            fh.flush()
            os.fsync(fh.fileno())
    else:
        n = write(target, audit_columns(), rows)  # type: ignore[arg-type]
    span = f"{since or '…'}—{until or '…'}"
    where = region or (_common_region(_scope(actor)) if actor is not None else "")
    with transaction.atomic():
        access = personal_data_access_log(
            user=actor,
            purpose=purpose,
            channel=AUDIT_EXPORT_CHANNEL,
            subject=f"审计日志 {span} {region or '全部地区'}，{n} 条",  # stored data: not translated
            region_code=where,
        )
    if path is not None:
        os.replace(part, path)
        _fsync_dir(path.parent)
    return AuditExport(rows=n, path=path, access=access)


def _may_audit(user) -> bool:
    from guardline.accounts.roles import Perm, has_perm

    return has_perm(user, Perm.VIEW_AUDIT)


def _scope(user) -> list[str]:
    from guardline.accounts.scope import scope_codes

    return scope_codes(user)


# --------------------------------------------------------------------------------------------------------- prune


def retention_days() -> int:
    days = int(getattr(settings, "GUARDLINE_AUDIT_RETENTION_DAYS", 365))
    if days < MIN_RETENTION_DAYS:
        raise AuditRetentionError(
            f"GUARDLINE_AUDIT_RETENTION_DAYS={days}: audit logs must be kept at least {MIN_RETENTION_DAYS} days "
            "(MLPS level 3, GB/T 22239-2019 8.1.4.3; Cybersecurity Law art. 21: six months); nothing was pruned"
        )
    return days


def archive_dir() -> Path:
    return Path(getattr(settings, "GUARDLINE_AUDIT_ARCHIVE_DIR", Path(settings.VAR_DIR) / "audit-archive"))


ACCESS_FIELDS = ("id", "at", "user_id", "household_id", "purpose", "request_id", "channel", "subject",
                 "region_code", "job_id")  # fmt: skip
CHANGE_FIELDS = ("id", "at", "actor_id", "request_id", "job_id", "entity", "entity_id", "household_id", "action",
                 "before", "after", "reason")  # fmt: skip


@dataclass
class AuditPrune:
    cutoff: dt.datetime
    accesses: int
    changes: int
    archive: Path | None = None
    sha256: str = ""
    dry_run: bool = False


class _HashingWriter(io.RawIOBase):
    """Passes bytes to a file and hashes them on the way: the sidecar's digest is that of the bytes written."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.digest.update(data)
        return self.fh.write(data)


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder) + "\n").encode()


def _write_archive(part: Path, cutoff: dt.datetime, now: dt.datetime) -> tuple[str, list[int], list[int]]:
    """Every entry older than the cutoff into a gzip'd JSON-lines file (a header line, one line per entry, an end
    line with the counts), fsynced. Values are copied as stored: personal values in before/after stay encrypted
    (readable with the platform's keys, old ones included)."""
    access_ids: list[int] = []
    change_ids: list[int] = []
    with open(part, "wb") as fh:
        hashing = _HashingWriter(fh)
        with gzip.GzipFile(filename="", mode="wb", fileobj=hashing, mtime=0) as gz:  # type: ignore[arg-type]
            gz.write(_line({"kind": "header", "format": ARCHIVE_FORMAT, "cutoff": cutoff, "created_at": now,
                            "retention_days": retention_days()}))  # fmt: skip
            old = PersonalDataAccess.objects.filter(at__lt=cutoff).order_by("id").values(*ACCESS_FIELDS)
            for row in old.iterator(chunk_size=2000):
                gz.write(_line({"table": "core.personaldataaccess", **row}))
                access_ids.append(row["id"])
            changes = ChangeLog.objects.filter(at__lt=cutoff).order_by("id").values(*CHANGE_FIELDS)
            for row in changes.iterator(chunk_size=2000):
                gz.write(_line({"table": "core.changelog", **row}))
                change_ids.append(row["id"])
            gz.write(_line({"kind": "end", "core.personaldataaccess": len(access_ids),
                            "core.changelog": len(change_ids)}))  # fmt: skip
        fh.flush()
        os.fsync(fh.fileno())
    return hashing.digest.hexdigest(), access_ids, change_ids


def archive_verify(path: Path, digest: str | None = None) -> dict[str, int]:
    """Read an archive back: its SHA-256 (against `digest` or the sidecar), every line, and the end line's
    counts. Returns the counts; raises ValueError if anything does not hold."""
    if digest is None:
        digest = Path(str(path) + ".sha256").read_text(encoding="ascii").split()[0]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != digest:
        raise ValueError(f"{path.name}: SHA-256 {h.hexdigest()} does not match {digest}")
    counts = {"core.personaldataaccess": 0, "core.changelog": 0}
    end = None
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for text in lines:
            record = json.loads(text)
            if "table" in record:
                counts[record["table"]] += 1
            elif record.get("kind") == "end":
                end = record
    if end is None or any(end.get(k) != v for k, v in counts.items()):
        raise ValueError(f"{path.name}: incomplete archive (end line {end}, entries {counts})")
    return counts


def _write_durably(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    _fsync_dir(path.parent)


def _delete(model, ids: list[int]) -> int:
    deleted = 0
    for start in range(0, len(ids), DELETE_CHUNK):
        n, _by_model = model.objects.filter(pk__in=ids[start : start + DELETE_CHUNK]).delete()
        deleted += n
    return deleted


def audit_log_prune(*, now: dt.datetime | None = None, dry_run: bool = False) -> AuditPrune:
    """Archive the audit-log entries older than the retention period, then delete exactly those (see the module
    docstring). Dry run: only count them."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    result = AuditPrune(
        cutoff=cutoff,
        accesses=PersonalDataAccess.objects.filter(at__lt=cutoff).count(),
        changes=ChangeLog.objects.filter(at__lt=cutoff).count(),
        dry_run=dry_run,
    )
    if dry_run or not (result.accesses or result.changes):
        return result
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = (
        folder
        / f"audit-before-{timezone.localtime(cutoff):%Y%m%d}-{timezone.localtime(now):%Y%m%dT%H%M%S%f}.jsonl.gz"
    )
    part = final.with_name(final.name + ".part")
    digest, access_ids, change_ids = _write_archive(part, cutoff, now)
    archive_verify(part, digest)  # the bytes on disk are the ones hashed, and hold every entry
    os.replace(part, final)
    _fsync_dir(folder)
    _write_durably(final.with_name(final.name + ".sha256"), f"{digest}  {final.name}\n".encode("ascii"))
    failpoints.hit("audit_prune_before_delete")
    from guardline.ledger.services import ledger_append

    with write_lock(), transaction.atomic():
        accesses = _delete(PersonalDataAccess, access_ids)
        changes = _delete(ChangeLog, change_ids)
        ledger_append(kind="admin", entity="audit_archive", entity_id=final.name, payload={
            "archive": final.name, "sha256": digest, "cutoff": cutoff.isoformat(),
            "personal_data_access": accesses, "change_log": changes,
        })  # fmt: skip
    result.accesses, result.changes, result.archive, result.sha256 = accesses, changes, final, digest
    return result
