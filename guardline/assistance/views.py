"""Pages of assistance plans, measures, paired cadres, follow-up visits and risk elimination (thin: services
write, selectors read)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guardline.accounts.roles import Perm, has_perm
from guardline.cases import selectors as case_selectors
from guardline.cases.procedure import ProcedureError
from guardline.registry import selectors as registry_selectors

from . import catalogue, procedure, selectors, services
from .forms import MeasureForm, ReidentifyForm, VisitForm
from .models import Measure, Visit


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


def _error(request, exc: Exception) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


@login_required
def plan_list(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    return render(request, "assistance/plan_list.html", {
        "plans": selectors.plans(request.user)[:200],
        "waiting": selectors.identified_without_plan(request.user)[:200],
    })  # fmt: skip


@login_required
def case_home(request, case_pk: int):
    """What follows an identification: the plan (or the recommendation to draw it up) and the elimination."""
    _require(request.user, Perm.VIEW_REGISTRY)
    case = case_selectors.case_get(request.user, case_pk)
    plan = selectors.plan_for_case(request.user, case)
    if plan is not None:
        return redirect("assistance:plan_detail", plan.pk)
    rec = services.recommendation(case) if case.state == "identified" else None
    return render(request, "assistance/case_home.html", {
        "case": case, "rec": rec, "can_manage": has_perm(request.user, Perm.MANAGE_ASSISTANCE),
    })  # fmt: skip


@login_required
@require_POST
def plan_create(request, case_pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    case = case_selectors.case_get(request.user, case_pk)
    try:
        plan = services.plan_create(actor=request.user, case=case, notes=request.POST.get("notes", ""))
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("assistance:case_home", case.pk)
    codes = request.POST.getlist("code")
    for code in codes:
        try:
            services.measure_add(actor=request.user, plan=plan, code=code)
        except ValidationError as exc:
            _error(request, exc)
    messages.success(request, "帮扶计划已制定")
    return redirect("assistance:plan_detail", plan.pk)


@login_required
def plan_detail(request, pk: int):
    _require(request.user, Perm.VIEW_REGISTRY)
    plan = selectors.plan_get(request.user, pk)
    candidates = selectors.cadre_candidates(request.user, plan.village_code)
    case = plan.case
    return render(request, "assistance/plan_detail.html", {
        "plan": plan,
        "case": case,
        "measures": selectors.plan_measures(plan),
        "checks": services.plan_checks(plan),
        "rec": services.recommendation(case),
        "cadres": selectors.household_cadres(request.user, plan.household),
        "candidates": candidates,
        "form": MeasureForm(candidates=candidates),
        "elimination": selectors.live_elimination(request.user, case),
        "modes": [(m.value, procedure.MODE_LABELS[m]) for m in procedure.Mode],
        "can_manage": has_perm(request.user, Perm.MANAGE_ASSISTANCE),
        "kinds": catalogue.KIND_LABELS,
    })  # fmt: skip


@login_required
@require_POST
def measure_add(request, pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    plan = selectors.plan_get(request.user, pk)
    form = MeasureForm(request.POST, candidates=selectors.cadre_candidates(request.user, plan.village_code))
    if not form.is_valid():
        messages.error(request, "；".join(f"{form.fields[k].label}：{v[0]}" for k, v in form.errors.items()))
        return redirect("assistance:plan_detail", plan.pk)
    try:
        services.measure_add(actor=request.user, plan=plan, **form.cleaned_data)
        messages.success(request, "措施已添加")
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("assistance:plan_detail", plan.pk)


@login_required
@require_POST
def measure_act(request, pk: int, op: str):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    measure = selectors.measure_get(request.user, pk)
    try:
        if op == "start":
            services.measure_update(actor=request.user, measure=measure, status=Measure.Status.IN_PROGRESS)
        elif op == "complete":
            services.measure_complete(actor=request.user, measure=measure, evidence=request.FILES.get("evidence"),
                                      notes=request.POST.get("notes", ""))  # fmt: skip
        elif op == "cancel":
            services.measure_cancel(
                actor=request.user, measure=measure, reason=request.POST.get("reason", "")
            )
        else:
            raise Http404()
        messages.success(request, "已保存")
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("assistance:plan_detail", measure.plan_id)


@login_required
def measure_evidence(request, pk: int):
    _require(request.user, Perm.VIEW_REGISTRY)
    measure = selectors.measure_get(request.user, pk)
    if not measure.evidence:
        raise Http404()
    return FileResponse(measure.evidence.open("rb"), filename=measure.evidence_name or "evidence")


@login_required
@require_POST
def cadre_pair(request, household_pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    household = registry_selectors.household_get(request.user, household_pk)
    cadre = selectors.cadre_candidates(request.user, household.village_code).filter(
        pk=request.POST.get("cadre") or 0).first()  # fmt: skip
    try:
        if cadre is None:
            raise ValidationError("请选择帮扶责任人")
        services.cadre_pair(actor=request.user, household=household, cadre=cadre)
        messages.success(request, "已结对")
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect(request.POST.get("next") or "registry:household_detail", household.pk)


@login_required
@require_POST
def cadre_unpair(request, pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    pairing = selectors.pairing_get(request.user, pk)
    try:
        services.cadre_unpair(actor=request.user, pairing=pairing)
        messages.success(request, "已解除结对")
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    return redirect("registry:household_detail", pairing.household_id)


# ---------------------------------------------------------------------------------------------------- visits


@login_required
def visits_due(request):
    """The grid worker's phone page: households to visit now, red first."""
    _require(request.user, Perm.REPORT_VISIT)
    horizon = 7 if request.GET.get("week") else 0
    return render(request, "assistance/visits_due.html", {
        "due": selectors.due_visits(request.user, horizon_days=horizon), "week": bool(horizon),
    })  # fmt: skip


