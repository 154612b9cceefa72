"""The public REST API (OpenAPI at /api/v1/docs). Every endpoint reads through the same region-scoped selectors as
the pages."""

from __future__ import annotations

from datetime import date

from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import django_auth

from engine.ids import mask_id_number, mask_phone
from guardline.accounts.roles import Perm, has_perm
from guardline.registry import selectors

api = NinjaAPI(title="Guardline API", version="1", urls_namespace="api", auth=django_auth)


class HouseholdOut(Schema):
    id: int
    household_no: str
    village_code: str
    household_type: str
    monitor_category: str
    head_name: str
    member_count: int
    phone_masked: str
    latest_income_year: int | None
    latest_per_capita_income: float | None

    @staticmethod
    def resolve_phone_masked(obj) -> str:
        return mask_phone(obj.phone)


class MemberOut(Schema):
    id: int
    name: str
    id_number_masked: str
    relation: str
    sex: str
    birth_date: date | None
    health: str
    labour_capacity: str
    is_active: bool


class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]


def _household(h) -> dict:
    return {
        "id": h.pk,
        "household_no": h.household_no,
        "village_code": h.village_code,
        "household_type": h.household_type,
        "monitor_category": h.monitor_category,
        "head_name": h.head_name,
        "member_count": h.member_count,
        "phone_masked": mask_phone(h.phone),
        "latest_income_year": h.latest_income_year,
        "latest_per_capita_income": float(h.latest_per_capita_income)
        if h.latest_per_capita_income is not None
        else None,
    }


def _require(request) -> None:
    if not has_perm(request.user, Perm.VIEW_REGISTRY):
        raise HttpError(403, "您的角色不能查看台账")


@api.get("/households", response=list[HouseholdOut], tags=["registry"])
@paginate(LimitOffsetPagination)
def list_households(request, region: str = "", household_type: str = "", monitor_category: str = ""):
    """Households in the caller's regions (ID numbers and phones masked)."""
    _require(request)
    filters = selectors.HouseholdFilters(
        region=region, household_type=household_type, monitor_category=monitor_category
    )
    return selectors.household_list(request.user, filters)


@api.get("/households/{household_id}", response=HouseholdDetailOut, tags=["registry"])
def get_household(request, household_id: int):
    """One household with its members; 404 if it is outside the caller's regions."""
    _require(request)
    h = selectors.household_get(request.user, household_id)
    members = [
        {
            "id": m.pk,
            "name": m.name,
            "id_number_masked": mask_id_number(m.id_number),
            "relation": m.relation,
            "sex": m.sex,
            "birth_date": m.birth_date,
            "health": m.health,
            "labour_capacity": m.labour_capacity,
            "is_active": m.is_active,
        }
        for m in selectors.household_members(request.user, h)
    ]
    return {**_household(h), "members": members}
