"""Writes of the assistance app: plans and measures, paired cadres, follow-up visits (whose income and conditions
flow into the registry through its services), and the risk-elimination procedure with reversal and
re-identification. Atomic and change-logged; the elimination procedure is the table in `procedure.py`."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, require_scope
from guardline.cases import clocks
from guardline.cases import services as case_services
from guardline.cases.models import Case
from guardline.cases.procedure import State as CaseState
from guardline.core.changelog import change_entry, log_changes
from guardline.ledger.services import ledger_append
from guardline.registry.import_services import income_apply_rows
from guardline.registry.models import Household, HouseholdYear
from guardline.registry.services import LABOUR_ABLE, household_update

from . import catalogue, eligibility, procedure, recommend
from .models import AssistancePlan, Elimination, EliminationStep, Measure, PairedCadre, Visit
from .procedure import Action, Facts, State

MEASURE_EDITABLE = ("description", "amount", "start_date", "end_date", "responsible", "status")
INCOME_FIELDS = ("wage_income", "business_income", "property_income", "transfer_income", "business_cost",
                 "claim_income", "compliant_out_of_pocket")  # fmt: skip
CONDITION_FIELDS = ("housing_unsafe", "dropout", "water_unsafe", "uninsured_member")
ACTIVE_MEASURE = (Measure.Status.PLANNED, Measure.Status.IN_PROGRESS, Measure.Status.DELIVERED)


def _log(entity: str, pk: int, household_id: int | None, action: str, before, after, actor) -> None:
    log_changes([change_entry(entity=entity, entity_id=pk, household_id=household_id, action=action,
                              before=before, after=after, actor_id=getattr(actor, "pk", None))])  # fmt: skip


def _require(actor, perm: Perm, village_code: str) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied("您的角色无此权限")
    require_scope(actor, village_code)


def _money(value: Any, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(f"{label}须为数字") from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise ValidationError(f"{label}不能为负数或过大")
    return amount.quantize(Decimal("0.01"))


# ------------------------------------------------------------------------------------------ household facts


def latest_year(household: Household) -> HouseholdYear | None:
    return household.years.filter(snapshot_kind="annual").order_by("-year").first()


def monitoring_line(household: Household, on: date) -> Decimal | None:
    from guardline.regions.selectors import monitoring_line_for_household

    line = monitoring_line_for_household(household, on)
    return line.amount if line else None


def received_codes(household: Household) -> frozenset[str]:
    return frozenset(household.measures.filter(status__in=ACTIVE_MEASURE).values_list("code", flat=True))


def recommender_input(case: Case, on: date | None = None) -> recommend.Household:
    household = case.household
    on = on or timezone.localdate()
    year = latest_year(household)
    line = monitoring_line(household, on)
    income = year.per_capita_net_income if year else household.latest_per_capita_income
    capable = household.members.filter(is_active=True, labour_capacity__in=LABOUR_ABLE).exists()
    conditions = frozenset(k for k in recommend.CONDITION_MEASURES if year is not None and getattr(year, k))
    return recommend.Household(
        risk_types=tuple(case.risk_list),
        labour_capable=capable,
        stable_income=income is not None and line is not None and income >= line,
        conditions=conditions,
        received=received_codes(household),
    )


def recommendation(case: Case, on: date | None = None) -> recommend.Recommendation:
    return recommend.recommend(recommender_input(case, on))


def plan_checks(plan: AssistancePlan) -> list[recommend.RuleCheck]:
    """The rules over the plan as it stands (measures not cancelled)."""
    return recommend.check_plan(recommender_input(plan.case), received_codes(plan.household))


# --------------------------------------------------------------------------------------------- plan, measures


@transaction.atomic
def plan_create(*, actor, case: Case, notes: str = "", now: datetime | None = None) -> AssistancePlan:
    """Draw up the household's plan after identification (stops the plan clock of the case)."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().select_related("household").get(pk=case.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, case.village_code)
    if case.state != CaseState.IDENTIFIED:
        raise ValidationError("只有已认定的监测对象才能制定帮扶计划")
    if AssistancePlan.objects.filter(case=case).exists():
        raise ValidationError("该户本次认定已有帮扶计划")
    rec = recommendation(case, timezone.localdate(now))
    plan = AssistancePlan.objects.create(
        case=case, household=case.household, village_code=case.village_code, due=case.plan_due, created_at=now,
        created_by=actor, late=bool(case.plan_due and now > case.plan_due), notes=notes.strip()[:2000],
        recommendation={"proposals": [{"code": p.code, "reason": p.reason} for p in rec.proposals],
                        "checks": [c.__dict__ for c in rec.checks]},
        updated_at=now,
    )  # fmt: skip
    case_services.case_plan_made(case=case, at=now)
    _log("assistance_plan", plan.pk, case.household_id, "create", None,
         {"case": case.pk, "due": plan.due, "late": plan.late}, actor)  # fmt: skip
    return plan


