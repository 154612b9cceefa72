"""Writes of the dashboards app: refreshing the aggregate table and the province's evaluation weights.

`aggregates_refresh` computes every base metric of `engine.aggregates.catalogue` per village with set-based
queries (group-by in the database; per-row work only over the small sets: monitored households, open warnings,
cases and eliminations of a month), rolls the villages up to township, county, city and province by code prefix
(`engine.aggregates.rollup`) and writes only the rows whose value changed. It is incremental: without `periods` it
recomputes the current month plus every month that a warning, case, case step or elimination changed since the
last refresh touched (the watermark in `AggregateState`). Stock metrics (a snapshot of the current state) are only
ever written for the current month; flow metrics for any month.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from engine.aggregates import catalogue as cat
from engine.aggregates.rollup import diff, level_of, rollup
from engine.ids import IdStatus
from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.assistance.catalogue import DEVELOPMENT_CODES, SAFETY_NET_CODES
from guardline.assistance.eligibility import months_between
from guardline.assistance.models import Elimination, Measure
from guardline.cases.models import Case, CaseStep, Clue
from guardline.core.changelog import change_entry, log_changes
from guardline.core.locks import write_lock
from guardline.quality.models import QualityFinding
from guardline.regions.models import MonitoringLine, Region, ancestor_codes
from guardline.registry.models import Household, HouseholdYear, Member
from guardline.screening.models import HouseholdGrade, RiskWarning, response_clock

from .models import AggregateState, EvaluationWeight, RegionMetric

STATE_KEY = "region_metrics"
USABLE_ID_STATUSES = (IdStatus.VALID, IdStatus.CONVERTED)
SAFETY_MARGIN = dt.timedelta(minutes=5)  # rows committed while the previous refresh ran are looked at again

VillageRows = dict[tuple[str, str], float]  # (village_code, metric) → value


def period_of(moment: dt.datetime | dt.date) -> str:
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{moment.year:04d}-{moment.month:02d}"


def period_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    year, month = int(period[:4]), int(period[5:7])
    start = dt.datetime(year, month, 1)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


def _add(rows: VillageRows, pairs: Iterable[tuple[str, float]], metric: str) -> None:
    for village, n in pairs:
        if n:
            rows[(village, metric)] = rows.get((village, metric), 0.0) + float(n)


def _count_by_village(qs, field: str = "village_code") -> list[tuple[str, float]]:
    grouped = qs.order_by().values_list(field).annotate(n=Count("pk", distinct=True)).values_list(field, "n")
    return [(v, n) for v, n in grouped]


# ---------------------------------------------------------------------------------------------------------------
# Stock metrics: the state now.


def _lines_by_village(villages: Iterable[str], on: dt.date) -> dict[str, float]:
    """The monitoring line in force on `on` for each village (regions.selectors.monitoring_line_on, in bulk)."""
    lines = list(MonitoringLine.objects.filter(effective_from__lte=on))
    by_region: dict[str, list[MonitoringLine]] = defaultdict(list)
    for line in lines:
        by_region[line.region_id].append(line)
    out = {}
    for village in villages:
        candidates = [ln for code in (village, *ancestor_codes(village)) for ln in by_region.get(code, [])]
        if not candidates:
            continue
        year = max(ln.year for ln in candidates)
        best = max(
            (ln for ln in candidates if ln.year == year),
            key=lambda ln: (len(ln.region_id), ln.effective_from, ln.pk),
        )
        out[village] = float(best.amount)
    return out


def _latest_identified_cases(households: Q) -> dict[int, dict]:
    """household id → its latest identified identification case (id, risk types, decided_at)."""
    out: dict[int, dict] = {}
    rows = (
        Case.objects.filter(kind=Case.Kind.IDENTIFICATION, state="identified")
        .filter(households)
        .order_by("household_id", "decided_at", "pk")
        .values("pk", "household_id", "risk_types", "decided_at")
    )
    for row in rows:
        out[row["household_id"]] = row  # ordered: the last one wins
    return out


def _stock(now: dt.datetime, village_prefixes: list[str] | None) -> VillageRows:
    rows: VillageRows = {}
    hh = Household.objects.filter(is_active=True)
    if village_prefixes:
        hh = hh.filter(_prefix_q("village_code", village_prefixes))
    _add(rows, _count_by_village(hh), "hh_total")
    _add(rows, _count_by_village(hh.filter(household_type="former_poor")), "hh_former_poor")
    monitored = hh.exclude(monitor_category="")
    _add(rows, _count_by_village(monitored), "hh_monitored")
    for village, category, n in (
        monitored.order_by().values_list("village_code", "monitor_category").annotate(n=Count("pk"))
    ):
        if category in cat.CATEGORIES:
            _add(rows, [(village, n)], f"hh_cat_{category}")
    grades = (
        HouseholdGrade.objects.filter(household__in=hh)
        .values_list("household__village_code", "grade")
        .annotate(n=Count("pk"))
    )
    for village, grade, n in grades:
        if grade in cat.GRADES:
            _add(rows, [(village, n)], f"hh_grade_{grade}")

    # Monitored households: risk types, measures of the current identification, labour, a year without clearing.
    mon = {
        r["pk"]: r
        for r in monitored.values("pk", "village_code", "no_labour_household", "latest_per_capita_income")
    }
    cases = _latest_identified_cases(Q(household__in=monitored))
    measures: dict[int, set[str]] = defaultdict(set)
    case_ids = [c["pk"] for c in cases.values()]
    for i in range(0, len(case_ids), 5000):
        for case_id, code in (
            Measure.objects.filter(plan__case_id__in=case_ids[i : i + 5000])
            .exclude(status=Measure.Status.CANCELLED)
            .values_list("plan__case_id", "code")
        ):
            measures[case_id].add(code)
    year_ago = now - dt.timedelta(days=365)
    for hid, h in mon.items():
        v = h["village_code"]
        case = cases.get(hid)
        codes = measures.get(case["pk"], set()) if case else set()
        if case:
            for risk in {r[:2] for r in case["risk_types"].split(";") if r}:
                _add(rows, [(v, 1)], f"hh_risk_{risk if risk in cat.RISK_TYPES else '99'}")
        if codes:
            _add(rows, [(v, 1)], "mon_with_measure")
        if h["no_labour_household"]:
            _add(rows, [(v, 1)], "mon_nolabour")
            if codes & SAFETY_NET_CODES:
                _add(rows, [(v, 1)], "mon_nolabour_safety")
        else:
            _add(rows, [(v, 1)], "mon_labour")
            if codes & DEVELOPMENT_CODES:
                _add(rows, [(v, 1)], "mon_labour_dev")
            if case and case["decided_at"] and case["decided_at"] < year_ago:
                _add(rows, [(v, 1)], "mon_labour_over_year")

    eliminated = hh.filter(Exists(Elimination.objects.filter(household=OuterRef("pk"), state="eliminated")))
    _add(rows, _count_by_village(eliminated), "hh_eliminated")

    # Income: latest per-capita net income; the line in force today, per household, summed.
    with_income = hh.filter(latest_per_capita_income__isnull=False)
    groups = {"all": with_income, "fp": with_income.filter(household_type="former_poor"),
              "mon": with_income.exclude(monitor_category="")}  # fmt: skip
    villages = set(with_income.values_list("village_code", flat=True).distinct())
    lines = _lines_by_village(villages, timezone.localdate(now))
    for key, qs in groups.items():
        for village, n, total in qs.order_by().values_list("village_code").annotate(n=Count("pk"), s=Sum("latest_per_capita_income")).values_list("village_code", "n", "s"):  # fmt: skip
            _add(rows, [(village, n)], f"inc_{key}_n")
            _add(rows, [(village, float(total or 0))], f"inc_{key}_sum")
            if key != "all" and village in lines:
                _add(rows, [(village, n * lines[village])], f"inc_{key}_line_sum")
    for h in mon.values():
        line = lines.get(h["village_code"])
        income = h["latest_per_capita_income"]
        if line is not None and income is not None and Decimal(income) < Decimal(str(line)):
            _add(rows, [(h["village_code"], 1)], "inc_mon_below_line")

    # Timeliness now: open and overdue identification cases, open warnings past their on-site time.
    open_cases = Case.objects.filter(kind=Case.Kind.IDENTIFICATION).exclude(
        state__in=["identified", "rejected"]
    )
    if village_prefixes:
        open_cases = open_cases.filter(_prefix_q("village_code", village_prefixes))
    _add(rows, _count_by_village(open_cases), "case_open")
    _add(rows, _count_by_village(open_cases.filter(decision_due__lt=now)), "case_overdue")
    warnings = RiskWarning.objects.filter(status=RiskWarning.Status.OPEN)
    if village_prefixes:
        warnings = warnings.filter(_prefix_q("village_code", village_prefixes))
    _add(rows, _count_by_village(warnings), "warn_open")
    open_w = list(warnings.values("household_id", "village_code", "grade", "graded_at"))
    checked: dict[int, list[dt.datetime]] = defaultdict(list)
    hids = [w["household_id"] for w in open_w]
    for i in range(0, len(hids), 5000):
        for hid, at in CaseStep.objects.filter(
            action="home_check", case__household_id__in=hids[i : i + 5000]
        ).values_list("case__household_id", "at"):
            checked[hid].append(at)
    for w in open_w:
        due = w["graded_at"] + dt.timedelta(hours=response_clock(w["grade"])["on_site_hours"])
        if due < now and not any(at >= w["graded_at"] for at in checked.get(w["household_id"], ())):
            _add(rows, [(w["village_code"], 1)], "warn_onsite_overdue")

    # Data quality: an active member with an invalid ID number; no income row for last year or later.
    bad_id = Exists(
        Member.objects.filter(household=OuterRef("pk"), is_active=True).exclude(
            id_status__in=USABLE_ID_STATUSES
        )
    )
    no_income = ~Exists(HouseholdYear.objects.filter(household=OuterRef("pk"), year__gte=now.year - 1))
    # ...and every open finding of the data-quality rules (guardline.quality, 疑点数据).
    finding = Exists(QualityFinding.objects.filter(household=OuterRef("pk"), resolved_at__isnull=True))
    _add(rows, _count_by_village(hh.filter(bad_id)), "dq_invalid_id")
    _add(rows, _count_by_village(hh.filter(no_income)), "dq_missing_income")
    _add(rows, _count_by_village(hh.filter(finding)), "dq_findings")
    _add(rows, _count_by_village(hh.filter(bad_id | no_income | finding)), "dq_failures")
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Flow metrics: what happened in one month.


def _flow(period: str, village_prefixes: list[str] | None) -> VillageRows:
    start, end = period_bounds(period)
    rows: VillageRows = {}

    def where(qs, field: str = "village_code"):
        return qs.filter(_prefix_q(field, village_prefixes)) if village_prefixes else qs

    warnings = where(RiskWarning.objects.all())
    _add(rows, _count_by_village(warnings.filter(opened_at__gte=start, opened_at__lt=end)), "warn_opened")
    _add(rows, _count_by_village(warnings.filter(closed_at__gte=start, closed_at__lt=end)), "warn_closed")

    decided = where(Case.objects.filter(kind=Case.Kind.IDENTIFICATION, state="identified",
                                        decided_at__gte=start, decided_at__lt=end))  # fmt: skip
    from_warning = Q(clues__warning__isnull=False) | Q(clues__merged_clues__warning__isnull=False)
    _add(rows, _count_by_village(decided.filter(from_warning)), "warn_converted")
    returned = Exists(
        Elimination.objects.filter(household=OuterRef("household"), state="eliminated", decided_at__lt=OuterRef("decided_at"))
    )  # fmt: skip
    _add(rows, _count_by_village(decided.filter(returned)), "id_returned")
    for v, received, decided_at, due in decided.values_list("village_code", "clue_received_at", "decided_at", "decision_due"):  # fmt: skip
        _add(rows, [(v, 1)], "id_identified")
        _add(rows, [(v, (decided_at - received).total_seconds() / 86400)], "id_days_sum")
        if decided_at > due:
            _add(rows, [(v, 1)], "id_late")
    rejected = where(Case.objects.filter(kind=Case.Kind.IDENTIFICATION, state="rejected",
                                         rejected_at__gte=start, rejected_at__lt=end))  # fmt: skip
    _add(rows, _count_by_village(rejected), "id_rejected")

    # Warning → on site: the first home check of the case a warning's clue led to (directly or merged).
    steps = where(
        CaseStep.objects.filter(action="home_check", at__gte=start, at__lt=end), "case__village_code"
    )
    step_rows = list(steps.values_list("case_id", "case__village_code", "at"))
    case_ids = [r[0] for r in step_rows]
    graded: dict[int, tuple[dt.datetime, str]] = {}
    if case_ids:
        direct = Clue.objects.filter(case_id__in=case_ids, warning__isnull=False).values_list(
            "case_id", "warning__graded_at", "warning__grade"
        )
        merged = Clue.objects.filter(merged_into__case_id__in=case_ids, warning__isnull=False).values_list(
            "merged_into__case_id", "warning__graded_at", "warning__grade"
        )
        for case_id, at, grade in [*direct, *merged]:
            if case_id not in graded or at < graded[case_id][0]:
                graded[case_id] = (at, grade)
    for case_id, v, at in step_rows:
        if case_id not in graded:
            continue
        graded_at, grade = graded[case_id]
        hours = max(0.0, (at - graded_at).total_seconds() / 3600)
        _add(rows, [(v, 1)], "warn_onsite_n")
        _add(rows, [(v, hours)], "warn_onsite_hours_sum")
        if hours > response_clock(grade)["on_site_hours"]:
            _add(rows, [(v, 1)], "warn_onsite_late")

    elims = where(Elimination.objects.filter(state="eliminated", decided_at__gte=start, decided_at__lt=end))
    for v, mode, premature, decided_at, identified_at in elims.values_list(
        "village_code", "mode", "premature", "decided_at", "case__decided_at"
    ):
        _add(rows, [(v, 1)], f"elim_{mode}" if mode in ("assisted", "natural") else "elim_assisted")
        if premature:
            _add(rows, [(v, 1)], "elim_premature")
        if identified_at:
            months = months_between(timezone.localdate(identified_at), timezone.localdate(decided_at))
            _add(rows, [(v, months)], "elim_months_sum")
    reversed_ = where(
        Elimination.objects.filter(state="reversed", reversed_at__gte=start, reversed_at__lt=end)
    )
    _add(rows, _count_by_village(reversed_), "elim_reversed")
    return rows


def _prefix_q(field: str, prefixes: list[str]) -> Q:
    q = Q(pk__in=[])
    villages = [p for p in prefixes if len(p) == 12]
    if villages:
        q |= Q(**{f"{field}__in": villages})
    for p in prefixes:
        if len(p) != 12:
            q |= Q(**{f"{field}__startswith": p})
    return q


MAX_PARTIAL_VILLAGES = 2000


def _stock_villages_changed(state: AggregateState, now: dt.datetime) -> set[str]:
    """Villages whose stock metrics may differ from the stored snapshot: a row of theirs changed since the last
    refresh, or one of the clocks behind a stock metric ran out in between (decision limit, on-site limit, a year
    since identification)."""
    assert state.refreshed_at is not None
    since = state.refreshed_at - SAFETY_MARGIN
    villages: set[str] = set()

    def add(qs, field: str = "village_code") -> None:
        villages.update(qs.order_by().values_list(field, flat=True).distinct())

    add(Household.objects.filter(updated_at__gte=since))
    add(HouseholdYear.objects.filter(updated_at__gte=since), "household__village_code")
    add(Member.objects.filter(updated_at__gte=since), "household__village_code")
    add(HouseholdGrade.objects.filter(updated_at__gte=since), "household__village_code")
    add(RiskWarning.objects.filter(updated_at__gte=since))
    add(Case.objects.filter(updated_at__gte=since))
    add(Elimination.objects.filter(updated_at__gte=since), "household__village_code")
    add(Measure.objects.filter(updated_at__gte=since), "household__village_code")
    add(CaseStep.objects.filter(pk__gt=state.last_step_id), "case__village_code")
    add(QualityFinding.objects.filter(Q(first_seen__gte=since) | Q(resolved_at__gte=since)))
    # Clocks: what became overdue or a year old between the two refreshes.
    add(Case.objects.filter(kind=Case.Kind.IDENTIFICATION, decision_due__gte=since, decision_due__lt=now))
    year = dt.timedelta(days=365)
    add(Case.objects.filter(kind=Case.Kind.IDENTIFICATION, state="identified", decided_at__gte=since - year,
                            decided_at__lt=now - year), "household__village_code")  # fmt: skip
    for grade in cat.GRADES:
        hours = dt.timedelta(hours=response_clock(grade)["on_site_hours"])
        add(RiskWarning.objects.filter(status=RiskWarning.Status.OPEN, grade=grade, graded_at__gte=since - hours,
                                       graded_at__lt=now - hours))  # fmt: skip
    return villages


def _refresh_stock_of(villages: list[str], period: str, now: dt.datetime) -> tuple[int, int]:
    """Recompute the stock metrics of some villages, then re-sum their townships, counties, cities, province."""
    written = deleted = 0
    for i in range(0, len(villages), 500):
        chunk = villages[i : i + 500]
        rows = _stock(now, chunk)
        computed = {(v, period, m): x for (v, m), x in rows.items() if v in set(chunk)}
        stored = {
            (r, period, m): x
            for r, m, x in RegionMetric.objects.filter(
                period=period, metric__in=cat.STOCK_CODES, region_code__in=chunk
            ).values_list("region_code", "metric", "value")
        }
        w, d = _write(computed, stored)
        written, deleted = written + w, deleted + d
    ancestors = {a for v in villages for a in ancestor_codes(v) if len(v) == 12}
    for code in sorted(ancestors, key=len, reverse=True):
        w, d = _resum(code, period, list(cat.STOCK_CODES))
        written, deleted = written + w, deleted + d
    return written, deleted


# ---------------------------------------------------------------------------------------------------------------


def _touched_periods(state: AggregateState, now: dt.datetime) -> set[str]:
    """Months whose flow metrics may have changed since the last refresh (all months on the first refresh)."""
    since = None if state.refreshed_at is None else state.refreshed_at - SAFETY_MARGIN
    months: set[str] = set()

    def collect(qs, *fields: str) -> None:
        for row in qs.values_list(*fields):
            months.update(period_of(v) for v in row if v is not None)

    w = RiskWarning.objects.all() if since is None else RiskWarning.objects.filter(updated_at__gte=since)
    collect(w, "opened_at", "closed_at")
    c = Case.objects.all() if since is None else Case.objects.filter(updated_at__gte=since)
    collect(c, "decided_at", "rejected_at")
    e = Elimination.objects.all() if since is None else Elimination.objects.filter(updated_at__gte=since)
    collect(e, "decided_at", "reversed_at")
    collect(CaseStep.objects.filter(pk__gt=state.last_step_id, action="home_check"), "at")
    return months


@dataclass
class RefreshResult:
    periods: list[str]
    written: int = 0
    deleted: int = 0
    seconds: float = 0.0
    regions: list[str] = field(default_factory=list)
    stock_villages: int | None = None  # villages whose stock was recomputed (None: all)


def aggregates_refresh(
    periods: Iterable[str] | None = None, regions: Iterable[str] | None = None, now: dt.datetime | None = None
) -> RefreshResult:
    """Bring `RegionMetric` in step with the operational tables (see the module docstring).

    periods: months "YYYY-MM" to recompute (default: the current month plus the months touched since the last
    refresh). regions: region codes to recompute (default: all); their enclosing regions are re-summed from the
    stored rows of the level below."""
    t0 = time.perf_counter()
    now = now or timezone.now()
    current = period_of(now)
    state, _ = AggregateState.objects.get_or_create(key=STATE_KEY)
    max_step = CaseStep.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    wanted = set(periods) if periods is not None else {current} | _touched_periods(state, now)
    wanted = {p for p in wanted if p <= current}
    prefixes = sorted(set(regions)) if regions else None
    result = RefreshResult(periods=sorted(wanted), regions=prefixes or [])

    # The current month's stock: only the villages whose rows (or clocks) changed since the last refresh, when
    # the last full refresh was in this month too; otherwise every village.
    stock_villages: set[str] | None = None
    if (
        periods is None
        and prefixes is None
        and state.refreshed_at
        and period_of(state.refreshed_at) == current
    ):
        stock_villages = _stock_villages_changed(state, now)
        if len(stock_villages) > MAX_PARTIAL_VILLAGES:
            stock_villages = None

    # Each month is computed outside any transaction and written in a short one of its own, under the write lock
    # (core.locks): on SQLite a transaction holds the database's write lock from its start, and the computing takes
    # seconds for a province, which the live API's writers would spend waiting. A refresh stopped half-way leaves
    # the watermark where it was, so the next one computes those months again.
    for period in sorted(wanted):
        village_rows = _flow(period, prefixes)
        metrics = list(cat.FLOW_CODES)
        if period == current and stock_villages is None:
            village_rows.update(_stock(now, prefixes))
            metrics += cat.STOCK_CODES
        computed = rollup((v, period, m, x) for (v, m), x in village_rows.items())
        if prefixes:  # only the regions inside the given ones; ancestors are re-summed below
            computed = {k: x for k, x in computed.items() if any(k[0].startswith(p) for p in prefixes)}
        with write_lock(), transaction.atomic():
            stored_qs = RegionMetric.objects.filter(period=period, metric__in=metrics)
            if prefixes:
                stored_qs = stored_qs.filter(_prefix_q("region_code", prefixes))
            stored = {
                (r, period, m): x for r, m, x in stored_qs.values_list("region_code", "metric", "value")
            }
            w, d = _write(computed, stored)
            result.written += w
            result.deleted += d
            if prefixes:
                for code in sorted({a for p in prefixes for a in ancestor_codes(p.ljust(12, "0")) if len(a) < len(p)}, key=len, reverse=True):  # fmt: skip
                    w, d = _resum(code, period, metrics)
                    result.written += w
                    result.deleted += d
    with write_lock(), transaction.atomic():
        if stock_villages:
            w, d = _refresh_stock_of(sorted(stock_villages), current, now)
            result.written += w
            result.deleted += d
        result.stock_villages = None if stock_villages is None else len(stock_villages)
        if periods is None and prefixes is None:  # a partial refresh leaves the watermark where it was
            state.refreshed_at = now
            state.last_step_id = max_step
        state.periods = result.periods
        state.rows_written = result.written
        result.seconds = time.perf_counter() - t0
        state.seconds = result.seconds
        state.save()
    return result


def _write(computed: dict, stored: dict) -> tuple[int, int]:
    upsert, delete = diff(computed, stored)
    if upsert:
        RegionMetric.objects.bulk_create(
            [RegionMetric(region_code=r, level=level_of(r), period=p, metric=m, value=x) for (r, p, m), x in upsert.items()],
            batch_size=2000, update_conflicts=True, unique_fields=["region_code", "period", "metric"],
            update_fields=["value", "level"],
        )  # fmt: skip
    by_period: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, p, m in delete:
        by_period[(p, m)].append(r)
    for (p, m), codes in by_period.items():
        for i in range(0, len(codes), 500):
            RegionMetric.objects.filter(period=p, metric=m, region_code__in=codes[i : i + 500]).delete()
    return len(upsert), len(delete)


def _resum(code: str, period: str, metrics: list[str]) -> tuple[int, int]:
    """Re-sum a region's metrics from its stored children (the level below)."""
    child_len = {2: 4, 4: 6, 6: 9, 9: 12}[len(code)]
    sums = (
        RegionMetric.objects.filter(
            period=period, metric__in=metrics, level=level_of("0" * child_len), region_code__startswith=code
        )
        .values_list("metric")
        .annotate(s=Sum("value"))
        .values_list("metric", "s")
    )
    computed = {(code, period, m): float(s) for m, s in sums if s}
    stored = {
        (code, period, m): x
        for m, x in RegionMetric.objects.filter(
            region_code=code, period=period, metric__in=metrics
        ).values_list("metric", "value")
    }
    return _write(computed, stored)


