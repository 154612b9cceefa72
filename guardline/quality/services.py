"""Running the data-quality rules: findings opened, confirmed or resolved in one set-based pass per rule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from guardline.regions.models import code_range

from .models import QualityFinding
from .rules import RULES, Rule

log = logging.getLogger(__name__)
CHUNK = 500


@dataclass
class QualityRunResult:
    opened: int = 0
    resolved: int = 0
    open_total: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return f"疑点数据检查：新增 {self.opened} 条，已消除 {self.resolved} 条，现存 {self.open_total} 条"


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _run_rule(rule: Rule, region_code: str, now: datetime) -> tuple[int, int, int]:
    found = rule.find()
    findings = QualityFinding.objects.filter(rule=rule.code, resolved_at__isnull=True)
    if region_code:
        found = found.filter(village_code__range=code_range(region_code))
        findings = findings.filter(village_code__range=code_range(region_code))
    current = dict(found.values_list("pk", "village_code"))
    existing = dict(findings.values_list("household_id", "pk"))
    gone = [pk for hid, pk in existing.items() if hid not in current]
    for part in _chunks(gone):
        QualityFinding.objects.filter(pk__in=part).update(resolved_at=now)
    findings.filter(resolved_at__isnull=True).update(last_seen=now)
    new = [
        QualityFinding(rule=rule.code, household_id=hid, village_code=village, first_seen=now, last_seen=now)
        for hid, village in current.items()
        if hid not in existing
    ]
    QualityFinding.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
    return len(new), len(gone), len(current)


def quality_check_run(
    *,
    region_code: str = "",
    now: datetime | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> QualityRunResult:
    """Evaluate every rule (over the whole registry, or the households of one region) and bring the findings in
    step: a household newly breaking a rule gets one open finding, one that no longer does has it resolved, one
    that still does keeps its first-seen date. Running it twice changes nothing but `last_seen`."""
    now = now or timezone.now()
    result = QualityRunResult()
    for i, rule in enumerate(RULES):
        if progress:
            progress(i, len(RULES), rule.title)
        with transaction.atomic():
            opened, resolved, total = _run_rule(rule, region_code, now)
        result.opened += opened
        result.resolved += resolved
        result.open_total += total
        result.per_rule[rule.code] = total
    if progress:
        progress(len(RULES), len(RULES), "完成")
    log.info(result.message)
    return result


def quality_check_after_import() -> None:
    """The light hook the import services call when a batch is done: queue a check (the task worker runs it) unless
    one is queued and not started yet — it will read this batch's rows too, and a county's set-up of a dozen files
    would otherwise queue a dozen whole checks —, and never let a failure here fail the import."""
    try:
        from .tasks import quality_check_task

        if not _check_waiting(quality_check_task):
            quality_check_task.enqueue()
    except Exception:  # pragma: no cover - the nightly run catches up
        log.exception("could not queue the data-quality check after an import")


def _check_waiting(quality_check_task) -> bool:
    """A check waiting in the database task queue (READY: no worker has taken it yet)."""
    from guardline.core.worker_services import task_rows

    rows = task_rows(quality_check_task)
    return rows is not None and rows.ready().exists()
