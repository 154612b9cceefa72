"""Pages of the clue inbox and the procedure (thin: services write, selectors read), and the public
self-declaration page (no login, rate-limited, honeypot, CSRF)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from engine import vocab
from engine.ids import mask_id_number, mask_phone
from engine.screening.rules import RISK_CODES
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, scope_codes
from guardline.core.paging import CappedPaginator
from guardline.regions.models import Region
from guardline.regions.selectors import regions_for_user
from guardline.registry.models import Household

from . import clocks, procedure, pull_services, selectors, services
from .forms import DeclarationForm, VisitReportForm, clean_text
from .models import Clue, Evidence, Holiday
from .procedure import ACTION_LABELS, STATE_LABELS, Action, ProcedureError, State


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


# ------------------------------------------------------------------------------------------------ public pages


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _rate_limited(request) -> bool:
    """At most DECLARATION_RATE submissions per address per window (cache counter; nothing stored in the DB)."""
    limit = settings.GUARDLINE.get("DECLARATION_RATE", 5)
    window = settings.GUARDLINE.get("DECLARATION_WINDOW", 3600)
    key = "declare:" + hashlib.sha256(_client_ip(request).encode()).hexdigest()[:32]
    if cache.add(key, 1, window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)
        return False
    return count > limit


def declare(request, village_code: str):
    """A household declares a difficulty: phone-friendly, Chinese, no login, reached by the village's QR code."""
    village = None
    if village_code.isdigit() and len(village_code) == 12:
        village = Region.objects.filter(code=village_code, level=Region.Level.VILLAGE).select_related(
            "parent").first()  # fmt: skip
    if village is None:
        return render(request, "cases/declare_unknown.html", status=404)
    form = DeclarationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _rate_limited(request):
            return render(request, "cases/declare.html", {"village": village, "form": form, "limited": True},
                          status=429)  # fmt: skip
        if form.is_valid() and not form.cleaned_data["website"]:
            c = form.cleaned_data
            clue = services.clue_declare(
                village_code=village.code, name=c["name"], id_number=c["id_number"], phone=c["phone"],
                address=c["address"], concern=c["concern"], description=c["description"], consent=c["consent"],
            )  # fmt: skip
            return redirect(reverse("declare:declare_status", args=[clue.receipt_no]) + "?new=1")
        if form.is_valid():  # the honeypot was filled: a bot; say nothing useful, store nothing
            form.add_error(None, "提交失败，请稍后重试")
        status = 400
    return render(request, "cases/declare.html", {"village": village, "form": form}, status=status)


def declare_status(request, receipt: str = ""):
    receipt = (receipt or request.GET.get("receipt", "")).strip()[:20]
    info = selectors.clue_status_public(receipt) if receipt else None
    status = 404 if receipt and info is None else 200
    return render(request, "cases/declare_status.html",
                  {"receipt": receipt, "info": info, "new": request.GET.get("new") == "1"}, status=status)  # fmt: skip


def _declare_url(request, code: str) -> str:
    base = settings.GUARDLINE.get("PUBLIC_BASE_URL") or request.build_absolute_uri("/")[:-1]
    return f"{base}{reverse('declare:declare', args=[code])}"


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue().decode()


@login_required
def qr_svg(request, code: str):
    _require(request.user, Perm.VIEW_REGISTRY)
    if not Region.objects.filter(code=code, level=Region.Level.VILLAGE).exists() or not in_scope(
        request.user, code
    ):
        raise Http404("村不存在或不在您的管辖范围内")
    return HttpResponse(_qr_svg(_declare_url(request, code)), content_type="image/svg+xml")


