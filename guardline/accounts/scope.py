"""Region scope: the one place that turns "this user's regions" into query filters and checks.

Every selector filters through `region_q`; every service that writes checks `in_scope` first. A user with no scope
sees nothing (never everything).
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from guardline.regions.models import code_range


def scope_codes(user) -> list[str]:
    """The region codes a user works in (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_scope_codes", None)
    if cached is None:
        cached = sorted(user.scopes.values_list("region_id", flat=True))
        user._scope_codes = cached
    return cached


def region_q(user, field: str = "village_code") -> Q:
    """A filter on a 12-digit village-code field restricting rows to the user's regions."""
    codes = scope_codes(user)
    if not codes:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__range": code_range(code)}) for code in codes))


def region_code_q(user, field: str = "code") -> Q:
    """A filter on a region-code field of any level: regions inside the user's scope, and their ancestors' codes
    are excluded (a village cadre must not browse the county's other villages)."""
    codes = scope_codes(user)
    if not codes:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": code}) for code in codes))


def in_scope(user, village_or_region_code: str) -> bool:
    """True if the code (a village or any region inside) lies within one of the user's regions."""
    return any(village_or_region_code.startswith(code) for code in scope_codes(user))


def require_scope(user, code: str) -> None:
    if not in_scope(user, code):
        raise PermissionDenied("该地区不在您的管辖范围内")
