"""Screening: the rules and parameters it runs with (data, versioned), its runs, every household's current grade,
and the warnings it raises. The engine (engine.screening) does the computing; these tables keep what it decided."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    RED = "red", _("红色")
    YELLOW = "yellow", _("黄色")
    GREEN = "green", _("绿色")


class ScreeningRule(models.Model):
    """One version of a trigger (engine.screening.rules.Rule). Editing a rule adds a version; the newest active
    version of each code is in force. Conditions are validated by the engine before they are saved."""

    code = models.CharField(_("规则代码"), max_length=40)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(_("名称"), max_length=100)
    risk_type = models.CharField(_("风险类型"), max_length=10)
    severity = models.CharField(
        _("严重程度"), max_length=10, choices=[("severe", _("严重（红色）")), ("hard", _("一般（至少黄色）"))]
    )
    condition = models.TextField(_("条件"))
    signal_date = models.CharField(_("信号日期字段"), max_length=40, blank=True)
    reason = models.CharField(_("原因模板"), max_length=300)
    sources = models.JSONField(default=list, blank=True)
    # "" = every household of the province; else the division (a county…) whose households alone it applies to:
    # a region's own trigger, kept by that region's managers.
    region_code = models.CharField(_("适用地区"), max_length=12, blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("修改依据"), max_length=200, blank=True)  # why: a document number, a decision
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="screening_rule_version")]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class ScreeningParameter(models.Model):
    """A regional value of a screening parameter or index weight (`w_<indicator>`): applies to every village
    whose code starts with `region_code`, for `year` (blank = every year). Most specific region wins."""

    name = models.CharField(_("参数"), max_length=60)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    value = models.FloatField(_("取值"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "region_code", "year"], name="screening_param_scope"),
        ]
        ordering = ["name", "region_code", "year"]

    def __str__(self) -> str:
        return f"{self.name}@{self.region_code or '全国'}={self.value}"


class ScreeningRun(models.Model):
    """One pass over the households of a region (all, or one household on the live path)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        DONE = "done", _("完成")
        FAILED = "failed", _("失败")

    as_of = models.DateField(_("筛查日期"))
    backend = models.CharField(max_length=10, default="duckdb")
    scope = models.CharField(_("范围"), max_length=40, blank=True)  # "" = all, or "households:<count>"
    # The households of a scoped run (the live path): what a run that started before it must not overwrite with
    # older data when it writes after it (services._overtaken). None for a run over every household.
    household_ids = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    households = models.PositiveIntegerField(default=0)
    red = models.PositiveIntegerField(default=0)
    yellow = models.PositiveIntegerField(default=0)
    green = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(
        default=0
    )  # open warnings whose content (grade, score, reasons…) changed
    unchanged = models.PositiveIntegerField(default=0)  # open warnings found again exactly as they were
    closed = models.PositiveIntegerField(default=0)
    rules_version = models.CharField(max_length=64, blank=True)
    # What graded beyond the triggers: the index, or a learned model that beat the index on held-out data.
    scorer = models.CharField(_("评分方法"), max_length=10, default="index")
    model_name = models.CharField(max_length=200, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"screening {self.as_of} #{self.pk}"


class RuleFiring(models.Model):
    """On how many households of a county a trigger fired in one run over every household
    (engine.screening.firings): a trigger's history, which its current count cannot give — the step when the rule
    or a threshold was edited, the fall to nothing when a department's feed stopped arriving. Rule code "" holds
    the county's households the run graded. Kept per county, where rules and thresholds are kept: about a
    hundred counties × the triggers per run of a province."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="firings")
    county_code = models.CharField(max_length=6)
    rule_code = models.CharField(max_length=40, blank=True)
    households = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "county_code", "rule_code"], name="screening_firing_once")
        ]
        indexes = [models.Index(fields=["rule_code", "run"], name="screening_firing_rule")]

    def __str__(self) -> str:
        return f"{self.rule_code or 'screened'} {self.county_code} run #{self.run_id}: {self.households}"


class RowidOneToOneField(models.OneToOneField):
    """A one-to-one primary key that SQLite stores as the table's rowid. SQLite makes only a column typed exactly
    `integer` its rowid: the `bigint` of a key to a BigAutoField becomes a unique index beside a hidden rowid. The
    same 64-bit integer either way; other databases get the usual type. (1M grade rows inserted in a scratch
    measurement: 3.4-3.6 s as the rowid, 4.0 s as a bigint key, 4.6-4.8 s with a surrogate id.)"""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class HouseholdGrade(models.Model):
    """Every household's current grade and score (one row per household, rewritten only when it changes).

    Its two keys are not foreign-key constraints in the database: the rows are derived (each run rewrites what
    changed) and are written a million at a time, and the database checks a deferred constraint row by row when
    the run commits — on PostgreSQL by locking the household's and the run's rows, 7.4 s of a 1M first run's
    commit. Deleting a household or a run through Django still deletes or clears its grades (on_delete)."""

    # Keyed by the household itself: a full pass writes a million rows, and on SQLite the key is then the table's
    # rowid — one B-tree fewer than a surrogate id beside a unique household index.
    household = RowidOneToOneField(
        "registry.Household",
        on_delete=models.CASCADE,
        related_name="grade",
        primary_key=True,
        db_constraint=False,
    )
    village_code = models.CharField(max_length=12)
    grade = models.CharField(max_length=6, choices=Grade.choices)
    score = models.FloatField()
    rules = models.CharField(max_length=400, blank=True)
    as_of = models.DateField()
    # Not indexed: nothing looks grades up by run, and a full pass writes a row per household — every index is
    # written a million times. (Deleting a run, which never happens in use, scans to clear it.)
    run = models.ForeignKey(
        ScreeningRun, null=True, on_delete=models.SET_NULL, db_index=False, db_constraint=False
    )
    updated_at = models.DateTimeField()

    class Meta:
        # One index for what is read by region (a village-code prefix) and counted by grade — covering those
        # counts — rather than one per column: a full pass writes a million rows, each into every index.
        indexes = [models.Index(fields=["village_code", "grade"], name="grade_village_grade")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.grade}"


# DOMAIN §5 response clock, as settings with these defaults (hours until on site / plan; visit cadence in days).
RESPONSE_DEFAULTS = {
    "red": {"on_site_hours": 2, "plan_hours": 24, "check_days": 1},
    "yellow": {"on_site_hours": 24 * 7, "plan_hours": 24 * 30, "check_days": 7},
    "green": {"on_site_hours": 24 * 90, "plan_hours": 24 * 90, "check_days": 90},
}


def response_clock(grade: str) -> dict[str, int]:
    overrides = getattr(settings, "GUARDLINE_RESPONSE_CLOCK", {}) or {}
    return {**RESPONSE_DEFAULTS[grade], **overrides.get(grade, {})}


class RiskWarning(models.Model):
    """A household's warning: open while screening keeps finding the risk, updated in place (never duplicated),
    closed with the reason when it no longer holds. Routed to the household's township and village."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处置")
        CLOSED = "closed", _("已关闭")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="warnings")
    village_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    # status alone needs no index of its own: (status, grade, opened_at) below serves it.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    grade = models.CharField(_("预警等级"), max_length=6, choices=Grade.choices)
    score = models.FloatField(_("风险分值"))
    risk_types = models.CharField(_("风险类型"), max_length=60)
    reasons = models.JSONField(_("预警原因"), default=list)
    sources = models.JSONField(_("数据来源"), default=list)
    rules = models.CharField(max_length=400, blank=True)
    points = models.JSONField(default=list)
    first_signal_date = models.DateField(_("首次信号日期"))
    opened_at = models.DateTimeField(_("生成时间"))
    updated_at = models.DateTimeField()
    graded_at = models.DateTimeField()  # when it reached its current grade: the response clock starts here
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    # A hash of the explanation's inputs (engine.screening.explain.digests: the household's details row, the rules'
    # compiled explanation and the scorer): a run that finds it unchanged neither explains the warning again nor
    # rewrites the row. NULL on rows written before it existed (and older rows hold a hash of the written values:
    # each is rewritten once) — nullable,
    # with no default, so that adding it is an ALTER TABLE ADD COLUMN on SQLite, not a remake of millions of rows.
    digest = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    # The runs are provenance, never a lookup key: not indexed (a full pass writes hundreds of thousands of rows).
    opened_by_run = models.ForeignKey(
        ScreeningRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The last run that opened, changed or closed it (an open warning is confirmed by every later run).
    last_run = models.ForeignKey(
        ScreeningRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(status="open"), name="one_open_warning_per_household"
            )
        ]
        indexes = [models.Index(fields=["status", "grade", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.grade} {self.score:.1f}"

    @property
    def on_site_due(self):
        return self.graded_at + timedelta(hours=response_clock(self.grade)["on_site_hours"])

    @property
    def plan_due(self):
        return self.graded_at + timedelta(hours=response_clock(self.grade)["plan_hours"])


class InputChange(models.Model):
    """The id of a row of a screening input (households, members, income years, feed events: `source`, see
    guardline.screening.mirror.COPIES) inserted, deleted or changed, logged by database triggers for the columnar
    copy that full passes read. `seq` is never reused; on SQLite (AUTOINCREMENT) it is in commit order, on
    PostgreSQL it is not (guardline.screening.mirror_log). Forgotten once the copy holds the change."""

    seq = models.BigAutoField(primary_key=True)
    source = models.PositiveSmallIntegerField()
    row_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.seq}: {self.source}/{self.row_id}"


class InputCopyState(models.Model):
    """The database's side of the input copy's state (one row): the copy's token and the last change it holds.
    A copy whose own (token, watermark) differ — a crash between the two commits, a restored backup — is rebuilt."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)
    watermark = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.token} @ {self.watermark}"
