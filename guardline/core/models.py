"""Cross-cutting records: the change log and background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A piece of background work (an import, a screening run) with visible progress and a result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=200, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class ChangeLog(models.Model):
    """One change to a registry record: who, when, before/after, and the request or job that caused it."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    request_id = models.CharField(max_length=64, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL)
    entity = models.CharField(max_length=30)
    entity_id = models.BigIntegerField()
    household_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["household_id", "at"]),
            models.Index(fields=["entity", "entity_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.entity}#{self.entity_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class PersonalDataAccess(models.Model):
    """A view of unmasked personal data (ID numbers, phones): who looked at whose data, when and why.

    Whose: a household (`household_id`) or, for files that hold many people (an import batch's problem report, an
    export of the audit logs), a description in `subject`. `region_code` is the region of the data seen (the
    household's village, the batch's region), which is what the audit page's region scope filters on."""

    class Channel(models.TextChoices):
        PAGE = "page", _("页面查看")
        EXPORT = "export", _("导出台账")
        DOWNLOAD = "download", _("下载批次文件")
        AUDIT_EXPORT = "audit_export", _("导出审计日志")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    household_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    purpose = models.CharField(max_length=200)
    request_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.PAGE)
    subject = models.CharField(max_length=200, blank=True)
    region_code = models.CharField(max_length=12, blank=True, db_index=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        whose = f"household {self.household_id}" if self.household_id else self.subject
        return f"{self.user} → {whose} @ {self.at:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """A background worker process that is alive: it rewrites `seen_at` every few seconds. A task left 'running'
    by a worker whose heartbeat stopped (or whose process is gone) is put back in the queue
    (`core.worker_services.tasks_recover`)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
