"""Screening parameters: every threshold of DOMAIN §2–5 is a named parameter with a default, overridable per region
(a province, city, county, township or village code prefix) and per year. The engine resolves them once per village
into a wide table `params(param_village, p_<name>…)` that every step joins, so a county may use a different
monitoring line or burden share than its province without any code knowing about it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    unit: str
    title_zh: str
    minimum: float = 0.0
    maximum: float = 1e9


PARAMETERS: tuple[Param, ...] = (
    Param("monitoring_line", 8700, "元/人/年", "防止返贫监测线（人均纯收入）", 1000, 100000),
    Param("rural_income_last_year", 14667, "元/人/年", "上年农村居民人均可支配收入", 1000, 200000),
    Param("dibao_standard", 5400, "元/人/年", "农村低保标准", 500, 100000),
    Param(
        "med_burden_share_vulnerable",
        0.5,
        "倍",
        "个人年自付超过上年人均可支配收入的比例（脱贫户、监测对象）",
        0.05,
        10,
    ),
    Param(
        "med_burden_share_other", 1.0, "倍", "个人年自付超过上年人均可支配收入的比例（一般农户）", 0.05, 10
    ),
    Param("med_stay_oop_vulnerable", 6000, "元", "单次住院个人自付（脱贫户、监测对象）", 100, 1e6),
    Param("med_stay_oop_other", 10000, "元", "单次住院个人自付（一般农户）", 100, 1e6),
    Param("med_annual_oop", 20000, "元", "家庭年度医疗个人自付", 100, 1e7),
    Param("disaster_loss_share", 0.3, "倍", "灾害损失占家庭年纯收入的比例", 0.01, 10),
    Param("disaster_loss_severe_share", 1.0, "倍", "灾害损失占家庭年纯收入的比例（严重）", 0.01, 50),
    Param("water_cut_days", 30, "天", "停水持续天数", 1, 365),
    Param("credit_overdue_days", 30, "天", "小额信贷逾期天数", 1, 3650),
    Param("income_drop_share", 0.2, "比例", "人均纯收入较上年下降比例（收入不稳）", 0.01, 1),
    Param("near_line_multiple", 1.5, "倍", "收入不稳的判断范围（监测线的倍数）", 1, 5),
    Param("rigid_dibao_multiple", 2.0, "倍", "扣除刚性支出后的收入低于低保标准的倍数", 0.5, 10),
    Param(
        "school_cost_upper", 3000, "元/人/年", "高中、中职年龄段成员的预期年教育支出（就读率 × 费用）", 0, 1e6
    ),
    Param("school_cost_college", 5000, "元/人/年", "大学年龄段成员的预期年教育支出（就读率 × 费用）", 0, 1e6),
    Param(
        "thin_margin_multiple", 1.0, "倍", "重大冲击叠加收入余量过薄的判断范围（预估人均收入 ÷ 监测线）", 1, 5
    ),
    Param("grade_red", 35, "分", "红色预警分值线", 1, 100),
    Param("grade_yellow", 25, "分", "黄色预警分值线", 1, 100),
)
PARAM_NAMES = tuple(p.name for p in PARAMETERS)


@dataclass(frozen=True)
class Override:
    """A regional value: applies to every village whose code starts with `region_prefix` ("" = everywhere), for
    `year` (None = every year). The most specific prefix wins, then a year-specific value over a general one."""

    name: str
    region_prefix: str
    value: float
    year: int | None = None


def param(name: str) -> Param:
    try:
        return next(p for p in PARAMETERS if p.name == name)
    except StopIteration:
        raise KeyError(f"unknown screening parameter {name!r}") from None


def validate_override(override: Override, known: Iterable[str] = ()) -> None:
    """Raise ValueError with a readable message when an override is out of range or names nothing."""
    names = set(PARAM_NAMES) | set(known)
    if override.name not in names:
        raise ValueError(f"未知参数 {override.name}")
    if override.region_prefix and not (
        override.region_prefix.isdigit() and len(override.region_prefix) in (2, 4, 6, 9, 12)
    ):
        raise ValueError(f"区划代码前缀 {override.region_prefix!r} 应为 2/4/6/9/12 位数字")
    if override.name.startswith("w_") and not 0 <= override.value <= 1000:
        raise ValueError(f"指标权重 {override.name} 的取值 {override.value} 应在 0 到 1000 之间")
    if override.name in PARAM_NAMES:
        p = param(override.name)
        if not p.minimum <= override.value <= p.maximum:
            raise ValueError(f"参数 {p.title_zh} 的取值 {override.value} 超出范围 [{p.minimum}, {p.maximum}]")


def resolve(
    villages: Iterable[str],
    overrides: Iterable[Override],
    year: int,
    defaults: dict[str, float] | None = None,
) -> pa.Table:
    """One row per village with a `p_<name>` column per parameter (and per extra default, e.g. weights).

    The most specific override wins: the longest region prefix, then one for `year` over one for every year, then
    the first given. Each village looks up its own prefixes (one per length in use), so the cost is villages ×
    lengths, not villages × overrides: every village's monitoring line is an override of its own (a province:
    hundreds of thousands of each)."""
    values = {p.name: float(p.default) for p in PARAMETERS}
    values.update(defaults or {})
    by_prefix: dict[str, dict[str, tuple[float, bool]]] = {}  # name → prefix → (value, for this year)
    for o in overrides:
        if o.year is not None and o.year != year:
            continue
        bucket = by_prefix.setdefault(o.name, {})
        held = bucket.get(o.region_prefix)
        if held is None or (o.year is not None and not held[1]):
            bucket[o.region_prefix] = (float(o.value), o.year is not None)
    codes = sorted(set(villages))
    columns: dict[str, list] = {"param_village": codes}
    for name, default in values.items():
        stored = by_prefix.get(name)
        if not stored:
            columns[f"p_{name}"] = [default] * len(codes)
            continue
        lengths = sorted({len(prefix) for prefix in stored}, reverse=True)
        col = []
        for code in codes:
            found = next((stored[code[:n]] for n in lengths if len(code) >= n and code[:n] in stored), None)
            col.append(default if found is None else found[0])
        columns[f"p_{name}"] = col
    return pa.table(columns)
