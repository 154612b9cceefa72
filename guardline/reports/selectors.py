"""Reads behind the reports: the monthly report of a region and the three ledgers (台账) in the layout of the
national exports. Every query is restricted to the user's regions and to the region asked for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from engine import vocab
from engine.ids import mask_id_number
from engine.screening.rules import RISK_CODES
from guardline.accounts.scope import region_q, require_scope
from guardline.assistance import catalogue
from guardline.assistance.models import Elimination, Measure
from guardline.assistance.procedure import MODE_LABELS, STATE_LABELS, Mode, State
from guardline.cases.models import Case
from guardline.regions.models import Region, code_range
from guardline.regions.selectors import monitoring_line_on
from guardline.registry.models import Household, Member
from guardline.screening.models import Grade, HouseholdGrade, RiskWarning


@dataclass
class Section:
    title: str
    header: tuple[str, str]
    rows: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class MonthlyReport:
    region_code: str
    region_name: str
    year: int
    month: int
    generated_at: datetime
    line: Decimal | None
    sections: list[Section]
    figures: dict[str, Any]  # every number of the report by a stable key (tests read them back)

    @property
    def title(self) -> str:
        return f"{self.region_name}防止返贫监测帮扶月报（{self.year}年{self.month}月）"


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(year, month, 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, timezone.make_aware(datetime(nxt.year, nxt.month, 1))


def _in_region(user, region_code: str, field: str = "village_code") -> Q:
    require_scope(user, region_code)
    return region_q(user, field) & Q(**{f"{field}__range": code_range(region_code)})


def region_name(code: str) -> str:
    region = Region.objects.filter(code=code).first()
    return region.name if region else code


def monthly_report(user, region_code: str, year: int, month: int) -> MonthlyReport:
    """The monthly report of a region: coverage, grades, warnings, identifications, measures, eliminations and
    income against the line. Stocks (households, grades) are as of generation; flows count what happened in the
    month."""
    where = _in_region(user, region_code)
    start, end = month_bounds(year, month)
    figures: dict[str, Any] = {}
    sections: list[Section] = []

    households = Household.objects.filter(where, is_active=True)
    figures["households_total"] = households.count()
    by_category = dict(
        households.exclude(monitor_category="").values_list("monitor_category").annotate(n=Count("id"))
    )
    figures["monitored_total"] = sum(by_category.values())
    s = Section(
        "一、监测对象（截至报告生成时）", ("类别", "户数"), [("农户总数", figures["households_total"])]
    )
    for code, label in vocab.MONITOR_CATEGORIES.items():
        figures[f"category:{code}"] = by_category.get(code, 0)
        s.rows.append((label, by_category.get(code, 0)))
    s.rows.append(("监测对象合计", figures["monitored_total"]))
    sections.append(s)

    by_grade = dict(
        HouseholdGrade.objects.filter(where).values_list("grade").annotate(n=Count("household_id"))
    )
    s = Section("二、风险等级（最近一次筛查）", ("等级", "户数"))
    for value, label in Grade.choices:
        figures[f"grade:{value}"] = by_grade.get(value, 0)
        s.rows.append((str(label), by_grade.get(value, 0)))
    sections.append(s)

    warnings = RiskWarning.objects.filter(where)
    figures["warnings_opened"] = warnings.filter(opened_at__gte=start, opened_at__lt=end).count()
    figures["warnings_closed"] = warnings.filter(closed_at__gte=start, closed_at__lt=end).count()
    figures["warnings_open_now"] = warnings.filter(status=RiskWarning.Status.OPEN).count()
    sections.append(Section("三、风险预警", ("项目", "条数"), [
        ("本月新生成预警", figures["warnings_opened"]),
        ("本月关闭预警", figures["warnings_closed"]),
        ("当前待处置预警", figures["warnings_open_now"]),
    ]))  # fmt: skip

    identified = Case.objects.filter(
        where, kind=Case.Kind.IDENTIFICATION, state="identified", decided_at__gte=start, decided_at__lt=end
    )
    ident_by_cat = dict(identified.values_list("category").annotate(n=Count("id")))
    figures["identified"] = sum(ident_by_cat.values())
    s = Section("四、本月识别纳入", ("类别", "户数"))
    for code, label in vocab.MONITOR_CATEGORIES.items():
        figures[f"identified:{code}"] = ident_by_cat.get(code, 0)
        s.rows.append((label, ident_by_cat.get(code, 0)))
    s.rows.append(("合计", figures["identified"]))
    sections.append(s)

    measures = Measure.objects.filter(where).exclude(status=Measure.Status.CANCELLED)
    new_by_code = dict(
        measures.filter(created_at__gte=start, created_at__lt=end).values_list("code").annotate(n=Count("id"))
    )
    figures["measures_new"] = sum(new_by_code.values())
    figures["measures_delivered"] = measures.filter(completed_at__gte=start, completed_at__lt=end).count()
    s = Section("五、本月新增帮扶措施（按措施代码）", ("措施", "项数"))
    for code in sorted(new_by_code):
        figures[f"measures:{code}"] = new_by_code[code]
        s.rows.append((f"{code} {catalogue.name(code)}", new_by_code[code]))
    s.rows.append(("合计", figures["measures_new"]))
    s.rows.append(("本月落实措施", figures["measures_delivered"]))
    sections.append(s)

    elim = Elimination.objects.filter(where)
    elim_by_mode = dict(
        elim.filter(state=State.ELIMINATED, decided_at__gte=start, decided_at__lt=end)
        .values_list("mode")
        .annotate(n=Count("id"))
    )
    figures["eliminated"] = sum(elim_by_mode.values())
    figures["reversed"] = elim.filter(reversed_at__gte=start, reversed_at__lt=end).count()
    s = Section("六、本月风险消除", ("消除方式", "户数"))
    for mode in Mode:
        figures[f"eliminated:{mode.value}"] = elim_by_mode.get(mode.value, 0)
        s.rows.append((MODE_LABELS[mode], elim_by_mode.get(mode.value, 0)))
    s.rows.append(("合计", figures["eliminated"]))
    s.rows.append(("本月回退", figures["reversed"]))
    sections.append(s)

    line_row = monitoring_line_on(region_code.ljust(12, "0"), (end - timedelta(days=1)).date())
    line = line_row.amount if line_row else None
    monitored = households.exclude(monitor_category="")
    figures["line"] = line
    figures["below_line_all"] = (
        households.filter(latest_per_capita_income__lt=line).count() if line is not None else None
    )
    figures["below_line_monitored"] = (
        monitored.filter(latest_per_capita_income__lt=line).count() if line is not None else None
    )
    avg = monitored.aggregate(a=Avg("latest_per_capita_income"))["a"]
    figures["avg_income_monitored"] = round(Decimal(avg), 2) if avg is not None else None
    sections.append(Section("七、收入与监测线", ("项目", "数值"), [
        ("月末适用监测线（元/人/年）", line if line is not None else "未设定"),
        ("人均纯收入低于监测线的农户", figures["below_line_all"] if line is not None else "—"),
        ("其中监测对象", figures["below_line_monitored"] if line is not None else "—"),
        ("监测对象人均纯收入平均值（元）", figures["avg_income_monitored"] if avg is not None else "—"),
    ]))  # fmt: skip
    return MonthlyReport(
        region_code, region_name(region_code), year, month, timezone.now(), line, sections, figures
    )


# ---------------------------------------------------------------------------------------------------- ledgers


@dataclass
class Ledger:
    key: str
    title: str
    columns: list[str]
    total: int
    rows: Iterator[list[Any]]  # generated lazily, in chunks
    household_ids: set[int] = field(
        default_factory=set
    )  # filled while rows are generated (for the access log)


LEDGERS = {
    "households": "监测对象台账",
    "measures": "帮扶措施台账",
    "eliminations": "风险消除台账",
}
CHUNK = 2000
PLACE_COLUMNS = ["序号", "县（区）", "乡镇", "村", "户编号", "户主姓名", "户主证件号码"]


class _Places:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def load(self, village_codes: set[str]) -> None:
        codes = {c[:n] for c in village_codes for n in (6, 9, 12)} - set(self.names)
        if codes:
            self.names.update(Region.objects.filter(code__in=codes).values_list("code", "name"))

    def row(self, code: str) -> list[str]:
        return [
            self.names.get(code[:6], code[:6]),
            self.names.get(code[:9], code[:9]),
            self.names.get(code, code),
        ]


def _heads(household_ids: list[int]) -> dict[int, str]:
    return dict(
        Member.objects.filter(household_id__in=household_ids, relation="head", is_active=True).values_list(
            "household_id", "id_number"
        )
    )


def _risk_names(risks: str) -> str:
    return "、".join(RISK_CODES.get(c, c) for c in risks.split(";") if c)


def _chunked(qs: QuerySet, size: int = CHUNK) -> Iterator[list]:
    """Keyset paging on the primary key: constant memory on any database."""
    last = 0
    while True:
        part = list(qs.filter(pk__gt=last).order_by("pk")[:size])
        if not part:
            return
        yield part
        last = part[-1].pk


def ledger(user, key: str, region_code: str, *, unmasked: bool = False) -> Ledger:
    """One of the three ledgers of a region. ID numbers are masked unless `unmasked` (the caller checks the role
    and logs the access for every household in `Ledger.household_ids` once the rows are written)."""
    where = _in_region(user, region_code)
    show = (lambda n: n or "") if unmasked else mask_id_number
    places = _Places()
    if key == "households":
        qs = Household.objects.filter(where, is_active=True).exclude(monitor_category="")
        columns = [*PLACE_COLUMNS, "人口数", "户类型", "监测对象类别", "风险类型", "识别年月", "人均纯收入（元）",
                   "收入年度", "整户无劳动能力", "帮扶措施"]  # fmt: skip
    elif key == "measures":
        qs = Measure.objects.filter(where).select_related("household", "responsible")
        columns = [*PLACE_COLUMNS, "措施代码", "措施类别", "措施名称", "措施内容", "金额（元）", "开始日期",
                   "结束日期", "责任人", "状态", "落实时间"]  # fmt: skip
    elif key == "eliminations":
        qs = Elimination.objects.filter(where).select_related("household", "case")
        columns = [*PLACE_COLUMNS, "监测对象类别", "风险类型", "识别年月", "消除方式", "环节", "消除时间",
                   "认定当月或次月消除", "回退时间", "回退理由"]  # fmt: skip
    else:
        raise ValueError(f"unknown ledger {key!r}")
    result = Ledger(key, LEDGERS[key], columns, qs.count(), iter(()))

    def households_rows() -> Iterator[list[Any]]:
        n = 0
        for part in _chunked(qs):
            ids = [h.pk for h in part]
            places.load({h.village_code for h in part})
            heads = _heads(ids)
            cases: dict[int, Case] = {}
            for c in Case.objects.filter(
                household_id__in=ids, kind=Case.Kind.IDENTIFICATION, state="identified"
            ).order_by("decided_at", "pk"):
                cases[c.household_id] = c  # the latest identification wins
            measures: dict[int, list[str]] = {}
            for hid, code in (
                Measure.objects.filter(household_id__in=ids)
                .exclude(status=Measure.Status.CANCELLED)
                .order_by("pk")
                .values_list("household_id", "code")
            ):
                measures.setdefault(hid, []).append(catalogue.name(code))
            for h in part:
                n += 1
                result.household_ids.add(h.pk)
                case = cases.get(h.pk)
                yield [
                    n, *places.row(h.village_code), h.household_no, h.head_name, show(heads.get(h.pk)),
                    h.member_count, vocab.HOUSEHOLD_TYPES.get(h.household_type, ""),
                    vocab.MONITOR_CATEGORIES.get(h.monitor_category, ""),
                    _risk_names(case.risk_types) if case else "", case.identification_month if case else "",
                    h.latest_per_capita_income, h.latest_income_year, "是" if h.no_labour_household else "否",
                    "、".join(measures.get(h.pk, [])),
                ]  # fmt: skip

    def measure_rows() -> Iterator[list[Any]]:
        n = 0
        for part in _chunked(qs):
            places.load({m.village_code for m in part})
            heads = _heads([m.household_id for m in part])
            for m in part:
                n += 1
                result.household_ids.add(m.household_id)
                yield [
                    n, *places.row(m.village_code), m.household.household_no, m.household.head_name,
                    show(heads.get(m.household_id)), m.code, m.kind, m.name, m.description, m.amount,
                    m.start_date, m.end_date,
                    (m.responsible.get_full_name() or m.responsible.username) if m.responsible else "",
                    m.get_status_display(), timezone.localtime(m.completed_at).date() if m.completed_at else None,
                ]  # fmt: skip

    def elimination_rows() -> Iterator[list[Any]]:
        n = 0
        for part in _chunked(qs):
            places.load({e.village_code for e in part})
            heads = _heads([e.household_id for e in part])
            for e in part:
                n += 1
                result.household_ids.add(e.household_id)
                yield [
                    n, *places.row(e.village_code), e.household.household_no, e.household.head_name,
                    show(heads.get(e.household_id)), vocab.MONITOR_CATEGORIES.get(e.case.category, ""),
                    _risk_names(e.case.risk_types), e.case.identification_month, MODE_LABELS[Mode(e.mode)],
                    STATE_LABELS[State(e.state)],
                    timezone.localtime(e.decided_at).date() if e.decided_at else None,
                    "是" if e.premature else "否",
                    timezone.localtime(e.reversed_at).date() if e.reversed_at else None, e.reverse_reason,
                ]  # fmt: skip

    result.rows = {"households": households_rows, "measures": measure_rows, "eliminations": elimination_rows}[
        key
    ]()
    return result
