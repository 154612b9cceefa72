"""Reads of the oversight ledgers, always scoped to the user's regions (`region_code_q`): lists, overdue and lag
alerts, and the figures per region (completion rate and satisfaction of complaints, spending against the
milestones, share of funds to industry)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from guardline.accounts.scope import region_code_q
from guardline.regions.models import Region

from . import milestones
from .models import AssetIncome, Complaint, FundMovement, FundProject, ProjectAsset, Rectification


def _get(qs: QuerySet, user, pk: int, what: str) -> Any:
    obj = qs.filter(region_code_q(user, "region_code"), pk=pk).first()
    if obj is None:
        raise Http404(f"{what}不存在或不在您的管辖范围内")
    return obj


# ------------------------------------------------------------------------------------------------ rectification
def rectifications(
    user, status: str = "", overdue: bool = False, on: date | None = None
) -> QuerySet[Rectification]:
    qs = Rectification.objects.filter(region_code_q(user, "region_code"))
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.exclude(status=Rectification.Status.CLOSED).filter(deadline__lt=on or timezone.localdate())
    return qs


def rectification_get(user, pk: int) -> Rectification:
    return _get(Rectification.objects.all(), user, pk, "整改问题")


@dataclass
class MonthRow:
    month: str
    opened: int = 0
    closed: int = 0
    progress_notes: int = 0
    open_at_end: int = 0


def rectification_months(user, months: int = 12, on: date | None = None) -> list[MonthRow]:
    """Monthly progress (月度进展): problems opened, closed and progress notes per month, and how many stayed
    open at each month's end, for the last `months` months."""
    on = on or timezone.localdate()
    keys = []
    y, m = on.year, on.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    rows = {k: MonthRow(k) for k in keys}
    items = list(rectifications(user).values("created_at", "closed_at"))
    for it in items:
        for attr, name in (("created_at", "opened"), ("closed_at", "closed")):
            if it[attr] is not None:
                k = f"{timezone.localtime(it[attr]):%Y-%m}"
                if k in rows:
                    setattr(rows[k], name, getattr(rows[k], name) + 1)
    notes = (
        Rectification.objects.filter(region_code_q(user, "region_code"))
        .values("progress__month")
        .annotate(n=Count("progress"))
    )
    for row in notes:
        if row["progress__month"] in rows:
            rows[row["progress__month"]].progress_notes = row["n"]
    for k, row in rows.items():
        end = k + "-32"  # after every day of the month in ISO order
        row.open_at_end = sum(
            1
            for it in items
            if f"{timezone.localtime(it['created_at']):%Y-%m-%d}" < end
            and (it["closed_at"] is None or f"{timezone.localtime(it['closed_at']):%Y-%m-%d}" >= end)
        )
    return [rows[k] for k in reversed(keys)]


# --------------------------------------------------------------------------------------------------- complaints
def complaints(user, status: str = "", overdue: bool = False, on: date | None = None) -> QuerySet[Complaint]:
    scope = region_code_q(user, "region_code") | (
        Q(routed_to_code__gt="") & region_code_q(user, "routed_to_code")
    )
    qs = Complaint.objects.filter(scope).select_related("household")
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.exclude(status=Complaint.Status.COMPLETED).filter(deadline__lt=on or timezone.localdate())
    return qs


def complaint_get(user, pk: int) -> Complaint:
    c = complaints(user).filter(pk=pk).first()
    if c is None:
        raise Http404("诉求不存在或不在您的管辖范围内")
    return c


@dataclass
class ComplaintFigures:
    region_code: str
    name: str = ""
    total: int = 0
    completed: int = 0
    on_time: int = 0
    overdue_open: int = 0
    rated: int = 0
    satisfied: int = 0  # 4 or 5
    satisfaction_avg: float | None = None

    @property
    def completion_rate(self) -> float | None:
        return round(100 * self.completed / self.total, 1) if self.total else None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.completed, 1) if self.completed else None

    @property
    def satisfied_rate(self) -> float | None:
        return round(100 * self.satisfied / self.rated, 1) if self.rated else None

    @property
    def meets_goal(self) -> bool:
        rate = self.completion_rate
        return rate is not None and rate >= settings.GUARDLINE["COMPLAINT_COMPLETION_GOAL"]


def _level_len(user) -> int:
    """Group figures one level below the user's widest scope (province → city, county → township …)."""
    from guardline.accounts.scope import scope_codes

    codes = scope_codes(user)
    shortest = min((len(c) for c in codes), default=6)
    return {2: 4, 4: 6, 6: 9, 9: 12}.get(shortest, 12)


def _names(codes) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=list(codes)).values_list("code", "name"))


def complaint_figures(user, on: date | None = None) -> tuple[ComplaintFigures, list[ComplaintFigures]]:
    """Completion rate (办结率), on-time rate, overdue open items and satisfaction, in total and per region one
    level below the user's scope."""
    on = on or timezone.localdate()
    n = _level_len(user)
    total = ComplaintFigures("")
    per: dict[str, ComplaintFigures] = {}
    ratings: dict[str, list[int]] = defaultdict(list)
    rows = Complaint.objects.filter(region_code_q(user, "region_code")).values_list(
        "region_code", "status", "deadline", "completed_at", "satisfaction"
    )
    for code, status, deadline, completed_at, satisfaction in rows:
        key = code[:n]
        for fig in (total, per.setdefault(key, ComplaintFigures(key))):
            fig.total += 1
            if status == Complaint.Status.COMPLETED:
                fig.completed += 1
                if completed_at is not None and timezone.localdate(completed_at) <= deadline:
                    fig.on_time += 1
            elif deadline < on:
                fig.overdue_open += 1
            if satisfaction:
                fig.rated += 1
                fig.satisfied += satisfaction >= 4
        if satisfaction:
            ratings[key].append(satisfaction)
            ratings[""].append(satisfaction)
    for key, values in ratings.items():
        fig = total if key == "" else per[key]
        fig.satisfaction_avg = round(sum(values) / len(values), 2)
    names = _names(per)
    for key, fig in per.items():
        fig.name = names.get(key, key)
    return total, sorted(per.values(), key=lambda f: f.region_code)


