from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine.ingest.specs import SPECS
from engine.screening import INDICATORS, PARAMETERS
from engine.screening.catalogue import default_weights
from engine.screening.catalogue_en import english
from engine.screening.fields import FIELD_DOCS, PARAMETER_DOCS
from engine.screening.rules import RISK_CODES
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, scope_codes
from guardline.core.paging import CappedPaginator
from guardline.core.services import job_create
from guardline.regions.models import Region

from . import selectors
from . import whatif as whatifs
from .forms import RuleForm
from .models import Grade, ScreeningParameter, ScreeningRule, response_clock
from .services import (
    can_edit_rules,
    screening_model,
    screening_parameter_clear,
    screening_parameter_set,
    screening_rule_restore,
    screening_rule_save,
)
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
    villages = dict(
        Region.objects.filter(code__in={w.village_code for w in page}).values_list("code", "name")
    )
    for w in page:
        w.village_name = villages.get(w.village_code, w.village_code)
        w.source_names = [SPECS[s].title_zh if s in SPECS else s for s in w.sources]
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


def _scorer(model, note: str) -> dict:
    """What grades beyond the triggers, for the catalogue: the index, or the configured learned model, with the
    held-out comparison that decides between them (the model grades only where it beats the index)."""
    if model is None:
        return {"model": False, "note": note}
    held = model.meta.get("held_out", {})
    return {
        "model": True,
        "in_use": model.beats_index,
        "name": model.meta.get("name", ""),
        "rule": model.meta.get("rule", ""),
        "training_dates": model.meta.get("training", {}).get("dates", []),
        "held_dates": held.get("dates", []),
        "samples": held.get("samples"),
        "positives": held.get("positives"),
        "workload": held.get("workload", 0.05),
        "rows": [
            {"scorer": label, **{k: held.get(key, {}).get(k) for k in ("auc", "recall_at_workload")}}
            for key, label in (("model", _("学习模型")), ("index", _("风险指数")))
        ],
    }


def _parameter_docs() -> list[tuple]:
    """Each parameter with its reference entry (English title and unit for the English page)."""
    return [(p, PARAMETER_DOCS[f"p_{p.name}"]) for p in PARAMETERS]


@login_required
def catalogue(request):
    """Every indicator (definition, source, unit, direction, weight), every parameter (the values per region are on
    the parameters page) and every trigger."""
    _require(request.user, Perm.VIEW_REGISTRY)
    weights = default_weights()
    total = sum(weights.values())
    indicators = [
        {"i": i, "en": english(i), "weight": weights[f"w_{i.code}"],
         "max_points": 100 * weights[f"w_{i.code}"] / total, "risk": RISK_CODES.get(i.risk_type, i.risk_type)}
        for i in INDICATORS
    ]  # fmt: skip
    model, model_note = screening_model()
    rules = [e for e in selectors.rule_entries() if selectors.rule_concerns(request.user, e)]
    fires = selectors.rule_firing_counts(request.user)
    # The last two runs over every household: a trigger that fell to nothing points at a feed that stopped.
    last_runs = selectors.rule_firing_history(request.user, limit=2) or []
    for entry in rules:
        entry.fires = fires.get(entry.rule.code, 0)  # type: ignore[attr-defined]
        entry.last_runs = [run.fires.get(entry.rule.code, 0) for run in last_runs]  # type: ignore[attr-defined]
    return render(
        request,
        "screening/catalogue.html",
        {
            "firing_runs": len(last_runs),
            "indicators": indicators,
            "parameters": _parameter_docs(),
            "rules": rules,
            "scorer": _scorer(model, model_note),
            "risk_codes": RISK_CODES,
            "can_manage": has_perm(request.user, Perm.MANAGE_SCREENING),
            "can_edit_rules": can_edit_rules(request.user),
        },
    )


