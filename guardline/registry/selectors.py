"""Reads of the registry, always restricted to the user's regions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from engine import vocab
from guardline.accounts.scope import region_q
from guardline.core.crypto import blind_index
from guardline.core.models import ChangeLog

from .models import Household, HouseholdYear, Member

INCOME_BANDS: dict[str, tuple[Decimal | None, Decimal | None, str]] = {
    "lt6000": (None, Decimal(6000), "< 6,000"),
    "6000_8700": (Decimal(6000), Decimal(8700), "6,000–8,700"),
    "8700_12000": (Decimal(8700), Decimal(12000), "8,700–12,000"),
    "12000_20000": (Decimal(12000), Decimal(20000), "12,000–20,000"),
    "ge20000": (Decimal(20000), None, "≥ 20,000"),
    "none": (None, None, "无收入数据"),
}


@dataclass(frozen=True)
class HouseholdFilters:
    region: str = ""
    household_type: str = ""
    monitor_category: str = ""
    income_band: str = ""
    q: str = ""


def household_list(user, filters: HouseholdFilters | None = None) -> QuerySet[Household]:
    """Households in the user's regions, filtered; ordered by village then household number (an index)."""
    f = filters or HouseholdFilters()
    qs = Household.objects.filter(region_q(user), is_active=True)
    if f.region:
        from guardline.regions.models import code_range

        qs = qs.filter(village_code__range=code_range(f.region))
    if f.household_type:
        qs = qs.filter(household_type=f.household_type)
    if f.monitor_category == "any":
        # Equality on each category lets the (monitor_category, village_code) index serve the filter.
        qs = qs.filter(monitor_category__in=list(vocab.MONITOR_CATEGORIES))
    elif f.monitor_category:
        qs = qs.filter(monitor_category=f.monitor_category)
    if f.income_band in INCOME_BANDS:
        low, high, _ = INCOME_BANDS[f.income_band]
        if f.income_band == "none":
            qs = qs.filter(latest_per_capita_income__isnull=True)
        else:
            if low is not None:
                qs = qs.filter(latest_per_capita_income__gte=low)
            if high is not None:
                qs = qs.filter(latest_per_capita_income__lt=high)
    if f.q:
        term = f.q.strip()
        if term.isdigit() or (len(term) == 18 and term[:17].isdigit()):
            person = Member.objects.filter(id_number_hash=blind_index(term.upper())).values("household_id")
            qs = qs.filter(household_no=term) | qs.filter(pk__in=person)
        else:
            qs = qs.filter(head_name=term)
    return qs.order_by("village_code", "household_no")


def household_get(user, pk: int) -> Household:
    """One household if it lies in the user's regions; 404 otherwise (not 403: do not reveal it exists)."""
    household = Household.objects.filter(region_q(user), pk=pk).first()
    if household is None:
        raise Http404("户不存在或不在您的管辖范围内")
    return household


def household_members(user, household: Household) -> QuerySet[Member]:
    household_get(user, household.pk)
    return household.members.order_by("-is_active", "id")


def household_years(user, household: Household) -> QuerySet[HouseholdYear]:
    household_get(user, household.pk)
    return household.years.order_by("-year", "snapshot_kind")


def household_changes(user, household: Household, limit: int = 200) -> QuerySet[ChangeLog]:
    household_get(user, household.pk)
    return (
        ChangeLog.objects.filter(household_id=household.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def member_get(user, pk: int) -> Member:
    member = Member.objects.select_related("household").filter(pk=pk).first()
    if member is None or not Household.objects.filter(region_q(user), pk=member.household_id).exists():
        raise Http404("成员不存在或不在您的管辖范围内")
    return member


def household_events(user, household: Household, limit: int = 200):
    """Department events of the household (linked to it) and of its village (village-level rows), newest first."""
    from django.db.models import Q

    from guardline.ingest.models import FeedEvent

    household_get(user, household.pk)
    return (
        FeedEvent.objects.filter(
            Q(household=household) | Q(link_status="village", village_code=household.village_code)
        )
        .select_related("member", "batch")
        .order_by("-event_date", "-id")[:limit]
    )
