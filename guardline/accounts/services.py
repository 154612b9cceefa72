"""Writes to accounts: creating users with a role and region scopes."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from guardline.core.changelog import change_entry, log_changes
from guardline.ledger.services import ledger_append
from guardline.regions.models import Region

from .models import RegionScope, Role, User
from .roles import Perm, has_perm
from .scope import in_scope


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    regions: Iterable[str],
    full_name: str = "",
    department: str = "",
) -> User:
    """Create a user with a role and one or more region scopes. An administrator may only grant regions inside
    their own scope (actor=None is the command line, trusted)."""
    if role not in Role.values:
        raise ValidationError(f"未知角色: {role}")
    codes = list(dict.fromkeys(regions))
    if not codes:
        raise ValidationError("至少需要一个管辖地区")
    found = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(f"地区代码不存在: {', '.join(missing)}")
    if actor is not None:
        if not has_perm(actor, Perm.MANAGE_USERS):
            raise PermissionDenied("您的角色不能管理用户")
        outside = [c for c in codes if not in_scope(actor, c)]
        if outside:
            raise PermissionDenied(f"不能授权您管辖范围以外的地区: {', '.join(outside)}")
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"用户名已存在: {username}")
    user = User(username=username, role=role, full_name=full_name, department=department)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    RegionScope.objects.bulk_create([RegionScope(user=user, region_id=c) for c in codes])
    log_changes(
        [
            change_entry(
                entity="user",
                entity_id=user.pk,
                household_id=None,
                action="create",
                before=None,
                after={"username": username, "role": role, "regions": codes},
                actor_id=actor.pk if actor else None,
            )
        ]
    )
    ledger_append(kind="admin", entity="user", entity_id=user.pk, actor=actor, payload={"action": "create", "username": username, "role": role, "regions": codes})  # fmt: skip
    return user


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one per user, created on the first visit to the set-up page)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "authenticator"}
    )
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm a new authenticator with a code it produced; replaces any earlier one. Logged."""
    if device.user_id != user.pk or not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    log_changes(
        [
            change_entry(
                entity="user",
                entity_id=user.pk,
                household_id=None,
                action="2fa_enrol",
                before=None,
                after={"device": device.name},
                actor_id=user.pk,
            )
        ]
    )
    return True


@transaction.atomic
def totp_device_reset(*, actor: User | None, user: User) -> None:
    """An administrator removes a user's authenticator (lost phone); the user enrols again at next sign-in."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    log_changes(
        [
            change_entry(
                entity="user",
                entity_id=user.pk,
                household_id=None,
                action="2fa_reset",
                before={"devices": removed},
                after={"devices": 0},
                actor_id=actor.pk if actor else None,
            )
        ]
    )
    ledger_append(kind="admin", entity="user", entity_id=user.pk, actor=actor, payload={"action": "two_factor_reset", "devices": removed})  # fmt: skip
