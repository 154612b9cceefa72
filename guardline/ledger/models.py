"""The tamper-evident ledger: an append-only hash chain of fund movements, decisions on households and
administrative changes, with signed checkpoints. Rows are never updated or deleted by the platform; nothing here
has a foreign key, so deleting a user or a case can never rewrite (and so break) an entry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        FUND = "fund", _("资金")
        DECISION = "decision", _("对户决定")
        ADMIN = "admin", _("管理变更")

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entity = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=64)
    actor_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    # Unique: no two entries can follow the same predecessor, so the chain cannot fork even if a writer bypassed
    # the head row's lock.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["entity", "entity_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.entity}#{self.entity_id}"


class LedgerHead(models.Model):
    """One row (pk=1): the last sequence number and hash. Appends UPDATE it first, which takes the write lock
    (SQLite) or the row lock (PostgreSQL) before the head is read, so concurrent appends queue instead of forking.
    Verification never trusts it beyond noticing entries cut off the end."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class LedgerCheckpoint(models.Model):
    """A signed statement "entry `seq` had hash `hash`" (HMAC-SHA256 with GUARDLINE_LEDGER_KEY)."""

    seq = models.PositiveBigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"
