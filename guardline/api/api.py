"""The public REST API (OpenAPI at /api/v1/docs). Every endpoint reads through the same region-scoped selectors as
the pages."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.http import Http404
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from engine.ids import mask_id_number, mask_phone
from guardline.accounts.roles import Perm, has_perm
from guardline.registry import selectors


class BodyNotJSON(ValueError):
    """The request body is not JSON (ninja turns any parser error into a 400; this one becomes a 422)."""


class JSONParser(Parser):
    def parse_body(self, request):
        try:
            return json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BodyNotJSON(str(exc)) from exc


api = NinjaAPI(
    title="Guardline API", version="1", urls_namespace="api", auth=django_auth, parser=JSONParser()
)


class ErrorOut(Schema):
    """Every error response: a message people can read; 422 adds the schema errors field by field."""

    detail: str
    errors: list[dict[str, Any]] | None = None


NOT_LOGGED_IN = "未登录或登录已过期（authentication required）"


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc: AuthenticationError):
    message = NOT_LOGGED_IN if exc.message == "Unauthorized" else exc.message
    return api.create_response(request, {"detail": message}, status=401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, BodyNotJSON):
        detail = f"请求体不是合法的 JSON（request body is not valid JSON: {exc.__cause__}）"
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "不存在（not found）"}, status=404)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    """422 with one readable line (`events: List should have at most 5000 items…`) and the errors themselves."""
    parts = []
    for error in exc.errors:
        loc = tuple(error.get("loc", ()))
        # ("body", <parameter>, "events", 0) → "events.0"; ("query", "limit") → "limit"
        path = loc[2:] if loc[:1] == ("body",) else loc[1:]
        if not path and error.get("type") == "missing":
            parts.append("请求体为空（empty body; expected JSON）")
            continue
        parts.append(f"{'.'.join(str(p) for p in path) or loc[0]}: {error.get('msg', '')}")
    detail = "请求内容不符合接口格式（request does not match the schema）：" + "；".join(parts)
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=422)


AUTH_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


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


class BoundedLimitOffset(LimitOffsetPagination):
    """`limit` at most 1000 per page and `offset` at most 2³¹−1: larger numbers are a 422, not a database overflow
    (a 20-digit offset used to reach SQLite/PostgreSQL as an out-of-range integer and answer 500)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=2**31 - 1)


def _require(request) -> None:
    if not has_perm(request.user, Perm.VIEW_REGISTRY):
        raise HttpError(403, "您的角色不能查看台账")


@api.get("/households", response={200: list[HouseholdOut], **AUTH_ERRORS}, tags=["registry"])
@paginate(BoundedLimitOffset)
def list_households(request, region: str = "", household_type: str = "", monitor_category: str = ""):
    """Households in the caller's regions (ID numbers and phones masked)."""
    _require(request)
    filters = selectors.HouseholdFilters(
        region=region, household_type=household_type, monitor_category=monitor_category
    )
    return selectors.household_list(request.user, filters)


@api.get(
    "/households/{household_id}",
    response={200: HouseholdDetailOut, **AUTH_ERRORS, 404: ErrorOut},
    tags=["registry"],
)
def get_household(request, household_id: int):
    """One household with its members; 404 if it is outside the caller's regions."""
    _require(request)
    return selectors.household_get(request.user, household_id)


class DepartmentTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for department systems."""

    def __call__(self, request):
        if not request.headers.get(self.header):
            raise AuthenticationError(
                message="缺少令牌：请发送 Authorization: Bearer <token>（token missing）"
            )
        return super().__call__(request)

    def authenticate(self, request, token):
        from .services import token_authenticate

        found = token_authenticate(token)
        if found is None:
            raise AuthenticationError(message="令牌无效或已停用（invalid or revoked token）")
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
    response={200: PushOut, **AUTH_ERRORS, 404: ErrorOut},
    auth=DepartmentTokenAuth(),
    tags=["feeds"],
)
def push_events(request, feed: str, body: EventsIn):
    """Push one or more department events. Each is validated like a file row and linked to the registry; the
    response has one result per event. Re-sending an event returns `duplicate` and changes nothing."""
    from engine.ingest.feeds import FEED_KEYS

    from .services import feed_events_push

    if feed not in FEED_KEYS:
        return Status(
            404,
            {"detail": f"没有这个数据类型：{feed}（unknown feed; expected one of {', '.join(FEED_KEYS)}）"},
        )
    try:
        results = feed_events_push(token=request.department_token, feed=feed, records=body.events)
    except PermissionError as exc:
        return Status(403, {"detail": str(exc)})
    return Status(200, {"feed": feed, "received": len(body.events), "results": results})
