"""Pages of the oversight ledgers (thin: services write, selectors read)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import region_q
from guardline.registry.models import Household

from . import forms, selectors, services
from .models import Complaint, FundProject, ProjectAsset, Rectification


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


def _error(request, exc: Exception) -> None:
    messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))


def _attempt(request, call: Callable[[], Any], ok: str) -> bool:
    try:
        call()
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return False
    messages.success(request, ok)
    return True


def _ctx(request, **extra) -> dict[str, Any]:
    return {
        "can_manage": has_perm(request.user, Perm.MANAGE_OVERSIGHT),
        "today": timezone.localdate(),
        **extra,
    }


@login_required
def index(request):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    user = request.user
    statuses = selectors.project_statuses(user)
    total, per = selectors.complaint_figures(user)
    return render(request, "oversight/index.html", _ctx(request,
        overdue_rect=selectors.rectifications(user, overdue=True)[:50],
        open_rect=selectors.rectifications(user).exclude(status=Rectification.Status.CLOSED).count(),
        overdue_complaints=selectors.complaints(user, overdue=True)[:50],
        complaints_total=total, complaints_per=per,
        lagging=[s for s in statuses if s.alerts][:100],
        funds=selectors.fund_figures(user), asset_totals=selectors.asset_totals(user),
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------------ rectification
@login_required
def rectification_list(request):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "1"
    return render(request, "oversight/rectification_list.html", _ctx(request,
        items=selectors.rectifications(request.user, status=status, overdue=overdue)[:500],
        statuses=Rectification.Status.choices, status=status, overdue=overdue,
        months=selectors.rectification_months(request.user),
    ))  # fmt: skip


@login_required
def rectification_new(request):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    form = forms.RectificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            r = services.rectification_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            messages.success(request, _("整改问题已登记"))
            return redirect("oversight:rectification_detail", r.pk)
    return render(request, "oversight/form.html", _ctx(request, form=form, title=_("登记整改问题")))


@login_required
def rectification_detail(request, pk: int):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    r = selectors.rectification_get(request.user, pk)
    return render(request, "oversight/rectification_detail.html", _ctx(request, r=r,
        progress=r.progress.select_related("author"), progress_form=forms.ProgressForm(),
        close_form=forms.CloseForm()))  # fmt: skip


@login_required
@require_POST
def rectification_act(request, pk: int, op: str):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    r = selectors.rectification_get(request.user, pk)
    if op == "progress":
        form: Any = forms.ProgressForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.rectification_progress_add(actor=request.user, rectification=r,
                     **form.cleaned_data), _("进展已记录"))  # fmt: skip
    elif op == "close":
        form = forms.CloseForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.rectification_close(actor=request.user, rectification=r,
                     **form.cleaned_data), _("已销号"))  # fmt: skip
    else:
        raise PermissionDenied
    if not form.is_valid():
        messages.error(request, _("请检查填写内容"))
    return redirect("oversight:rectification_detail", r.pk)


# --------------------------------------------------------------------------------------------------- complaints
@login_required
def complaint_list(request):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "1"
    total, per = selectors.complaint_figures(request.user)
    return render(request, "oversight/complaint_list.html", _ctx(request,
        items=selectors.complaints(request.user, status=status, overdue=overdue)[:500],
        statuses=Complaint.Status.choices, status=status, overdue=overdue, total=total, per=per,
    ))  # fmt: skip


@login_required
def complaint_new(request):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    form = forms.ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        no = data.pop("household_no").strip()
        household = None
        if no:
            household = Household.objects.filter(region_q(request.user), household_no=no).first()
        try:
            if no and household is None:
                raise ValidationError(_("户编号不存在或不在您的管辖范围内"))
            c = services.complaint_create(actor=request.user, household=household, **data)
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            messages.success(request, _("诉求已受理，受理号 %(no)s") % {"no": c.receipt_no})
            return redirect("oversight:complaint_detail", c.pk)
    return render(request, "oversight/form.html", _ctx(request, form=form, title=_("受理诉求")))


@login_required
def complaint_detail(request, pk: int):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    c = selectors.complaint_get(request.user, pk)
    can_answer = has_perm(request.user, Perm.MANAGE_OVERSIGHT) or (
        has_perm(request.user, Perm.HANDLE_CLUES) and bool(c.routed_to_code)
    )
    return render(request, "oversight/complaint_detail.html", _ctx(request, c=c, can_answer=can_answer,
        route_form=forms.RouteForm(), complete_form=forms.CompleteForm(), rate_form=forms.RateForm()))  # fmt: skip


@login_required
@require_POST
def complaint_act(request, pk: int, op: str):
    # routing and rating are the county's; a township or village the complaint was routed to may complete it
    if not has_perm(request.user, Perm.MANAGE_OVERSIGHT) and not (
        op == "complete" and has_perm(request.user, Perm.HANDLE_CLUES)
    ):
        raise PermissionDenied("您的角色无此权限")
    c = selectors.complaint_get(request.user, pk)
    actions = {
        "route": (forms.RouteForm, services.complaint_route, _("已转办")),
        "complete": (forms.CompleteForm, services.complaint_complete, _("已办结")),
        "rate": (forms.RateForm, services.complaint_rate, _("回访评价已记录")),
    }
    if op not in actions:
        raise PermissionDenied
    form_class, service, ok = actions[op]
    form = form_class(request.POST)
    if form.is_valid():
        _attempt(request, lambda: service(actor=request.user, complaint=c, **form.cleaned_data), ok)
    else:
        messages.error(request, _("请检查填写内容"))
    return redirect("oversight:complaint_detail", c.pk)


# ------------------------------------------------------------------------------------------------ fund projects
@login_required
def project_list(request):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    year = request.GET.get("year", "")
    year_n = int(year) if year.isdigit() else None
    return render(request, "oversight/project_list.html", _ctx(request,
        statuses=selectors.project_statuses(request.user, year_n), funds=selectors.fund_figures(request.user, year_n),
        year=year))  # fmt: skip


@login_required
def project_new(request):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    form = forms.ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        sources = {lvl: d.pop(lvl) for lvl in ("central", "province", "city", "county", "other")}
        try:
            p = services.fund_project_create(actor=request.user, sources=sources, **d)
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            messages.success(request, _("项目已登记"))
            return redirect("oversight:project_detail", p.pk)
    return render(request, "oversight/form.html", _ctx(request, form=form, title=_("登记衔接资金项目")))


@login_required
def project_detail(request, pk: int):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    p = selectors.project_get(request.user, pk)
    progress = forms.ProjectProgressForm(
        initial={"status": p.status, "completion_percent": p.completion_percent}
    )
    return render(request, "oversight/project_detail.html", _ctx(request, p=p,
        status=selectors.project_status(request.user, p), movements=selectors.movements(p),
        assets=p.assets.all(), movement_form=forms.MovementForm(), progress_form=progress))  # fmt: skip


@login_required
@require_POST
def movement_add(request, pk: int):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    p = selectors.project_get(request.user, pk)
    form = forms.MovementForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        _attempt(request, lambda: services.fund_movement_record(actor=request.user, project=p, kind=d["kind"],
                 amount=d["amount"], on=d["date"], voucher_no=d["voucher_no"], note=d["note"]),
                 _("资金变动已记录并写入防篡改账本"))  # fmt: skip
    else:
        messages.error(request, _("请检查填写内容"))
    return redirect("oversight:project_detail", p.pk)


@login_required
@require_POST
def project_progress(request, pk: int):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    p = selectors.project_get(request.user, pk)
    form = forms.ProjectProgressForm(request.POST)
    if form.is_valid():
        _attempt(request, lambda: services.fund_project_progress(actor=request.user, project=p,
                 **form.cleaned_data), _("实施进度已更新"))  # fmt: skip
    else:
        messages.error(request, _("请检查填写内容"))
    return redirect("oversight:project_detail", p.pk)


# ------------------------------------------------------------------------------------------------------- assets
@login_required
def asset_list(request):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    asset_type = request.GET.get("type", "")
    return render(request, "oversight/asset_list.html", _ctx(request,
        items=selectors.assets(request.user, asset_type)[:500], types=ProjectAsset.Type.choices,
        asset_type=asset_type, totals=selectors.asset_totals(request.user)))  # fmt: skip


@login_required
def asset_new(request, project_pk: int):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    p: FundProject = selectors.project_get(request.user, project_pk)
    form = forms.AssetForm(request.POST or None, initial={"region_code": p.region_code})
    if request.method == "POST" and form.is_valid():
        try:
            a = services.asset_create(actor=request.user, project=p, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            messages.success(request, _("资产已登记"))
            return redirect("oversight:asset_detail", a.pk)
    return render(request, "oversight/form.html", _ctx(request, form=form, title=_("登记项目资产")))


@login_required
def asset_detail(request, pk: int):
    _require(request.user, Perm.VIEW_OVERSIGHT)
    a = selectors.asset_get(request.user, pk)
    return render(request, "oversight/asset_detail.html", _ctx(request, a=a,
        incomes=selectors.asset_incomes(a), income_form=forms.IncomeForm()))  # fmt: skip


@login_required
@require_POST
def income_add(request, pk: int):
    _require(request.user, Perm.MANAGE_OVERSIGHT)
    a = selectors.asset_get(request.user, pk)
    form = forms.IncomeForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            dist = services.parse_distribution(d["distribution"].splitlines())
        except ValidationError as exc:
            _error(request, exc)
        else:
            _attempt(request, lambda: services.asset_income_record(actor=request.user, asset=a, year=d["year"],
                     amount=d["amount"], distribution=dist, note=d["note"]), _("收益分配已记录"))  # fmt: skip
    else:
        messages.error(request, _("请检查填写内容"))
    return redirect("oversight:asset_detail", a.pk)
