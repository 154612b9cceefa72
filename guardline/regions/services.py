"""Writes to the region tree and its parameters."""

from __future__ import annotations

import csv
import io
import lzma
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.core.changelog import change_entry, log_changes
from guardline.ledger.services import ledger_append

from .models import Grid, MonitoringLine, Region

# file name, level, parent column, length of the code at that level
LEVEL_FILES = (
    ("provinces.csv.xz", Region.Level.PROVINCE, None),
    ("cities.csv.xz", Region.Level.CITY, "provinceCode"),
    ("areas.csv.xz", Region.Level.COUNTY, "cityCode"),
    ("streets.csv.xz", Region.Level.TOWNSHIP, "areaCode"),
    ("villages.csv.xz", Region.Level.VILLAGE, "streetCode"),
)


@dataclass
class DivisionImport:
    counts: dict[str, int]
    orphans: int


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with lzma.open(path, "rb") as raw:
        yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))


def regions_import_divisions(
    directory: Path,
    *,
    province: str | None = None,
    county: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    batch_size: int = 20000,
) -> DivisionImport:
    """Load the statistical division codes (all, one province, or one county with its ancestors) as an upsert:
    running it again changes nothing, and a renamed place gets its new name."""
    if not directory.is_dir():
        raise FileNotFoundError(f"区划数据目录不存在: {directory}")
    prefix = county or province or ""
    counts: dict[str, int] = {}
    known: set[str] = set(Region.objects.values_list("code", flat=True)) if prefix else set()
    orphans = 0
    for file_name, level, parent_col in LEVEL_FILES:
        path = directory / file_name
        if not path.exists():
            raise FileNotFoundError(f"缺少区划文件: {path}")
        batch: list[Region] = []
        count = 0
        for row in _rows(path):
            code = row["code"]
            # Keep the ancestors of the requested county, and everything inside the requested prefix.
            if prefix and not (code.startswith(prefix) or prefix.startswith(code)):
                continue
            parent = row.get(parent_col) if parent_col else None
            if parent and parent not in known:
                orphans += 1  # a code whose parent the source lacks: keep it, attached to nothing
                parent = None
            batch.append(Region(code=code, name=row["name"].strip(), level=level, parent_id=parent))
            known.add(code)
            if len(batch) >= batch_size:
                _upsert(batch)
                count += len(batch)
                batch = []
                if progress:
                    progress(file_name, count)
        if batch:
            _upsert(batch)
            count += len(batch)
        counts[file_name.split(".")[0]] = count
        if progress:
            progress(file_name, count)
    return DivisionImport(counts=counts, orphans=orphans)


def _upsert(batch: list[Region]) -> None:
    with transaction.atomic():
        Region.objects.bulk_create(
            batch, update_conflicts=True, unique_fields=["code"], update_fields=["name", "level", "parent"]
        )


@transaction.atomic
def grid_create(*, actor, village: Region, name: str) -> Grid:
    """Define a grid (网格) inside a village."""
    if not has_perm(actor, Perm.MANAGE_GRIDS):
        raise PermissionDenied("您的角色不能管理网格")
    if village.level != Region.Level.VILLAGE:
        raise ValidationError("网格只能建在村（社区）下")
    require_scope(actor, village.code)
    name = name.strip()
    if not name:
        raise ValidationError("网格名称不能为空")
    if Grid.objects.filter(village=village, name=name).exists():
        raise ValidationError(f"该村已有名为“{name}”的网格")
    grid = Grid.objects.create(village=village, name=name)
    log_changes(
        [
            change_entry(
                entity="grid",
                entity_id=grid.pk,
                household_id=None,
                action="create",
                before=None,
                after={"village": village.code, "name": name},
                actor_id=actor.pk,
            )
        ]
    )
    return grid


@transaction.atomic
def monitoring_line_set(
    *,
    actor,
    region: Region,
    year: int,
    effective_from: date,
    amount: Decimal | None = None,
    dibao_monthly: Decimal | None = None,
    multiple: Decimal | None = None,
    note: str = "",
) -> MonitoringLine:
    """Set the monitoring line of a province (default) or county (override) from a date on.

    Either a fixed amount (元/人/年) or the formula k × monthly 低保 standard × 12. Never edits an existing row:
    the new row supersedes the old from its effective date, keeping the history."""
    if not has_perm(actor, Perm.MANAGE_LINES):
        raise PermissionDenied("您的角色不能设置监测线")
    if region.level not in (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY):
        raise ValidationError("监测线只能按省、市或县设置")
    require_scope(actor, region.code)
    if effective_from.year not in (year, year - 1):
        raise ValidationError("生效日期应在该年度内（或上一年度末提前公布）")
    if dibao_monthly is not None or multiple is not None:
        if dibao_monthly is None or multiple is None or dibao_monthly <= 0 or multiple <= 0:
            raise ValidationError("按低保标准倍数计算时，低保月标准和倍数都必须为正数")
        basis = MonitoringLine.Basis.DIBAO_MULTIPLE
        amount = MonitoringLine.formula_amount(dibao_monthly, multiple)
    else:
        basis = MonitoringLine.Basis.FIXED
        if amount is None or amount <= 0:
            raise ValidationError("监测线金额必须为正数")
    line = MonitoringLine.objects.create(
        region=region,
        year=year,
        effective_from=effective_from,
        basis=basis,
        amount=amount,
        dibao_monthly=dibao_monthly,
        multiple=multiple,
        note=note,
        created_by=actor,
    )
    log_changes(
        [
            change_entry(
                entity="monitoring_line",
                entity_id=line.pk,
                household_id=None,
                action="create",
                before=None,
                after={
                    "region": region.code,
                    "year": year,
                    "amount": amount,
                    "effective_from": effective_from,
                    "basis": basis,
                },
                actor_id=actor.pk,
            )
        ]
    )
    ledger_append(kind="admin", entity="monitoring_line", entity_id=line.pk, actor=actor, payload={"region": region.code, "year": year, "amount": amount, "effective_from": effective_from, "basis": basis})  # fmt: skip
    return line