@login_required
def qr_sheet(request, code: str):
    """A printable sheet of a township's (or one village's) declaration QR codes."""
    _require(request.user, Perm.VIEW_REGISTRY)
    region = Region.objects.filter(code=code).select_related("parent").first()
    if region is None or not in_scope(request.user, code) or region.level < Region.Level.TOWNSHIP:
        raise Http404("地区不存在或不在您的管辖范围内")
    villages = [region] if region.level == Region.Level.VILLAGE else list(region.children.order_by("code"))
    cards = [
        {
            "village": v,
            "url": _declare_url(request, v.code),
            "svg": mark_safe(_qr_svg(_declare_url(request, v.code))),
        }
        for v in villages
    ]  # the SVG is generated here from a URL of digits: safe to inline
    return render(request, "cases/qr_sheet.html", {"region": region, "cards": cards})


# ------------------------------------------------------------------------------------------------------- inbox


@login_required
def inbox(request):
    _require(request.user, Perm.HANDLE_CLUES)
    f = selectors.ClueFilters(channel=request.GET.get("channel", ""), region=request.GET.get("region", ""),
                              status=request.GET.get("status", "new"))  # fmt: skip
    page = CappedPaginator(selectors.clue_inbox(request.user, f), 25).get_page(request.GET.get("page"))
    now = timezone.now()
    for c in page:
        c.overdue = c.status == "new" and c.verify_due is not None and c.verify_due < now
        c.risk_names = [RISK_CODES.get(r, r) for r in c.risk_types.split(";") if r]
    townships = regions_for_user(request.user, level=Region.Level.TOWNSHIP)[:50]
    return render(request, "cases/inbox.html", {
        "page": page, "filters": f, "channels": Clue.Channel.choices, "statuses": Clue.Status.choices,
        "townships": townships, "verify_label": clocks.days_label("warning_verification"),
    })  # fmt: skip


@login_required
@require_POST
def pull_warnings(request):
    _require(request.user, Perm.HANDLE_CLUES)
    n = sum(pull_services.clues_pull_warnings(region_code=code) for code in scope_codes(request.user))
    messages.success(request, f"已从预警生成 {n} 条线索")
    return redirect("cases:inbox")


@login_required
def report(request):
    """A cadre's or grid worker's visit report: one light page, works on a phone with a slow connection."""
    _require(request.user, Perm.REPORT_VISIT)
    villages = list(regions_for_user(request.user, level=Region.Level.VILLAGE).order_by("code")[:500])
    form = VisitReportForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        household = None
        if c["household_no"]:
            household = Household.objects.filter(household_no=c["household_no"].strip()).first()
            if household is None or not in_scope(request.user, household.village_code):
                form.add_error("household_no", "户编号不存在或不在您的管辖范围内")
        photos = request.FILES.getlist("photos")[:6]
        if form.is_valid():
            try:
                clue = services.clue_report(actor=request.user, village_code=c["village"], household=household,
                                            concern=c["concern"], description=c["description"], photos=photos)  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, "；".join(exc.messages))
            else:
                messages.success(request, f"已上报，受理编号 {clue.receipt_no}"
                                 + ("（与该户已有线索合并）" if clue.status == Clue.Status.MERGED else ""))  # fmt: skip
                return redirect("cases:report")
    return render(request, "cases/report.html", {"form": form})


@login_required
def clue_detail(request, pk: int):
    _require(request.user, Perm.HANDLE_CLUES)
    clue = selectors.clue_get(request.user, pk)
    return render(request, "cases/clue_detail.html", {
        "clue": clue, "id_masked": mask_id_number(clue.declarant_id_number),
        "phone_masked": mask_phone(clue.declarant_phone),
        "risk_names": [RISK_CODES.get(r, r) for r in clue.risk_types.split(";") if r],
        "similar": selectors.similar_clues(request.user, clue) if clue.status == "new" else [],
        "merged": clue.merged_clues.all(), "photos": clue.evidence.all(),
        "can_open": request.user.role in services.OPENERS,
    })  # fmt: skip


