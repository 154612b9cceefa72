from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone

from engine.screening import INDICATORS, PARAMETERS
from engine.screening.catalogue import default_weights
from engine.screening.rules import RISK_CODES, Rule, RuleError
from engine.screening.steps import DATE_COLUMNS
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, scope_codes
from guardline.core.paging import CappedPaginator
from guardline.core.services import job_create

from . import selectors
from .models import ScreeningParameter, response_clock
from .services import rules_in_force, screening_parameter_set, screening_rule_save
from .tasks import screening_run_task


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


@login_required
def inbox(request):
    """Warnings routed to the user's townships and villages, red first, oldest first, with the response clock."""
    _require(request.user, Perm.VIEW_REGISTRY)
    f = selectors.InboxFilters(
        grade=request.GET.get("grade", ""),
        region=request.GET.get("region", ""),
        risk_type=request.GET.get("risk_type", ""),
        status=request.GET.get("status", "open"),
    )
    page = CappedPaginator(selectors.warning_inbox(request.user, f), 25).get_page(request.GET.get("page"))
    now = timezone.now()
    for w in page:
        w.clock = response_clock(w.grade)
        w.on_site_overdue = w.status == "open" and w.on_site_due < now
        w.plan_overdue = w.status == "open" and w.plan_due < now
        w.risk_names = [RISK_CODES.get(c, c) for c in w.risk_types.split(";") if c]
    return render(
        request,
        "screening/inbox.html",
        {
            "page": page,
            "filters": f,
            "counts": selectors.grade_counts(request.user),
            "risk_codes": sorted(RISK_CODES.items()),
            "runs": selectors.latest_runs(5),
            "can_run": has_perm(request.user, Perm.RUN_SCREENING),
        },
    )


@login_required
def run_start(request):
    _require(request.user, Perm.RUN_SCREENING)
    if request.method != "POST":
        return redirect("screening:inbox")
    job = job_create(kind="screening", user=request.user, params={"user_id": request.user.pk})
    screening_run_task.enqueue(job.pk)
    return redirect("ingest:job_detail", pk=job.pk)


@login_required
def catalogue(request):
    """Every indicator (definition, source, unit, direction, weight), every parameter and every trigger in force."""
    _require(request.user, Perm.VIEW_REGISTRY)
    weights = default_weights()
    total = sum(weights.values())
    indicators = [
        {"i": i, "weight": weights[f"w_{i.code}"], "max_points": 100 * weights[f"w_{i.code}"] / total,
         "risk": RISK_CODES.get(i.risk_type, i.risk_type)}
        for i in INDICATORS
    ]  # fmt: skip
    stored = {
        (p.name, p.region_code, p.year): p
        for p in ScreeningParameter.objects.all()
        if not p.region_code
        or any(p.region_code.startswith(c) or c.startswith(p.region_code) for c in scope_codes(request.user))
    }
    return render(
        request,
        "screening/catalogue.html",
        {
            "indicators": indicators,
            "parameters": PARAMETERS,
            "stored": sorted(stored.values(), key=lambda p: (p.name, p.region_code)),
            "rules": rules_in_force(),
            "risk_codes": RISK_CODES,
            "can_manage": has_perm(request.user, Perm.MANAGE_SCREENING),
            "can_edit_rules": _can_edit_rules(request.user),
            "date_columns": DATE_COLUMNS,
        },
    )


def _can_edit_rules(user) -> bool:
    """Triggers hold for a whole province: only a province-level manager edits them."""
    return has_perm(user, Perm.MANAGE_SCREENING) and any(len(c) <= 2 for c in scope_codes(user))


@login_required
def parameter_set(request):
    _require(request.user, Perm.MANAGE_SCREENING)
    if request.method != "POST":
        return redirect("screening:catalogue")
    region = request.POST.get("region_code", "").strip()
    if not region or not in_scope(request.user, region):
        raise PermissionDenied("只能为本人管辖的区域设置参数")
    try:
        year = int(request.POST["year"]) if request.POST.get("year") else None
        value = float(request.POST.get("value", ""))
        screening_parameter_set(
            actor=request.user, name=request.POST.get("name", ""), region_code=region, value=value, year=year,
            note=request.POST.get("note", "")[:200],
        )  # fmt: skip
        messages.success(request, "参数已保存，下次筛查生效")
    except ValueError as exc:
        messages.error(request, f"参数未保存：{exc}")
    return redirect("screening:catalogue")


@login_required
def rule_save(request):
    if not _can_edit_rules(request.user):
        raise PermissionDenied("预警规则全省统一，由省级管理人员维护")
    if request.method != "POST":
        return redirect("screening:catalogue")
    p = request.POST
    rule = Rule(
        code=p.get("code", "").strip(),
        title_zh=p.get("title", "").strip(),
        risk_type=p.get("risk_type", ""),
        severity=p.get("severity", ""),
        condition=p.get("condition", "").strip(),
        signal_date=p.get("signal_date", ""),
        reason=p.get("reason", "").strip(),
        sources=tuple(s for s in p.get("sources", "").split(";") if s),
    )
    try:
        screening_rule_save(actor=request.user, rule=rule, is_active=p.get("is_active") == "on")
        messages.success(request, f"规则 {rule.code} 已保存为新版本，下次筛查生效")
    except RuleError as exc:
        messages.error(request, f"规则未保存：{exc}")
    return redirect("screening:catalogue")


@login_required
def whatif(request):
    """Policy what-if: a different monitoring line or trigger threshold for a region, counted before adoption."""
    _require(request.user, Perm.RUN_SCREENING)
    from django.core.exceptions import ValidationError

    from .whatif import policy_whatif

    codes = scope_codes(request.user)
    region = request.POST.get("region") or request.GET.get("region") or (codes[0] if codes else "")
    result, error, changes = None, "", {}
    if request.method == "POST":
        for p in PARAMETERS:
            raw = request.POST.get(p.name, "").strip()
            if raw:
                try:
                    changes[p.name] = float(raw)
                except ValueError:
                    error = f"{p.title_zh}：{raw} 不是数字"
        if not error:
            try:
                result = policy_whatif(user=request.user, region=region, changes=changes)
            except (ValidationError, PermissionDenied) as exc:
                error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return render(
        request,
        "screening/whatif.html",
        {"parameters": PARAMETERS, "region": region, "result": result, "error": error, "changes": changes},
    )
