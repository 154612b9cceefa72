"""The data-quality rules (疑点数据) as data: a code, a Chinese title and explanation, a severity, where to fix it,
and a set-based condition that returns the households breaking the rule (one query, or one query and a lookup).

Adding a rule is adding an entry to `RULES`; `services.quality_check_run` evaluates all of them and keeps
`QualityFinding` in step (new findings opened, findings that no longer hold resolved, never duplicated)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from guardline.assistance.models import Elimination
from guardline.cases.models import Case
from guardline.ingest.models import FeedEvent
from guardline.regions.models import MonitoringLine, ancestor_codes
from guardline.registry.models import Household, HouseholdYear, Member

LABOUR_CAPABLE = ("ordinary", "skilled", "weak")
NO_LABOUR = ("lost", "none")


@dataclass(frozen=True)
class Rule:
    code: str
    title: str  # Chinese, shown in lists
    explanation: str  # what to check and fix
    severity: str  # "error" (must be fixed) or "warning" (must be checked)
    fix_url: str  # URL name taking the household id
    find: Callable[[], QuerySet[Household]]  # households that break the rule (active households only)


def risk_q(field: str, code: str) -> Q:
    """`field` (a ";"-joined list of risk codes) contains `code` as a whole item."""
    return (
        Q(**{field: code})
        | Q(**{f"{field}__startswith": f"{code};"})
        | Q(**{f"{field}__endswith": f";{code}"})
        | Q(**{f"{field}__contains": f";{code};"})
    )


def _monitored_with_risks() -> QuerySet[Household]:
    """Households under an open monitoring label, annotated with the risk types of their latest identification."""
    latest = Case.objects.filter(
        household=OuterRef("pk"), kind=Case.Kind.IDENTIFICATION, state="identified"
    ).order_by("-decided_at", "-pk")
    return (
        Household.objects.filter(is_active=True)
        .exclude(monitor_category="")
        .annotate(current_risks=Subquery(latest.values("risk_types")[:1]))
    )


def _latest_year(**conditions) -> Exists:
    return Exists(
        HouseholdYear.objects.filter(
            household=OuterRef("pk"),
            year=OuterRef("latest_income_year"),
            snapshot_kind="annual",
            **conditions,
        )
    )


def unstable_job_without_labour() -> QuerySet[Household]:
    capable = Member.objects.filter(
        household=OuterRef("pk"), is_active=True, labour_capacity__in=LABOUR_CAPABLE
    )
    return _monitored_with_risks().filter(risk_q("current_risks", "07")).exclude(Exists(capable))


def illness_without_out_of_pocket() -> QuerySet[Household]:
    zero = Q(compliant_out_of_pocket=0) | Q(compliant_out_of_pocket__isnull=True)
    rows = HouseholdYear.objects.filter(
        zero, household=OuterRef("pk"), year=OuterRef("latest_income_year"), snapshot_kind="annual"
    )
    return _monitored_with_risks().filter(risk_q("current_risks", "01")).filter(Exists(rows))


def no_labour_not_flagged() -> QuerySet[Household]:
    members = Member.objects.filter(household=OuterRef("pk"), is_active=True)
    return (
        Household.objects.filter(is_active=True, no_labour_household=False)
        .filter(Exists(members))
        .exclude(Exists(members.exclude(labour_capacity__in=NO_LABOUR)))
    )


def _line_amounts():
    """Every monitoring line, grouped by region, to answer "the line in force for a village on a date" in memory
    with the rule of `regions.selectors.monitoring_line_on`."""
    by_region: dict[str, list[MonitoringLine]] = {}
    for line in MonitoringLine.objects.all():
        by_region.setdefault(line.region_id, []).append(line)

    def amount(village_code: str, on: date):
        lines = [
            line
            for code in (village_code, *ancestor_codes(village_code))
            for line in by_region.get(code, [])
            if line.effective_from <= on
        ]
        if not lines:
            return None
        year = max(line.year for line in lines)
        best = max(
            (line for line in lines if line.year == year),
            key=lambda line: (len(line.region_id), line.effective_from, line.pk),
        )
        return best.amount

    return amount


def eliminated_below_line() -> QuerySet[Household]:
    """An elimination in force whose household's per-capita net income (the latest annual figure up to the year
    of the decision) is below the monitoring line in force on the decision date."""
    eliminations = list(
        Elimination.objects.filter(state="eliminated", household__is_active=True).values_list(
            "household_id", "village_code", "decided_at"
        )
    )
    if not eliminations:
        return Household.objects.none()
    incomes: dict[int, list[tuple[int, object]]] = {}
    for hid, year, pc in HouseholdYear.objects.filter(
        household_id__in={e[0] for e in eliminations},
        snapshot_kind="annual",
        per_capita_net_income__isnull=False,
    ).values_list("household_id", "year", "per_capita_net_income"):
        incomes.setdefault(hid, []).append((year, pc))
    line_on = _line_amounts()
    below = set()
    for hid, village, decided_at in eliminations:
        if decided_at is None:
            continue
        known = [(y, pc) for y, pc in incomes.get(hid, []) if y <= decided_at.year]
        line = line_on(village, decided_at.date())
        if known and line is not None and max(known, key=lambda r: r[0])[1] < line:
            below.add(hid)
    return Household.objects.filter(pk__in=below, is_active=True)


def dibao_without_transfer_income() -> QuerySet[Household]:
    dibao = FeedEvent.objects.filter(
        household=OuterRef("pk"),
        feed="civil_assistance",
        kind="低保",
        event_date__year=OuterRef("latest_income_year"),
    )
    return (
        Household.objects.filter(is_active=True).filter(_latest_year(transfer_income=0)).filter(Exists(dibao))
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "risk07_no_labour",
        "风险类型为因务工就业不稳，但家中无劳动力",
        "认定风险类型含“因务工就业不稳”，家庭成员却无普通、技能或弱劳动力：请核实成员劳动技能或风险类型。",
        "error",
        "registry:household_detail",
        unstable_job_without_labour,
    ),
    Rule(
        "risk01_no_medical_cost",
        "风险类型为因病，但合规自付医疗支出为零",
        "认定风险类型含“因病”，最近年度合规自付支出为零或未填：请补录医疗自付支出或核实风险类型。",
        "warning",
        "registry:household_detail",
        illness_without_out_of_pocket,
    ),
    Rule(
        "no_labour_not_flagged",
        "全家无劳动能力，未标注为整户无劳动能力",
        "全部在册成员均为丧失劳动力或无劳动力，户却未标注“整户无劳动能力”：请核实并更正标注。",
        "warning",
        "registry:household_detail",
        no_labour_not_flagged,
    ),
    Rule(
        "eliminated_below_line",
        "已风险消除，但人均纯收入低于监测线",
        "风险消除时人均纯收入低于当时的监测线：请核实收入或回退风险消除。",
        "error",
        "registry:household_detail",
        eliminated_below_line,
    ),
    Rule(
        "dibao_zero_transfer",
        "享受低保，但转移性收入为零",
        "民政数据显示该户当年享受低保，收入表中转移性收入却为零：请补录低保金等转移性收入。",
        "error",
        "registry:household_detail",
        dibao_without_transfer_income,
    ),
)

RULES_BY_CODE = {r.code: r for r in RULES}
