"""Writing change-log entries: services call these inside their transaction, so a change and its log commit
together or not at all."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from . import crypto
from .bulk import copy_wanted, insert_rows, rows_copy
from .context import current
from .models import ChangeLog


def jsonable(value: Any) -> Any:
    """Dates and decimals as strings so before/after can be stored and compared as JSON."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


# Personal data in before/after is stored encrypted like the columns it comes from (guardline.core.crypto);
# readers decrypt with `reveal` and then mask or show it as the page allows.
PERSONAL_KEYS = frozenset({"id_number", "phone", "declarant_id_number", "declarant_phone"})
_PERSONAL_JSON_KEYS = tuple(f'"{key}"' for key in PERSONAL_KEYS)  # as they would stand in JSON text


def _protect(key: str, value: Any) -> Any:
    if key in PERSONAL_KEYS and isinstance(value, str) and value and not crypto.is_encrypted(value):
        return crypto.encrypt(value)
    return value


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _protect(k, jsonable(v)) for k, v in values.items()}


def reveal(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored before/after with its personal values decrypted."""
    if values is None:
        return None
    return {
        k: crypto.decrypt(v) if k in PERSONAL_KEYS and isinstance(v, str) else v for k, v in values.items()
    }


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after) dicts."""
    keys = [k for k in after if jsonable(before.get(k)) != jsonable(after.get(k))]
    return {k: jsonable(before.get(k)) for k in keys}, {k: jsonable(after.get(k)) for k in keys}


def change_entry(
    *,
    entity: str,
    entity_id: int,
    household_id: int | None,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    actor_id: int | None,
    at: dt.datetime | None = None,
) -> ChangeLog:
    ctx = current()
    return ChangeLog(
        at=at or timezone.now(),
        actor_id=actor_id,
        request_id=ctx.request_id,
        job_id=ctx.job_id,
        entity=entity,
        entity_id=entity_id,
        household_id=household_id,
        action=action,
        before=snapshot(before) if before is not None else None,
        after=snapshot(after) if after is not None else None,
        reason=ctx.reason,
    )


LOG_FIELDS = (
    "at",
    "actor",
    "request_id",
    "job",
    "entity",
    "entity_id",
    "household_id",
    "action",
    "before",
    "after",
    "reason",
)


def log_changes(entries: Iterable[ChangeLog]) -> None:
    """Write change-log entries in the caller's transaction (executemany: imports write thousands at once)."""
    insert_rows(ChangeLog, list(entries), LOG_FIELDS)


def log_rows(
    rows: Iterable[
        tuple[str, int, int | None, str, Mapping[str, Any] | str | None, Mapping[str, Any] | str | None]
    ],
    *,
    actor_id: int | None = None,
    at: dt.datetime | None = None,
) -> int:
    """The bulk form of `log_changes` for passes that log hundreds of thousands of entries at once (screening):
    rows of (entity, entity_id, household_id, action, before, after) sharing one actor, time and context, written
    with executemany in the caller's transaction without a model instance per entry. A before or after may come
    as JSON text already (built set-based, e.g. in DuckDB): it is stored as it is, so it must hold no personal
    value — text naming a personal key is refused, as it would bypass their encryption."""
    import json

    from django.db import connection

    ctx = current()
    stamp = connection.ops.adapt_datetimefield_value(at or timezone.now())
    fields = [ChangeLog._meta.get_field(name) for name in LOG_FIELDS]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(ChangeLog._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    def js(value: Mapping[str, Any] | str | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            if any(key in value for key in _PERSONAL_JSON_KEYS):
                raise ValueError(
                    f"change-log JSON text with a personal key must be given as a mapping: {value[:80]}"
                )
            return value
        return json.dumps(snapshot(value))

    params = [
        (
            stamp,
            actor_id,
            ctx.request_id,
            ctx.job_id,
            entity,
            entity_id,
            household_id,
            action,
            js(before),
            js(after),
            ctx.reason,
        )
        for entity, entity_id, household_id, action, before, after in rows
    ]
    if params:
        with connection.cursor() as cursor:
            if copy_wanted(len(params)):
                rows_copy(cursor, ChangeLog._meta.db_table, [f.column for f in fields], params)
            else:
                cursor.executemany(sql, params)
    return len(params)