@login_required
def parameter_set(request):
    """Parameters and weights as they hold for one of the user's regions (where each value comes from), the values
    stored for it and for the regions inside it; a manager sets a value (for every year or one year) or clears
    one, which falls back to the region above. A rejected value comes back in the form with the reason."""
    _require(request.user, Perm.VIEW_REGISTRY)
    codes = scope_codes(request.user)
    source = request.POST if request.method == "POST" else request.GET
    region = (source.get("region") or source.get("region_code") or (codes[0] if codes else "")).strip()
    if not region and request.method == "GET":  # a user without a region sees no region's values
        return render(request, "screening/parameters.html", {"region": "", "rows": [], "below": []})
    if not region or not in_scope(request.user, region):
        raise PermissionDenied("只能查看和设置本人管辖区域的参数")
    can_manage = has_perm(request.user, Perm.MANAGE_SCREENING)
    typed, error = {}, ""
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("您的角色不能修改筛查参数")
        if request.POST.get("action") == "clear":
            try:
                screening_parameter_clear(actor=request.user, pk=int(request.POST.get("pk", "")))
            except (ValueError, ScreeningParameter.DoesNotExist):
                raise Http404("没有这项参数设置") from None
            messages.success(request, "已清除，该地区改用上级地区的取值或默认值，下次筛查生效")
            return redirect(f"{reverse('screening:parameter_set')}?region={region}")
        typed = {k: request.POST.get(k, "").strip() for k in ("name", "year", "value", "note")}
        try:
            year = int(typed["year"]) if typed["year"] else None
            if year is not None and not 2000 <= year <= 2100:
                raise ValueError(f"年度 {year} 不合理")
            try:
                value = float(typed["value"])
            except ValueError:
                raise ValueError(f"取值 {typed['value']!r} 不是数字") from None
            screening_parameter_set(
                actor=request.user, name=typed["name"], region_code=region, value=value, year=year,
                note=typed["note"][:200],
            )  # fmt: skip
            messages.success(request, f"参数 {typed['name']} 已保存，下次筛查生效")
            return redirect(f"{reverse('screening:parameter_set')}?region={region}")
        except ValueError as exc:
            error = f"参数未保存：{exc}"
    rows, below = selectors.parameter_rows(region, timezone.localdate())
    return render(
        request,
        "screening/parameters.html",
        {"region": region, "regions": codes, "rows": rows, "below": below, "can_manage": can_manage,
         "typed": typed, "error": error, "year": timezone.localdate().year},
    )  # fmt: skip


@login_required
def rule_detail(request, code: str | None = None):
    """One trigger: the version in force, its history, and (for those allowed) the editor: 试算 tries the edited
    rule on a region without saving; 保存 stores it as a new version. An invalid rule comes back with everything
    typed and the error under its field."""
    _require(request.user, Perm.VIEW_REGISTRY)
    entry = selectors.rule_entry(code) if code else None
    if entry is not None and not selectors.rule_concerns(request.user, entry):
        raise Http404(f"没有规则 {code}")  # another county's own trigger
    can_edit = can_edit_rules(request.user, entry.rule.region if entry else None)
    can_try = has_perm(request.user, Perm.RUN_SCREENING)
    regions = _rule_regions(request.user, entry)
    codes = scope_codes(request.user)
    region = (request.POST.get("region") or (codes[0] if codes else "")).strip()
    trial, trial_error = None, ""
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if not (can_edit if action == "save" else can_try):
            raise PermissionDenied("全省统一的预警规则由省级管理人员维护，县级只能维护本县的规则")
        entries = selectors.rule_entries()
        taken = {e.rule.code for e in entries}
        visible = {e.rule.code for e in entries if selectors.rule_concerns(request.user, e)}
        form = RuleForm(request.POST, code=code, taken=taken, visible=visible, regions=regions)
        if form.is_valid():
            data = form.cleaned_data
            if action == "save":
                row = screening_rule_save(
                    actor=request.user, rule=form.rule(), is_active=data["is_active"], note=data["note"]
                )
                messages.success(request, f"规则 {row.code} 已保存为第 {row.version} 版，下次筛查生效")
                return redirect("screening:rule_detail", code=row.code)
            try:
                if whatifs.in_background(region):  # a province: graded in the task worker
                    job = whatifs.rule_whatif_enqueue(
                        user=request.user, region=region, rule=form.rule(), is_active=data["is_active"]
                    )
                    return redirect("screening:whatif_job", pk=job.pk)
                trial = whatifs.rule_whatif(
                    user=request.user, region=region, rule=form.rule(), is_active=data["is_active"]
                )
            except PermissionDenied as exc:
                trial_error = str(exc)
    elif entry:
        form = RuleForm.of(entry.rule, entry.is_active, regions=regions)
    else:  # a new rule: for the province where the user keeps its rules, else for their first region
        form = RuleForm(initial={"is_active": True, "applies_to": regions[0][0]}, regions=regions)
    if not (can_edit or can_try):
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "screening/rule.html",
        {
            "entry": entry,
            "fires": selectors.rule_firing_counts(request.user).get(code, 0) if entry else 0,
            "history": _firing_trend(request.user, code) if entry else None,
            "form": form,
            "versions": selectors.rule_versions(code) if code else [],
            "can_edit": can_edit,
            "can_try": can_try,
            "region": region,
            "trial": trial,
            "trial_error": trial_error,
            "fields": FIELD_DOCS.values(),
            "parameters": PARAMETER_DOCS.values(),
        },
    )


