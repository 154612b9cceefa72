"""Writes for the live API: department tokens, and events pushed one at a time or in batches."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from engine.ingest import SPECS
from engine.ingest.feeds import DEPARTMENT_FEEDS
from engine.ingest.records import check_records
from guardline.core.changelog import change_entry, log_changes
from guardline.core.locks import write_lock
from guardline.ingest.feed_services import feed_events_apply_rows
from guardline.ingest.models import ImportBatch
from guardline.regions.models import Region

from .models import DepartmentToken


@transaction.atomic
def department_token_create(
    *, actor, name: str, department: str, region: Region
) -> tuple[DepartmentToken, str]:
    """Create a department's API token; returns the record and the token (shown once, stored hashed)."""
    if department not in DEPARTMENT_FEEDS:
        raise ValueError(f"unknown department {department!r}; expected one of: {', '.join(DEPARTMENT_FEEDS)}")
    raw = DepartmentToken.new_token()
    token = DepartmentToken.objects.create(
        name=name,
        department=department,
        region=region,
        token_hash=DepartmentToken.hash(raw),
        created_by=actor,
    )
    log_changes(
        [
            change_entry(
                entity="api_token",
                entity_id=token.pk,
                household_id=None,
                action="create",
                before=None,
                after={"name": name, "department": department, "region": region.code},
                actor_id=actor.pk if actor else None,
            )
        ]
    )
    return token, raw


@transaction.atomic
def department_token_revoke(*, actor, token: DepartmentToken) -> DepartmentToken:
    """Stop a token from working (kept, with its history, for the audit trail). Revoking twice is harmless."""
    if token.is_active:
        DepartmentToken.objects.filter(pk=token.pk).update(is_active=False)
        token.is_active = False
        log_changes(
            [
                change_entry(
                    entity="api_token",
                    entity_id=token.pk,
                    household_id=None,
                    action="update",
                    before={"is_active": True},
                    after={"is_active": False},
                    actor_id=actor.pk if actor else None,
                )
            ]
        )
    return token


# last_used_at is written at most this often per token and process: a write per request would double the writes of
# a busy department system for a date nobody needs to the second.
LAST_USED_RESOLUTION = 60.0  # seconds
# Tokens by hash, with their region: what a token names never changes after creation, so each process reads it once.
# Whether the token is still active is asked of the database on every request (revocation takes effect at once).
_tokens: dict[str, DepartmentToken] = {}
_last_touched: dict[str, float] = {}
_touch_lock = threading.Lock()


def token_authenticate(raw: str) -> DepartmentToken | None:
    """The active token `raw` stands for, or None. One indexed lookup by hash per request, in plain SQL (the ORM's
    query building cost more than the query: every pushed event pays for it)."""
    quote = connection.ops.quote_name
    token_hash = DepartmentToken.hash(raw)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')} FROM {quote(DepartmentToken._meta.db_table)} "
            f"WHERE {quote('token_hash')} = %s AND {quote('is_active')} = %s",
            [token_hash, True],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk = row[0]
    token = _tokens.get(token_hash)
    if token is None or token.pk != pk:
        token = _tokens[token_hash] = DepartmentToken.objects.select_related("region").get(pk=pk)
    now = time.monotonic()
    with _touch_lock:
        due = now - _last_touched.get(token_hash, -LAST_USED_RESOLUTION) >= LAST_USED_RESOLUTION
        if due:
            _last_touched[token_hash] = now
    if due:
        DepartmentToken.objects.filter(pk=pk).update(last_used_at=timezone.now())
    return token


def feed_events_push(
    *, token: DepartmentToken, feed: str, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Validate and store pushed events with the same declarations as file imports. Per-item results: created (with
    its link status), duplicate (already received: replaying is harmless) or rejected (with the errors).

    Validation runs before the write transaction (for a few plain events in Python, else in DuckDB: see
    engine.ingest.records); the batch record and the events are then written in one transaction."""
    if feed not in DEPARTMENT_FEEDS.get(token.department, ()):
        raise PermissionError(f"部门 {token.department} 不能推送 {feed} 数据")
    spec = SPECS[feed]
    source = f"API:{token.name}"
    checked = check_records(records, spec, source=source)
    region = token.region.code
    rejected = len(records) - len(checked.rows)
    with write_lock(), transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.FEED, feed=feed, file_name=source, sha256="", rows_read=len(records)
        )
        applied = feed_events_apply_rows(
            spec, checked.rows, batch=batch, allowed=lambda code: code.startswith(region)
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.DONE,
            finished_at=timezone.now(),
            rows_accepted=len(checked.rows),
            rows_rejected=rejected,
            created=applied.created,
            unchanged=applied.unchanged,
            linked=applied.linked,
            unlinked=applied.unlinked,
            message=f"API 推送 {len(records)} 条：新增 {applied.created}，重复 {applied.unchanged}，拒绝 {rejected}",
        )
    _rescreen_live(applied)
    problems = {
        row: [
            {
                "field": p["column"],
                "value": p["value"] or "",
                "code": p["code"],
                "message": p["message"],
                "severity": p["severity"],
            }
            for p in found
        ]
        for row, found in checked.problems_by_row().items()
    }
    items = []
    for index in range(1, len(records) + 1):
        outcome = applied.outcomes.get(index)
        if outcome is None:
            items.append({"index": index - 1, "status": "rejected", "errors": problems.get(index, [])})
        else:
            items.append({"index": index - 1, **outcome, "errors": problems.get(index, [])})
    return items


def _rescreen_live(applied) -> None:
    """New events re-screen just their households in the background (the live path of screening)."""
    from django.conf import settings

    if not settings.GUARDLINE.get("LIVE_SCREENING", True):
        return
    ids = sorted(
        {
            o["household_id"]
            for o in applied.outcomes.values()
            if o.get("status") == "created" and o.get("household_id")
        }
    )
    if ids:
        from guardline.screening.tasks import household_rescreen_task

        household_rescreen_task.enqueue(ids)
