from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from engine import vocab
from engine.ids import mask_id_number, mask_phone
from guardline.accounts.roles import Perm, has_perm
from guardline.core.changelog import reveal
from guardline.core.paging import CappedPaginator
from guardline.core.services import personal_data_access_log
from guardline.regions.selectors import monitoring_line_for_household, regions_for_user
from guardline.screening.selectors import household_screening

from . import selectors, services
from .forms import MemberForm
from .models import Household, HouseholdYear, Member

REVEAL_SESSION_KEY = "revealed_households"


def _require_view(user) -> None:
    if not has_perm(user, Perm.VIEW_REGISTRY):
        raise PermissionDenied("您的角色不能查看台账")


def _mask_values(values: dict | None, revealed: bool) -> dict | None:
    """Change-log entries hold full values; the page masks ID numbers and phones like everywhere else."""
    values = reveal(values)
    if not values or revealed:
        return values
    masks = {"id_number": mask_id_number, "phone": mask_phone}
    return {k: masks[k](v) if k in masks else v for k, v in values.items()}


ENTITY_MODELS = {"household": Household, "member": Member, "household_year": HouseholdYear}
ENTITY_LABELS = {"household": "户", "member": "成员", "household_year": "收入"}


def _change_rows(change, revealed: bool) -> list[tuple[str, object, object]]:
    """A change-log entry as (field label, before, after) rows, with codes shown as their Chinese labels."""
    model = ENTITY_MODELS.get(change.entity)
    before = _mask_values(change.before, revealed) or {}
    after = _mask_values(change.after, revealed) or {}
    rows = []
    for name in dict.fromkeys([*before, *after]):
        label, choices = name, {}
        if model is not None:
            try:
                field = model._meta.get_field(name.removesuffix("_id"))
                label, choices = str(field.verbose_name), dict(field.flatchoices or [])
            except Exception:  # a field removed since the entry was written keeps its raw name
                pass
        rows.append(
            (
                label,
                choices.get(before.get(name), before.get(name)),
                choices.get(after.get(name), after.get(name)),
            )
        )
    return rows


def _events(user, household) -> list:
    from engine.ingest import SPECS

    events = list(selectors.household_events(user, household))
    for event in events:
        spec = SPECS.get(event.feed)
        event.title = spec.title_zh if spec else event.feed
        event.department = spec.department if spec else ""
        labels = {f.name: f.label for f in spec.fields} if spec else {}
        event.details = [(labels.get(k, k), v) for k, v in event.payload.items() if v not in (None, "")]
    return events


@login_required
def household_list(request):
    _require_view(request.user)
    filters = selectors.HouseholdFilters(
        region=request.GET.get("region", "").strip(),
        household_type=request.GET.get("household_type", ""),
        monitor_category=request.GET.get("monitor_category", ""),
        income_band=request.GET.get("income_band", ""),
        q=request.GET.get("q", "").strip(),
    )
    qs = selectors.household_list(request.user, filters).only(
        "id",
        "household_no",
        "village_code",
        "household_type",
        "monitor_category",
        "head_name",
        "member_count",
        "latest_per_capita_income",
        "latest_income_year",
        "phone",
        "no_labour_household",
    )
    page = CappedPaginator(qs, settings.GUARDLINE["HOUSEHOLD_PAGE_SIZE"]).get_page(request.GET.get("page"))
    village_names = dict(
        regions_for_user(request.user)
        .filter(code__in={h.village_code for h in page})
        .values_list("code", "name")
    )
    rows = [
        {"h": h, "village": village_names.get(h.village_code, h.village_code), "phone": mask_phone(h.phone)}
        for h in page
    ]
    townships = regions_for_user(request.user, level=4)[:500]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/household_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "townships": townships,
            "query": query.urlencode(),
            "household_types": vocab.HOUSEHOLD_TYPES,
            "categories": vocab.MONITOR_CATEGORIES,
            "income_bands": {k: v[2] for k, v in selectors.INCOME_BANDS.items()},
        },
    )


@login_required
def household_detail(request, pk: int):
    _require_view(request.user)
    household = selectors.household_get(request.user, pk)
    revealed = pk in request.session.get(REVEAL_SESSION_KEY, [])
    can_reveal = has_perm(request.user, Perm.VIEW_PERSONAL_DATA)
    members = list(selectors.household_members(request.user, household))
    for m in members:
        m.shown_id = m.id_number if revealed else mask_id_number(m.id_number)
    changes = list(selectors.household_changes(request.user, household))
    for change in changes:
        change.rows = _change_rows(change, revealed)
    line = monitoring_line_for_household(household, date.today())
    village = regions_for_user(request.user).filter(code=household.village_code).first()
    grade, warnings = household_screening(request.user, household)
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "grade": grade,
            "warnings": warnings,
            "members": members,
            "years": selectors.household_years(request.user, household),
            "changes": changes,
            "events": _events(request.user, household),
            "revealed": revealed,
            "can_reveal": can_reveal,
            "can_edit": has_perm(request.user, Perm.EDIT_REGISTRY),
            "phone": household.phone if revealed else mask_phone(household.phone),
            "line": line,
            "village": village,
        },
    )


@login_required
@require_POST
def household_reveal(request, pk: int):
    """Show unmasked ID numbers and phone for this household for the rest of the session; logged with a purpose."""
    household = selectors.household_get(request.user, pk)
    if not has_perm(request.user, Perm.VIEW_PERSONAL_DATA):
        raise PermissionDenied("您的角色不能查看完整个人信息")
    purpose = request.POST.get("purpose", "").strip()
    if len(purpose) < 2:
        messages.error(request, "请填写查看完整信息的事由")
        return redirect("registry:household_detail", pk=pk)
    personal_data_access_log(
        user=request.user, household_id=household.pk, region_code=household.village_code, purpose=purpose
    )
    revealed = set(request.session.get(REVEAL_SESSION_KEY, []))
    revealed.add(household.pk)
    request.session[REVEAL_SESSION_KEY] = sorted(revealed)
    return redirect("registry:household_detail", pk=pk)


@login_required
def member_edit(request, pk: int):
    """Edit one member (village cadres and county staff); the change is logged with before/after."""
    member = selectors.member_get(request.user, pk)
    if not has_perm(request.user, Perm.EDIT_REGISTRY):
        raise PermissionDenied("您的角色不能修改台账")
    form = MemberForm(request.POST or None, instance=selectors.member_get(request.user, pk))
    # the version the form was rendered with travels in a hidden input; a stale one is refused, nothing applied
    version = request.POST.get("version", "") if request.method == "POST" else services.member_version(member)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.member_update(
                actor=request.user, member=member, expected_version=version or None, **changes
            )
        except ValidationError as exc:
            form.add_error(None, "；".join(exc.messages))
        else:
            messages.success(request, "成员信息已保存")
            return redirect("registry:household_detail", pk=member.household_id)
    return render(request, "registry/member_edit.html", {"form": form, "member": member, "version": version})
