"""Open screening warnings into the clue inbox, in bulk: a county's first run opens tens of thousands of warnings, a
province's hundreds of thousands, and one clue at a time (services.clue_from_warning: about 3 ms each) took a
minute for 20,000. Called after every screening run (screening.tasks) and from the inbox's "pull" button."""

from __future__ import annotations

import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from guardline.core.changelog import change_entry, log_changes
from guardline.core.locks import write_lock

from . import clocks, procedure
from .models import Case, Clue
from .services import _receipt_no, clue_from_warning, warning_clue_fields, warning_clue_logged

# Warnings per write transaction: short enough that the live API's writers, queued on the same lock, wait at most
# a few tens of milliseconds behind one. With 500, a county's first pull (20,179 warnings) took 5.6 s but held the
# API's writers off for up to a second at a time (bench_live, bench/README.md); with 200, 8.2 s and 0.2 s.
PULL_BATCH = 200
PULL_PAUSE_SECONDS = 0.02


def clues_pull_warnings(
    *, region_code: str = "", household_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Every open warning (in a region, of some households, or everywhere) that is not yet in the inbox becomes a
    clue of channel "warning", once per warning; idempotent. The warnings are listed first and taken in batches,
    each one transaction under the write lock (core.locks): no read cursor stays open across the writes, and the
    API's writers go in between batches. Returns how many clues were made."""
    from guardline.screening.models import RiskWarning

    qs = RiskWarning.objects.filter(status=RiskWarning.Status.OPEN, clues__isnull=True)
    if region_code:
        qs = qs.filter(village_code__startswith=region_code)
    if household_ids is not None:
        qs = qs.filter(household_id__in=household_ids)
    pending = list(qs.order_by("opened_at", "id").values_list("pk", flat=True))
    made = 0
    for start in range(0, len(pending), PULL_BATCH):
        if start:
            # flock wakes every waiter and lets them race; a loop that takes the lock again at once would win
            # nearly every time and hold the API's writers off until the whole pull is done.
            time.sleep(PULL_PAUSE_SECONDS)
        with write_lock(), transaction.atomic():
            made += _pull(pending[start : start + PULL_BATCH], now or timezone.now())
    return made


def _pull(warning_ids: list[int], now: datetime) -> int:
    """One batch. A warning whose household already has an open identification case or an open clue (or a second
    warning in the batch) goes through clue_from_warning, which merges it; the others — nearly all of them — are
    created together, with their change-log entries."""
    from guardline.screening.models import RiskWarning

    # Read again inside the transaction: another pull may have taken some since they were listed.
    warnings = list(
        RiskWarning.objects.filter(pk__in=warning_ids, status=RiskWarning.Status.OPEN, clues__isnull=True)
        .order_by("opened_at", "id")
        .only("id", "household_id", "village_code", "grade", "risk_types", "reasons", "opened_at")
    )
    households = {w.household_id for w in warnings}
    merging = set(
        Case.objects.filter(household_id__in=households, kind=Case.Kind.IDENTIFICATION)
        .exclude(state__in=procedure.FINAL_STATES)
        .values_list("household_id", flat=True)
    )
    merging |= set(
        Clue.objects.filter(
            household_id__in=households, status=Clue.Status.NEW, merged_into__isnull=True
        ).values_list("household_id", flat=True)
    )
    calendar = clocks.calendar()
    alone: list[RiskWarning] = []
    merged: list[RiskWarning] = []
    for warning in warnings:
        (merged if warning.household_id in merging else alone).append(warning)
        # a second warning of the household merges into the first one's clue
        merging.add(warning.household_id)
    clues = Clue.objects.bulk_create(
        Clue(receipt_no=receipt, **warning_clue_fields(w, calendar))
        for w, receipt in zip(alone, _free_receipts(len(alone)), strict=True)
    )
    log_changes(
        change_entry(
            entity="clue",
            entity_id=clue.pk,
            household_id=clue.household_id,
            action="create",
            before=None,
            after=warning_clue_logged(clue),
            actor_id=None,
        )
        for clue in clues
    )
    for warning in merged:
        clue_from_warning(warning, now)
    return len(warnings)


def _free_receipts(count: int) -> list[str]:
    """`count` receipt numbers no clue has (drawn at random like every clue's; a clash is redrawn)."""
    receipts: set[str] = set()
    while len(receipts) < count:
        drawn = {_receipt_no() for _ in range(count - len(receipts))} - receipts
        taken = set(Clue.objects.filter(receipt_no__in=drawn).values_list("receipt_no", flat=True))
        receipts |= drawn - taken
    return list(receipts)
