"""Writes of the cases app: clues from the three channels into one inbox (with merging of duplicates), opening a case,
and every step of the identification procedure. Atomic and change-logged; the procedure itself is the table in
`procedure.py`, which `case_transition` reads."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.core.changelog import change_entry, log_changes
from guardline.core.crypto import blind_index
from guardline.ledger.services import ledger_append
from guardline.regions.models import Region
from guardline.registry.models import Household, Member

from . import clocks, procedure
from .models import Case, CaseStep, Clue, Evidence, Holiday
from .procedure import Action, Facts, State
from .workdays import Calendar

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".pdf"}
GRADE_RANK = {"red": 0, "yellow": 1, "green": 2, "": 3}
CONCERN_RISKS = {
    "illness": "01", "disaster": "02", "accident": "05", "disability": "03", "job": "07", "business": "06",
    "school": "09", "housing_water": "99", "other": "99",
}  # fmt: skip


def _receipt_no() -> str:
    return "SB" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def _log(entity: str, pk: int, household_id: int | None, action: str, before, after, actor) -> None:
    log_changes(
        [
            change_entry(
                entity=entity,
                entity_id=pk,
                household_id=household_id,
                action=action,
                before=before,
                after=after,
                actor_id=getattr(actor, "pk", None),
            )
        ]
    )


class StaleCaseError(ValidationError):
    """The case changed after the page the user submitted from was rendered (optimistic locking): nothing was
    applied; the user reloads the page and decides again."""


def _stale_message(case: Case) -> str:
    from .procedure import ACTION_LABELS

    last = case.steps.select_related("actor").order_by("-at", "-id").first()
    if last is None:
        return gettext("该案件已被他人更新，请刷新后重试")
    what = "立案" if last.action == "open" else ACTION_LABELS.get(last.action, last.action)  # type: ignore[call-overload]
    return gettext("该案件已被他人更新（最近办理：%(what)s，%(who)s，%(when)s），请刷新后重试") % {
        "what": gettext(what),
        "who": str(last.actor) if last.actor else "—",
        "when": f"{timezone.localtime(last.at):%Y-%m-%d %H:%M}",
    }


def case_claim_version(case: Case, expected_version: int | None = None) -> None:
    """Bump the case's version by a conditional UPDATE (… WHERE pk = … AND version = …). `expected_version` is the
    version the user's page was rendered with (None: the version just read, i.e. no check against a page); when
    another write got there first, raises StaleCaseError and the caller's transaction applies nothing."""
    current = case.version if expected_version is None else expected_version
    if not Case.objects.filter(pk=case.pk, version=current).update(version=F("version") + 1):
        raise StaleCaseError(_stale_message(case))
    case.version = current + 1


def _require(actor, perm: Perm) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied("您的角色无此权限")


