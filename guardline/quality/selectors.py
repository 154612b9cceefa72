"""Reads of data-quality findings, always restricted to the user's regions."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from guardline.accounts.scope import region_q
from guardline.regions.models import Region, code_range

from .models import QualityFinding
from .rules import RULES


def open_findings(user, *, region: str = "", rule: str = "") -> QuerySet[QualityFinding]:
    qs = QualityFinding.objects.filter(region_q(user), resolved_at__isnull=True)
    if region:
        qs = qs.filter(village_code__range=code_range(region))
    if rule:
        qs = qs.filter(rule=rule)
    return qs.select_related("household").order_by("village_code", "rule", "household__household_no")


@dataclass
class VillageRow:
    code: str
    name: str
    township: str
    total: int = 0
    counts: list[int] = field(default_factory=list)  # in the order of rules.RULES


def village_summary(user) -> list[VillageRow]:
    """Open findings per village of the user's regions, with a count per rule."""
    rows: dict[str, VillageRow] = {}
    index = {r.code: i for i, r in enumerate(RULES)}
    counts = (
        QualityFinding.objects.filter(region_q(user), resolved_at__isnull=True)
        .values("village_code", "rule")
        .annotate(n=Count("id"))
        .order_by("village_code")
    )
    for c in counts:
        row = rows.setdefault(c["village_code"], VillageRow(c["village_code"], "", "", 0, [0] * len(RULES)))
        if c["rule"] in index:
            row.counts[index[c["rule"]]] += c["n"]
            row.total += c["n"]
    names = dict(
        Region.objects.filter(code__in={*rows, *(code[:9] for code in rows)}).values_list("code", "name")
    )
    for row in rows.values():
        row.name = names.get(row.code, row.code)
        row.township = names.get(row.code[:9], row.code[:9])
    return sorted(rows.values(), key=lambda r: (-r.total, r.code))