@login_required
def visit_new(request, household_pk: int):
    _require(request.user, Perm.REPORT_VISIT)
    household = registry_selectors.household_get(request.user, household_pk)
    form = VisitForm(request.POST or None, initial={"kind": Visit.Kind.ROUTINE})
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_record(actor=request.user, household=household, notes=form.cleaned_data["notes"],
                                  kind=form.cleaned_data["kind"], updates=form.updates())  # fmt: skip
            messages.success(request, "走访已记录")
            return redirect("assistance:visits_due")
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
    return render(request, "assistance/visit_form.html", {
        "household": household, "form": form, "visits": selectors.household_visits(request.user, household, 5),
    })  # fmt: skip


# ---------------------------------------------------------------------------------------------- elimination


@login_required
def elimination_list(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    state = request.GET.get("state", "open")
    return render(request, "assistance/elimination_list.html", {
        "eliminations": selectors.elimination_list(request.user, state)[:300], "state": state,
        "states": [(s.value, procedure.STATE_LABELS[s]) for s in procedure.State],
    })  # fmt: skip


@login_required
@require_POST
def elimination_start(request, case_pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    case = case_selectors.case_get(request.user, case_pk)
    try:
        elim = services.elimination_start(actor=request.user, case=case, mode=request.POST.get("mode", ""),
                                          notes=request.POST.get("notes", ""))  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("assistance:case_home", case.pk)
    return redirect("assistance:elimination_detail", elim.pk)


@login_required
def elimination_detail(request, pk: int):
    _require(request.user, Perm.VIEW_REGISTRY)
    elim = selectors.elimination_get(request.user, pk)
    role = getattr(request.user, "role", "")
    actions = [
        (t.action.value, procedure.ACTION_LABELS[t.action]) for t in procedure.actions_for(elim.state, role)
    ]
    return render(request, "assistance/elimination_detail.html", {
        "elim": elim,
        "state_label": procedure.STATE_LABELS[procedure.State(elim.state)],
        "rules": elim.eligibility.get("rules", []),
        "steps": selectors.elimination_steps(elim),
        "actions": actions,
        "reidentify_form": ReidentifyForm(),
        "can_manage": has_perm(request.user, Perm.MANAGE_ASSISTANCE),
    })  # fmt: skip


@login_required
@require_POST
def elimination_act(request, pk: int, action: str):
    if not (
        has_perm(request.user, Perm.MANAGE_ASSISTANCE) or has_perm(request.user, Perm.DECIDE_ELIMINATION)
    ):
        raise PermissionDenied("您的角色无此权限")
    elim = selectors.elimination_get(request.user, pk)
    data = {
        "participants": [
            p for p in request.POST.get("participants", "").replace("，", ",").split(",") if p.strip()
        ],
        "votes_for": request.POST.get("votes_for"),
        "votes_against": request.POST.get("votes_against"),
        "votes_abstain": request.POST.get("votes_abstain"),
        "minutes": request.POST.get("minutes", ""),
    }
    try:
        services.elimination_transition(actor=request.user, elimination=elim, action=action,
                                        notes=request.POST.get("notes", ""), reason=request.POST.get("reason", ""),
                                        data=data)  # fmt: skip
        messages.success(request, "已办理")
    except (ValidationError, PermissionDenied, ProcedureError) as exc:
        _error(request, exc)
    return redirect("assistance:elimination_detail", elim.pk)


@login_required
@require_POST
def elimination_reidentify(request, pk: int):
    _require(request.user, Perm.MANAGE_ASSISTANCE)
    elim = selectors.elimination_get(request.user, pk)
    form = ReidentifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择困难类型并填写情况说明")
        return redirect("assistance:elimination_detail", elim.pk)
    try:
        case = services.elimination_reidentify(actor=request.user, elimination=elim, **form.cleaned_data)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("assistance:elimination_detail", elim.pk)
    messages.success(request, "已发起再标注（新的识别认定）")
    return redirect("cases:case_detail", case.pk)
