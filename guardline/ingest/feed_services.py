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
from guardline.core.crypto import blind_index, blind_index_many, encrypt, keyring
from guardline.core.spreadsheets import xlsx_options
from guardline.registry.models import Member

from .models import FeedEvent, ImportBatch
from .stages import stage as _stage

PERSON_FIELDS = ("id_number", "name", "birth_date", "village_code", "sex_text")
EVENT_INSERT = (
    "feed",
    "key_hash",
    "batch",
    "source_row",
    "event_date",
    "id_number",
    "id_number_hash",
    "id_status",
    "id_prefix15",
    "id_prefix15_hash",
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
    """ID number → (member id, household id, the household's village code), for the members holding them (found
    by the blind index: the ID numbers themselves are encrypted)."""
    quote = connection.ops.quote_name
    member, household = Member._meta, Member._meta.get_field("household").related_model._meta
    sql = (
        f"SELECT m.{quote('id_number_hash')}, m.{quote('id')}, m.{quote('household_id')}, h.{quote('village_code')} "
        f"FROM {quote(member.db_table)} m JOIN {quote(household.db_table)} h ON h.{quote('id')} = m.{quote('household_id')} "
        f"WHERE m.{quote('id_number_hash')} IN "
    )
    number_of = {digest: number for number, digest in blind_index_many(id_numbers).items()}
    found: dict[str, tuple[int, int, str]] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(number_of)):
            cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
            found.update(
                (number_of[digest], (pk, household_id, village))
                for digest, pk, household_id, village in cursor.fetchall()
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
    book = xlsxwriter.Workbook(out, xlsx_options(in_memory=True))
    bold = book.add_format({"bold": True, "bg_color": "#FCE4D6"})
    sheet = book.add_worksheet("未能关联")
    for j, title in enumerate(("行号", "证件号码", "姓名", "出生日期", "行政区划代码", "日期", "原因")):
        sheet.write_string(0, j, title, bold)
    unlinked = batch.events.filter(link_status=FeedEvent.LinkStatus.UNLINKED).order_by("source_row")
    for i, e in enumerate(unlinked.iterator(), start=1):
        values = [
            e.source_row or "",
            e.id_number or (e.id_prefix15 and e.id_prefix15 + "…") or "",  # the department's own data back
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


# --- Files: the same rules set-based -----------------------------------------------------------------------------
#
# A file of a million rows is stored without a Python object per row: DuckDB computes every column of the event
# (natural-key hash, payload, link by ID number) from the normalised table, and the rows go to the database in a
# few large INSERT … ON CONFLICT DO NOTHING statements, each chunk in its own transaction. The unique natural key
# makes a re-sent record (or a chunk written before a crash) a no-op, so a killed import re-run loses and duplicates
# nothing. The results equal feed_events_apply_rows' row by row (guardline/ingest/tests/test_feed_bulk.py).

STORE_CHUNK_ROWS = 50_000
_HASH_TYPES = ("VARCHAR", "DATE", "INTEGER", "BIGINT", "SMALLINT", "BOOLEAN")
_NEEDS_ESCAPE = '[[:cntrl:]"\\\\]'  # what json.dumps would escape: such rows are hashed in Python


@dataclass
class FeedStoreResult:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    out_of_scope: int = 0


def _sql_lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _key_json_sql(spec: TableSpec, types: dict[str, str]) -> str | None:
    """DuckDB SQL of json.dumps([spec.key, *natural key], ensure_ascii=False) for rows whose text needs no escape
    (natural_key_hash's input, byte for byte), or None when a key column has a type this does not cover."""
    parts = [_sql_lit(json.dumps(spec.key, ensure_ascii=False))]
    for name in spec.natural_key:
        col, kind = f'"{name}"', types[name]
        if kind == "VARCHAR" or kind == "DATE":
            text = f"'\"' || CAST({col} AS VARCHAR) || '\"'"
        elif kind.startswith("DECIMAL"):
            text = f"'\"' || CAST({col} AS VARCHAR) || '\"'"  # _json: str(Decimal)
        elif kind in _HASH_TYPES:
            text = (
                f"CASE WHEN {col} THEN 'true' ELSE 'false' END"
                if kind == "BOOLEAN"
                else f"CAST({col} AS VARCHAR)"
            )
        else:
            return None
        parts.append(f"COALESCE({text}, 'null')")
    return "'[' || " + " || ', ' || ".join(parts) + " || ']'"


def _escape_check_sql(spec: TableSpec, types: dict[str, str]) -> str:
    texts = [f'"{n}"' for n in spec.natural_key if types[n] == "VARCHAR"]
    if not texts:
        return "false"
    return " OR ".join(f"COALESCE(regexp_matches({c}, '{_NEEDS_ESCAPE}'), false)" for c in texts)


def _key_hashes(con, spec: TableSpec, clean: str, table: str) -> None:
    """`table` (source_row, key_hash) for every row of `clean`: in SQL where the JSON needs no escapes, else with
    natural_key_hash itself."""
    types = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {clean}").fetchall()}
    key_json = _key_json_sql(spec, types)
    if key_json is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} (source_row INTEGER, key_hash VARCHAR)")
        python_rows = f"SELECT * FROM {clean}"
    else:
        check = _escape_check_sql(spec, types)
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT source_row, sha256({key_json}) AS key_hash "
            f"FROM {clean} WHERE NOT ({check})"
        )
        python_rows = f"SELECT * FROM {clean} WHERE {check}"
    cursor = con.cursor()
    cursor.execute(python_rows)
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(10000):
        hashed = []
        for values in batch:
            row = dict(zip(names, values, strict=True))
            hashed.append((row["source_row"], natural_key_hash(spec, row)))
        con.executemany(f"INSERT INTO {table} VALUES (?, ?)", hashed)