def _check_responsible(responsible, village_code: str) -> None:
    if responsible is not None and (not responsible.is_active or not in_scope(responsible, village_code)):
        raise ValidationError("责任人须为负责该村的在岗人员")


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValidationError("结束日期不能早于开始日期")


@transaction.atomic
def measure_add(
    *,
    actor,
    plan: AssistancePlan,
    code: str,
    description: str = "",
    amount: Any = None,
    start_date: date | None = None,
    end_date: date | None = None,
    responsible=None,
    now: datetime | None = None,
) -> Measure:
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_ASSISTANCE, plan.village_code)
    m = catalogue.CATALOGUE.get(code)
    if m is None or not m.offered:
        raise ValidationError("措施代码不在国家代码表中")
    _check_dates(start_date, end_date)
    _check_responsible(responsible, plan.village_code)
    measure = Measure.objects.create(
        plan=plan, household_id=plan.household_id, village_code=plan.village_code, code=code,
        description=description.strip()[:300], amount=_money(amount, "金额"), start_date=start_date,
        end_date=end_date, responsible=responsible, created_at=now, updated_at=now,
    )  # fmt: skip
    _log("measure", measure.pk, plan.household_id, "create", None,
         {"code": code, "amount": measure.amount, "start_date": start_date, "end_date": end_date,
          "responsible": getattr(responsible, "pk", None)}, actor)  # fmt: skip
    return measure


@transaction.atomic
def measure_update(*, actor, measure: Measure, now: datetime | None = None, **changes: Any) -> Measure:
    """Edit a measure (content, amount, dates, responsible cadre) or start it (planned → in progress). Delivering
    goes through `measure_complete`, cancelling through `measure_cancel`."""
    now = now or timezone.now()
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, measure.village_code)
    unknown = set(changes) - set(MEASURE_EDITABLE)
    if unknown:
        raise ValidationError(f"不可修改的字段: {', '.join(sorted(unknown))}")
    if measure.status in (Measure.Status.DELIVERED, Measure.Status.CANCELLED):
        raise ValidationError("已落实或已取消的措施不能修改")
    if "status" in changes and changes["status"] not in (measure.status, Measure.Status.IN_PROGRESS):
        raise ValidationError("此处只能将措施设为“实施中”")
    if "amount" in changes:
        changes["amount"] = _money(changes["amount"], "金额")
    if "description" in changes:
        changes["description"] = str(changes["description"]).strip()[:300]
    if "responsible" in changes:
        _check_responsible(changes["responsible"], measure.village_code)
    _check_dates(changes.get("start_date", measure.start_date), changes.get("end_date", measure.end_date))
    before = {k: getattr(measure, k) for k in changes}
    for k, v in changes.items():
        setattr(measure, k, v)
    measure.updated_at = now
    measure.save()
    after = {k: getattr(measure, k) for k in changes}
    for d in (before, after):
        if "responsible" in d:
            d["responsible"] = getattr(d["responsible"], "pk", None)
    _log("measure", measure.pk, measure.household_id, "update", before, after, actor)
    return measure


def _store_evidence(measure: Measure, upload) -> None:
    data = upload.read()
    if not data:
        raise ValidationError("文件为空")
    if len(data) > case_services.MAX_FILE_BYTES:
        raise ValidationError("文件不能超过 10 MB")
    suffix = Path(getattr(upload, "name", "") or "").suffix.lower()
    if suffix not in case_services.ALLOWED_SUFFIXES:
        raise ValidationError("只接受照片（jpg、png、webp、heic）或 PDF 扫描件")
    measure.sha256 = hashlib.sha256(data).hexdigest()
    measure.evidence_suffix = suffix
    measure.evidence_name = (getattr(upload, "name", "") or "")[:200]
    measure.evidence.save(measure.evidence_name or f"evidence{suffix}", ContentFile(data), save=False)


