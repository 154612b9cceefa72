"""The public REST API (OpenAPI at /api/v1/docs). Every endpoint reads through the same region-scoped selectors as
the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer, django_auth

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

    @staticmethod
    def resolve_id_number_masked(obj) -> str:
        return mask_id_number(obj.id_number)


class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj):
        return obj.members.order_by("-is_active", "id")


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
    return selectors.household_get(request.user, household_id)


class DepartmentTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for department systems."""

    def authenticate(self, request, token):
        from .services import token_authenticate

        found = token_authenticate(token)
        if found is not None:
            request.department_token = found
        return found


class EventsIn(Schema):
    events: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=5000,
        description="canonical field names or Chinese headers of INTERCHANGE §3",
    )


class EventResult(Schema):
    index: int
    status: str
    event_key: str | None = None
    link_status: str | None = None
    household_id: int | None = None
    note: str | None = None
    errors: list[dict[str, Any]] = []


class PushOut(Schema):
    feed: str
    received: int
    results: list[EventResult]


@api.post(
    "/feeds/{feed}/events",
    response={200: PushOut, 403: dict, 404: dict},
    auth=DepartmentTokenAuth(),
    tags=["feeds"],
)
def push_events(request, feed: str, body: EventsIn):
    """Push one or more department events. Each is validated like a file row and linked to the registry; the
    response has one result per event. Re-sending an event returns `duplicate` and changes nothing."""
    from engine.ingest.feeds import FEED_KEYS

    from .services import feed_events_push

    if feed not in FEED_KEYS:
        return 404, {"detail": f"unknown feed {feed}"}
    try:
        results = feed_events_push(token=request.department_token, feed=feed, records=body.events)
    except PermissionError as exc:
        return 403, {"detail": str(exc)}
    return {"feed": feed, "received": len(body.events), "results": results}
