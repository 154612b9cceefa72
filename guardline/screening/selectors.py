"""Reads of the screening app, always scoped to the user's regions."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.http import Http404

from engine.screening import DEFAULT_RULES, INDICATORS, PARAMETERS, Rule
from engine.screening.firings import COUNTY_DIGITS
from guardline.accounts.scope import region_q, scope_codes
from guardline.core.models import Job

from .models import (
    HouseholdGrade,
    RiskWarning,
    RuleFiring,
    ScreeningParameter,
    ScreeningRule,
    ScreeningRun,
)

GRADE_ORDER = Case(
    When(grade="red", then=Value(0)),
    When(grade="yellow", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass
class InboxFilters:
    grade: str = ""
    region: str = ""
    risk_type: str = ""
    status: str = "open"


def warning_inbox(user, filters: InboxFilters | None = None) -> QuerySet[RiskWarning]:
    """Warnings in the user's regions, red first, then the oldest (the longest waiting) first."""
    f = filters or InboxFilters()
    qs = RiskWarning.objects.filter(region_q(user)).select_related("household")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.grade:
        qs = qs.filter(grade=f.grade)
    if f.region:
        qs = qs.filter(village_code__startswith=f.region)
    if f.risk_type:
        qs = qs.filter(risk_types__contains=f.risk_type)
    return qs.annotate(grade_rank=GRADE_ORDER).order_by("grade_rank", "graded_at", "id")


def warning_get(user, pk: int) -> RiskWarning:
    w = RiskWarning.objects.filter(region_q(user), pk=pk).select_related("household").first()
    if w is None:
        raise Http404("预警不存在")
    return w


def household_screening(user, household) -> tuple[HouseholdGrade | None, list[RiskWarning]]:
    """The household's current grade and its warnings (open first), for its page. The caller has already
    fetched the household through a scoped selector."""
    grade = HouseholdGrade.objects.filter(household=household).first()
    warnings = list(
        RiskWarning.objects.filter(region_q(user), household=household).order_by("status", "-opened_at")[:20]
    )
    return grade, warnings


WHATIF_JOB_KINDS = ("whatif", "rule_trial")


def whatif_job_get(user, pk: int) -> Job:
    """A background what-if or rule trial, to its creator only (its result counts households of their regions)."""
    job = Job.objects.filter(pk=pk, created_by=user, kind__in=WHATIF_JOB_KINDS).first()
    if job is None:
        raise Http404("试算任务不存在")
    return job


def whatif_jobs(user, limit: int = 10) -> list[Job]:
    """The user's latest background what-ifs and rule trials, newest first (the page they were sent to can be left)."""
    return list(
        Job.objects.filter(created_by=user, kind__in=WHATIF_JOB_KINDS).order_by("-created_at")[:limit]
    )


def grade_counts(user) -> dict[str, int]:
    counts = {"red": 0, "yellow": 0, "green": 0}
    for row in (
        HouseholdGrade.objects.filter(region_q(user)).values("grade").order_by().annotate(n=Count("pk"))
    ):
        counts[row["grade"]] = row["n"]
    return counts


