"""Aggregate tables the dashboards read (filled by `services.aggregates_refresh`, never by pages), the refresh
watermark, and the province's weights for the composite evaluation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionMetric(models.Model):
    """One base metric (engine.aggregates.catalogue.METRICS) of one region (any level) for one month. A missing row
    means zero. Stock metrics are the snapshot taken in their month; flow metrics count what happened in it."""

    region_code = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=7)  # YYYY-MM
    metric = models.CharField(max_length=40)
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "period", "metric"], name="region_metric_key")
        ]
        indexes = [models.Index(fields=["period", "level", "metric"])]

    def __str__(self) -> str:
        return f"{self.region_code} {self.period} {self.metric}={self.value}"


class AggregateState(models.Model):
    """The refresh watermark: when the last refresh ran and the last case step it saw."""

    key = models.CharField(max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_step_id = models.BigIntegerField(default=0)
    periods = models.JSONField(default=list, blank=True)  # what the last refresh recomputed
    rows_written = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.key} {self.refreshed_at}"


class EvaluationWeight(models.Model):
    """The weight a province gives one indicator (engine.aggregates.catalogue.INDICATORS) in the composite score of
    its counties and townships. No row: the catalogue's default weight; weight 0: not evaluated."""

    province = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    indicator = models.CharField(_("指标"), max_length=40)
    weight = models.FloatField(_("权重"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["province", "indicator"], name="evaluation_weight_key")
        ]

    def __str__(self) -> str:
        return f"{self.province_id} {self.indicator}={self.weight}"
