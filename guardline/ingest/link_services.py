"""Linking department events that lack a usable ID number, and the clerical review of uncertain links.

The probabilistic stage (engine.linkage, Splink) looks at each event once: new batches and API pushes are linked
incrementally, history is never re-linked unless asked. Automatic links need a probability above LINK_UPPER with no
rival above LINK_LOWER; events in between wait in the review queue with their best candidate, where a county officer
accepts or rejects. Linking never changes registry data: it only attaches events to a member and household."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from guardline.accounts.scope import region_q
from guardline.core.changelog import change_entry, log_changes
from guardline.registry.models import Member

from .models import FeedEvent, ImportBatch
from .stages import stage

Progress = Callable[[int, int, str], None]
# Below this many new events the model is trained together with a sample of earlier department rows (their person
# columns only): a handful of rows is too few for expectation maximisation to learn from.
MIN_TRAINING_ROWS = 2000
LINK_FIELDS = ("member", "household", "link_status", "link_method", "link_score", "link_note", "candidate")


@dataclass
class LinkRun:
    examined: int = 0
    linked: int = 0
    review: int = 0
    unlinked: int = 0


def _person_rows(events) -> list[tuple]:
    return [
        (pk, name, birth, sex or None, village, prefix if status == "excel_damaged" else None)
        for pk, name, birth, sex, village, status, prefix in events.values_list(
            "id", "name", "birth_date", "sex", "village_code", "id_status", "id_prefix15_hash"
        )
    ]


_registry_cache: dict[str, tuple[tuple, Any]] = {}


def _registry_table(actor):
    """The active members (in the actor's regions) as linkage input, kept for the process while the registry is
    unchanged: a multi-feed import then reads a million members once, not once per feed."""
    import pyarrow as pa
    from django.db.models import Count, Max

    from engine.linkage import person_columns
    from guardline.accounts.scope import scope_codes
    from guardline.core.models import ChangeLog
    from guardline.registry.models import Household

    members = Member.objects.aggregate(n=Count("id"), last=Max("id"), updated=Max("updated_at"))
    fingerprint = (
        tuple(scope_codes(actor)) if actor is not None else None,
        tuple(members.values()),
        Household.objects.aggregate(u=Max("updated_at"))["u"],
        ChangeLog.objects.aggregate(m=Max("id"))["m"],
    )
    cached = _registry_cache.get("members")
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    members_qs = Member.objects.filter(is_active=True)
    if actor is not None:
        members_qs = members_qs.filter(region_q(actor, "household__village_code"))
    # The query the ORM builds (scope filter included), read through the cursor in large batches straight into
    # columns: a million members without a model or tuple conversion per row. The ID prefix is its blind index
    # (the events carry the same keyed hash of theirs), so the engine blocks on equal prefixes without seeing one.
    sql, params = members_qs.values_list(
        "id", "name", "birth_date", "sex", "household__village_code", "id_prefix15_hash"
    ).query.sql_with_params()
    columns: list[list] = [[], [], [], [], [], []]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(50000):
            for column, values in zip(columns, zip(*batch, strict=True), strict=True):
                column.extend(values)
    uid, name, birth, sex, village, id15 = columns
    births = pa.array([b.isoformat() if isinstance(b, date) else b for b in birth], pa.string())
    table = person_columns(uid, name, births, sex, village, pa.array(id15, pa.string()))
    _registry_cache["members"] = (fingerprint, table)
    return table


def _pending(*, batch: ImportBatch | None, feed: str | None, relink: bool, also: tuple[int, ...] = ()):
    pending = FeedEvent.objects.filter(link_status=FeedEvent.LinkStatus.UNLINKED, id_number_hash="").exclude(
        name=""
    )
    if relink:
        pending = pending.filter(reviewed_at__isnull=True)  # a clerk's decision is never overridden
    else:
        pending = pending.filter(link_examined_at__isnull=True)
    if batch is not None:
        pending = pending.filter(batch_id__in=[batch.pk, *also])
    if feed:
        pending = pending.filter(feed=feed)
    return pending


def feed_events_link_probabilistic(
    *,
    batch: ImportBatch | None = None,
    also_batches: tuple[int, ...] = (),
    feed: str | None = None,
    actor=None,
    relink: bool = False,
    upper: float | None = None,
    lower: float | None = None,
    progress: Progress | None = None,
) -> LinkRun:
    """Link events without a usable ID by name, birth date, sex and village.

    Only events never examined before (or, with `relink`, every unlinked event no clerk has decided on); with
    `batch`, only that batch's (and `also_batches`': the runs of the same file a crash cut short). With `actor`, candidates come only from the actor's regions, as for ID links."""
    from engine.linkage import decide, link_tables, person_table

    upper = settings.GUARDLINE["LINK_UPPER"] if upper is None else upper
    lower = settings.GUARDLINE["LINK_LOWER"] if lower is None else lower
    pending = _pending(batch=batch, feed=feed, relink=relink, also=also_batches)
    rows = _person_rows(pending)
    batch_ids = (
        {batch.pk, *also_batches}
        if batch is not None
        else set(pending.values_list("batch_id", flat=True).distinct())
    )
    batch_ids.discard(None)
    run = LinkRun(examined=len(rows))
    if not rows:
        return run
    with stage("link_registry_table"):
        members = _registry_table(actor)
    training = None
    if len(rows) < MIN_TRAINING_ROWS:
        earlier = FeedEvent.objects.exclude(name="").exclude(pk__in=[r[0] for r in rows]).order_by("-id")
        extra = [(-pk, *rest) for pk, *rest in _person_rows(earlier[: MIN_TRAINING_ROWS * 5])]
        training = person_table(extra) if extra else None
    if progress:
        progress(0, len(rows), "按姓名、出生日期、性别、村匹配")
    with stage("link_splink"):
        found = (
            link_tables(person_table(rows), members, training=training, progress=progress)
            if members.num_rows
            else []
        )
    by_event = {c.row_id: c for c in found}
    households = dict(
        Member.objects.filter(pk__in={c.member_id for c in by_event.values()}).values_list(
            "id", "household_id"
        )
    )
    # The time goes through Django's adaptation once, as the ORM would store it.
    now = FeedEvent._meta.get_field("link_examined_at").get_db_prep_save(timezone.now(), connection)
    # One UPDATE per verdict, each run for many events (executemany); only the fields the verdict changes are
    # written, and only while the event is still unlinked (a clerk's concurrent decision is never overwritten).
    linked, review, none = [], [], []
    for pk, *_ in rows:
        candidate = by_event.get(pk)
        verdict = decide(candidate, upper=upper, lower=lower) if candidate else "none"
        if verdict == "link" and candidate:
            note = f"按姓名、出生日期、性别、村匹配（{candidate.probability:.4f}）"
            linked.append(
                (candidate.member_id, households[candidate.member_id], candidate.probability, note, now, pk)
            )
        elif verdict == "review" and candidate:
            note = f"匹配不确定（{candidate.probability:.4f}），待人工核对"
            review.append((candidate.member_id, candidate.probability, note, now, pk))
        else:
            none.append((candidate.probability if candidate else None, "未找到足够相似的人员", now, pk))
    run.linked, run.review, run.unlinked = len(linked), len(review), len(none)
    S = FeedEvent.LinkStatus
    with stage("link_write"), transaction.atomic():
        _update(
            "member_id = %s, household_id = %s, link_score = %s, link_note = %s, link_examined_at = %s, "
            f"link_status = '{S.LINKED}', link_method = 'probabilistic', candidate_id = NULL",
            linked,
        )
        _update(
            "candidate_id = %s, link_score = %s, link_note = %s, link_examined_at = %s, "
            f"link_status = '{S.REVIEW}'",
            review,
        )
        _update("link_score = %s, link_note = %s, link_examined_at = %s", none)
        batch_counts_refresh(batch_ids)
    return run


