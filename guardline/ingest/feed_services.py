"""Storing department feed rows as events and attaching them to people and households.

This stage links on the normalised ID number (exact) and records village-level rows against their village. Rows
without a usable ID stay unlinked with the reason; the probabilistic stage (name, birth date, sex, village) works on
those."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from engine.ingest import TableSpec
from guardline.core.bulk import insert_rows
from guardline.registry.models import Member

from .models import FeedEvent, ImportBatch

PERSON_FIELDS = ("id_number", "name", "birth_date", "village_code", "sex_text")
EVENT_INSERT = (
    "feed",
    "key_hash",
    "batch",
    "source_row",
    "event_date",
    "id_number",
    "id_status",
    "id_prefix15",
    "name",
    "birth_date",
    "sex",
    "village_code",
    "payload",
    "amount",
    "kind",
    "household",
    "member",
    "link_status",
    "link_method",
    "link_note",
    "created_at",
)


@dataclass
class FeedApplyResult:
    created: int = 0
    unchanged: int = 0
    linked: int = 0
    unlinked: int = 0
    out_of_scope: int = 0
    outcomes: dict[int, dict[str, Any]] = field(
        default_factory=dict
    )  # source_row -> what happened to the row


SEX_WORDS = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female"}


def _sex(text: str | None) -> str:
    """The registry's sex code for a department's free-text column (男/女/M/F/1/2 per GB/T 2261.1), else ""."""
    word = (text or "").strip().lower()
    return SEX_WORDS.get(word) or {"1": "male", "2": "female"}.get(word, "")


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _amount(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def natural_key_hash(spec: TableSpec, row: dict) -> str:
    """The record's identity across re-sends: its natural-key fields, normalised."""
    key = [_json(row.get(name)) for name in spec.natural_key]
    return hashlib.sha256(json.dumps([spec.key, *key], ensure_ascii=False).encode()).hexdigest()


# The two reads of every chunk (and of every single-event API push) in plain SQL: for a push of one event the ORM's
# query building cost more than the queries themselves.
_IN_CHUNK = 900  # below SQLite's oldest limit of 999 parameters


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _existing_keys(feed: str, key_hashes: list[str]) -> set[str]:
    """The natural-key hashes among `key_hashes` already stored for `feed`."""
    quote = connection.ops.quote_name
    table = quote(FeedEvent._meta.db_table)
    found: set[str] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks(key_hashes):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {quote('key_hash')} FROM {table} WHERE {quote('feed')} = %s "
                f"AND {quote('key_hash')} IN ({marks})",
                [feed, *chunk],
            )
            found.update(key for (key,) in cursor.fetchall())
    return found


def _members_by_id(id_numbers: set[str]) -> dict[str, tuple[int, int, str]]:
    """ID number → (member id, household id, the household's village code), for the members holding them."""
    quote = connection.ops.quote_name
    member, household = Member._meta, Member._meta.get_field("household").related_model._meta
    sql = (
        f"SELECT m.{quote('id_number')}, m.{quote('id')}, m.{quote('household_id')}, h.{quote('village_code')} "
        f"FROM {quote(member.db_table)} m JOIN {quote(household.db_table)} h ON h.{quote('id')} = m.{quote('household_id')} "
        f"WHERE m.{quote('id_number')} IN "
    )
    found: dict[str, tuple[int, int, str]] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(id_numbers)):
            cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
            found.update(
                (number, (pk, household_id, village))
                for number, pk, household_id, village in cursor.fetchall()
            )
    return found