@transaction.atomic
def measure_complete(
    *, actor, measure: Measure, evidence, notes: str = "", now: datetime | None = None
) -> Measure:
    """Mark a measure delivered (已落实) with its completion evidence (photo or scan)."""
    now = now or timezone.now()
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, measure.village_code)
    if measure.status not in (Measure.Status.PLANNED, Measure.Status.IN_PROGRESS):
        raise ValidationError("只能落实计划中或实施中的措施")
    if evidence is None:
        raise ValidationError("请上传落实佐证材料（照片或扫描件）")
    _store_evidence(measure, evidence)
    before = {"status": measure.status}
    measure.status, measure.completed_at, measure.completed_by, measure.updated_at = (
        Measure.Status.DELIVERED, now, actor, now)  # fmt: skip
    if notes.strip():
        measure.description = (measure.description + "；" + notes.strip())[:300].lstrip("；")
    measure.save()
    _log("measure", measure.pk, measure.household_id, "update", before,
         {"status": measure.status, "evidence": measure.sha256}, actor)  # fmt: skip
    return measure


@transaction.atomic
def measure_cancel(*, actor, measure: Measure, reason: str, now: datetime | None = None) -> Measure:
    now = now or timezone.now()
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, measure.village_code)
    if measure.status == Measure.Status.CANCELLED:
        raise ValidationError("该措施已取消")
    if measure.status == Measure.Status.DELIVERED:
        raise ValidationError("已落实的措施不能取消")
    if not reason.strip():
        raise ValidationError("请填写取消理由")
    before = {"status": measure.status}
    measure.status, measure.cancel_reason, measure.updated_at = (
        Measure.Status.CANCELLED,
        reason.strip()[:200],
        now,
    )
    measure.save()
    _log("measure", measure.pk, measure.household_id, "update", before,
         {"status": measure.status, "reason": measure.cancel_reason}, actor)  # fmt: skip
    return measure


# ---------------------------------------------------------------------------------------------- paired cadres


@transaction.atomic
def cadre_pair(*, actor, household: Household, cadre, start_date: date | None = None) -> PairedCadre:
    _require(actor, Perm.MANAGE_ASSISTANCE, household.village_code)
    if not cadre.is_active or not in_scope(cadre, household.village_code):
        raise ValidationError("帮扶责任人须为负责该村的在岗人员")
    if PairedCadre.objects.filter(household=household, cadre=cadre, end_date__isnull=True).exists():
        raise ValidationError("该干部已与此户结对")
    start_date = start_date or timezone.localdate()
    pairing = PairedCadre.objects.create(household=household, village_code=household.village_code, cadre=cadre,
                                         start_date=start_date, created_by=actor)  # fmt: skip
    _log("paired_cadre", pairing.pk, household.pk, "create", None,
         {"cadre": cadre.pk, "start_date": start_date}, actor)  # fmt: skip
    return pairing


@transaction.atomic
def cadre_unpair(*, actor, pairing: PairedCadre, end_date: date | None = None) -> PairedCadre:
    pairing = PairedCadre.objects.select_for_update().get(pk=pairing.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, pairing.village_code)
    if pairing.end_date is not None:
        raise ValidationError("该结对已解除")
    end_date = end_date or timezone.localdate()
    if end_date < pairing.start_date:
        raise ValidationError("解除日期不能早于结对日期")
    pairing.end_date = end_date
    pairing.save(update_fields=["end_date"])
    _log("paired_cadre", pairing.pk, pairing.household_id, "update", {"end_date": None},
         {"end_date": end_date}, actor)  # fmt: skip
    return pairing


# --------------------------------------------------------------------------------------------------- visits


def _clean_updates(updates: dict[str, Any], today: date) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in INCOME_FIELDS:
        if updates.get(name) not in (None, ""):
            clean[name] = _money(updates[name], "收入")
    for name in CONDITION_FIELDS:
        if updates.get(name) is not None and updates.get(name) != "":
            clean[name] = bool(updates[name])
    if clean:
        year = int(updates.get("year") or today.year)
        if not 2000 <= year <= today.year:
            raise ValidationError("年度不正确")
        clean["year"] = year
    return clean