@login_required
@require_POST
def clue_action(request, pk: int, op: str):
    _require(request.user, Perm.HANDLE_CLUES)
    clue = selectors.clue_get(request.user, pk)
    try:
        if op == "open":
            case = services.case_open(actor=request.user, clue=clue)
            return redirect("cases:case_detail", pk=case.pk)
        if op == "match":
            term = request.POST.get("household", "").strip()[:32]
            household = Household.objects.filter(household_no=term).first()
            if household is None or not in_scope(request.user, household.village_code):
                raise ValidationError("户编号不存在或不在您的管辖范围内")
            services.clue_match(actor=request.user, clue=clue, household=household)
        elif op == "merge":
            into = selectors.clue_get(request.user, int(request.POST.get("into") or 0))
            services.clue_merge(actor=request.user, clue=clue, into=into)
        elif op == "dismiss":
            services.clue_dismiss(
                actor=request.user, clue=clue, reason=clean_text(request.POST.get("reason", ""))
            )
        else:
            raise Http404
        messages.success(request, "已保存")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", None) or [str(exc)]))
    return redirect("cases:clue_detail", pk=clue.pk)


# -------------------------------------------------------------------------------------------------------- cases


@login_required
def case_list(request):
    _require(request.user, Perm.HANDLE_CLUES)
    state = request.GET.get("state", "open")
    page = CappedPaginator(selectors.case_list(request.user, state), 25).get_page(request.GET.get("page"))
    now = timezone.now()
    for case in page:
        case.overdue = case.is_open and case.decision_due < now
        case.state_label = STATE_LABELS[State(case.state)]
    return render(request, "cases/case_list.html",
                  {"page": page, "state": state, "states": [(s.value, STATE_LABELS[s]) for s in State]})  # fmt: skip


@login_required
def case_detail(request, pk: int):
    _require(request.user, Perm.HANDLE_CLUES)
    case = selectors.case_get(request.user, pk)
    now = timezone.now()
    steps = list(selectors.case_steps(case))
    for s in steps:
        s.label = ACTION_LABELS.get(s.action, "立案") if s.action != "open" else "立案"  # type: ignore[call-overload]
        s.to_label = STATE_LABELS[State(s.to_state)]
    actions = [t.action.value for t in procedure.actions_for(case.state, request.user.role)]
    return render(request, "cases/case_detail.html", {
        "case": case, "steps": steps, "actions": actions, "state_label": STATE_LABELS[State(case.state)],
        "path": [(s, STATE_LABELS[s], procedure.PATH.index(s) <= procedure.PATH.index(State(case.state))
                  if case.state != State.REJECTED else False) for s in procedure.PATH],
        "now": now, "overdue": case.is_open and case.decision_due < now,
        "notice_open": case.state == State.PUBLIC_NOTICE and case.notice_ends_at and case.notice_ends_at > now,
        "categories": list(vocab.MONITOR_CATEGORIES.items()), "risk_codes": sorted(RISK_CODES.items()),
        "clues": case.clues.all(), "risk_names": [RISK_CODES.get(r, r) for r in case.risk_list],
        "max_risks": procedure.MAX_RISK_TYPES,
    })  # fmt: skip


def _signature_file(data_url: str) -> SimpleUploadedFile | None:
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > 2_000_000:
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(b"\x89PNG"):
        return None
    return SimpleUploadedFile("signature.png", raw, content_type="image/png")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _version(value) -> int | None:
    """The case version a form was rendered with; a form without one (an old page, a script) is checked against
    nothing but is still serialised by the row lock."""
    return _int(value) if value not in (None, "") else None