def feed_events_apply_rows(
    spec: TableSpec, rows: list[dict], *, batch: ImportBatch, allowed: Callable[[str], bool] | None = None
) -> FeedApplyResult:
    """Insert new events for a chunk of normalised feed rows (one transaction) and link them by ID number."""
    result = FeedApplyResult()
    own = [f.name for f in spec.fields if f.name not in PERSON_FIELDS]
    hashes = {natural_key_hash(spec, r): r for r in rows}
    with transaction.atomic():
        existing = _existing_keys(spec.key, list(hashes))
        result.unchanged = len(existing)
        for key_hash in existing:
            result.outcomes[hashes[key_hash]["source_row"]] = {"status": "duplicate", "event_key": key_hash}
        fresh = {h: r for h, r in hashes.items() if h not in existing}
        members = _members_by_id({r["id_number"] for r in fresh.values() if r.get("id_number")})
        now = timezone.now()
        events = []
        for key_hash, row in fresh.items():
            event = FeedEvent(
                feed=spec.key,
                key_hash=key_hash,
                batch=batch,
                source_row=row["source_row"],
                event_date=row[spec.event_date],
                id_number=row.get("id_number") or "",
                id_status=row.get("id_number_status") or "",
                id_prefix15=row.get("id_number_prefix15") or "",
                name=row.get("name") or "",
                birth_date=row.get("birth_date"),
                sex=_sex(row.get("sex_text")),
                village_code=row.get("village_code") or "",
                payload={name: _json(row.get(name)) for name in own},
                amount=_amount(row.get(spec.screen_amount)) if spec.screen_amount else None,
                kind=str(row.get(spec.screen_kind) or "")[:30] if spec.screen_kind else "",
                created_at=now,
            )
            member = members.get(event.id_number) if event.id_number else None
            if member is not None:
                member_id, household_id, village_code = member
                if allowed is not None and not allowed(village_code):
                    result.out_of_scope += 1
                    event.link_note = "该人员所在户不在上传者管辖范围内，未关联"
                else:
                    event.member_id, event.household_id = member_id, household_id
                    event.link_status, event.link_method = FeedEvent.LinkStatus.LINKED, "id_exact"
            elif spec.require_one_of == ("village_code",):
                event.link_status, event.link_method = FeedEvent.LinkStatus.VILLAGE, "village"
            elif event.id_number:
                event.link_note = "身份证号在台账中不存在"
            elif event.id_status == "excel_damaged":
                event.link_note = "身份证号被Excel损坏，待按姓名、出生日期、村匹配"
            else:
                event.link_note = "无有效身份证号，待按姓名、出生日期、村匹配"
            if event.link_status == FeedEvent.LinkStatus.LINKED:
                result.linked += 1
            elif event.link_status == FeedEvent.LinkStatus.UNLINKED:
                result.unlinked += 1
            events.append(event)
            result.outcomes[row["source_row"]] = {
                "status": "created",
                "event_key": key_hash,
                "link_status": event.link_status,
                "household_id": event.household_id,
                "note": event.link_note,
            }
        insert_rows(FeedEvent, events, EVENT_INSERT)
        result.created = len(events)
    return result


def feed_feedback_xlsx(batch: ImportBatch) -> bytes:
    """An xlsx the department can act on: rows rejected (and why) and rows not linked to anyone (and why)."""
    import io

    import xlsxwriter
    from openpyxl import load_workbook

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#FCE4D6"})
    sheet = book.add_worksheet("未能关联")
    for j, title in enumerate(("行号", "证件号码", "姓名", "出生日期", "行政区划代码", "日期", "原因")):
        sheet.write_string(0, j, title, bold)
    unlinked = batch.events.filter(link_status=FeedEvent.LinkStatus.UNLINKED).order_by("source_row")
    for i, e in enumerate(unlinked.iterator(), start=1):
        values = [
            e.source_row or "",
            e.id_number or (e.id_prefix15 and e.id_prefix15 + "…") or "",
            e.name,
            e.birth_date.isoformat() if e.birth_date else "",
            e.village_code,
            e.event_date.isoformat(),
            e.link_note,
        ]
        for j, value in enumerate(values):
            sheet.write(i, j, value)
    rejected = book.add_worksheet("被拒绝")
    for j, title in enumerate(("行号", "列", "原值", "问题")):
        rejected.write_string(0, j, title, bold)
    if batch.error_report:
        with batch.error_report.open("rb") as fh:
            rows = load_workbook(fh, read_only=True).active.iter_rows(min_row=2, values_only=True)
            i = 0
            for _file, row, column, value, problem, level in rows:
                if level == "拒绝":
                    i += 1
                    for j, v in enumerate((row, column, value, problem)):
                        rejected.write(i, j, "" if v is None else v)
    book.close()
    return out.getvalue()
