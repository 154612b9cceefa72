"""Reads of the ledger, region-scoped like every other page: an entry is shown to a user if the place it is about
lies in the user's regions. The place comes from the entry's payload (a region code, a household, a fund project
or an asset); entries that name no place (screening rules, user accounts) hold for the whole platform and are shown
to every audit role. Verifying the chain still reads every entry: a hash chain can only be checked whole."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import BigIntegerField, CharField, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from guardline.accounts.scope import region_code_q, region_q, scope_codes

from .models import LedgerEntry


def ledger_entries(user, kind: str = "") -> QuerySet[LedgerEntry]:
    from guardline.oversight.models import FundProject, ProjectAsset
    from guardline.registry.models import Household

    qs = LedgerEntry.objects.annotate(
        place=Coalesce(KT("payload__region_code"), KT("payload__region"), output_field=CharField()),
        household=Cast(KT("payload__household_id"), BigIntegerField()),
        project=Cast(KT("payload__project"), BigIntegerField()),
        asset=Cast(KT("payload__asset"), BigIntegerField()),
    )
    placeless = Q(place__isnull=True, household__isnull=True, project__isnull=True, asset__isnull=True)
    codes = scope_codes(user)
    visible = placeless
    if codes:
        visible |= reduce(or_, (Q(place__startswith=code) for code in codes))
        visible |= Q(household__in=Household.objects.filter(region_q(user)).values("pk"))
        visible |= Q(project__in=FundProject.objects.filter(region_code_q(user, "region_code")).values("pk"))
        visible |= Q(asset__in=ProjectAsset.objects.filter(region_code_q(user, "region_code")).values("pk"))
    qs = qs.filter(visible)
    if kind in LedgerEntry.Kind.values:
        qs = qs.filter(kind=kind)
    return qs.order_by("-seq")