def _id_links(con, clean: str, table: str, allowed: Callable[[str], bool] | None) -> None:
    """`table` (id_number, member_id, household_id, in_scope) for the file's ID numbers held by a member."""
    import pyarrow as pa

    numbers = {
        n for (n,) in con.execute(f"SELECT DISTINCT id_number FROM {clean} WHERE id_number <> ''").fetchall()
    }
    members = _members_by_id(numbers) if numbers else {}
    scope = {v: (allowed is None or allowed(v)) for v in {v for _, _, v in members.values()}}
    links = pa.table(
        {
            "id_number": pa.array(list(members), pa.string()),
            "member_id": pa.array([m[0] for m in members.values()], pa.int64()),
            "household_id": pa.array([m[1] for m in members.values()], pa.int64()),
            "in_scope": pa.array([scope[m[2]] for m in members.values()], pa.bool_()),
        }
    )
    con.register(f"{table}_arrow", links)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")


def _value_map(con, clean: str, column: str, table: str, convert: Callable[[Any], Any], kind: str) -> None:
    """`table` (value, mapped) over the distinct values of `column`, mapped by the Python function the row path
    uses, so both paths agree exactly (the distinct values are few: sexes, categories)."""
    import pyarrow as pa

    values = [v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM {clean}').fetchall()]
    mapped = pa.table({"value": pa.array(values), "mapped": pa.array([convert(v) for v in values], kind)})
    con.register(f"{table}_arrow", mapped)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")


def _secret_map(con, clean: str, column: str, table: str) -> None:
    """`table` (value, stored, digest) over the distinct non-empty values of `column`: the encrypted form and the
    blind index the row path's fields compute (one encryption per distinct value: equal values share a ciphertext,
    which tells no more than their equal blind indexes)."""
    import pyarrow as pa

    ring = keyring()
    values = [
        v
        for (v,) in con.execute(
            f'SELECT DISTINCT "{column}" FROM {clean} WHERE "{column}" <> \'\''
        ).fetchall()
    ]
    mapped = pa.table(
        {
            "value": pa.array(values, pa.string()),
            "stored": pa.array([encrypt(v, ring) for v in values], pa.string()),
            "digest": pa.array([blind_index(v, ring) for v in values], pa.string()),
        }
    )
    con.register(f"{table}_arrow", mapped)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")


def feed_events_store(
    result,
    *,
    batch: ImportBatch,
    allowed: Callable[[str], bool] | None = None,
    chunk_rows: int = STORE_CHUNK_ROWS,
    after_chunk: Callable[[int, int], None] | None = None,
) -> FeedStoreResult:
    """Store the accepted rows of a loaded feed file (engine.ingest.LoadResult) as events of `batch`, linked by ID
    number; rows whose natural key is already stored are left alone (counted as unchanged). Chunks of `chunk_rows`
    are committed one by one; `after_chunk(done, total)` runs after each commit."""
    spec: TableSpec = result.spec
    con, clean = result.con, result.clean
    prefix = f"{clean}_store"
    hashes, links, sexes, kinds, ids, prefixes = (
        f"{prefix}_{n}" for n in ("hash", "links", "sex", "kind", "ids", "prefixes")
    )
    with _stage("store_prepare"):
        _key_hashes(con, spec, clean, hashes)
        _id_links(con, clean, links, allowed)
        _value_map(con, clean, "sex_text", sexes, _sex, "string")
        _secret_map(con, clean, "id_number", ids)
        _secret_map(con, clean, "id_number_prefix15", prefixes)
        kind_sql, kind_join = "''", ""
        if spec.screen_kind:
            _value_map(con, clean, spec.screen_kind, kinds, lambda v: str(v or "")[:30], "string")
            kind_sql = "COALESCE(k.mapped, '')"  # NULL → "" as str(None or "")
            kind_join = f'LEFT JOIN {kinds} k ON k.value = c."{spec.screen_kind}"'
        amount_sql = f'CAST(c."{spec.screen_amount}" AS DOUBLE)' if spec.screen_amount else "NULL"
        own = [f for f in spec.fields if f.name not in PERSON_FIELDS]
        payload = ", ".join(
            f"{_sql_lit(f.name)}, "
            # _json: dates and decimals as text, numbers and booleans as themselves
            + (f'c."{f.name}"' if f.kind in ("int", "bool") else f'CAST(c."{f.name}" AS VARCHAR)')
            for f in own
        )
        S = FeedEvent.LinkStatus
        village_level = spec.require_one_of == ("village_code",)
        status = (
            f"CASE WHEN l.member_id IS NOT NULL AND l.in_scope THEN '{S.LINKED}' "
            + (f"WHEN l.member_id IS NULL THEN '{S.VILLAGE}' " if village_level else "")
            + f"ELSE '{S.UNLINKED}' END"
        )
        notes = (
            "CASE WHEN l.member_id IS NOT NULL AND l.in_scope THEN '' "
            "WHEN l.member_id IS NOT NULL THEN '该人员所在户不在上传者管辖范围内，未关联' "
            + ("WHEN TRUE THEN '' " if village_level else "")
            + "WHEN COALESCE(c.id_number, '') <> '' THEN '身份证号在台账中不存在' "
            "WHEN c.id_number_status = 'excel_damaged' THEN '身份证号被Excel损坏，待按姓名、出生日期、村匹配' "
            "ELSE '无有效身份证号，待按姓名、出生日期、村匹配' END"
        )
        method = (
            "CASE WHEN l.member_id IS NOT NULL AND l.in_scope THEN 'id_exact' "
            + ("WHEN l.member_id IS NULL THEN 'village' " if village_level else "")
            + "ELSE '' END"
        )
        linked = "l.member_id IS NOT NULL AND l.in_scope"
        select = f"""
            SELECT h.key_hash, c.source_row, CAST(c."{spec.event_date}" AS VARCHAR),
                   COALESCE(i.stored, ''), COALESCE(i.digest, ''), COALESCE(c.id_number_status, ''),
                   COALESCE(p.stored, ''), COALESCE(p.digest, ''),
                   COALESCE(c.name, ''), CAST(c.birth_date AS VARCHAR), COALESCE(s.mapped, ''),
                   COALESCE(c.village_code, ''),
                   CAST(json_object({payload}) AS VARCHAR), {amount_sql}, {kind_sql},
                   CASE WHEN {linked} THEN l.household_id END, CASE WHEN {linked} THEN l.member_id END,
                   {status}, {method}, {notes}
            FROM {clean} c
            JOIN {hashes} h ON h.source_row = c.source_row
            LEFT JOIN {links} l ON l.id_number = c.id_number
            LEFT JOIN {sexes} s ON s.value = c.sex_text
            LEFT JOIN {ids} i ON i.value = c.id_number
            LEFT JOIN {prefixes} p ON p.value = c.id_number_prefix15
            {kind_join}
            ORDER BY c.source_row
        """
        out = FeedStoreResult()
        out.out_of_scope = int(
            (
                con.execute(
                    f"SELECT count(*) FROM {clean} c JOIN {links} l ON l.id_number = c.id_number "
                    "WHERE NOT l.in_scope"
                ).fetchone()
                or (0,)
            )[0]
        )
    created_at = FeedEvent._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    head = (spec.key, batch.pk, created_at)
    quote = connection.ops.quote_name
    columns = ("feed", "batch", "created_at", *STORE_COLUMNS)
    names = ", ".join(quote(FeedEvent._meta.get_field(n).column) for n in columns)
    sql = (
        f"INSERT INTO {quote(FeedEvent._meta.db_table)} ({names}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    reader = con.cursor()
    reader.execute(select)
    while True:
        with _stage("store_fetch"):
            rows = reader.fetchmany(chunk_rows)
            if not rows:
                break
            params = [head + r for r in rows]
        with _stage("store_insert"), transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, params)
            created = cursor.rowcount
        out.rows += len(rows)
        out.created += created
        if after_chunk is not None:
            after_chunk(out.rows, len(rows))
    out.unchanged = out.rows - out.created
    for table in (hashes, links, sexes, kinds, ids, prefixes):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return out


STORE_COLUMNS = (
    "key_hash",
    "source_row",
    "event_date",
    "id_number",
    "id_number_hash",
    "id_status",
    "id_prefix15",
    "id_prefix15_hash",
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
)
