"""Reads of the dashboards: only the aggregate table (`RegionMetric`), the region tree and the weights — never the
operational tables, so a county of a million households renders as fast as a village. Always scoped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from engine.aggregates import catalogue as cat
from engine.aggregates.composite import Scored, evaluate
from guardline.accounts.scope import require_scope, scope_codes
from guardline.regions.models import Region

from .models import EvaluationWeight, RegionMetric
from .services import period_of

TREND_MONTHS = 12


def home_region(user) -> Region | None:
    """The user's top scope region (the widest; the first of equals)."""
    codes = sorted(scope_codes(user), key=lambda c: (len(c), c))
    return Region.objects.filter(code__in=codes[:1]).first()


def region_get(user, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404
    require_scope(user, code)
    return region


def breadcrumbs(user, region: Region) -> list[Region]:
    """The region's ancestors the user may open, then the region."""
    codes = [region.code[:n] for n in (2, 4, 6, 9) if n < len(region.code)]
    visible = [r for r in Region.objects.filter(code__in=codes).order_by("level")
               if any(r.code.startswith(s) for s in scope_codes(user))]  # fmt: skip
    return [*visible, region]


def shift(period: str, months: int) -> str:
    y, m = int(period[:4]), int(period[5:7]) - 1 + months
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def periods_for(code: str) -> list[str]:
    """Months with figures for a region, newest first."""
    return list(
        RegionMetric.objects.filter(region_code=code)
        .order_by("-period")
        .values_list("period", flat=True)
        .distinct()
    ) or [period_of(timezone.now())]


def metrics_of(codes: list[str], periods: list[str]) -> dict[tuple[str, str], dict[str, float]]:
    """(region, period) → {metric: value} for the given regions and months (a missing metric is zero)."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    qs = RegionMetric.objects.filter(region_code__in=codes, period__in=periods).values_list(
        "region_code", "period", "metric", "value"
    )
    for code, period, metric, value in qs:
        out[(code, period)][metric] = value
    return out


def full(metrics: dict[str, float]) -> dict[str, float]:
    """Every base metric, zero where no row is stored."""
    return {code: metrics.get(code, 0.0) for code in cat.METRIC_BY_CODE}


@dataclass
class IndicatorValue:
    indicator: cat.Indicator
    value: float | None


def indicator_values(metrics: dict[str, float]) -> list[IndicatorValue]:
    return [IndicatorValue(i, cat.indicator_value(i.code, metrics)) for i in cat.INDICATORS]


def dashboard(user, code: str, period: str | None = None) -> dict[str, Any]:
    region = region_get(user, code)
    periods = periods_for(code)
    period = period if period in periods else periods[0]
    children = list(Region.objects.filter(parent_id=code).order_by("code").values_list("code", "name"))
    trend_periods = [shift(period, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    data = metrics_of([code], trend_periods)  # the region's trend: 12 months
    data.update(metrics_of([c for c, _ in children], [period]))  # its children: the chosen month only
    now = data.get((code, period), {})
    stock_period = next(
        (p for p in reversed(trend_periods) if data.get((code, p), {}).get("hh_total")), period
    )
    stock = data.get((code, stock_period), {})
    current = {**stock, **{k: v for k, v in now.items() if k in cat.FLOW_CODES}}
    rows = []
    for child, name in children:
        m = full(data.get((child, period), {}))
        rows.append({"code": child, "name": name, "m": m,
                     "monitored_share": cat.indicator_value("monitored_share", m),
                     "measure_coverage": cat.indicator_value("measure_coverage", m),
                     "eliminations": m["elim_assisted"] + m["elim_natural"]})  # fmt: skip
    series = {}
    for metric in ("warn_opened", "warn_closed", "warn_converted", "id_identified", "elim_assisted",
                   "elim_natural", "id_returned", "hh_monitored", "hh_grade_red"):  # fmt: skip
        series[metric] = [data.get((code, p), {}).get(metric, 0) for p in trend_periods]
    chart = {
        "periods": trend_periods,
        "series": series,
        "grades": {g: current.get(f"hh_grade_{g}", 0) for g in cat.GRADES},
        "categories": {c: current.get(f"hh_cat_{c}", 0) for c in cat.CATEGORIES},
        "risks": {r: current.get(f"hh_risk_{r}", 0) for r in cat.RISK_TYPES},
        "income": {
            "monitored": cat.indicator_value("income_monitored", current),
            "former_poor": cat.indicator_value("income_former_poor", current),
            "rural": cat.indicator_value("income_rural", current),
            "line": (current.get("inc_mon_line_sum", 0) / current["inc_mon_n"])
            if current.get("inc_mon_n")
            else None,
        },
    }
    return {
        "region": region,
        "period": period,
        "periods": periods,
        "stock_period": stock_period,
        "metrics": full(current),
        "indicators": indicator_values(current),
        "children": rows,
        "chart": chart,
        "income_vs_rural": {
            "monitored": cat.ratio_of_rural(current, "mon"),
            "former_poor": cat.ratio_of_rural(current, "fp"),
        },
    }


def weights_for(province_code: str) -> dict[str, float]:
    """The province's weights; indicators it has not set keep the catalogue's default."""
    weights = {i.code: i.default_weight for i in cat.INDICATORS}
    weights.update(
        EvaluationWeight.objects.filter(province_id=province_code).values_list("indicator", "weight")
    )
    return weights


PEER_LEVEL = {1: 3, 2: 3, 3: 4}  # province and city rank counties, a county ranks townships


def evaluation(user, code: str, period: str | None = None) -> dict[str, Any]:
    """Composite score and ranking of the peers inside a region for one month (counties of a province or city,
    townships of a county), with each peer's breakdown."""
    region = region_get(user, code)
    if region.level not in PEER_LEVEL:
        raise PermissionDenied("该级别不参与综合评价排名")
    periods = periods_for(code)
    period = period if period in periods else periods[0]
    level = PEER_LEVEL[region.level]
    peers = dict(
        Region.objects.filter(code__startswith=code, level=level).order_by("code").values_list("code", "name")
    )
    data = metrics_of(list(peers), [period])
    weights = weights_for(code[:2])
    scored: list[Scored] = evaluate({c: data.get((c, period), {}) for c in peers}, weights)
    return {
        "region": region,
        "period": period,
        "periods": periods,
        "level": level,
        "names": peers,
        "scored": scored,
        "rows": [(s, peers[s.region]) for s in scored],
        "weights": weights,
        "used": [(cat.INDICATOR_BY_CODE[c], w) for c, w in sorted(weights.items()) if w > 0],
    }