# ---------------------------------------------------------------------------------------------------------------


def evaluation_weights_set(*, actor, province: Region, weights: dict[str, float]) -> list[EvaluationWeight]:
    """A province officer sets the weights of the composite evaluation for their province (logged)."""
    if not has_perm(actor, Perm.MANAGE_EVALUATION):
        raise PermissionDenied("无权设置评价权重")
    if province.level != Region.Level.PROVINCE:
        raise ValidationError("权重按省设置")
    require_scope(actor, province.code)
    unknown = set(weights) - set(cat.INDICATOR_BY_CODE)
    if unknown:
        raise ValidationError(f"未知指标：{', '.join(sorted(unknown))}")
    if any(w < 0 or w > 100 for w in weights.values()):
        raise ValidationError("权重应在 0–100 之间")
    before = dict(EvaluationWeight.objects.filter(province=province).values_list("indicator", "weight"))
    out = []
    with transaction.atomic():
        for code, w in weights.items():
            obj, _ = EvaluationWeight.objects.update_or_create(
                province=province, indicator=code, defaults={"weight": float(w), "updated_by": actor}
            )
            out.append(obj)
        after = dict(EvaluationWeight.objects.filter(province=province).values_list("indicator", "weight"))
        if after != before:
            log_changes([change_entry(entity="evaluation_weights", entity_id=int(province.code), household_id=None,
                                      action="update", before=before, after=after, actor_id=actor.pk)])  # fmt: skip
    return out
