"""Aggregate correctness: every base metric the dashboards read equals a direct query on the same data — for the
county, a township and a village, for the stock snapshot and for every month — and the refresh is incremental."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q, Sum
from django.utils import timezone

from engine.aggregates import catalogue as cat
from guardline.assistance.models import Elimination, Measure
from guardline.cases.models import Case, CaseStep, Clue
from guardline.dashboards.models import AggregateState, RegionMetric
from guardline.dashboards.services import aggregates_refresh, period_bounds, period_of
from guardline.registry.models import Household, Member
from guardline.screening.models import HouseholdGrade, RiskWarning

pytestmark = pytest.mark.django_db


def stored(code: str, period: str) -> dict[str, float]:
    return dict(RegionMetric.objects.filter(region_code=code, period=period).values_list("metric", "value"))


def direct_stock(code: str, now) -> dict[str, float]:
    """Each stock metric as a plain query (or a loop over rows) on the operational tables."""
    hh = Household.objects.filter(is_active=True, village_code__startswith=code)
    mon = hh.exclude(monitor_category="")
    out: dict[str, float] = {
        "hh_total": hh.count(),
        "hh_former_poor": hh.filter(household_type="former_poor").count(),
        "hh_monitored": mon.count(),
    }
    for c in cat.CATEGORIES:
        out[f"hh_cat_{c}"] = mon.filter(monitor_category=c).count()
    for g in cat.GRADES:
        out[f"hh_grade_{g}"] = HouseholdGrade.objects.filter(household__in=hh, grade=g).count()
    for r in cat.RISK_TYPES:
        out[f"hh_risk_{r}"] = 0
    for k in ("mon_with_measure", "mon_labour", "mon_labour_dev", "mon_nolabour", "mon_nolabour_safety",
              "mon_labour_over_year", "inc_mon_below_line"):  # fmt: skip
        out[k] = 0
    for h in mon:
        case = (
            Case.objects.filter(household=h, kind="identification", state="identified")
            .order_by("-decided_at")
            .first()
        )
        codes = set(Measure.objects.filter(plan__case=case).exclude(status="cancelled").values_list("code", flat=True)) if case else set()  # fmt: skip
        if case:
            for r in {x[:2] for x in case.risk_list}:
                out[f"hh_risk_{r}"] += 1
        out["mon_with_measure"] += bool(codes)
        if h.no_labour_household:
            out["mon_nolabour"] += 1
            out["mon_nolabour_safety"] += "100A48" in codes
        else:
            out["mon_labour"] += 1
            out["mon_labour_dev"] += bool(codes & {"100A39", "100A40"})
            out["mon_labour_over_year"] += bool(case and case.decided_at < now - timedelta(days=365))
        if h.latest_per_capita_income is not None and h.latest_per_capita_income < 7000:  # the county's line
            out["inc_mon_below_line"] += 1
    out["hh_eliminated"] = hh.filter(eliminations__state="eliminated").distinct().count()
    inc = hh.filter(latest_per_capita_income__isnull=False)
    for key, qs in (("all", inc), ("fp", inc.filter(household_type="former_poor")), ("mon", inc.exclude(monitor_category=""))):  # fmt: skip
        out[f"inc_{key}_n"] = qs.count()
        out[f"inc_{key}_sum"] = float(qs.aggregate(s=Sum("latest_per_capita_income"))["s"] or 0)
        if key != "all":
            out[f"inc_{key}_line_sum"] = 7000.0 * qs.count()
    cases = Case.objects.filter(kind="identification", village_code__startswith=code).exclude(state__in=["identified", "rejected"])  # fmt: skip
    out["case_open"] = cases.count()
    out["case_overdue"] = cases.filter(decision_due__lt=now).count()
    warnings = RiskWarning.objects.filter(status="open", village_code__startswith=code)
    out["warn_open"] = warnings.count()
    out["warn_onsite_overdue"] = sum(
        1 for w in warnings
        if w.on_site_due < now
        and not CaseStep.objects.filter(action="home_check", case__household=w.household, at__gte=w.graded_at).exists()
    )  # fmt: skip
    bad = Q(members__is_active=True) & ~Q(members__id_status__in=["valid", "converted"])
    no_income = ~Q(years__year__gte=now.year - 1)
    out["dq_invalid_id"] = hh.filter(bad).distinct().count()
    out["dq_missing_income"] = hh.exclude(years__year__gte=now.year - 1).count()
    finding = set(
        hh.filter(quality_findings__isnull=False, quality_findings__resolved_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    out["dq_findings"] = len(finding)
    out["dq_failures"] = len(set(hh.filter(bad).values_list("pk", flat=True)) | set(hh.exclude(years__year__gte=now.year - 1).values_list("pk", flat=True)) | finding)  # fmt: skip
    del no_income
    return out


def direct_flow(code: str, period: str) -> dict[str, float]:
    start, end = period_bounds(period)

    def within(dt_) -> bool:
        return dt_ is not None and start <= dt_ < end

    out: dict[str, float] = {k: 0 for k in cat.FLOW_CODES}
    for w in RiskWarning.objects.filter(village_code__startswith=code):
        out["warn_opened"] += within(w.opened_at)
        out["warn_closed"] += within(w.closed_at)
    for c in Case.objects.filter(kind="identification", village_code__startswith=code):
        if c.state == "rejected":
            out["id_rejected"] += within(c.rejected_at)
        if c.state != "identified" or not within(c.decided_at):
            continue
        out["id_identified"] += 1
        out["id_days_sum"] += (c.decided_at - c.clue_received_at).total_seconds() / 86400
        out["id_late"] += c.decided_at > c.decision_due
        clues = Clue.objects.filter(Q(case=c) | Q(merged_into__case=c))
        out["warn_converted"] += clues.filter(warning__isnull=False).exists()
        out["id_returned"] += Elimination.objects.filter(household=c.household, state="eliminated",
                                                         decided_at__lt=c.decided_at).exists()  # fmt: skip
    for step in CaseStep.objects.filter(action="home_check", case__village_code__startswith=code):
        if not within(step.at):
            continue
        clue = Clue.objects.filter(
            Q(case=step.case) | Q(merged_into__case=step.case), warning__isnull=False
        ).first()
        if clue is None:
            continue
        hours = max(0.0, (step.at - clue.warning.graded_at).total_seconds() / 3600)
        out["warn_onsite_n"] += 1
        out["warn_onsite_hours_sum"] += hours
        out["warn_onsite_late"] += (
            hours > (clue.warning.on_site_due - clue.warning.graded_at).total_seconds() / 3600
        )
    for e in Elimination.objects.filter(village_code__startswith=code):
        if e.state == "eliminated" and within(e.decided_at):
            out[f"elim_{e.mode}"] += 1
            out["elim_premature"] += e.premature
            a, b = timezone.localdate(e.case.decided_at), timezone.localdate(e.decided_at)
            out["elim_months_sum"] += (b.year - a.year) * 12 + b.month - a.month
        if e.state == "reversed" and within(e.reversed_at):
            out["elim_reversed"] += 1
    return out


def _compare(code: str, period: str, expected: dict[str, float], codes) -> list[str]:
    got = stored(code, period)
    return [f"{code} {period} {m}: stored {got.get(m, 0)} ≠ direct {expected.get(m, 0)}"
            for m in codes if abs(got.get(m, 0) - expected.get(m, 0)) > 1e-6]  # fmt: skip


def test_every_metric_equals_a_direct_query(story, villages):
    from guardline.quality.models import QualityFinding
    from guardline.quality.services import quality_check_run
    from guardline.registry.models import Household

    now = story
    quality_check_run(now=now)
    household = Household.objects.filter(village_code=villages["A"].code).first()
    QualityFinding.objects.create(
        rule="manual_test",
        household=household,
        village_code=household.village_code,
        first_seen=now,
        last_seen=now,
    )
    result = aggregates_refresh(now=now)
    current = period_of(now)
    assert current in result.periods and "2026-03" in result.periods and "2026-10" in result.periods
    county, township, village = villages["A"].code[:6], villages["A"].code[:9], villages["A"].code
    assert {m for m, _ in RegionMetric.objects.values_list("metric", "level")} <= set(cat.METRIC_BY_CODE)
    errors = []
    for code in (county, township, village, villages["B"].code, county[:2]):
        errors += _compare(code, current, direct_stock(code, now), cat.STOCK_CODES)
        for period in result.periods:
            errors += _compare(code, period, direct_flow(code, period), cat.FLOW_CODES)
    assert not errors, "\n".join(errors)
    # The story exercises every group of metrics (non-zero), so equality above is not 0 == 0.
    c = stored(county, current)
    assert c["hh_total"] == 5 and c["hh_monitored"] == 2 and c["hh_grade_red"] == 1 and c["warn_open"] == 1
    assert c["hh_risk_04"] == 1 and c["hh_risk_02"] == 1 and c["hh_risk_01"] == 1
    assert c["mon_nolabour"] == 1 and c.get("mon_nolabour_safety", 0) == 0 and c["hh_eliminated"] == 1
    assert c["inc_mon_below_line"] == 1 and c["dq_invalid_id"] == 1 and c["warn_onsite_overdue"] == 1
    assert c["dq_findings"] >= 1
    march, october = stored(county, "2026-03"), stored(county, "2026-10")
    assert march["id_identified"] == 2 and march["warn_converted"] == 1 and march["warn_onsite_n"] == 1
    assert october["elim_assisted"] == 1
    assert sum(stored(county, p).get("id_returned", 0) for p in result.periods) == 1
    # Provinces, cities, counties, townships and villages each carry their level.
    assert set(RegionMetric.objects.filter(region_code=county).values_list("level", flat=True)) == {3}
    assert set(RegionMetric.objects.filter(region_code=village).values_list("level", flat=True)) == {5}


def test_refresh_is_incremental(story, villages, households):
    now = story
    aggregates_refresh(now=now)
    county = villages["A"].code[:6]
    before = RegionMetric.objects.count()
    # Nothing changed: only the current month is looked at again and nothing is written.
    again = aggregates_refresh(now=now + timedelta(minutes=10))
    assert again.periods == [period_of(now)] and again.written == 0 and again.deleted == 0
    assert RegionMetric.objects.count() == before
    # A warning closed now: the month it was opened in is recomputed too, and only changed rows are written.
    w = RiskWarning.objects.get(status="open")
    later = now + timedelta(minutes=20)
    RiskWarning.objects.filter(pk=w.pk).update(status="closed", closed_at=later, updated_at=later)
    step = aggregates_refresh(now=later)
    assert set(step.periods) == {period_of(w.opened_at), period_of(later)}
    assert 0 < step.written < 40
    assert stored(county, period_of(later)).get("warn_open", 0) == 0
    assert not _compare(county, period_of(later), direct_flow(county, period_of(later)), cat.FLOW_CODES)
    assert AggregateState.objects.get().refreshed_at == later


def test_refresh_of_one_region_resums_its_ancestors(story, villages):
    now = story
    aggregates_refresh(now=now)
    b = villages["B"].code
    Household.objects.filter(village_code=b).update(is_active=False)
    aggregates_refresh(periods=[period_of(now)], regions=[b[:9]], now=now)
    county = b[:6]
    assert not _compare(county, period_of(now), direct_stock(county, now), cat.STOCK_CODES)
    assert not _compare(county[:2], period_of(now), direct_stock(county[:2], now), cat.STOCK_CODES)
    assert stored(b, period_of(now)).get("hh_total", 0) == 0
    # Members of inactive households do not count as data-quality failures either.
    assert Member.objects.filter(household__village_code=b).exists()


def test_stock_is_recomputed_only_where_rows_or_clocks_changed(story, villages, households):
    from guardline.dashboards.services import _stock_villages_changed

    now = story
    aggregates_refresh(now=now)
    state = AggregateState.objects.get()
    # A day later: no row has changed, but a red warning graded an hour before the last refresh ran out of its
    # two on-site hours in between; only its village is looked at again.
    later = now + timedelta(days=1)
    state.refreshed_at = later
    state.save()
    a2 = households["A2"]
    w = RiskWarning.objects.create(household=a2, village_code=a2.village_code, grade="red", score=80,
                                   risk_types="01", first_signal_date=later.date(), opened_at=later,
                                   updated_at=later - timedelta(hours=1), graded_at=later - timedelta(hours=1))  # fmt: skip
    RiskWarning.objects.filter(pk=w.pk).update(updated_at=later - timedelta(hours=1))
    assert _stock_villages_changed(state, later + timedelta(minutes=30)) == set()
    assert _stock_villages_changed(state, later + timedelta(hours=2)) == {a2.village_code}
    result = aggregates_refresh(now=later + timedelta(hours=2))
    assert result.stock_villages == 1
    county = villages["A"].code[:6]
    current = period_of(later + timedelta(hours=2))
    if current == period_of(now):  # (the month did not turn in between)
        assert not _compare(
            county, current, direct_stock(county, later + timedelta(hours=2)), cat.STOCK_CODES
        )
        assert stored(a2.village_code, current)["warn_onsite_overdue"] == 1
