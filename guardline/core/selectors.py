"""Reads of the audit logs (personal-data accesses and the change log), scoped like every other read: a user sees
the entries about places inside their regions. An access entry's place is its `region_code`; a change's place is
its household's village, else a region or village code in its before/after (oversight records, grids, monitoring
lines). Changes that name no place at all (user accounts, screening rules, tokens) hold for the whole platform and
are shown to every audit role, as on the ledger page, but never when a region is asked for. `user=None` is an
operator at the command line: every entry."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from guardline.accounts.scope import region_code_q, scope_codes

from .models import ChangeLog, PersonalDataAccess


def _period(qs: QuerySet, since: dt.datetime | None, until: dt.datetime | None) -> QuerySet:
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs


def audit_accesses(
    user, *, since: dt.datetime | None = None, until: dt.datetime | None = None, region: str = ""
) -> QuerySet[PersonalDataAccess]:
    """Personal-data accesses in [since, until), oldest first, annotated with `household_no`."""
    from guardline.registry.models import Household

    households = Household.objects.filter(pk=OuterRef("household_id"))
    qs = _period(PersonalDataAccess.objects.select_related("user"), since, until).annotate(
        household_no=Subquery(households.values("household_no")[:1])
    )
    if user is not None:
        qs = qs.filter(region_code_q(user, "region_code"))
    if region:
        qs = qs.filter(region_code__startswith=region)
    return qs.order_by("at", "id")


def audit_changes(
    user, *, since: dt.datetime | None = None, until: dt.datetime | None = None, region: str = ""
) -> QuerySet[ChangeLog]:
    """Change-log entries in [since, until), oldest first, annotated with `place` (a region code, or None) and
    `household_no`."""
    from guardline.registry.models import Household

    households = Household.objects.filter(pk=OuterRef("household_id"))
    qs = _period(ChangeLog.objects.select_related("actor"), since, until).annotate(
        household_no=Subquery(households.values("household_no")[:1]),
        place=Coalesce(
            Subquery(households.values("village_code")[:1]),
            KT("after__region_code"),
            KT("after__village_code"),
            KT("before__region_code"),
            KT("before__village_code"),
            output_field=CharField(),
        ),
    )
    # a household's entry whose household is gone has no place, but it is not the platform's: never placeless
    placeless = Q(place__isnull=True, household_id__isnull=True)
    if user is not None:
        codes = scope_codes(user)
        visible = placeless
        if codes:
            visible |= reduce(or_, (Q(place__startswith=code) for code in codes))
        qs = qs.filter(visible)
    if region:
        qs = qs.filter(place__startswith=region)
    return qs.order_by("at", "id")
