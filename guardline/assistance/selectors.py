"""Reads of the assistance app, always scoped to the user's regions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from guardline.accounts.scope import region_q
from guardline.cases.models import Case
from guardline.cases.procedure import State as CaseState
from guardline.cases.selectors import GRADE_ORDER
from guardline.registry.models import Household

from . import cadence, procedure
from .models import AssistancePlan, Elimination, Measure, PairedCadre, Visit

DUE_LIMIT = 500


def plan_for_case(user, case: Case) -> AssistancePlan | None:
    return AssistancePlan.objects.filter(region_q(user), case=case).first()


def plan_get(user, pk: int) -> AssistancePlan:
    plan = AssistancePlan.objects.filter(region_q(user), pk=pk).select_related("case", "household").first()
    if plan is None:
        raise Http404("帮扶计划不存在或不在您的管辖范围内")
    return plan


def plan_measures(plan: AssistancePlan) -> QuerySet[Measure]:
    return plan.measures.select_related("responsible").order_by("status", "start_date", "id")


def measure_get(user, pk: int) -> Measure:
    m = Measure.objects.filter(region_q(user), pk=pk).select_related("plan").first()
    if m is None:
        raise Http404("措施不存在或不在您的管辖范围内")
    return m


def household_cadres(user, household: Household, current_only: bool = True) -> QuerySet[PairedCadre]:
    qs = PairedCadre.objects.filter(region_q(user), household=household).select_related("cadre")
    if current_only:
        qs = qs.filter(end_date__isnull=True)
    return qs.order_by("start_date", "id")


def pairing_get(user, pk: int) -> PairedCadre:
    p = PairedCadre.objects.filter(region_q(user), pk=pk).first()
    if p is None:
        raise Http404("结对记录不存在或不在您的管辖范围内")
    return p


def cadre_candidates(user, village_code: str):
    """Active users whose scope covers the village (who may be made responsible or paired)."""
    from guardline.accounts.models import User

    prefixes = [village_code[:n] for n in (2, 4, 6, 9, 12)]
    return (
        User.objects.filter(is_active=True, scopes__region_id__in=prefixes)
        .exclude(role__in=["department_officer", "auditor", "province_officer"])
        .distinct()
        .order_by("role", "username")
    )


def plans(user, late_only: bool = False) -> QuerySet[AssistancePlan]:
    qs = AssistancePlan.objects.filter(region_q(user)).select_related("household", "case")
    if late_only:
        qs = qs.filter(late=True)
    return qs.order_by("-created_at")


def identified_without_plan(user) -> QuerySet[Case]:
    return (
        Case.objects.filter(region_q(user), state=CaseState.IDENTIFIED, plan__isnull=True)
        .select_related("household")
        .order_by("plan_due", "id")
    )


# ---------------------------------------------------------------------------------------------- elimination


def elimination_get(user, pk: int) -> Elimination:
    e = Elimination.objects.filter(region_q(user), pk=pk).select_related("case", "household").first()
    if e is None:
        raise Http404("风险消除记录不存在或不在您的管辖范围内")
    return e


def elimination_list(user, state: str = "") -> QuerySet[Elimination]:
    qs = Elimination.objects.filter(region_q(user)).select_related("household", "case")
    if state == "open":
        qs = qs.filter(state__in=procedure.OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by("-updated_at", "-id")


def elimination_steps(elim: Elimination):
    return elim.steps.select_related("actor").order_by("at", "id")


def live_elimination(user, case: Case) -> Elimination | None:
    return (
        Elimination.objects.filter(region_q(user), case=case)
        .exclude(state__in=procedure.FINAL_STATES)
        .first()
    )


@dataclass
class LabelPeriod:
    """One time-bounded monitoring label: from an identification to its elimination (open while ended is None)."""

    case: Case
    category: str
    started: datetime
    ended: datetime | None
    elimination: Elimination | None


def label_periods(user, household: Household) -> list[LabelPeriod]:
    periods = []
    cases = Case.objects.filter(region_q(user), household=household, kind=Case.Kind.IDENTIFICATION,
                                state=CaseState.IDENTIFIED).order_by("decided_at")  # fmt: skip
    for case in cases:
        elim = case.eliminations.filter(state=procedure.State.ELIMINATED).first()
        assert case.decided_at is not None
        periods.append(
            LabelPeriod(case, case.category, case.decided_at, elim.decided_at if elim else None, elim)
        )
    return periods


# ---------------------------------------------------------------------------------------------------- visits


@dataclass
class DueVisit:
    household: Household
    grade: str
    last_visit: datetime | None
    due: datetime

    @property
    def overdue_days(self) -> int:
        return max(0, (timezone.now() - self.due).days)


def due_visits(user, now: datetime | None = None, horizon_days: int = 0) -> list[DueVisit]:
    """Households in the user's regions whose next visit by grade is due by now (+ horizon), most urgent first:
    red before yellow before green, then the longest overdue."""
    from guardline.screening.models import HouseholdGrade

    now = now or timezone.now()
    until = now + timedelta(days=horizon_days)
    last = (
        Visit.objects.filter(household=OuterRef("household"))
        .values("household")
        .annotate(m=Max("at"))
        .values("m")
    )
    grades = HouseholdGrade.objects.filter(region_q(user), household__is_active=True).annotate(
        last=Subquery(last)
    )
    due_q = Q()
    for grade, days in cadence.cadence_days().items():
        due_q |= Q(grade=grade) & (Q(last__isnull=True) | Q(last__lte=until - timedelta(days=days)))
    rank = {"red": 0, "yellow": 1, "green": 2}
    rows = grades.filter(due_q).select_related("household")
    out = []
    for g in rows.annotate(rank=GRADE_ORDER).order_by("rank", "last")[: DUE_LIMIT * 3]:
        since = timezone.make_aware(datetime.combine(g.as_of, datetime.min.time())) if g.as_of else now
        out.append(DueVisit(g.household, g.grade, g.last, cadence.next_due(g.grade, g.last, since)))
    out.sort(key=lambda d: (rank.get(d.grade, 3), d.due))
    return out[:DUE_LIMIT]


def household_visits(user, household: Household, limit: int = 50) -> QuerySet[Visit]:
    return Visit.objects.filter(region_q(user), household=household).select_related("visitor")[:limit]


# -------------------------------------------------------------------------------------------- household story


@dataclass
class StoryItem:
    at: datetime
    kind: str  # clue | warning | step | decision | plan | measure | visit | elimination
    title: str
    detail: str = ""
    url: str = ""


def household_story(user, household: Household) -> dict[str, Any]:
    """The whole story of a household: clues, warnings, case steps and decisions, plan and measures, visits,
    eliminations (with reversals), in time order; plus label periods and income by year."""
    from django.urls import reverse

    from guardline.cases.models import CaseStep, Clue
    from guardline.cases.procedure import ACTION_LABELS as CASE_ACTIONS
    from guardline.screening.models import RiskWarning

    from . import catalogue

    if not Household.objects.filter(region_q(user), pk=household.pk).exists():
        return {"items": [], "periods": [], "years": []}
    items: list[StoryItem] = []
    for c in Clue.objects.filter(household=household).order_by("received_at")[:100]:
        items.append(StoryItem(c.received_at, "clue", f"线索 {c.receipt_no}（{c.get_channel_display()}）",
                               f"{c.get_status_display()} {c.description[:80]}",
                               reverse("cases:clue_detail", args=[c.pk])))  # fmt: skip
    for w in RiskWarning.objects.filter(household=household).order_by("opened_at")[:100]:
        items.append(StoryItem(w.opened_at, "warning", f"预警（{w.get_grade_display()}，{w.score:.0f} 分）",
                               "；".join(str(r) for r in w.reasons)[:120]))  # fmt: skip
        if w.closed_at:
            items.append(StoryItem(w.closed_at, "warning", "预警关闭", w.close_reason))
    steps = (
        CaseStep.objects.filter(case__household=household)
        .select_related("case", "actor")
        .order_by("at")[:300]
    )
    for s in steps:
        decision = s.action in ("county_identify", "reject")
        label = CASE_ACTIONS.get(s.action, "立案" if s.action == "open" else s.action)  # type: ignore[call-overload]
        detail = s.notes
        if s.action == "county_identify":
            detail = f"{s.case.get_category_display()}，风险类型 {'、'.join(s.case.risk_list)}"
        items.append(StoryItem(s.at, "decision" if decision else "step", f"识别认定：{label}", detail[:120],
                               reverse("cases:case_detail", args=[s.case_id])))  # fmt: skip
    for plan in AssistancePlan.objects.filter(household=household):
        items.append(StoryItem(plan.created_at, "plan", "制定帮扶计划" + ("（超时）" if plan.late else ""), plan.notes[:80],
                               reverse("assistance:plan_detail", args=[plan.pk])))  # fmt: skip
    for m in Measure.objects.filter(household=household).select_related("plan"):
        url = reverse("assistance:plan_detail", args=[m.plan_id])
        amount = f"，{m.amount:,.0f} 元" if m.amount is not None else ""
        items.append(StoryItem(m.created_at, "measure", f"措施 {m.code} {catalogue.name(m.code)}",
                               f"{m.get_status_display()}{amount}", url))  # fmt: skip
        if m.completed_at:
            items.append(
                StoryItem(m.completed_at, "measure", f"措施落实 {m.code} {catalogue.name(m.code)}", "", url)
            )
    for v in Visit.objects.filter(household=household).select_related("visitor")[:200]:
        items.append(
            StoryItem(v.at, "visit", f"走访（{v.get_kind_display()}）· {v.visitor or ''}", v.notes[:120])
        )
    for e in Elimination.objects.filter(household=household).prefetch_related("steps"):
        url = reverse("assistance:elimination_detail", args=[e.pk])
        for st in e.steps.all():
            label = procedure.ACTION_LABELS.get(
                st.action, "发起风险消除" if st.action == "start" else st.action
            )  # type: ignore[call-overload]
            kind = "decision" if st.action in ("county_eliminate", "reverse", "reject") else "elimination"
            items.append(
                StoryItem(
                    st.at, kind, f"风险消除：{label}", (st.notes or st.data.get("reason", ""))[:120], url
                )
            )
    items.sort(key=lambda i: i.at)
    years = list(household.years.filter(snapshot_kind="annual").order_by("year"))
    return {"items": items, "periods": label_periods(user, household), "years": years}