@login_required
@require_POST
def case_act(request, pk: int, action: str):
    _require(request.user, Perm.HANDLE_CLUES)
    case = selectors.case_get(request.user, pk)
    p = request.POST
    files: list[tuple[str, object]] = []
    for kind in ("commitment", "minutes", "notice", "other"):
        files += [(kind, f) for f in request.FILES.getlist(f"{kind}_file" if kind == "minutes" else kind)[:5]]
    sig = _signature_file(p.get("signature_data", ""))
    if sig is not None:
        files.append(("signature", sig))
    data: dict = {}
    try:
        notes, reason = clean_text(p.get("notes", ""))[:2000], clean_text(p.get("reason", ""))[:500]
        if action in (Action.VILLAGE_REVIEW, Action.REJECT) and p.get("participants"):
            data = {"participants": [clean_text(x)[:20] for x in p.get("participants", "").replace("，", ",")
                                     .replace("、", ",").split(",") if x.strip()][:200],
                    "votes_for": _int(p.get("votes_for")), "votes_against": _int(p.get("votes_against")),
                    "votes_abstain": _int(p.get("votes_abstain") or 0), "minutes": clean_text(p.get("minutes", ""))}  # fmt: skip
        elif action == Action.COUNTY_IDENTIFY:
            data = {"category": p.get("category", ""), "risk_types": p.getlist("risk_types")}
        elif action == Action.FAST_TRACK:
            data = {"risk_types": p.getlist("risk_types")}
        services.case_transition(actor=request.user, case=case, action=action, notes=notes, reason=reason,
                                 data=data, files=files, expected_version=_version(p.get("version")))  # fmt: skip
        messages.success(request, f"已办理：{ACTION_LABELS.get(action, action)}")  # type: ignore[call-overload]
    except (ProcedureError, ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", None) or [str(exc)]))
    return redirect("cases:case_detail", pk=case.pk)


@login_required
def notice_print(request, pk: int):
    """The village public notice: name, village, category, risk types and dates only — never ID numbers, phones,
    bank accounts or health details (DOMAIN §6)."""
    _require(request.user, Perm.HANDLE_CLUES)
    case = selectors.case_get(request.user, pk)
    if case.notice_started_at is None:
        raise Http404("尚未进入公示")
    village = Region.objects.filter(code=case.village_code).select_related("parent").first()
    review = case.steps.filter(action=Action.VILLAGE_REVIEW).first()
    return render(request, "cases/notice_print.html", {
        "case": case, "village": village, "head_name": case.household.head_name,
        "member_count": case.household.member_count, "review_at": review.at if review else None,
        "township": village.parent if village else None,
    })  # fmt: skip


@login_required
def evidence_file(request, pk: int):
    _require(request.user, Perm.HANDLE_CLUES)
    ev = Evidence.objects.filter(pk=pk).select_related("clue", "step__case").first()
    code = ev.clue.village_code if ev and ev.clue else ev.step.case.village_code if ev and ev.step else ""
    if ev is None or not code or not in_scope(request.user, code):
        raise Http404
    return FileResponse(ev.file.open("rb"), filename=ev.original_name or "file",
                        content_type=ev.content_type or "application/octet-stream")  # fmt: skip


# ------------------------------------------------------------------------------------------------------- clocks


@login_required
def overdue(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    region = request.GET.get("region", "")[:12]
    items = selectors.overdue(request.user, region=region)
    return render(request, "cases/overdue.html",
                  {"items": items[:500], "total": len(items), "by_region": selectors.overdue_by_region(items),
                   "region": region, "now": timezone.now()})  # fmt: skip


@login_required
def tasks(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    t = selectors.my_tasks(request.user)
    return render(request, "cases/tasks.html", {"todo": t["todo"][:300], "escalated": t["escalated"][:300],
                                                "now": timezone.now()})  # fmt: skip


@login_required
def holidays(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    can_edit = has_perm(request.user, Perm.MANAGE_CALENDAR)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("您的角色不能修改节假日")
        try:
            day = date.fromisoformat(request.POST.get("date", ""))
            if request.POST.get("delete"):
                services.holiday_delete(actor=request.user, date=day)
            else:
                services.holiday_set(actor=request.user, date=day, kind=request.POST.get("kind", ""),
                                     name=clean_text(request.POST.get("name", "")))  # fmt: skip
            messages.success(request, "已保存")
        except (ValueError, ValidationError) as exc:
            messages.error(request, f"未保存：{exc}")
        return redirect("cases:holidays")
    year = timezone.localdate().year
    return render(request, "cases/holidays.html", {
        "days": Holiday.objects.filter(date__year__gte=year - 1), "can_edit": can_edit,
        "clocks": [(name, clocks.days_label(name)) for name in clocks.DEFAULTS], "kinds": Holiday.Kind.choices,
    })  # fmt: skip