def evidence_store(
    upload, *, kind: str, actor=None, clue: Clue | None = None, step: CaseStep | None = None, now=None
) -> Evidence:
    """Store an uploaded file (photo, scan, signature) under its content hash."""
    data = upload.read()
    if not data:
        raise ValidationError("文件为空")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError("文件不能超过 10 MB")
    suffix = Path(getattr(upload, "name", "") or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationError("只接受照片（jpg、png、webp、heic）或 PDF 扫描件")
    ev = Evidence(
        clue=clue,
        step=step,
        kind=kind,
        original_name=(getattr(upload, "name", "") or "")[:200],
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        suffix=suffix,
        uploaded_at=now or timezone.now(),
        uploaded_by=actor,
    )
    ev.file.save(ev.original_name or f"upload{suffix}", ContentFile(data), save=False)
    ev.save()
    return ev


# ---------------------------------------------------------------------------------------------------------- clues


def _household_for_id(id_number: str) -> Household | None:
    member = (
        Member.objects.filter(id_number_hash=blind_index(id_number), is_active=True)
        .select_related("household")
        .first()
    )
    return member.household if member else None


def _open_case(household_id: int) -> Case | None:
    return (
        Case.objects.filter(household_id=household_id, kind=Case.Kind.IDENTIFICATION)
        .exclude(state__in=procedure.FINAL_STATES)
        .first()
    )


def _merge_duplicates(clue: Clue, now: datetime) -> Clue:
    """A clue for a household that already has an open case or an earlier open clue joins it (merged_into)."""
    if clue.household_id is None or clue.status != Clue.Status.NEW:
        return clue
    case = _open_case(clue.household_id)
    if case is not None:
        primary = case.clues.filter(merged_into__isnull=True).order_by("received_at", "id").first()
    else:
        primary = (
            Clue.objects.filter(
                household_id=clue.household_id, status=Clue.Status.NEW, merged_into__isnull=True
            )
            .exclude(pk=clue.pk)
            .order_by("received_at", "id")
            .first()
        )
    if primary is None:
        return clue
    _absorb(primary, clue, now)
    clue.status = Clue.Status.MERGED
    clue.merged_into = primary
    clue.case = case
    clue.handled_at = now
    clue.save(update_fields=["status", "merged_into", "case", "handled_at"])
    _log("clue", clue.pk, clue.household_id, "update", {"status": "new"},
         {"status": "merged", "merged_into": primary.receipt_no}, None)  # fmt: skip
    return clue


def _absorb(primary: Clue, other: Clue, now: datetime) -> None:
    """The surviving clue keeps the most severe grade, every risk type and the earliest deadline."""
    risks = list(dict.fromkeys([*primary.risk_types.split(";"), *other.risk_types.split(";")]))
    primary.risk_types = ";".join(r for r in risks if r)[:60]
    if GRADE_RANK.get(other.grade, 3) < GRADE_RANK.get(primary.grade, 3):
        primary.grade = other.grade
    if other.verify_due and (primary.verify_due is None or other.verify_due < primary.verify_due):
        primary.verify_due = other.verify_due
    if primary.household_id is None:
        primary.household_id = other.household_id
    primary.save(update_fields=["risk_types", "grade", "verify_due", "household"])


def _new_clue(**fields: Any) -> Clue:
    for _ in range(5):
        receipt = _receipt_no()
        if not Clue.objects.filter(receipt_no=receipt).exists():
            return Clue.objects.create(receipt_no=receipt, **fields)
    raise RuntimeError("could not draw a free receipt number")


@transaction.atomic
def clue_declare(
    *,
    village_code: str,
    name: str,
    id_number: str,
    phone: str = "",
    address: str = "",
    concern: str,
    description: str,
    consent: bool,
    now: datetime | None = None,
) -> Clue:
    """A household's self-declaration from the public page (no login). The caller has validated the form (lengths,
    ID check digit); the household is found by the ID number when it is in the registry."""
    now = now or timezone.now()
    if not Region.objects.filter(code=village_code, level=Region.Level.VILLAGE).exists():
        raise ValidationError("村代码不存在")
    if not consent:
        raise ValidationError("须同意信息核对")
    if concern not in Clue.Concern.values:
        raise ValidationError("请选择困难类型")
    household = _household_for_id(id_number)
    clue = _new_clue(
        channel=Clue.Channel.DECLARATION,
        village_code=household.village_code if household else village_code,
        household=household,
        concern=concern,
        description=description,
        declarant_name=name,
        declarant_id_number=id_number,
        declarant_phone=phone,
        address=address,
        consent=True,
        risk_types=CONCERN_RISKS[concern],
        received_at=now,
        verify_due=clocks.due("warning_verification", now),
    )
    _log("clue", clue.pk, clue.household_id, "create", None,
         {"channel": clue.channel, "village_code": clue.village_code, "receipt_no": clue.receipt_no}, None)  # fmt: skip
    return _merge_duplicates(clue, now)


@transaction.atomic
def clue_report(
    *,
    actor,
    village_code: str,
    concern: str,
    description: str,
    household: Household | None = None,
    photos: Sequence = (),
    now: datetime | None = None,
) -> Clue:
    """A cadre's or grid worker's report from a household visit (photos allowed)."""
    now = now or timezone.now()
    _require(actor, Perm.REPORT_VISIT)
    if household is not None:
        village_code = household.village_code
    require_scope(actor, village_code)
    if not Region.objects.filter(code=village_code, level=Region.Level.VILLAGE).exists():
        raise ValidationError("请选择村")
    if concern not in Clue.Concern.values:
        raise ValidationError("请选择困难类型")
    if not description.strip():
        raise ValidationError("请填写情况说明")
    clue = _new_clue(
        channel=Clue.Channel.VISIT,
        village_code=village_code,
        household=household,
        concern=concern,
        description=description,
        reported_by=actor,
        risk_types=CONCERN_RISKS[concern],
        received_at=now,
        verify_due=clocks.due("warning_verification", now),
    )
    for upload in photos:
        evidence_store(upload, kind="photo", actor=actor, clue=clue, now=now)
    _log("clue", clue.pk, clue.household_id, "create", None,
         {"channel": clue.channel, "village_code": village_code, "photos": len(photos)}, actor)  # fmt: skip
    return _merge_duplicates(clue, now)


@transaction.atomic
def clue_from_warning(warning, now: datetime | None = None) -> Clue:
    """An open screening warning as a clue of channel "warning" (once per warning). The township's verification
    clock starts when the warning was raised, not when it was pulled in."""
    now = now or timezone.now()
    existing = Clue.objects.filter(warning=warning).first()
    if existing is not None:
        return existing
    clue = _new_clue(**warning_clue_fields(warning))
    _log("clue", clue.pk, clue.household_id, "create", None, warning_clue_logged(clue), None)
    return _merge_duplicates(clue, now)


def warning_clue_fields(warning, calendar: Calendar | None = None) -> dict[str, Any]:
    """The fields of a warning's clue (all but the receipt number). The verification clock starts when the warning
    was raised; `calendar` saves reading the holidays again for each of many warnings."""
    return {
        "channel": Clue.Channel.WARNING,
        "village_code": warning.village_code,
        "household_id": warning.household_id,
        "warning_id": warning.pk,
        "grade": warning.grade,
        "risk_types": warning.risk_types[:60],
        "description": "；".join(str(r) for r in warning.reasons)[:2000],
        "received_at": warning.opened_at,
        "verify_due": clocks.due("warning_verification", warning.opened_at, calendar),
    }


def warning_clue_logged(clue: Clue) -> dict[str, Any]:
    """What the change log keeps of a warning's clue when it is made."""
    return {"channel": "warning", "warning": clue.warning_id, "grade": clue.grade}


def _require_clue_handler(actor, clue: Clue) -> None:
    _require(actor, Perm.HANDLE_CLUES)
    require_scope(actor, clue.village_code)


@transaction.atomic
def clue_match(*, actor, clue: Clue, household: Household, now: datetime | None = None) -> Clue:
    """Attach a clue to the registry household it concerns (then it merges with that household's open clue)."""
    now = now or timezone.now()
    clue = Clue.objects.select_for_update().get(pk=clue.pk)
    _require_clue_handler(actor, clue)
    require_scope(actor, household.village_code)
    if clue.status != Clue.Status.NEW:
        raise ValidationError("只能为待核实的线索关联农户")
    clue.household = household
    clue.village_code = household.village_code
    clue.save(update_fields=["household", "village_code"])
    _log("clue", clue.pk, household.pk, "update", {"household": None}, {"household": household.pk}, actor)
    return _merge_duplicates(clue, now)


@transaction.atomic
def clue_merge(*, actor, clue: Clue, into: Clue, now: datetime | None = None) -> Clue:
    """Merge a duplicate clue into another one by hand (e.g. a declaration whose ID number was not in the
    registry, about a household that already has a clue)."""
    now = now or timezone.now()
    clue = Clue.objects.select_for_update().get(pk=clue.pk)
    into = Clue.objects.select_for_update().get(pk=into.pk)
    _require_clue_handler(actor, clue)
    _require_clue_handler(actor, into)
    if (
        clue.pk == into.pk
        or into.merged_into_id is not None
        or into.status in (Clue.Status.MERGED, Clue.Status.DISMISSED)
    ):
        raise ValidationError("不能合并到该线索")  # fmt: skip
    if clue.status != Clue.Status.NEW:
        raise ValidationError("只能合并待核实的线索")
    if clue.household_id and into.household_id and clue.household_id != into.household_id:
        raise ValidationError("两条线索属于不同的农户，不能合并")
    _absorb(into, clue, now)
    clue.status, clue.merged_into, clue.case_id = Clue.Status.MERGED, into, into.case_id
    clue.handled_at, clue.handled_by = now, actor
    clue.save(update_fields=["status", "merged_into", "case", "handled_at", "handled_by"])
    _log("clue", clue.pk, clue.household_id, "update", {"status": "new"},
         {"status": "merged", "merged_into": into.receipt_no}, actor)  # fmt: skip
    return clue


@transaction.atomic
def clue_dismiss(*, actor, clue: Clue, reason: str, now: datetime | None = None) -> Clue:
    now = now or timezone.now()
    clue = Clue.objects.select_for_update().get(pk=clue.pk)
    _require_clue_handler(actor, clue)
    if clue.status != Clue.Status.NEW:
        raise ValidationError("只能处理待核实的线索")
    if not reason.strip():
        raise ValidationError("请填写不予受理的理由")
    clue.status, clue.dismiss_reason, clue.handled_at, clue.handled_by = (
        Clue.Status.DISMISSED, reason.strip()[:200], now, actor)  # fmt: skip
    clue.save(update_fields=["status", "dismiss_reason", "handled_at", "handled_by"])
    _log("clue", clue.pk, clue.household_id, "update", {"status": "new"},
         {"status": "dismissed", "reason": clue.dismiss_reason}, actor)  # fmt: skip
    return clue


# ---------------------------------------------------------------------------------------------------------- cases

OPENERS = frozenset({procedure.VILLAGE, procedure.TOWNSHIP, *procedure.COUNTY})


@transaction.atomic
def case_open(*, actor, clue: Clue, now: datetime | None = None) -> Case:
    """Open the identification procedure for a clue's household (or join the household's open case). The
    decision clock runs from the earliest clue of the household."""
    now = now or timezone.now()
    clue = Clue.objects.select_for_update().get(pk=clue.pk)
    _require_clue_handler(actor, clue)
    if actor.role not in OPENERS:
        raise PermissionDenied("您的角色不能立案")
    if clue.status != Clue.Status.NEW:
        raise ValidationError("该线索已处理")
    if clue.household_id is None:
        raise ValidationError("请先关联农户（按户编号或身份证号）")
    household = clue.household
    assert household is not None
    require_scope(actor, household.village_code)
    case = _open_case(household.pk)
    group = [clue, *clue.merged_clues.all()]
    if case is None:
        started = min(c.received_at for c in group)
        case = Case.objects.create(
            household=household,
            village_code=household.village_code,
            state=State.HOME_CHECK,
            risk_types=clue.risk_types if clue.channel == Clue.Channel.WARNING else "",
            clue_received_at=started,
            opened_at=now,
            opened_by=actor,
            decision_due=clocks.due("clue_to_decision", started),
            updated_at=now,
        )
        CaseStep.objects.create(case=case, action="open", from_state=State.HOME_CHECK, to_state=State.HOME_CHECK,
                                actor=actor, actor_role=actor.role, at=now,
                                data={"clues": [c.receipt_no for c in group]})  # fmt: skip
        _log("case", case.pk, household.pk, "create", None,
             {"state": case.state, "decision_due": case.decision_due, "clue": clue.receipt_no}, actor)  # fmt: skip
    Clue.objects.filter(pk__in=[c.pk for c in group]).update(case=case)
    clue.status, clue.case, clue.handled_at, clue.handled_by = Clue.Status.CASE, case, now, actor
    clue.save(update_fields=["status", "case", "handled_at", "handled_by"])
    return case


def _facts(case: Case, now: datetime, notes: str, reason: str, data: dict, commitment: bool) -> Facts:
    participants = tuple(p for p in (data.get("participants") or ()) if str(p).strip())
    return Facts(
        now=now,
        # local time: a guard's message shows it to the user
        notice_ends_at=timezone.localtime(case.notice_ends_at) if case.notice_ends_at else None,
        fast_track=case.fast_track,
        commitment=commitment,
        notes=notes,
        reason=reason,
        participants=participants,
        votes_for=int(data.get("votes_for") or 0),
        votes_against=int(data.get("votes_against") or 0),
        votes_abstain=int(data.get("votes_abstain") or 0),
        minutes=str(data.get("minutes") or ""),
        category=str(data.get("category") or ""),
        risk_types=tuple(data.get("risk_types") or ()),
    )


def _snapshot(case: Case, on: datetime) -> dict[str, Any]:
    """What the decision records besides category and risks: income, the monitoring line in force, flags."""
    from guardline.regions.selectors import monitoring_line_for_household

    household = case.household
    year = household.years.order_by("-year").first()
    line = monitoring_line_for_household(household, timezone.localdate(on))
    return {
        "income_year": year.year if year else None,
        "per_capita_income": str(household.latest_per_capita_income)
        if household.latest_per_capita_income is not None
        else None,
        "monitoring_line": str(line.amount) if line else None,
        "member_count": household.member_count,
        "housing_unsafe": getattr(year, "housing_unsafe", None),
        "dropout": getattr(year, "dropout", None),
        "water_unsafe": getattr(year, "water_unsafe", None),
        "uninsured_member": getattr(year, "uninsured_member", None),
    }


@transaction.atomic
def case_transition(
    *,
    actor,
    case: Case,
    action: str,
    notes: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    files: Iterable[tuple[str, Any]] = (),
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Take one step of the procedure: checks the region rule (the case's village in the actor's scope), then the
    version the user's page was rendered with (`expected_version`, optimistic locking), then the role and the
    guards of `procedure.TRANSITIONS`, records the step (who, when, role, notes, data, evidence) and moves the
    case. Raises PermissionDenied (region), StaleCaseError (someone else changed the case first) or
    ProcedureError (state, role, guard)."""
    now = now or timezone.now()
    data = dict(data or {})
    files = list(files)
    case = Case.objects.select_for_update().select_related("household").get(pk=case.pk)
    _require(actor, Perm.HANDLE_CLUES)
    require_scope(actor, case.village_code)
    case_claim_version(case, expected_version)
    commitment = any(kind in (Evidence.Kind.COMMITMENT, Evidence.Kind.SIGNATURE) for kind, _ in files)
    facts = _facts(case, now, notes, reason, data, commitment)
    t = procedure.check(case.state, action, actor.role, facts)
    before = {
        f: getattr(case, f) for f in ("state", "category", "risk_types", "fast_track", "notice_ends_at")
    }
    source = case.state
    target = procedure.next_state(source, t)
    step_data: dict[str, Any] = {}
    if t.action == Action.VILLAGE_REVIEW:
        step_data = {"participants": list(facts.participants), "votes_for": facts.votes_for,
                     "votes_against": facts.votes_against, "votes_abstain": facts.votes_abstain,
                     "minutes": facts.minutes}  # fmt: skip
        case.notice_started_at = now
        case.notice_ends_at = clocks.due("notice", now)
    elif t.action == Action.COUNTY_IDENTIFY:
        step_data = {"category": facts.category, "risk_types": list(facts.risk_types)}
        case.category = facts.category
        case.risk_types = ";".join(facts.risk_types)
        case.decided_at, case.decided_by = now, actor
        case.identification_month = f"{timezone.localdate(now):%Y-%m}"
        case.decision_snapshot = _snapshot(case, now)
        case.plan_due = clocks.due("plan_after_identification", now)
    elif t.action == Action.REJECT:
        case.rejected_at, case.reject_reason = now, reason.strip()[:500]
        step_data = {"reason": case.reject_reason}
        if source == State.VILLAGE_REVIEW and facts.participants:
            step_data.update(participants=list(facts.participants), votes_for=facts.votes_for,
                             votes_against=facts.votes_against, votes_abstain=facts.votes_abstain,
                             minutes=facts.minutes)  # fmt: skip
    elif t.action == Action.FAST_TRACK:
        case.fast_track, case.fast_track_reason, case.help_started_at = True, reason.strip()[:200], now
        if not case.risk_types:
            case.risk_types = ";".join(facts.risk_types)
        step_data = {"reason": case.fast_track_reason, "risk_types": list(facts.risk_types)}
    elif t.action == Action.NOTICE_CLOSE:
        step_data = {"notice_started_at": case.notice_started_at, "notice_ends_at": case.notice_ends_at}
    case.state = target
    case.updated_at = now
    case.save()
    step = CaseStep.objects.create(
        case=case, action=t.action, from_state=source, to_state=target, actor=actor, actor_role=actor.role,
        at=now, notes=notes.strip(), data={k: _jsonable(v) for k, v in step_data.items()},
    )  # fmt: skip
    for kind, upload in files:
        evidence_store(upload, kind=kind, actor=actor, step=step, now=now)
    if t.action == Action.COUNTY_IDENTIFY and case.household.monitor_category != case.category:
        from guardline.registry.services import household_update

        household_update(actor=actor, household=case.household, monitor_category=case.category)
    after = {f: getattr(case, f) for f in before}
    _log("case", case.pk, case.household_id, "update", before, {**after, "action": t.action}, actor)
    if t.action in (Action.COUNTY_IDENTIFY, Action.REJECT):  # decisions on households go to the ledger
        ledger_append(kind="decision", entity="case", entity_id=case.pk, actor=actor, payload={
            "action": t.action, "household_id": case.household_id, "from": source, "to": target, **step_data})  # fmt: skip
    return case


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def case_plan_made(*, case: Case, at: datetime) -> None:
    """Stops the plan clock; called by the assistance app when the household's plan is drawn up."""
    Case.objects.filter(pk=case.pk, plan_made_at__isnull=True).update(
        plan_made_at=at, version=F("version") + 1
    )


# ------------------------------------------------------------------------------------------------------ calendar


@transaction.atomic
def holiday_set(*, actor, date, kind: str, name: str = "") -> Holiday:
    _require(actor, Perm.MANAGE_CALENDAR)
    if kind not in Holiday.Kind.values:
        raise ValidationError("未知的日期类型")
    holiday, created = Holiday.objects.update_or_create(
        date=date, defaults={"kind": kind, "name": name.strip()[:50], "updated_by": actor}
    )
    _log("holiday", holiday.pk, None, "create" if created else "update", None,
         {"date": date, "kind": kind, "name": holiday.name}, actor)  # fmt: skip
    return holiday


@transaction.atomic
def holiday_delete(*, actor, date) -> None:
    _require(actor, Perm.MANAGE_CALENDAR)
    for holiday in Holiday.objects.filter(date=date):
        _log("holiday", holiday.pk, None, "delete", {"date": date, "kind": holiday.kind}, None, actor)
        holiday.delete()
