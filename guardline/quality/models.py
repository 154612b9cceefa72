"""Data-quality findings (疑点数据): one row per rule and household while the rule holds, resolved when it no longer
does. The rules themselves are data in `rules.py`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class QualityFinding(models.Model):
    rule = models.CharField(_("规则"), max_length=40)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="quality_findings"
    )
    village_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    first_seen = models.DateTimeField(_("首次发现"))
    last_seen = models.DateTimeField(_("最近确认"))
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "household"], condition=Q(resolved_at__isnull=True), name="one_open_finding"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "village_code", "rule"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.household_id} {'resolved' if self.resolved_at else 'open'}"
