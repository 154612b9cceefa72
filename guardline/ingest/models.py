"""Import batches: one record per file imported, with counts, status, and the row-level error report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """A file imported into the registry (or, later, a department feed).

    `sha256` identifies the content: a file already imported completely is recognised and not applied again. A
    batch that died mid-way stays `running`/`failed` and can simply be imported again: every write is an upsert on
    natural keys, so finishing it duplicates nothing.
    """

    class Kind(models.TextChoices):
        REGISTRY = "registry", _("户籍台账")
        INCOME = "income", _("收入与三保障")

    class Status(models.TextChoices):
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        DUPLICATE = "duplicate", _("重复文件（未重复导入）")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    error_report = models.FileField(upload_to="import-reports/", blank=True)
    errors_sample = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.status})"