# ------------------------------------------------------------------------------------------------ fund projects
def projects(user, year: int | None = None) -> QuerySet[FundProject]:
    qs = FundProject.objects.filter(region_code_q(user, "region_code"))
    return qs.filter(year=year) if year else qs


def project_get(user, pk: int) -> FundProject:
    return _get(FundProject.objects.prefetch_related("sources"), user, pk, "项目")


@dataclass
class ProjectStatus:
    project: FundProject
    allocated: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    planned_percent: int = 0
    alerts: list[milestones.Alert] = field(default_factory=list)

    @property
    def spent_percent(self) -> Decimal:
        return milestones.percent(self.spent, self.project.budget)


def project_statuses(user, year: int | None = None, on: date | None = None) -> list[ProjectStatus]:
    """Every project with money allocated and spent up to `on`, the share due by the last milestone, and its
    alerts (spending lag, not started, completion lag)."""
    on = on or timezone.localdate()
    qs = projects(user, year).annotate(
        allocated=Sum("movements__amount", filter=Q(movements__kind="allocation", movements__date__lte=on)),
        spent=Sum("movements__amount", filter=Q(movements__kind="spending", movements__date__lte=on)),
    )
    out = []
    for p in qs:
        spent = p.spent or Decimal(0)
        due, _ = milestones.planned_percent(p.year, on)
        alerts = milestones.project_alerts(year=p.year, budget=p.budget, spent=spent, status=p.status,
                                           completion=p.completion_percent, on=on)  # fmt: skip
        out.append(ProjectStatus(p, p.allocated or Decimal(0), spent, due, alerts))
    return out


def project_status(user, project: FundProject, on: date | None = None) -> ProjectStatus:
    for s in project_statuses(user, on=on):
        if s.project.pk == project.pk:
            return s
    raise Http404("项目不存在或不在您的管辖范围内")


def movements(project: FundProject) -> QuerySet[FundMovement]:
    return project.movements.select_related("recorded_by").order_by("date", "id")


@dataclass
class FundFigures:
    region_code: str
    year: int
    name: str = ""
    projects: int = 0
    budget: Decimal = Decimal(0)
    industry: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    started: int = 0
    completed: int = 0
    lagging: int = 0

    @property
    def industry_share(self) -> Decimal:
        return milestones.percent(self.industry, self.budget)

    @property
    def spent_percent(self) -> Decimal:
        return milestones.percent(self.spent, self.budget)

    @property
    def industry_below_min(self) -> bool:
        return self.budget > 0 and self.industry_share < milestones.config()["INDUSTRY_SHARE_MIN"]


def fund_figures(user, year: int | None = None, on: date | None = None) -> list[FundFigures]:
    """Per region (one level below the user's scope) and year: budget, industry share (≥ INDUSTRY_SHARE_MIN),
    spending share, projects started / completed / lagging."""
    n = _level_len(user)
    per: dict[tuple[str, int], FundFigures] = {}
    for s in project_statuses(user, year, on):
        p = s.project
        fig = per.setdefault((p.region_code[:n], p.year), FundFigures(p.region_code[:n], p.year))
        fig.projects += 1
        fig.budget += p.budget
        fig.industry += p.industry_amount
        fig.spent += s.spent
        fig.started += p.status != FundProject.Status.PLANNED
        fig.completed += p.status == FundProject.Status.COMPLETED
        fig.lagging += bool(s.alerts)
    names = _names(code for code, _ in per)
    for fig in per.values():
        fig.name = names.get(fig.region_code, fig.region_code)
    return sorted(per.values(), key=lambda f: (-f.year, f.region_code))


# ------------------------------------------------------------------------------------------------------- assets
def assets(user, asset_type: str = "") -> QuerySet[ProjectAsset]:
    qs = ProjectAsset.objects.filter(region_code_q(user, "region_code")).select_related("project")
    qs = qs.annotate(income_total=Sum("incomes__amount"))
    return qs.filter(asset_type=asset_type) if asset_type else qs


def asset_get(user, pk: int) -> ProjectAsset:
    return _get(ProjectAsset.objects.select_related("project"), user, pk, "资产")


def asset_incomes(asset: ProjectAsset) -> QuerySet[AssetIncome]:
    return asset.incomes.order_by("-year", "-id")


def asset_totals(user) -> list[dict[str, Any]]:
    """Count and value of assets by type (账实相符 starts from knowing what there is)."""
    rows = (
        ProjectAsset.objects.filter(region_code_q(user, "region_code"))
        .values("asset_type")
        .annotate(n=Count("id"), value=Sum("value"))
        .order_by("asset_type")
    )
    labels = dict(ProjectAsset.Type.choices)
    return [{**r, "label": labels.get(r["asset_type"], r["asset_type"])} for r in rows]


def satisfaction_avg(user) -> float | None:
    v = Complaint.objects.filter(region_code_q(user, "region_code")).aggregate(a=Avg("satisfaction"))["a"]
    return round(v, 2) if v is not None else None
