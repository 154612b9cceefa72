"""Risk-elimination eligibility (DOMAIN §8) as a pure function over a snapshot: no Django, no database.

`check(snapshot)` returns whether the household may be proposed for elimination and, rule by rule, why (Chinese
reasons shown to cadres). The services build the snapshot from the registry, the monitoring line in force, the
household's measures and its open warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

CONDITION_LABELS = {
    "housing_unsafe": "住房安全",
    "dropout": "义务教育",
    "uninsured_member": "基本医疗保险",
    "water_unsafe": "饮水安全",
}


@dataclass(frozen=True)
class Snapshot:
    today: date
    identified_on: date
    min_months: int = 6
    delivered_measures: int = 0
    income_year: int | None = None
    per_capita_income: Decimal | None = None
    per_capita_adjusted_income: Decimal | None = None
    monitoring_line: Decimal | None = None
    net_income: Decimal | None = None
    rigid_expenditure: Decimal | None = (
        None  # compliant out-of-pocket (medical, schooling …) of the income year
    )
    conditions: dict[str, bool | None] = field(
        default_factory=dict
    )  # CONDITION_LABELS keys → problem present
    open_warning_risks: tuple[
        str, ...
    ] = ()  # risk types of an open screening warning (a new or lasting risk)
    no_labour_household: bool = False
    on_safety_net: bool = False

    def as_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Rule:
    key: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Result:
    eligible: bool
    rules: tuple[Rule, ...]

    @property
    def reasons(self) -> list[str]:
        """Why not (empty when eligible)."""
        return [r.message for r in self.rules if not r.ok]

    def as_json(self) -> dict:
        return {"eligible": self.eligible, "rules": [asdict(r) for r in self.rules]}


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of the month when it has no such day)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def months_between(start: date, end: date) -> int:
    """Calendar months from `start` to `end` (1 = the next month)."""
    return (end.year - start.year) * 12 + end.month - start.month


def premature(identified_on: date, eliminated_on: date) -> bool:
    """Elimination in the same or the next month after identification: flagged as an error (DOMAIN §8)."""
    return months_between(identified_on, eliminated_on) <= 1


def _money(v: Decimal | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def check(s: Snapshot) -> Result:
    rules: list[Rule] = []
    ready = add_months(s.identified_on, s.min_months)
    ok = s.today >= ready
    rules.append(Rule("months", ok, f"认定已满 {s.min_months} 个月" if ok
                      else f"认定未满 {s.min_months} 个月（{ready:%Y-%m-%d} 后方可消除）"))  # fmt: skip
    ok = s.delivered_measures >= 1
    rules.append(Rule("measures", ok, f"已落实帮扶措施 {s.delivered_measures} 项" if ok
                      else "尚无已落实（完成）的帮扶措施"))  # fmt: skip
    if s.monitoring_line is None:
        rules.append(Rule("income", False, "未设定本年度监测线，无法判断收入"))
    elif s.per_capita_income is None:
        rules.append(Rule("income", False, "无收入数据，请先采集本年度收入"))
    elif s.income_year is not None and s.income_year < s.today.year - 1:
        rules.append(Rule("income", False, f"收入数据为 {s.income_year} 年，已过期，请更新"))
    else:
        figures = [s.per_capita_income] + ([s.per_capita_adjusted_income]
                                           if s.per_capita_adjusted_income is not None else [])  # fmt: skip
        low = min(figures)
        ok = low >= s.monitoring_line
        rules.append(Rule("income", ok, (f"人均纯收入 {_money(s.per_capita_income)} 元（扣除合规自付后 "
                                         f"{_money(low)} 元）{'稳定高于' if ok else '未稳定高于'}本年度监测线 "
                                         f"{_money(s.monitoring_line)} 元")))  # fmt: skip
    if s.rigid_expenditure is None or s.rigid_expenditure == 0:
        rules.append(Rule("rigid", True, "无大额刚性支出"))
    else:
        ok = s.net_income is not None and s.rigid_expenditure <= s.net_income
        rules.append(Rule("rigid", ok, f"刚性支出 {_money(s.rigid_expenditure)} 元{'已' if ok else '未'}化解"
                          f"（家庭纯收入 {_money(s.net_income)} 元）"))  # fmt: skip
    for key, label in CONDITION_LABELS.items():
        value = s.conditions.get(key)
        if value is None:
            rules.append(Rule(key, False, f"{label}情况未核实"))
        else:
            rules.append(Rule(key, not value, f"{label}{'有保障' if not value else '存在问题'}"))
    ok = not s.open_warning_risks
    rules.append(Rule("risk", ok, "无新增或未消除的风险预警" if ok
                      else f"仍有未关闭的风险预警（风险类型 {'、'.join(s.open_warning_risks) or '未分类'}）"))  # fmt: skip
    if s.no_labour_household and s.on_safety_net:
        rules.append(Rule("safety_net", False, "整户无劳动能力且依靠兜底保障：暂不标注风险消除"))
    return Result(all(r.ok for r in rules), tuple(rules))
