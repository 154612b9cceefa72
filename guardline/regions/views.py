from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from guardline.accounts.roles import Perm, has_perm

from . import selectors, services
from .models import Region


@login_required
def line_list(request):
    """Monitoring lines in force and their history for the regions the user works in."""
    if not has_perm(request.user, Perm.VIEW_REGISTRY) and not has_perm(request.user, Perm.MANAGE_LINES):
        raise PermissionDenied
    can_manage = has_perm(request.user, Perm.MANAGE_LINES)
    regions = list(selectors.regions_for_user(request.user).filter(level__lte=Region.Level.COUNTY)[:200])
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        region = next((r for r in regions if r.code == request.POST.get("region")), None)
        try:
            if region is None:
                raise ValidationError("请选择您管辖范围内的省、市或县")
            mode = request.POST.get("basis", "fixed")
            common = {
                "actor": request.user,
                "region": region,
                "year": int(request.POST["year"]),
                "effective_from": date.fromisoformat(request.POST["effective_from"]),
                "note": request.POST.get("note", ""),
            }
            if mode == "dibao_multiple":
                services.monitoring_line_set(
                    **common,
                    dibao_monthly=Decimal(request.POST["dibao_monthly"]),
                    multiple=Decimal(request.POST["multiple"]),
                )
            else:
                services.monitoring_line_set(**common, amount=Decimal(request.POST["amount"]))
            messages.success(request, "监测线已保存")
            return redirect("regions:line_list")
        except (ValidationError, ValueError, KeyError, InvalidOperation) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else f"输入有误: {exc}"
            messages.error(request, text)
    history = {r.code: list(selectors.monitoring_line_history(r)) for r in regions}
    today = date.today()
    rows = [(r, selectors.monitoring_line_on(r.code, today), history[r.code]) for r in regions]
    return render(
        request,
        "regions/line_list.html",
        {"rows": rows, "can_manage": can_manage, "today": today, "regions": regions},
    )


@login_required
def grid_list(request):
    """Grids (网格) of the user's villages; cadres and county administrators define new ones."""
    if not has_perm(request.user, Perm.VIEW_REGISTRY):
        raise PermissionDenied
    can_manage = has_perm(request.user, Perm.MANAGE_GRIDS)
    villages = selectors.regions_for_user(request.user, level=Region.Level.VILLAGE).order_by("code")[:1000]
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        village = (
            selectors.regions_for_user(request.user, level=Region.Level.VILLAGE)
            .filter(code=request.POST.get("village", ""))
            .first()
        )
        try:
            if village is None:
                raise ValidationError("请选择您管辖范围内的村")
            services.grid_create(actor=request.user, village=village, name=request.POST.get("name", ""))
            messages.success(request, "网格已创建")
            return redirect("regions:grid_list")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return render(
        request,
        "regions/grid_list.html",
        {
            "grids": selectors.grids_for_user(request.user).order_by("village_id", "name")[:500],
            "villages": villages,
            "can_manage": can_manage,
        },
    )
