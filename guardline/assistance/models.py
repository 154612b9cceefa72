"""Assistance plans and coded measures (DOMAIN §7), paired cadres, follow-up visits, and risk elimination with its
steps (DOMAIN §8).

The monitoring label is time-bounded and has one source of truth: an identified `cases.Case` opens a period at its
decision; an `Elimination` that reaches "eliminated" (and is not reversed) closes it; a re-identification is a new
case, hence a new period (`selectors.label_periods`). `Household.monitor_category` mirrors the open period and is
only changed through `registry.services.household_update`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import catalogue
from .procedure import MODE_LABELS, STATE_LABELS, Mode, State


class AssistancePlan(models.Model):
    """One household, one plan (一户一策) per identification."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="plan")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="plans")
    village_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    due = models.DateTimeField(_("帮扶计划时限"), null=True, blank=True)
    created_at = models.DateTimeField(_("制定时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    late = models.BooleanField(_("超时制定"), default=False)
    notes = models.TextField(_("帮扶思路"), max_length=2000, blank=True)
    recommendation = models.JSONField(default=dict, blank=True)  # what the recommender proposed at creation
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"plan {self.pk} {self.household_id}"


def measure_evidence_path(instance, filename: str) -> str:
    return f"assistance/{instance.sha256[:2]}/{instance.sha256}{instance.evidence_suffix}"


class Measure(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("计划中")
        IN_PROGRESS = "in_progress", _("实施中")
        DELIVERED = "delivered", _("已落实")
        CANCELLED = "cancelled", _("已取消")

    plan = models.ForeignKey(AssistancePlan, on_delete=models.CASCADE, related_name="measures")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="measures")
    village_code = models.CharField(max_length=12, db_index=True)
    code = models.CharField(_("措施代码"), max_length=8, choices=catalogue.choices())
    description = models.CharField(_("措施内容"), max_length=300, blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="measures",
        verbose_name=_("责任人"),
    )  # fmt: skip
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    evidence = models.FileField(upload_to=measure_evidence_path, max_length=200, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_suffix = models.CharField(max_length=10, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    completed_at = models.DateTimeField(_("落实时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["plan_id", "start_date", "id"]
        indexes = [models.Index(fields=["household", "status"])]

    def __str__(self) -> str:
        return f"{self.code} {self.status}"

    @property
    def name(self) -> str:
        return catalogue.name(self.code)

    @property
    def kind(self) -> str:
        m = catalogue.CATALOGUE.get(self.code)
        return catalogue.KIND_LABELS[m.kind] if m else ""


class PairedCadre(models.Model):
    """A cadre paired with a household (帮扶责任人) from a date, until replaced."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="paired_cadres"
    )
    village_code = models.CharField(max_length=12, db_index=True)
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="paired_households"
    )
    start_date = models.DateField(_("结对日期"))
    end_date = models.DateField(_("解除日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "cadre"], condition=Q(end_date__isnull=True), name="one_open_pairing"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} ↔ {self.cadre_id}"


class Visit(models.Model):
    """A follow-up visit: what was seen, and the income and conditions it updated in the registry."""

    class Kind(models.TextChoices):
        ROUTINE = "routine", _("常规走访")
        FOLLOW_UP = "follow_up", _("帮扶回访")
        CONCENTRATED = "concentrated", _("集中排查")
        PHONE = "phone", _("电话回访")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="visits")
    village_code = models.CharField(max_length=12, db_index=True)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("走访时间"), db_index=True)
    kind = models.CharField(_("走访方式"), max_length=12, choices=Kind.choices, default=Kind.ROUTINE)
    grade = models.CharField(_("预警等级"), max_length=6, blank=True)  # the household's grade at the visit
    notes = models.TextField(_("走访情况"), max_length=2000)
    updates = models.JSONField(
        default=dict, blank=True
    )  # {"year": 2026, "wage_income": "…", "water_unsafe": false}

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "at"])]

    def __str__(self) -> str:
        return f"visit {self.household_id} {self.at:%Y-%m-%d}"


STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]


class Elimination(models.Model):
    """One run of the elimination procedure for an identified case. `state` moves only through
    `services.elimination_transition` (reads `procedure.TRANSITIONS`); every move is an `EliminationStep`."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="eliminations")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="eliminations")
    village_code = models.CharField(max_length=12, db_index=True)
    mode = models.CharField(_("消除方式"), max_length=10, choices=[(m.value, MODE_LABELS[m]) for m in Mode])
    state = models.CharField(_("环节"), max_length=20, choices=STATE_CHOICES, default=State.ELIGIBILITY)
    eligibility = models.JSONField(default=dict, blank=True)  # last check: snapshot + rules
    eligible = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("发起时间"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notice_started_at = models.DateTimeField(null=True, blank=True)
    notice_ends_at = models.DateTimeField(_("公示期满"), null=True, blank=True)
    decided_at = models.DateTimeField(_("消除时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    premature = models.BooleanField(_("认定当月或次月消除"), default=False)
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)
    reversed_at = models.DateTimeField(_("回退时间"), null=True, blank=True)
    reverse_reason = models.CharField(_("回退理由"), max_length=500, blank=True)
    reidentified_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(state__in=["rejected", "reversed"]),
                name="one_live_elimination_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"elimination {self.pk} {self.household_id} {self.state}"


class EliminationStep(models.Model):
    elimination = models.ForeignKey(Elimination, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=20, choices=STATE_CHOICES)
    to_state = models.CharField(max_length=20, choices=STATE_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=30)
    at = models.DateTimeField(db_index=True)
    notes = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["elimination_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.elimination_id} {self.action} {self.from_state}→{self.to_state}"
