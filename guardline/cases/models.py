"""Clues (one inbox for the three channels), cases (the identification procedure), their steps and evidence, and the
holiday calendar that working-day clocks count with.

Other procedures hang off `Case`: assistance plans and measures point at an identified case (`plan_due` and
`plan_made_at` are the plan clock), and elimination (DOMAIN §8, which mirrors identification) is a case of another
`kind` on the same household.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from engine import vocab
from guardline.core.fields import EncryptedCharField

from .procedure import STATE_LABELS, State

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]


class Clue(models.Model):
    """A sign that a household may need help: a self-declaration, a cadre's or grid worker's visit report, or a
    screening warning. Routed by village code to the township and village; duplicates for the same household merge
    into the oldest open clue (`merged_into`)."""

    class Channel(models.TextChoices):
        DECLARATION = "declaration", _("农户自主申报")
        VISIT = "visit", _("干部排查")
        WARNING = "warning", _("部门筛查预警")

    class Status(models.TextChoices):
        NEW = "new", _("待核实")
        CASE = "case", _("已立案")
        MERGED = "merged", _("已合并")
        DISMISSED = "dismissed", _("不予受理")

    class Concern(models.TextChoices):
        ILLNESS = "illness", _("生病或医疗费用高")
        DISASTER = "disaster", _("自然灾害")
        ACCIDENT = "accident", _("意外事故")
        DISABILITY = "disability", _("残疾")
        JOB = "job", _("失业或务工收入下降")
        BUSINESS = "business", _("产业或经营失败")
        SCHOOL = "school", _("上学费用困难")
        HOUSING_WATER = "housing_water", _("住房或饮水困难")
        OTHER = "other", _("其他")

    receipt_no = models.CharField(_("受理编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=12, choices=Channel.choices, db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    village_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="clues"
    )
    concern = models.CharField(_("困难类型"), max_length=20, choices=Concern.choices, blank=True)
    description = models.TextField(_("情况说明"), max_length=2000, blank=True)
    declarant_name = models.CharField(_("申报人姓名"), max_length=50, blank=True)
    declarant_id_number = EncryptedCharField(_("申报人身份证号"), max_length=18, blank=True)
    declarant_phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    consent = models.BooleanField(_("同意信息核对"), default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    warning = models.ForeignKey(
        "screening.RiskWarning", null=True, blank=True, on_delete=models.SET_NULL, related_name="clues"
    )
    grade = models.CharField(_("预警等级"), max_length=6, blank=True)
    risk_types = models.CharField(_("风险类型"), max_length=60, blank=True)
    received_at = models.DateTimeField(_("接收时间"), db_index=True)
    verify_due = models.DateTimeField(_("核实时限"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_clues"
    )
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="clues")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismiss_reason = models.CharField(_("不予受理理由"), max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "village_code", "received_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["warning"], condition=Q(warning__isnull=False), name="one_clue_per_warning"
            )
        ]

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.channel} {self.status}"


def evidence_path(instance, filename: str) -> str:
    return f"cases/{instance.uploaded_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}{instance.suffix}"


class Evidence(models.Model):
    """A file attached to a clue (visit photos) or a case step (signed commitment, signature, minutes, notice)."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        COMMITMENT = "commitment", _("承诺授权书")
        SIGNATURE = "signature", _("现场签名")
        MINUTES = "minutes", _("会议纪要")
        NOTICE = "notice", _("公示照片")
        OTHER = "other", _("其他材料")

    clue = models.ForeignKey(Clue, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence")
    step = models.ForeignKey(
        "CaseStep", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    suffix = models.CharField(max_length=10, blank=True)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"


class Case(models.Model):
    """One run of a procedure for one household. `state` moves only through `services.case_transition`, which
    reads `procedure.TRANSITIONS`; every move is a `CaseStep`."""

    class Kind(models.TextChoices):
        IDENTIFICATION = "identification", _("识别认定")
        ELIMINATION = "elimination", _("风险消除")

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="cases")
    village_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.IDENTIFICATION)
    state = models.CharField(_("环节"), max_length=20, choices=STATE_CHOICES, default=State.HOME_CHECK)
    category = models.CharField(
        _("监测对象类别"), max_length=30, choices=vocab.choices(vocab.MONITOR_CATEGORIES), blank=True
    )
    risk_types = models.CharField(_("风险类型"), max_length=60, blank=True)  # ";"-joined, at most five
    fast_track = models.BooleanField(_("先帮后认"), default=False)
    fast_track_reason = models.CharField(max_length=200, blank=True)
    help_started_at = models.DateTimeField(null=True, blank=True)
    clue_received_at = models.DateTimeField(_("线索接收时间"))  # the decision clock starts here
    opened_at = models.DateTimeField(_("立案时间"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_due = models.DateTimeField(_("认定时限"))
    notice_started_at = models.DateTimeField(_("公示开始"), null=True, blank=True)
    notice_ends_at = models.DateTimeField(_("公示期满"), null=True, blank=True)
    decided_at = models.DateTimeField(_("认定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    identification_month = models.CharField(_("识别年月"), max_length=7, blank=True)  # YYYY-MM
    decision_snapshot = models.JSONField(
        default=dict, blank=True
    )  # income, monitoring line, three guarantees
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(_("不予纳入理由"), max_length=500, blank=True)
    plan_due = models.DateTimeField(_("帮扶计划时限"), null=True, blank=True)
    plan_made_at = models.DateTimeField(null=True, blank=True)  # set by the assistance app's plan service
    updated_at = models.DateTimeField()
    # Optimistic lock: every write of the services bumps it (conditional UPDATE … WHERE version = …); the case page
    # posts the version it was rendered with, and a stale one is refused (`services.StaleCaseError`).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["state", "village_code"]), models.Index(fields=["decision_due"])]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=~Q(state__in=["identified", "rejected"]),
                name="one_open_case_per_household_kind",
            )
        ]

    def __str__(self) -> str:
        return f"case {self.pk} {self.household_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state not in (State.IDENTIFIED, State.REJECTED)

    @property
    def risk_list(self) -> list[str]:
        return [c for c in self.risk_types.split(";") if c]


class CaseStep(models.Model):
    """One action on a case: who, when, in which role, from which state to which, with notes, structured data
    (village review: participants, votes, minutes; decision: category and risks) and evidence files."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=20, choices=STATE_CHOICES)
    to_state = models.CharField(max_length=20, choices=STATE_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=30)
    at = models.DateTimeField(db_index=True)
    notes = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"


class Holiday(models.Model):
    """A day of the national (or local) calendar: a weekday off (法定节假日) or a weekend worked (调休上班)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.name}"