def rule_firing_counts(user) -> dict[str, int]:
    """How many of the user's households each trigger fires on now (their current grades): one pass grouping the
    grades by their fired-trigger list — a few thousand distinct lists, however many households — then split.

    A county of 1M households takes 0.6 s (5.5 s from a cold disk cache), so the counts are cached until the next
    screening run of any kind (a live re-screen too) for the same regions."""
    codes = ",".join(sorted(scope_codes(user)))
    latest = ScreeningRun.objects.order_by("-pk").values_list("pk", "started_at", "finished_at").first()
    key = "rule-fires:" + hashlib.sha256(f"{codes}|{latest}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        cached = _rule_firing_counts(user)
        cache.set(key, cached, timeout=3600)
    return cached


def _rule_firing_counts(user) -> dict[str, int]:
    counts: Counter[str] = Counter()
    rows = (
        HouseholdGrade.objects.filter(region_q(user)).exclude(rules="")
        .values("rules").order_by().annotate(n=Count("pk"))
    )  # fmt: skip
    for row in rows:
        for code in row["rules"].split(";"):
            if code:
                counts[code] += row["n"]
    return dict(counts)


@dataclass
class FiringRun:
    """One run over every household, as a trigger's history shows it: the households of the user's counties it
    graded, and on how many of them each trigger fired."""

    run_id: int
    as_of: date
    finished_at: datetime | None
    screened: int
    fires: dict[str, int]
    # rule_firing_history(code=…): the trigger's version in force (0: the default; None: it did not exist yet)
    version: int | None = None
    active: bool = True  # … and whether that version was switched on

    def share(self, code: str) -> float | None:
        return self.fires.get(code, 0) / self.screened if self.screened else None


def rule_firing_history(user, code: str | None = None, limit: int = 12) -> list[FiringRun] | None:
    """The latest `limit` runs over every household, newest first, with their firing counts over the user's
    counties — of every trigger, or of `code` with the version in force at each run. None for a user who works
    only below a county: the counts are kept per county and would tell of the county's other townships."""
    prefixes = [c for c in scope_codes(user) if len(c) <= COUNTY_DIGITS]
    if not prefixes:
        return None
    runs = list(
        RuleFiring.objects.filter(rule_code="")
        .order_by("-run_id")
        .values_list("run_id", flat=True)
        .distinct()[:limit]
    )
    rows = (
        RuleFiring.objects.filter(run_id__in=runs)
        .filter(reduce(or_, (Q(county_code__startswith=c) for c in prefixes)))
        .values("run_id", "rule_code").order_by().annotate(n=Sum("households"))
    )  # fmt: skip
    if code is not None:
        rows = rows.filter(rule_code__in=["", code])
    fires: dict[int, dict[str, int]] = {pk: {} for pk in runs}
    for row in rows:
        fires[row["run_id"]][row["rule_code"]] = row["n"]
    meta = ScreeningRun.objects.in_bulk(runs)
    out = [
        FiringRun(pk, meta[pk].as_of, meta[pk].finished_at, counts.pop(""), counts)
        for pk, counts in fires.items()
        if counts.get("")  # a run that graded none of the user's households says nothing of them
    ]
    if code is not None:
        stored = list(
            ScreeningRule.objects.filter(code=code)
            .order_by("version")
            .values_list("version", "is_active", "created_at")
        )
        for point in out:
            started = meta[point.run_id].started_at
            before = [(v, active) for v, active, at in stored if at <= started]
            if before:
                point.version, point.active = before[-1]
            elif any(r.code == code for r in DEFAULT_RULES):
                point.version = 0
            else:  # a region's own rule, made after this run
                point.version, point.active = None, False
    return out


def latest_runs(limit: int = 10) -> QuerySet[ScreeningRun]:
    return ScreeningRun.objects.filter(scope="").order_by("-started_at")[:limit]


@dataclass
class RuleEntry:
    """A trigger as the catalogue lists it: its newest version (0: the built-in default, never edited), whether
    that version is in force, and who made it."""

    rule: Rule
    version: int
    is_active: bool
    stored: ScreeningRule | None
    built_in: bool  # the engine ships a default of this code (restorable as version 0)


def rule_entries() -> list[RuleEntry]:
    """Every trigger code, the defaults first in their order, then added codes: switched-off ones too, so that
    they can be switched on again. Rules hold province-wide and hold no personal data."""
    latest: dict[str, ScreeningRule] = {}
    for row in ScreeningRule.objects.select_related("created_by").order_by("code", "-version"):
        latest.setdefault(row.code, row)
    out = []
    for default in DEFAULT_RULES:
        row = latest.pop(default.code, None)
        if row is None:
            out.append(RuleEntry(default, 0, True, None, True))
        else:
            out.append(RuleEntry(rule_of(row), row.version, row.is_active, row, True))
    out.extend(RuleEntry(rule_of(row), row.version, row.is_active, row, False) for row in latest.values())
    return out


def rule_entry(code: str) -> RuleEntry:
    for entry in rule_entries():
        if entry.rule.code == code:
            return entry
    raise Http404(f"没有规则 {code}")


def rule_versions(code: str) -> list[ScreeningRule]:
    """A trigger's stored versions, newest first (each with what it changed against the one before)."""
    rows = list(ScreeningRule.objects.filter(code=code).select_related("created_by").order_by("-version"))
    default = next((r for r in DEFAULT_RULES if r.code == code), None)
    for row, before in zip(rows, [*rows[1:], None], strict=False):  # the oldest is compared with the default
        old = rule_of(before).as_dict() if before else (default.as_dict() if default else {})
        old_active = before.is_active if before else bool(default)
        new = rule_of(row).as_dict()
        row.changed = [k for k in new if old.get(k) != new[k]] + (
            ["is_active"] if old_active != row.is_active else []
        )
    return rows


def rule_of(row: ScreeningRule) -> Rule:
    """A stored version as the engine's rule."""
    return Rule(
        code=row.code,
        title_zh=row.title,
        risk_type=row.risk_type,
        severity=row.severity,
        condition=row.condition,
        signal_date=row.signal_date,
        reason=row.reason,
        sources=tuple(row.sources or ()),
        region=row.region_code,
    )


def rule_concerns(user, entry: RuleEntry) -> bool:
    """Whether a trigger bears on the user's regions: a province-wide one always; a region's own one where that
    region and the user's overlap (a county's trigger is not another county's business)."""
    region = entry.rule.region
    return not region or any(region.startswith(c) or c.startswith(region) for c in scope_codes(user))


@dataclass
class ParameterRow:
    """A parameter or index weight as it holds for one region: its default, the value in force and where that
    value comes from, and the values stored for exactly this region (any year)."""

    name: str
    title: str
    unit: str
    default: float
    value: float
    source: str  # "" = the default; else the region code (and year) of the stored value, or "monitoring_line"
    here: list[ScreeningParameter]
    is_weight: bool = False
    title_en: str = ""
    unit_en: str = ""


def parameter_rows(region: str, as_of: date) -> tuple[list[ParameterRow], list[ScreeningParameter]]:
    """Every parameter and weight for `region` (a region the caller has checked is the user's) on `as_of`, by
    the engine's rule (engine.screening.params.resolve: the longest region prefix wins, then a value for the year
    over one for every year; a monitoring line set on the 监测线 page beats them all); and the values stored for
    regions inside it."""
    from engine.screening.catalogue import default_weights
    from engine.screening.fields import PARAMETER_TITLES_EN, UNIT_EN
    from engine.screening.params import resolve

    from .services import line_overrides, overrides_in_force

    stored = list(
        ScreeningParameter.objects.select_related("updated_by").order_by("name", "region_code", "year")
    )
    lines = {o.name for o in line_overrides([region], as_of)}
    # The values are the engine's own resolution; only where each comes from is told here.
    in_force = resolve(
        [region], overrides_in_force([region], as_of), as_of.year, default_weights()
    ).to_pylist()[0]
    titles = {p.name: (p.title_zh, p.unit, float(p.default), False) for p in PARAMETERS}
    titles.update({f"w_{i.code}": (f"权重：{i.title_zh}", "", float(i.weight), True) for i in INDICATORS})
    titles_en = {i.code: i.title_en for i in INDICATORS}
    rows = []
    for name, (title, unit, default, is_weight) in titles.items():
        applies = [
            p for p in stored
            if p.name == name and region.startswith(p.region_code) and p.year in (None, as_of.year)
        ]  # fmt: skip
        best = max(applies, key=lambda p: (len(p.region_code), p.year is not None), default=None)
        source = ""
        # The line is an override at the region's own level, given after the stored ones: it loses only to a
        # value stored for the region itself (as in resolve).
        if name in lines and (best is None or len(best.region_code) < len(region)):
            source = "monitoring_line"
        elif best is not None:
            source = f"{best.region_code or '全国'}{f' ({best.year})' if best.year else ''}"
        value = in_force[f"p_{name}"]
        here = [p for p in stored if p.name == name and p.region_code == region]
        title_en = f"Weight: {titles_en[name[2:]]}" if is_weight else PARAMETER_TITLES_EN.get(name, title)
        rows.append(
            ParameterRow(
                name, title, unit, default, value, source, here, is_weight, title_en, UNIT_EN.get(unit, unit)
            )
        )
    below = [p for p in stored if p.region_code.startswith(region) and len(p.region_code) > len(region)]
    return rows, below