def _update(assignments: str, params: list[tuple]) -> None:
    """UPDATE feed events by primary key (the last parameter), only those still unlinked."""
    if not params:
        return
    table = connection.ops.quote_name(FeedEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE id = %s AND link_status = '{FeedEvent.LinkStatus.UNLINKED}'",
            params,
        )


def batch_counts_refresh(batch_ids) -> None:
    """Recount linked / in review / unlinked events of the batches from their events."""
    from django.db.models import Count, Q

    S = FeedEvent.LinkStatus
    for batch_id in batch_ids:
        counts = FeedEvent.objects.filter(batch_id=batch_id).aggregate(
            linked=Count("id", filter=Q(link_status=S.LINKED)),
            review=Count("id", filter=Q(link_status=S.REVIEW)),
            unlinked=Count("id", filter=Q(link_status=S.UNLINKED)),
        )
        ImportBatch.objects.filter(pk=batch_id).update(**counts)


def _snapshot(event: FeedEvent) -> dict:
    return {
        "link_status": event.link_status,
        "member_id": event.member_id,
        "household_id": event.household_id,
        "candidate_id": event.candidate_id,
        "link_method": event.link_method,
        "link_note": event.link_note,
    }


def feed_event_review_decide(*, user, event_id: int, accept: bool) -> FeedEvent:
    """A county officer's decision on an uncertain link: accept attaches the event to the candidate (and so to the
    candidate's household); reject leaves it unlinked for good (it is not offered again). Logged with before and
    after. The event must be in review and its candidate inside the officer's regions."""
    from .selectors import review_get

    with transaction.atomic():
        event = review_get(user, event_id, for_update=True)
        before = _snapshot(event)
        candidate = event.candidate
        assert candidate is not None  # review_get only returns events with a candidate
        if accept:
            event.member_id, event.household_id = candidate.pk, candidate.household_id
            event.link_status, event.link_method = FeedEvent.LinkStatus.LINKED, "clerical"
            event.link_note = f"人工核对确认（匹配概率 {event.link_score or 0:.4f}）"
        else:
            event.link_status, event.link_method = FeedEvent.LinkStatus.UNLINKED, "clerical"
            event.link_note = "人工核对：不是候选人员，未关联"
        event.candidate_id = None
        event.reviewed_by, event.reviewed_at = user, timezone.now()
        event.save(update_fields=[*LINK_FIELDS, "reviewed_by", "reviewed_at"])
        batch_counts_refresh([event.batch_id] if event.batch_id else [])
        log_changes(
            [
                change_entry(
                    entity="feed_event",
                    entity_id=event.pk,
                    household_id=candidate.household_id,
                    action="update",
                    before=before,
                    after=_snapshot(event),
                    actor_id=user.pk,
                )
            ]
        )
    return event
