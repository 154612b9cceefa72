"""The registry (§1), the yearly income files (§2) and the ground-truth tables, written from a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .codes import EDU_LABELS, HEALTH_LABELS, LAB_LABELS, MIG_LABELS, REL_LABELS, SEX, STU_LABELS, YES_NO
from .model import Run
from .timeline import BUSINESS, CLAIM, COST, KINDS, OOP, PROPERTY, RISKS, TRANSFER, WAGE
from .writer import Column, array_column, constant_column, labels_column, write_csv

REGISTRY_HEADERS = [
    "户编号",
    "行政区划代码",
    "户类型",
    "监测对象类别",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "文化程度",
    "在校生状况",
    "健康状况",
    "残疾等级",
    "劳动技能",
    "务工状况",
    "务工时间(月)",
    "是否参加城乡居民基本医疗保险",
    "联系电话",
]
INCOME_HEADERS = [
    "户编号",
    "年度",
    "工资性收入",
    "生产经营性收入",
    "财产性收入",
    "转移性收入",
    "生产经营性支出",
    "理赔收入",
    "合规自付支出",
    "住房出现安全问题",
    "义务教育阶段失学辍学",
    "饮水出现安全问题",
    "有家庭成员未参加基本医疗保险",
]
OUTCOME_HEADERS = [
    "household_no",
    "village_code",
    "household_type",
    "monitored_at_start",
    "size",
    "start_per_capita",
    "already_below_line",
    "already_hardship",
    "falls",
    "first_month",
    "below_line_month",
    "hardship_month",
    "min_per_capita",
    "end_per_capita",
    "risk_types",
    "three_guarantees_problem_year",
]
EVENT_HEADERS = [
    "event",
    "kind",
    "household_no",
    "id_number",
    "month",
    "date",
    "risk_type",
    "amount",
    "detail",
]
HOUSEHOLD_TYPES = np.array(["一般农户", "脱贫户"], dtype=object)


def _by_household(values: np.ndarray, hh: np.ndarray) -> Column:
    return lambda part: values[hh[part]]


def write_registry(r: Run, out: Path) -> int:
    pop = r.pop
    hh = pop.hh
    grade = np.where(pop.disability_grade > 0, pop.disability_grade.astype(str), "").astype(object)
    columns: list[Column] = [
        _by_household(pop.household_no, hh),
        _by_household(pop.village_code, hh),
        lambda part: HOUSEHOLD_TYPES[pop.former_poor[hh[part]].astype(np.int64)],
        _by_household(r.truth.category, hh),
        array_column(pop.name),
        array_column(pop.id_number),
        labels_column(REL_LABELS, pop.relation),
        labels_column(SEX, pop.male.astype(np.int64)),
        array_column(pop.birth),
        labels_column(EDU_LABELS, pop.education),
        labels_column(STU_LABELS, pop.student),
        labels_column(HEALTH_LABELS, pop.health),
        array_column(grade),
        labels_column(LAB_LABELS, pop.labour),
        labels_column(MIG_LABELS, pop.migrant),
        array_column(pop.work_months),
        labels_column(YES_NO, pop.insured.astype(np.int64)),
        _by_household(pop.phone, hh),
    ]
    return write_csv(out / "registry.csv", REGISTRY_HEADERS, columns, pop.members)


def uninsured(r: Run) -> np.ndarray:
    return np.bincount(r.pop.hh, weights=~r.pop.insured, minlength=r.pop.households) > 0


def write_income(r: Run, out: Path) -> dict[str, int]:
    pop = r.pop
    missing_insurance = uninsured(r)
    counts = {}
    for i, year in enumerate(r.tl.years):
        y = r.yearly[:, i, :]
        money = [
            np.round(np.maximum(y[:, c], 0), 2)
            for c in (WAGE, BUSINESS, PROPERTY, TRANSFER, COST, CLAIM, OOP)
        ]
        flags = [
            r.flags["housing"][:, i],
            r.flags["dropout"][:, i],
            r.flags["water"][:, i],
            missing_insurance,
        ]
        columns = [array_column(pop.household_no), constant_column(str(year))]
        columns += [array_column(m) for m in money]
        columns += [labels_column(YES_NO, f.astype(np.int64)) for f in flags]
        name = f"income_{year}.csv"
        counts[name] = write_csv(out / name, INCOME_HEADERS, columns, pop.households)
    return counts


def month_text(r: Run, month: np.ndarray) -> np.ndarray:
    years = r.tl.base_year + month // 12
    text = np.char.add(np.char.add(years.astype(str), "-"), np.char.zfill((month % 12 + 1).astype(str), 2))
    return np.where(month >= 0, text, "").astype(object)


def write_truth(r: Run, out: Path) -> None:
    pop, t = r.pop, r.truth
    problem = r.flags["housing"] | r.flags["dropout"] | r.flags["water"]
    years = np.array(r.tl.years)
    first_problem = np.where(problem.any(axis=1), years[problem.argmax(axis=1)].astype(str), "").astype(
        object
    )
    values = [
        pop.household_no,
        pop.village_code,
        HOUSEHOLD_TYPES[pop.former_poor.astype(np.int64)],
        t.category,
        pop.size,
        np.round(t.start_pc, 2),
        t.already_below.astype(np.int64),
        t.already_hardship.astype(np.int64),
        t.falls.astype(np.int64),
        month_text(r, t.falls_month),
        month_text(r, t.below_month),
        month_text(r, t.hardship_month),
        np.round(t.min_pc, 2),
        np.round(t.end_pc, 2),
        t.drivers,
        first_problem,
    ]
    write_csv(
        out / "truth" / "outcomes.csv", OUTCOME_HEADERS, [array_column(v) for v in values], pop.households
    )
    ev = r.events
    ids = np.where(ev.person >= 0, pop.id_number[np.maximum(ev.person, 0)], "").astype(object)
    values = [
        np.arange(1, len(ev) + 1),
        np.array(KINDS, dtype=object)[ev.kind],
        pop.household_no[ev.household],
        ids,
        month_text(r, ev.month),
        ev.day,
        np.array(RISKS, dtype=object)[ev.risk],
        np.round(ev.amount, 2),
        ev.detail,
    ]
    write_csv(out / "truth" / "events.csv", EVENT_HEADERS, [array_column(v) for v in values], len(ev))
