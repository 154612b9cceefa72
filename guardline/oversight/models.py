"""Oversight ledgers of DOMAIN §9: rectification (问题 → 措施 → 责任 → 时限 → 销号), complaints and requests, linkage-fund
projects with their sources, money movements and milestones, and the assets the projects formed.

Regions are codes of any level (`region_code`: a county "520526", a township "520526100", a village "5205261…"),
read through `accounts.scope.region_code_q`. Workflows live in services.py; money movements are also appended to
the tamper-evident ledger (`guardline.ledger`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guardline.registry.models import Household

USER = settings.AUTH_USER_MODEL


class Rectification(models.Model):
    """One problem found by an inspection or an audit, the measures against it, who is responsible, by when, and
    its closing (销号) with evidence."""

    class Source(models.TextChoices):
        INSPECTION = "inspection", _("巡视巡察")
        AUDIT = "audit", _("审计")
        SUPERVISION = "supervision", _("督查考核")
        EVALUATION = "evaluation", _("成效考核")
        SELF_CHECK = "self_check", _("自查")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待整改")
        IN_PROGRESS = "in_progress", _("整改中")
        CLOSED = "closed", _("已销号")

    problem = models.TextField()
    source = models.CharField(max_length=20, choices=Source.choices)
    source_ref = models.CharField(max_length=200, blank=True)
    region_code = models.CharField(max_length=12, db_index=True)
    measures = models.TextField()
    responsible_unit = models.CharField(max_length=100)
    responsible_person = models.CharField(max_length=50)
    deadline = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closing_evidence = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["status", "deadline", "id"]

    def __str__(self) -> str:
        return self.problem[:40]


class RectificationProgress(models.Model):
    """A monthly progress note (月度进展) on a rectification."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="progress")
    month = models.CharField(max_length=7)  # YYYY-MM
    note = models.TextField()
    percent = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["month", "at"]

    def __str__(self) -> str:
        return f"{self.month} {self.percent}%"


class Complaint(models.Model):
    """A complaint or request (诉求) from the 12317 hotline, online, a visit or a letter: intake, routing to the
    responsible region and unit, a deadline, the reply, and the caller's satisfaction (1–5)."""

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("12317热线")
        ONLINE = "online", _("网上")
        VISIT = "visit", _("来访")
        LETTER = "letter", _("来信")

    class Kind(models.TextChoices):
        REQUEST = "request", _("求助")
        COMPLAINT = "complaint", _("投诉")
        CONSULTATION = "consultation", _("咨询")
        SUGGESTION = "suggestion", _("建议")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已受理")
        ROUTED = "routed", _("已转办")
        COMPLETED = "completed", _("已办结")

    receipt_no = models.CharField(max_length=20, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.REQUEST)
    region_code = models.CharField(max_length=12, db_index=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    complainant = models.CharField(max_length=50, blank=True)
    content = models.TextField()
    routed_to_code = models.CharField(max_length=12, blank=True)
    routed_unit = models.CharField(max_length=100, blank=True)
    deadline = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reply = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["status", "deadline", "id"]

    def __str__(self) -> str:
        return self.receipt_no


class FundProject(models.Model):
    """A linkage-fund project (衔接资金项目) of a year: budget, where the money comes from, the part that goes to
    industry, start and completion."""

    class Category(models.TextChoices):
        INDUSTRY = "industry", _("产业发展")
        EMPLOYMENT = "employment", _("就业")
        INFRASTRUCTURE = "infrastructure", _("基础设施")
        LIVING = "living", _("生产生活条件")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        PLANNED = "planned", _("未开工")
        STARTED = "started", _("已开工")
        COMPLETED = "completed", _("已完工")

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=40, blank=True)
    region_code = models.CharField(max_length=12, db_index=True)
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=Category.choices)
    budget = models.DecimalField(max_digits=14, decimal_places=2)
    industry_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    started_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    completion_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-year", "region_code", "id"]

    def __str__(self) -> str:
        return self.name


class FundSource(models.Model):
    """Where part of a project's budget comes from (central, provincial, city, county, other)."""

    class Level(models.TextChoices):
        CENTRAL = "central", _("中央")
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")
        OTHER = "other", _("其他")

    project = models.ForeignKey(FundProject, on_delete=models.CASCADE, related_name="sources")
    level = models.CharField(max_length=10, choices=Level.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.level} {self.amount}"


class FundMovement(models.Model):
    """Money allocated to or spent by a project. Never edited: a correction is a new movement (negative amount);
    each one is appended to the tamper-evident ledger in the same transaction (`ledger_seq`)."""

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("下达")
        SPENDING = "spending", _("支出")

    project = models.ForeignKey(FundProject, on_delete=models.PROTECT, related_name="movements")
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    voucher_no = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} @ {self.date}"


class ProjectAsset(models.Model):
    """An asset a project formed (经营性 / 公益性 / 到户类): who owns and keeps it, its value, the income it earns."""

    class Type(models.TextChoices):
        OPERATING = "operating", _("经营性")
        PUBLIC_BENEFIT = "public_benefit", _("公益性")
        HOUSEHOLD = "household", _("到户类")

    project = models.ForeignKey(FundProject, on_delete=models.PROTECT, related_name="assets")
    name = models.CharField(max_length=200)
    asset_type = models.CharField(max_length=20, choices=Type.choices)
    region_code = models.CharField(max_length=12, db_index=True)
    owner = models.CharField(max_length=100)  # 所有权人, e.g. the village collective
    custodian = models.CharField(max_length=100)  # 管护主体
    value = models.DecimalField(max_digits=14, decimal_places=2)
    formed_on = models.DateField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["region_code", "id"]

    def __str__(self) -> str:
        return self.name


class AssetIncome(models.Model):
    """Income an operating asset earned in a year and how it was distributed (to households, the collective,
    maintenance…, as shares in `distribution`)."""

    asset = models.ForeignKey(ProjectAsset, on_delete=models.PROTECT, related_name="incomes")
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    distribution = models.JSONField(default=dict)  # {"households": "6000.00", "collective": "3000.00", ...}
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "id"]

    def __str__(self) -> str:
        return f"{self.year} {self.amount}"
