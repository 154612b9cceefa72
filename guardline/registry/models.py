"""The household registry: households, members, and yearly income and living conditions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from engine import vocab
from engine.ids import IdStatus
from guardline.core.fields import BlindIndexField, EncryptedCharField


def _choices(v: dict[str, str]) -> list[tuple[str, str]]:
    return vocab.choices(v)


class Household(models.Model):
    """A household (户): the unit of monitoring. `id` is the platform's stable id; `household_no` the national
    household number (户编号). The village code is kept as given even when the division table does not (yet) know it:
    areas are recoded over the years, and that is a warning, never a reason to drop a household."""

    household_no = models.CharField(_("户编号"), max_length=32, unique=True)
    village_code = models.CharField(_("行政区划代码"), max_length=12)
    household_type = models.CharField(
        _("户类型"), max_length=20, choices=_choices(vocab.HOUSEHOLD_TYPES), blank=True
    )
    monitor_category = models.CharField(
        _("监测对象类别"), max_length=30, choices=_choices(vocab.MONITOR_CATEGORIES), blank=True
    )
    no_labour_household = models.BooleanField(_("整户无劳动能力"), default=False)
    relocation_site = models.BooleanField(_("易地搬迁安置户"), default=False)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True)
    head_name = models.CharField(_("户主姓名"), max_length=50, blank=True)
    member_count = models.PositiveSmallIntegerField(_("人口数"), default=0)
    latest_income_year = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_per_capita_income = models.DecimalField(
        _("人均纯收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["village_code", "household_no"]),
            models.Index(fields=["household_type", "village_code"]),
            models.Index(fields=["monitor_category", "village_code"]),
            models.Index(fields=["latest_per_capita_income"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_no} {self.head_name}"

    # Fields compared and logged by the import and edit services.
    TRACKED = ("village_code", "household_type", "monitor_category", "phone", "relocation_site", "is_active")


class Member(models.Model):
    """A member of a household. `id_number` is the normalised 18-character citizen ID (unique nationally),
    encrypted at rest; look members up by `id_number_hash` (guardline.core.crypto.blind_index)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedCharField(_("证件号码"), max_length=18)
    # Keyed hashes of the ID number and of its first 15 characters (what survives Excel): lookups and linkage.
    id_number_hash = BlindIndexField(source="id_number", unique=True)
    id_prefix15_hash = BlindIndexField(source="id_number", transform="prefix15", db_index=True)
    id_status = models.CharField(max_length=20, default=IdStatus.VALID)
    relation = models.CharField(_("与户主关系"), max_length=20, choices=_choices(vocab.RELATIONS))
    sex = models.CharField(_("性别"), max_length=6, choices=_choices(vocab.SEXES), blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    education = models.CharField(_("文化程度"), max_length=20, choices=_choices(vocab.EDUCATION), blank=True)
    student_status = models.CharField(
        _("在校生状况"), max_length=20, choices=_choices(vocab.STUDENT_STATUSES), blank=True
    )
    health = models.CharField(_("健康状况"), max_length=20, choices=_choices(vocab.HEALTH), blank=True)
    disability_grade = models.PositiveSmallIntegerField(_("残疾等级"), null=True, blank=True)
    labour_capacity = models.CharField(
        _("劳动技能"), max_length=20, choices=_choices(vocab.LABOUR_CAPACITIES), blank=True
    )
    migrant_work = models.CharField(
        _("务工状况"), max_length=20, choices=_choices(vocab.MIGRANT_WORK), blank=True
    )
    work_months = models.PositiveSmallIntegerField(_("务工时间(月)"), null=True, blank=True)
    basic_medical_insured = models.BooleanField(_("参加基本医疗保险"), null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return self.name

    TRACKED = (
        "household_id",
        "name",
        "relation",
        "sex",
        "birth_date",
        "education",
        "student_status",
        "health",
        "disability_grade",
        "labour_capacity",
        "migrant_work",
        "work_months",
        "basic_medical_insured",
        "is_active",
    )


class HouseholdYear(models.Model):
    """Income and living conditions of a household for one year and snapshot kind (INTERCHANGE §2).

    The derived figures (net income, per capita, adjusted) are computed by `engine.income` and carry the formula
    version that produced them, so a change of formula never silently rewrites history.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("年度"))
    snapshot_kind = models.CharField(max_length=20, choices=_choices(vocab.SNAPSHOT_KINDS), default="annual")
    wage_income = models.DecimalField(_("工资性收入"), max_digits=12, decimal_places=2, null=True, blank=True)
    business_income = models.DecimalField(
        _("生产经营性收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    property_income = models.DecimalField(
        _("财产性收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    transfer_income = models.DecimalField(
        _("转移性收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    business_cost = models.DecimalField(
        _("生产经营性支出"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    claim_income = models.DecimalField(_("理赔收入"), max_digits=12, decimal_places=2, null=True, blank=True)
    compliant_out_of_pocket = models.DecimalField(
        _("合规自付支出"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    housing_unsafe = models.BooleanField(_("住房出现安全问题"), null=True, blank=True)
    dropout = models.BooleanField(_("义务教育阶段失学辍学"), null=True, blank=True)
    water_unsafe = models.BooleanField(_("饮水出现安全问题"), null=True, blank=True)
    uninsured_member = models.BooleanField(_("有家庭成员未参加基本医疗保险"), null=True, blank=True)
    household_size = models.PositiveSmallIntegerField(default=0)
    net_income = models.DecimalField(_("家庭纯收入"), max_digits=12, decimal_places=2, null=True, blank=True)
    per_capita_net_income = models.DecimalField(
        _("人均纯收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    adjusted_income = models.DecimalField(
        _("调整后收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    per_capita_adjusted_income = models.DecimalField(
        _("人均调整后收入"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    formula_version = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["household_id", "-year"]
        unique_together = [("household", "year", "snapshot_kind")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year} {self.snapshot_kind}"

    INPUTS = (
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "business_cost",
        "claim_income",
        "compliant_out_of_pocket",
        "housing_unsafe",
        "dropout",
        "water_unsafe",
        "uninsured_member",
    )
    DERIVED = (
        "household_size",
        "net_income",
        "per_capita_net_income",
        "adjusted_income",
        "per_capita_adjusted_income",
        "formula_version",
    )
