"""Department records (INTERCHANGE §3) generated from the shocks plus routine background records, with the lags and
noise departments really have: ~20 % of rows without an ID number, homophone typos in names, Excel-damaged IDs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .names import typo
from .population import Population
from .shocks import Event, month_start

PERSON = ["证件号码", "姓名", "出生日期", "性别", "行政区划代码"]
FEEDS: dict[str, list[str]] = {
    "medical_settlement": [
        "结算日期",
        "医疗机构",
        "医疗总费用",
        "基本医保支付",
        "大病保险支付",
        "医疗救助支付",
        "个人自付",
    ],
    "illness_diagnosis": ["确诊日期", "疾病名称", "病种类别"],
    "civil_assistance": ["起始日期", "救助类型", "救助金额", "终止日期"],
    "death_registration": ["死亡日期"],
    "disability_certificate": ["发证日期", "残疾类别", "残疾等级"],
    "school_status": ["报告日期", "学校", "学段", "学籍状态"],
    "housing_appraisal": ["鉴定日期", "鉴定等级", "原因"],
    "water_incident": ["报告日期", "问题类型", "持续天数"],
    "disaster_loss": ["灾害日期", "灾种", "直接经济损失"],
    "employment_change": ["变动日期", "变动类型", "月工资"],
    "accident": ["事故日期", "伤情"],
    "microcredit": ["到期日", "逾期天数", "贷款余额"],
}
HOSPITALS = ["威宁县人民医院", "威宁县中医院", "毕节市第一人民医院", "贵州医科大学附属医院", "乡镇卫生院"]
SERIOUS = ["恶性肿瘤", "尿毒症", "脑梗死", "白血病", "重症肺炎"]
CHRONIC = ["高血压", "糖尿病", "慢性阻塞性肺疾病", "类风湿关节炎", "冠心病"]
MISSING_ID = 0.20
TYPO = 0.03
DAMAGED = 0.006


class FeedWriter:
    """Collects rows per feed; `person_row` fills the person columns with realistic noise and records the truth."""

    def __init__(self, pop: Population, rng: np.random.Generator) -> None:
        self.pop, self.rng = pop, rng
        self.rows: dict[str, list[list[str]]] = {key: [] for key in FEEDS}
        self.truth: list[tuple[str, int, str, str]] = []  # feed, file row, id_number, household_no

    def add(self, feed: str, person: int | None, own: list[object], village: int | None = None) -> None:
        pop, rng = self.pop, self.rng
        if person is None:  # village-level row (water incidents)
            code = pop.villages[village or 0][0]
            self.rows[feed].append(["", "", "", "", code, *map(_s, own)])
            self.truth.append((feed, len(self.rows[feed]) + 1, "", f"village:{code}"))
            return
        idn = str(pop.id_number[person])
        name = str(pop.name[person])
        shown_id = idn
        r = rng.random()
        if r < MISSING_ID:
            shown_id = ""
        elif r < MISSING_ID + DAMAGED:
            shown_id = f"{float(idn[:17] + '0'):.14E}"
        if rng.random() < TYPO:
            name = typo(name, rng)
        birth = str(pop.birth[person])
        sex = "男" if pop.male[person] else "女"
        village_code = pop.villages[pop.village[pop.hh[person]]][0]
        self.rows[feed].append([shown_id, name, birth, sex, village_code, *map(_s, own)])
        self.truth.append((feed, len(self.rows[feed]) + 1, idn, str(pop.household_no[pop.hh[person]])))


def _s(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _lag(day: date, rng: np.random.Generator, low: int, high: int) -> date:
    return day + timedelta(days=int(rng.integers(low, high)))


def build_feeds(
    pop: Population,
    events: list[Event],
    dibao: np.ndarray,
    rng: np.random.Generator,
    start: date,
    months: int,
) -> FeedWriter:
    w = FeedWriter(pop, rng)
    head_index = np.cumsum(pop.size) - pop.size
    end = month_start(start, months)
    for e in events:
        p = e.person
        if e.kind == "illness":
            disease = str(rng.choice(SERIOUS if e.details["serious"] else CHRONIC))
            w.add(
                "illness_diagnosis",
                p,
                [_lag(e.day, rng, 0, 20), disease, "大病" if e.details["serious"] else "慢病"],
            )
            for k in range(int(rng.integers(1, 4))):
                total = e.rigid / 0.35 / (k + 1.5)
                fund, critical = total * 0.5, total * 0.12 if e.details["serious"] else 0.0
                assistance = total * 0.05 if dibao[e.household] else 0.0
                oop = total - fund - critical - assistance
                w.add(
                    "medical_settlement",
                    p,
                    [
                        _lag(e.day, rng, 5 + 30 * k, 40 + 30 * k),
                        str(rng.choice(HOSPITALS)),
                        total,
                        fund,
                        critical,
                        assistance,
                        oop,
                    ],
                )
        elif e.kind == "disability":
            w.add(
                "disability_certificate",
                p,
                [
                    _lag(e.day, rng, 30, 120),
                    str(rng.choice(["肢体", "视力", "听力", "精神"])),
                    e.details["grade"],
                ],
            )
        elif e.kind == "accident":
            w.add("accident", p, [e.day, e.details["injury"]])
            if e.details["injury"] == "死亡":
                w.add("death_registration", p, [e.day])
        elif e.kind == "death":
            w.add("death_registration", p, [_lag(e.day, rng, 0, 30)])
        elif e.kind == "job_loss":
            w.add("employment_change", p, [_lag(e.day, rng, 10, 60), e.details["change"], ""])
        elif e.kind == "business_failure":
            w.add("microcredit", p, [e.day, int(rng.integers(31, 200)), e.details["balance"]])
        elif e.kind == "disaster":
            w.add("disaster_loss", p, [_lag(e.day, rng, 3, 30), e.details["disaster_type"], e.income_loss])
            if e.risk == "0202" and rng.random() < 0.2:
                w.add(
                    "housing_appraisal",
                    p,
                    [_lag(e.day, rng, 10, 60), str(rng.choice(["C", "D"])), "地质灾害"],
                )
        elif e.kind == "dropout":
            w.add(
                "school_status",
                p,
                [
                    _lag(e.day, rng, 15, 60),
                    "威宁县某中学" if e.details["stage"] == "初中" else "村小学",
                    e.details["stage"],
                    "辍学",
                ],
            )
        elif e.kind == "schooling" and rng.random() < 0.5:
            w.add(
                "school_status",
                p,
                [
                    _lag(e.day, rng, 5, 40),
                    "威宁县第一中学" if e.details["stage"] == "高中" else "贵州大学",
                    e.details["stage"],
                    "在读",
                ],
            )
    # Background: routine medical settlements, ongoing 低保, housing checks, water incidents, normal new jobs.
    n = len(pop.hh)
    span = (end - start).days
    for i in np.where(rng.random(n) < 0.12 * months / 12)[0]:
        total = float(rng.lognormal(7.3, 0.8))
        day = start + timedelta(days=int(rng.integers(0, span)))
        w.add(
            "medical_settlement",
            int(i),
            [day, str(rng.choice(HOSPITALS)), total, total * 0.6, 0.0, 0.0, total * 0.4],
        )
    for h in np.where(dibao)[0]:
        w.add(
            "civil_assistance",
            int(head_index[h]),
            [start - timedelta(days=int(rng.integers(30, 900))), "低保", float(pop.size[h] * 425 * 12), ""],
        )
    for h in np.where(rng.random(pop.households) < 0.01)[0]:
        w.add(
            "civil_assistance",
            int(head_index[h]),
            [
                start + timedelta(days=int(rng.integers(0, span))),
                "临时救助",
                float(rng.integers(500, 3000)),
                "",
            ],
        )
    for h in np.where(rng.random(pop.households) < 0.02)[0]:
        grade = str(rng.choice(["A", "B", "C", "D"], p=[0.5, 0.35, 0.12, 0.03]))
        w.add(
            "housing_appraisal",
            int(head_index[h]),
            [start + timedelta(days=int(rng.integers(0, span))), grade, "年度排查"],
        )
    for v in np.where(rng.random(len(pop.villages)) < 0.05 * months / 12)[0]:
        problem = str(rng.choice(["停水", "水质不达标", "取水距离远"]))
        w.add(
            "water_incident",
            None,
            [start + timedelta(days=int(rng.integers(0, span))), problem, int(rng.integers(3, 60))],
            village=int(v),
        )
    migrants = np.where((pop.migrant != "none") & (rng.random(n) < 0.03))[0]
    for i in migrants:
        w.add(
            "employment_change",
            int(i),
            [start + timedelta(days=int(rng.integers(0, span))), "就业", float(rng.integers(2800, 7000))],
        )
    for h in np.where(rng.random(pop.households) < 0.04)[0]:
        w.add(
            "microcredit",
            int(head_index[h]),
            [start + timedelta(days=int(rng.integers(0, span))), 0, float(rng.integers(10000, 50000))],
        )
    return w
