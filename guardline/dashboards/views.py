"""Dashboard pages (thin: the selectors read the aggregate table, the services write weights)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from engine.aggregates import catalogue as cat
from guardline.accounts.roles import Perm, has_perm

from . import selectors, services


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


def _en() -> bool:
    return (get_language() or "").startswith("en")


@login_required
def home(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    region = selectors.home_region(request.user)
    if region is None:
        raise PermissionDenied(_("您没有管辖地区"))
    return redirect("dashboards:dashboard", region.code)


@login_required
def dashboard(request, code: str):
    _require(request.user, Perm.VIEW_REGISTRY)
    ctx = selectors.dashboard(request.user, code, request.GET.get("period"))
    en = _en()
    ctx["chart"]["labels"] = {
        "grades": {g: t for g, t in zip(cat.GRADES, ("red", "yellow", "green") if en else ("红色", "黄色", "绿色"), strict=True)},
        "categories": {c: (c.replace("_", " ") if en else cat.METRIC_BY_CODE[f"hh_cat_{c}"].title_zh) for c in cat.CATEGORIES},
        "risks": {r: (f"{r} {cat.METRIC_BY_CODE[f'hh_risk_{r}'].title_en}" if en else f"{r} {cat.RISK_TITLES[r]}") for r in cat.RISK_TYPES},
        "series": {m: (cat.METRIC_BY_CODE[m].title_en if en else cat.METRIC_BY_CODE[m].title_zh) for m in ctx["chart"]["series"]},
    }  # fmt: skip
    ctx["en"] = en
    ctx["crumbs"] = selectors.breadcrumbs(request.user, ctx["region"])
    ctx["groups"] = [
        (
            cat.GROUPS[g][1] if en else cat.GROUPS[g][0],
            [iv for iv in ctx["indicators"] if iv.indicator.group == g],
        )
        for g in cat.GROUPS
    ]
    ctx["can_evaluate"] = ctx["region"].level in selectors.PEER_LEVEL
    return render(request, "dashboards/dashboard.html", ctx)


@login_required
def evaluation(request, code: str):
    _require(request.user, Perm.VIEW_REGISTRY)
    ctx = selectors.evaluation(request.user, code, request.GET.get("period"))
    ctx["en"] = _en()
    ctx["can_weigh"] = has_perm(request.user, Perm.MANAGE_EVALUATION)
    return render(request, "dashboards/evaluation.html", ctx)


@login_required
def catalogue(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    return render(request, "dashboards/catalogue.html", {"indicators": cat.INDICATORS, "en": _en(),
                                                          "groups": cat.GROUPS})  # fmt: skip


@login_required
def weights(request, province: str):
    _require(request.user, Perm.MANAGE_EVALUATION)
    region = selectors.region_get(request.user, province)
    if request.method == "POST":
        try:
            values = {i.code: float(request.POST.get(f"w_{i.code}", "0") or 0) for i in cat.INDICATORS}
            services.evaluation_weights_set(actor=request.user, province=region, weights=values)
        except (ValueError, ValidationError) as exc:
            messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("评价权重已保存"))
            return redirect("dashboards:weights", province)
    current = selectors.weights_for(province)
    rows = [(i, current.get(i.code, 0.0)) for i in cat.INDICATORS]
    return render(request, "dashboards/weights.html", {"region": region, "rows": rows, "en": _en()})
