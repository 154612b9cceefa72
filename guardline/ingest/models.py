"""Import batches: one record per file imported, with counts, status, and the row-level error report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guardline.core.fields import BlindIndexField, EncryptedCharField


class ImportBatch(models.Model):
    """A file imported into the registry (or, later, a department feed).

    `sha256` identifies the content: a file already imported completely is recognised and not applied again. A
    batch that died mid-way stays `running`/`failed` and can simply be imported again: every write is an upsert on
    natural keys, so finishing it duplicates nothing.
    """

    class Kind(models.TextChoices):
        REGISTRY = "registry", _("户籍台账")
        INCOME = "income", _("收入与三保障")
        FEED = "feed", _("部门数据")

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
    feed = models.CharField(max_length=40, blank=True)
    linked = models.PositiveIntegerField(default=0)
    unlinked = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    error_report = models.FileField(upload_to="import-reports/", blank=True)
    errors_sample = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.status})"


class FeedEvent(models.Model):
    """One department record (a settlement, a diagnosis, a disaster loss…), attached to a person and household.

    Lineage: `batch` + `source_row` point back to the file and row it came from. `key_hash` identifies the record
    by its natural key, so re-sending the same record never creates a second event. Linking only attaches events;
    it never changes registry data."""

    class LinkStatus(models.TextChoices):
        LINKED = "linked", _("已关联")
        UNLINKED = "unlinked", _("未关联")
        REVIEW = "review", _("待人工核对")
        VILLAGE = "village", _("村级")

    feed = models.CharField(max_length=40)
    key_hash = models.CharField(max_length=64)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    source_row = models.PositiveIntegerField(null=True, blank=True)
    event_date = models.DateField(db_index=True)
    id_number = EncryptedCharField(max_length=18, blank=True)
    id_status = models.CharField(max_length=20, blank=True)
    id_prefix15 = EncryptedCharField(max_length=15, blank=True)  # what Excel left of a damaged ID
    # Keyed hashes (guardline.core.crypto.blind_index) of the ID number and of the 15-character prefix: the ID
    # link and the linkage's blocking compare these with the members' own.
    id_number_hash = BlindIndexField(source="id_number", db_index=True)
    id_prefix15_hash = BlindIndexField(source="id_prefix15")
    name = models.CharField(max_length=50, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=6, blank=True)  # "male" / "female" as in the registry, "" if not given
    village_code = models.CharField(max_length=12, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    # What screening reads besides the date (the feed declaration's screen_amount / screen_kind), as columns so a
    # screening pass over millions of events never parses JSON.
    amount = models.FloatField(null=True, blank=True)
    kind = models.CharField(max_length=30, blank=True)
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    member = models.ForeignKey(
        "registry.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    link_status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNLINKED)
    link_method = models.CharField(max_length=20, blank=True)
    link_note = models.CharField(max_length=200, blank=True)
    link_score = models.FloatField(null=True, blank=True)
    candidate = models.ForeignKey(
        "registry.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("待人工核对的候选成员"),
    )
    # Set when the probabilistic stage has looked at the event, so later runs link new events only.
    link_examined_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "key_hash"], name="feed_event_natural_key")]
        indexes = [
            models.Index(fields=["household", "event_date"]),
            models.Index(fields=["feed", "link_status"]),
            models.Index(fields=["link_status", "link_examined_at"]),
            # Covers the screening extract's scan of linked and village-level events (guardline.screening.extract):
            # SQLite reads these ~100-byte entries instead of decoding the ~370-byte rows (encrypted ID, hashes,
            # payload), in household order; PostgreSQL can answer it with an index-only scan. The price is one
            # more index entry to write per imported event and per link change.
            models.Index(
                fields=[
                    "link_status",
                    "household",
                    "feed",
                    "member",
                    "village_code",
                    "event_date",
                    "created_at",
                    "amount",
                    "kind",
                ],
                name="feedevent_screening_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feed} {self.event_date} {self.name}"
