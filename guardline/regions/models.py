"""The statistical division tree (province → city → county → township → village), grids and monitoring lines."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CODE_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


class Region(models.Model):
    """One division. The code is the statistical division code; a child's code starts with its parent's, so
    "everything inside region R" is a range over 12-digit village codes (see `code_range`)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省")
        CITY = 2, _("市")
        COUNTY = 3, _("县")
        TOWNSHIP = 4, _("乡镇")
        VILLAGE = 5, _("村")

    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


def code_range(code: str) -> tuple[str, str]:
    """The inclusive range of 12-digit village codes inside a region code of any level."""
    return code.ljust(12, "0"), code.ljust(12, "9")


def ancestor_codes(village_code: str) -> list[str]:
    """Codes of the enclosing regions, most specific first: township, county, city, province."""
    return [village_code[:n] for n in (9, 6, 4, 2) if len(village_code) >= n]


class Grid(models.Model):
    """A grid (网格) inside a village: a set of households that a grid worker visits."""

    village = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="grids")
    name = models.CharField(max_length=100)
    workers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="grids")

    class Meta:
        unique_together = [("village", "name")]

    def __str__(self) -> str:
        return f"{self.village.name} · {self.name}"


class MonitoringLine(models.Model):
    """The monitoring line (监测线) for a region and year from an effective date on.

    A province sets the default, a county may override. Rows are never edited in place: a change is a new row with a
    later `effective_from`, so the history of what applied when is kept and decisions can cite the line in force.
    """

    class Basis(models.TextChoices):
        FIXED = "fixed", _("固定金额")
        DIBAO_MULTIPLE = "dibao_multiple", _("低保标准倍数")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="monitoring_lines")
    year = models.PositiveSmallIntegerField()
    effective_from = models.DateField()
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.FIXED)
    amount = models.DecimalField(max_digits=10, decimal_places=2, help_text=_("元/人/年"))
    dibao_monthly = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    multiple = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region_id", "year", "effective_from", "id"]
        indexes = [models.Index(fields=["region", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}: {self.amount} (from {self.effective_from})"

    @staticmethod
    def formula_amount(dibao_monthly: Decimal, multiple: Decimal) -> Decimal:
        """k × monthly 低保 standard × 12 (DOMAIN §3)."""
        return (dibao_monthly * multiple * 12).quantize(Decimal("0.01"))