def _firing_trend(user, code: str) -> list[dict] | None:
    """The trigger's firing counts in the latest runs over every household, each with its share of the households
    graded (percent) and the largest count shown (most: the bars' scale) (None: see selectors.rule_firing_history)."""
    history = selectors.rule_firing_history(user, code)
    if history is None:
        return None
    most = max((run.fires.get(code, 0) for run in history), default=0)
    return [
        {
            "run": run,
            "fires": run.fires.get(code, 0),
            "percent": 100 * (run.share(code) or 0),
            "most": most or 1,
        }
        for run in history
    ]


def _rule_regions(user, entry) -> list[tuple[str, str]]:
    """The regions a rule may be kept for, as the user may choose them: the whole province (a province-level
    manager) and each of the user's regions (its managers); the rule's own region too, to show it."""
    codes = [c for c in scope_codes(user) if can_edit_rules(user, c)]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    out = [("", _("全省"))] if can_edit_rules(user, "") else []
    out += [(c, f"{names.get(c, c)}（{c}）") for c in codes if len(c) > 2]
    own = entry.rule.region if entry else None
    if own is not None and own not in {c for c, _label in out}:
        out.insert(0, (own, own or _("全省")))
    return out or [("", _("全省"))]


@login_required
@require_POST
def rule_restore(request, code: str):
    """Put an earlier version (0: the built-in default) back in force, as a new version."""
    entry = selectors.rule_entry(code)
    if not selectors.rule_concerns(request.user, entry):
        raise Http404(f"没有规则 {code}")
    if not can_edit_rules(request.user, entry.rule.region):
        raise PermissionDenied("全省统一的预警规则由省级管理人员维护，县级只能维护本县的规则")
    try:
        version = int(request.POST.get("version", ""))
        row = screening_rule_restore(actor=request.user, code=code, version=version)
    except (ValueError, ScreeningRule.DoesNotExist):
        raise Http404(f"规则 {code} 没有这个版本") from None
    messages.success(
        request, f"规则 {code} 已恢复为第 {version} 版的内容（保存为第 {row.version} 版），下次筛查生效"
    )
    return redirect("screening:rule_detail", code=code)


@login_required
def whatif(request):
    """Policy what-if: a different monitoring line or trigger threshold for a region, counted before adoption."""
    _require(request.user, Perm.RUN_SCREENING)
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
                if whatifs.in_background(region):  # a province: graded in the task worker
                    job = whatifs.policy_whatif_enqueue(user=request.user, region=region, changes=changes)
                    return redirect("screening:whatif_job", pk=job.pk)
                result = whatifs.policy_whatif(user=request.user, region=region, changes=changes)
            except (ValidationError, PermissionDenied) as exc:
                error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return render(
        request,
        "screening/whatif.html",
        {
            "parameters": _parameter_docs(),
            "region": region,
            "result": result,
            "error": error,
            "changes": changes,
            "jobs": selectors.whatif_jobs(request.user),
        },
    )


@login_required
def whatif_job(request, pk: int):
    """A what-if or rule trial running in the background: its progress (polled), then its result. Only its creator
    sees it."""
    job = selectors.whatif_job_get(request.user, pk)
    titles = {p.name: p.title_zh for p in PARAMETERS}
    changes = [(titles.get(name, name), value) for name, value in job.params.get("changes", {}).items()]
    for move in job.result.get("moves", []):  # in the reader's language, not the worker's
        move["from_label"], move["to_label"] = Grade(move["from"]).label, Grade(move["to"]).label
    for example in job.result.get("examples", []):
        example["grade_label"] = Grade(example["grade"]).label
    context = {"job": job, "changes": changes}
    if request.headers.get("HX-Request"):
        return render(request, "screening/_whatif_job.html", context)
    return render(request, "screening/whatif_job.html", context)


@login_required
@require_POST
def whatif_job_cancel(request, pk: int):
    """Cancel one of the user's background what-ifs or rule trials that has not finished."""
    job = selectors.whatif_job_get(request.user, pk)
    if whatifs.whatif_job_cancel(user=request.user, job=job):
        messages.success(request, "试算已取消")
    return redirect("screening:whatif_job", pk=pk)
