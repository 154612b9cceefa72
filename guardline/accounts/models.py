"""Users, their role and the regions they may see and act in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from guardline.core.fields import EncryptedCharField


class Role(models.TextChoices):
    PROVINCE_OFFICER = "province_officer", _("省级管理人员")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    COUNTY_STAFF = "county_staff", _("县级工作人员")
    TOWNSHIP_REVIEWER = "township_reviewer", _("乡镇审核人员")
    VILLAGE_CADRE = "village_cadre", _("村干部")
    GRID_WORKER = "grid_worker", _("网格员")
    DEPARTMENT_OFFICER = "department_officer", _("部门数据专员")
    AUDITOR = "auditor", _("审计人员（只读）")


class User(AbstractUser):
    """A platform user. What they may do comes from `role` (see accounts.roles); where, from their scopes."""

    role = models.CharField(max_length=30, choices=Role.choices, default=Role.VILLAGE_CADRE)
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    department = models.CharField(_("所属部门"), max_length=40, blank=True)
    phone = EncryptedCharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.username


class RegionScope(models.Model):
    """One region a user works in; the user sees everything inside it (all levels below)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scopes")
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")

    class Meta:
        unique_together = [("user", "region")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.region_id}"
