"""API credentials: one token per department system that pushes events."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentToken(models.Model):
    """A bearer token for a department's system. Only its SHA-256 is stored; the token is shown once at creation."""

    name = models.CharField(_("名称"), max_length=100)
    department = models.CharField(_("所属部门"), max_length=40)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, help_text=_("数据所属地区"))
    token_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.department})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return "gl_" + secrets.token_urlsafe(32)