@transaction.atomic
def visit_record(
    *,
    actor,
    household: Household,
    notes: str,
    kind: str = "routine",
    updates: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Visit:
    """Record a follow-up visit. Income and condition figures reported at the visit update the household's annual
    row through the registry's income service (only the figures given change; the rest stay)."""
    at = at or timezone.now()
    _require(actor, Perm.REPORT_VISIT, household.village_code)
    if kind not in Visit.Kind.values:
        raise ValidationError("未知的走访方式")
    if not notes.strip():
        raise ValidationError("请填写走访情况")
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError("走访时间不能晚于现在")
    clean = _clean_updates(dict(updates or {}), timezone.localdate(at))
    from guardline.screening.models import HouseholdGrade

    grade = HouseholdGrade.objects.filter(household=household).values_list("grade", flat=True).first() or ""
    visit = Visit.objects.create(
        household=household, village_code=household.village_code, visitor=actor, at=at, kind=kind, grade=grade,
        notes=notes.strip()[:2000], updates={k: (str(v) if isinstance(v, Decimal) else v) for k, v in clean.items()},
    )  # fmt: skip
    if clean:
        year = clean["year"]
        current = HouseholdYear.objects.filter(household=household, year=year, snapshot_kind="annual").first()
        row: dict[str, Any] = {
            name: getattr(current, name) if current else None for name in HouseholdYear.INPUTS
        }
        row.update({k: v for k, v in clean.items() if k != "year"})
        row.update(household_no=household.household_no, year=year, source_row=0)
        result = income_apply_rows([row], actor_id=actor.pk, allowed=lambda code: in_scope(actor, code))
        if result.issues:
            raise ValidationError(result.issues[0].message)
    _log("visit", visit.pk, household.pk, "create", None,
         {"kind": kind, "at": at, "updates": visit.updates}, actor)  # fmt: skip
    return visit


# ---------------------------------------------------------------------------------------------- elimination


def _min_months() -> int:
    return int(settings.GUARDLINE.get("ELIMINATION_MIN_MONTHS", 6))


def on_safety_net(household: Household, on: date) -> bool:
    live = household.measures.filter(
        code__in=catalogue.SAFETY_NET_CODES, status__in=(Measure.Status.IN_PROGRESS, Measure.Status.DELIVERED)
    )
    return any(m.end_date is None or m.end_date >= on for m in live)


def eligibility_snapshot(case: Case, now: datetime | None = None) -> eligibility.Snapshot:
    """What the eligibility rules look at, read from the registry, the line in force, measures and warnings."""
    from guardline.screening.models import RiskWarning

    now = now or timezone.now()
    today = timezone.localdate(now)
    household = case.household
    year = latest_year(household)
    warnings = RiskWarning.objects.filter(household=household, status=RiskWarning.Status.OPEN)
    risks = sorted({r for w in warnings for r in w.risk_types.split(";") if r} | (
        {"—"} if warnings.exists() and not any(w.risk_types for w in warnings) else set()))  # fmt: skip
    assert case.decided_at is not None
    return eligibility.Snapshot(
        today=today,
        identified_on=timezone.localdate(case.decided_at),
        min_months=_min_months(),
        delivered_measures=Measure.objects.filter(plan__case=case, status=Measure.Status.DELIVERED).count(),
        income_year=year.year if year else None,
        per_capita_income=year.per_capita_net_income if year else None,
        per_capita_adjusted_income=year.per_capita_adjusted_income if year else None,
        monitoring_line=monitoring_line(household, today),
        net_income=year.net_income if year else None,
        rigid_expenditure=year.compliant_out_of_pocket if year else None,
        conditions={k: getattr(year, k) if year else None for k in eligibility.CONDITION_LABELS},
        open_warning_risks=tuple(risks),
        no_labour_household=household.no_labour_household,
        on_safety_net=on_safety_net(household, today),
    )


def eligibility_check(
    case: Case, now: datetime | None = None
) -> tuple[eligibility.Snapshot, eligibility.Result]:
    snap = eligibility_snapshot(case, now)
    return snap, eligibility.check(snap)


def _record_eligibility(elim: Elimination, case: Case, now: datetime) -> eligibility.Result:
    snap, result = eligibility_check(case, now)
    elim.eligibility = {"checked_at": now.isoformat(), "snapshot": snap.as_json(), **result.as_json()}
    elim.eligible = result.eligible
    return result


def _live_elimination(case: Case) -> Elimination | None:
    return Elimination.objects.filter(case=case).exclude(state__in=procedure.FINAL_STATES).first()


@transaction.atomic
def elimination_start(
    *, actor, case: Case, mode: str, notes: str = "", now: datetime | None = None
) -> Elimination:
    """Open the elimination procedure for an identified household: the eligibility check runs at once and again at
    every step that needs it."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().select_related("household").get(pk=case.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, case.village_code)
    if mode not in {m.value for m in procedure.Mode}:
        raise ValidationError("请选择消除方式（帮扶消除或自然消除）")
    if case.state != CaseState.IDENTIFIED:
        raise ValidationError("只有已认定的监测对象才能申请风险消除")
    newer = Case.objects.filter(household=case.household, kind=Case.Kind.IDENTIFICATION, pk__gt=case.pk)
    if newer.exists():
        raise ValidationError("该户已有更新的认定，请在最新认定上办理")
    if _live_elimination(case) is not None:
        raise ValidationError("该户已在风险消除程序中或已消除")
    elim = Elimination(case=case, household=case.household, village_code=case.village_code, mode=mode,
                       state=State.ELIGIBILITY, started_at=now, started_by=actor, updated_at=now)  # fmt: skip
    _record_eligibility(elim, case, now)
    elim.save()
    EliminationStep.objects.create(elimination=elim, action="start", from_state=State.ELIGIBILITY,
                                   to_state=State.ELIGIBILITY, actor=actor, actor_role=actor.role, at=now,
                                   notes=notes.strip(), data={"mode": mode, "eligible": elim.eligible})  # fmt: skip
    _log("elimination", elim.pk, case.household_id, "create", None,
         {"case": case.pk, "mode": mode, "eligible": elim.eligible}, actor)  # fmt: skip
    return elim


def _facts(elim: Elimination, result: eligibility.Result | None, now: datetime, notes: str, reason: str,
           data: dict) -> Facts:  # fmt: skip
    participants = tuple(str(p).strip() for p in (data.get("participants") or ()) if str(p).strip())

    def num(key: str) -> int:
        try:
            return int(data.get(key) or 0)
        except (TypeError, ValueError):
            return -1

    return Facts(
        now=now,
        eligible=bool(result and result.eligible),
        eligibility_reasons=tuple(result.reasons) if result else (),
        # local time: a guard's message shows it to the user
        notice_ends_at=timezone.localtime(elim.notice_ends_at) if elim.notice_ends_at else None,
        notes=notes,
        reason=reason,
        participants=participants,
        votes_for=num("votes_for"),
        votes_against=num("votes_against"),
        votes_abstain=num("votes_abstain"),
        minutes=str(data.get("minutes") or ""),
    )


DECIDING = frozenset({Action.COUNTY_ELIMINATE, Action.REVERSE})


@transaction.atomic
def elimination_transition(
    *,
    actor,
    elimination: Elimination,
    action: str,
    notes: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Elimination:
    """One step of the elimination procedure: region rule, permission, then the role and guards of
    `procedure.TRANSITIONS`; the eligibility check is run again for the steps that depend on it."""
    now = now or timezone.now()
    data = dict(data or {})
    elim = Elimination.objects.select_for_update().select_related("case", "household").get(pk=elimination.pk)
    perm = Perm.DECIDE_ELIMINATION if action in DECIDING else Perm.MANAGE_ASSISTANCE
    _require(actor, perm, elim.village_code)
    t = procedure.transition_for(elim.state, action)
    result = None
    if any(g.__name__ == "_eligible" for g in t.guards):
        result = _record_eligibility(elim, elim.case, now)
    facts = _facts(elim, result, now, notes, reason, data)
    t = procedure.check(elim.state, action, actor.role, facts)
    before = {f: getattr(elim, f) for f in ("state", "notice_ends_at", "eligible")}
    source = elim.state
    step_data: dict[str, Any] = {}
    if result is not None:
        step_data["eligibility"] = result.as_json()
    if t.action == Action.VILLAGE_REVIEW:
        step_data.update(participants=list(facts.participants), votes_for=facts.votes_for,
                         votes_against=facts.votes_against, votes_abstain=facts.votes_abstain,
                         minutes=facts.minutes)  # fmt: skip
        elim.notice_started_at = now
        elim.notice_ends_at = clocks.due("notice", now)
    elif t.action == Action.NOTICE_CLOSE:
        step_data.update(notice_started_at=elim.notice_started_at.isoformat() if elim.notice_started_at else None,
                         notice_ends_at=elim.notice_ends_at.isoformat() if elim.notice_ends_at else None)  # fmt: skip
    elif t.action == Action.COUNTY_ELIMINATE:
        assert elim.case.decided_at is not None
        elim.decided_at, elim.decided_by = now, actor
        elim.premature = eligibility.premature(
            timezone.localdate(elim.case.decided_at), timezone.localdate(now)
        )
        step_data["premature"] = elim.premature
    elif t.action == Action.REJECT:
        elim.rejected_at, elim.reject_reason = now, reason.strip()[:500]
        step_data["reason"] = elim.reject_reason
    elif t.action == Action.REVERSE:
        elim.reversed_at, elim.reverse_reason = now, reason.strip()[:500]
        step_data["reason"] = elim.reverse_reason
    elim.state = t.target
    elim.updated_at = now
    elim.save()
    EliminationStep.objects.create(elimination=elim, action=t.action, from_state=source, to_state=t.target,
                                   actor=actor, actor_role=actor.role, at=now, notes=notes.strip(),
                                   data=step_data)  # fmt: skip
    if t.action == Action.COUNTY_ELIMINATE and elim.household.monitor_category:
        household_update(actor=actor, household=elim.household, monitor_category="")
    elif t.action == Action.REVERSE and elim.household.monitor_category != elim.case.category:
        household_update(actor=actor, household=elim.household, monitor_category=elim.case.category)
    after = {f: getattr(elim, f) for f in before}
    _log("elimination", elim.pk, elim.household_id, "update", before, {**after, "action": t.action}, actor)
    if t.action in (Action.COUNTY_ELIMINATE, Action.REVERSE, Action.REJECT):  # decisions go to the ledger
        ledger_append(kind="decision", entity="elimination", entity_id=elim.pk, actor=actor, payload={
            "action": t.action, "household_id": elim.household_id, "from": source, "to": t.target, **step_data})  # fmt: skip
    return elim


def elimination_reverse(
    *, actor, elimination: Elimination, reason: str, now: datetime | None = None
) -> Elimination:
    """回退: a wrong elimination is undone; the household is monitored again under the same identification."""
    return elimination_transition(actor=actor, elimination=elimination, action=Action.REVERSE, reason=reason,
                                  now=now)  # fmt: skip


@transaction.atomic
def elimination_reidentify(
    *, actor, elimination: Elimination, concern: str, description: str, now: datetime | None = None
) -> Case:
    """再标注: the risk of an eliminated household has returned. A new identification case is opened through the
    cases services (a visit clue, then the case); its decision opens a new label period."""
    now = now or timezone.now()
    elim = Elimination.objects.select_for_update().select_related("household").get(pk=elimination.pk)
    _require(actor, Perm.MANAGE_ASSISTANCE, elim.village_code)
    if elim.state != State.ELIMINATED:
        raise ValidationError("只有已消除风险的农户才能再标注")
    if elim.reidentified_case_id is not None:
        raise ValidationError("已为该户发起再标注")
    clue = case_services.clue_report(actor=actor, village_code=elim.village_code, concern=concern,
                                     description=description, household=elim.household, now=now)  # fmt: skip
    root = clue.merged_into or clue
    case = root.case or case_services.case_open(actor=actor, clue=root, now=now)
    elim.reidentified_case = case
    elim.updated_at = now
    elim.save(update_fields=["reidentified_case", "updated_at"])
    _log("elimination", elim.pk, elim.household_id, "update", {"reidentified_case": None},
         {"reidentified_case": case.pk}, actor)  # fmt: skip
    return case
