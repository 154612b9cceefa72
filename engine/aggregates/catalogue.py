"""The dashboard's base metrics and the indicator catalogue (DOMAIN §10), each defined once. Pure data.

Base metrics are additive counts or sums per region and month (`period` = "YYYY-MM"); they are what the aggregate
table stores for every village and, rolled up by code prefix, for every township, county, city and province. A
*stock* metric is a snapshot of the current state taken in its month (households by grade, coverage); a *flow*
metric counts what happened in its month (warnings opened, cases decided, eliminations).

Indicators are the ratios and averages shown on dashboards and used by the composite evaluation: every indicator
is `scale × numerator / denominator` of base metrics of one region and period (denominator None: the numerator
itself), with a direction (higher or lower is better) and a unit. Because numerator and denominator are additive,
an indicator of a county equals the same formula over its households, never an average of village ratios.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STOCK = "stock"
FLOW = "flow"

HIGHER = "higher"  # higher is better
LOWER = "lower"  # lower is better

GRADES = ("red", "yellow", "green")
CATEGORIES = ("unstable_former_poor", "marginal", "sudden_hardship")
# DOMAIN §7 risk codes; the disaster sub-codes 02xx count under 02.
RISK_TYPES = ("01", "02", "03", "04", "05", "06", "07", "09", "99")
RISK_TITLES = {
    "01": "因病",
    "02": "因自然灾害",
    "03": "因残",
    "04": "缺劳动力",
    "05": "因意外事故",
    "06": "因产业(项目)失败",
    "07": "因务工就业不稳",
    "09": "因学",
    "99": "其他",
}


@dataclass(frozen=True)
class Metric:
    code: str
    kind: str  # STOCK or FLOW
    title_zh: str
    title_en: str


def _stock(code: str, zh: str, en: str) -> Metric:
    return Metric(code, STOCK, zh, en)


def _flow(code: str, zh: str, en: str) -> Metric:
    return Metric(code, FLOW, zh, en)


METRICS: tuple[Metric, ...] = (
    # Coverage (stock)
    _stock("hh_total", "农户数", "rural households"),
    _stock("hh_former_poor", "脱贫户数", "formerly poor households"),
    _stock("hh_monitored", "监测对象户数", "monitored households"),
    *(
        _stock(f"hh_cat_{c}", t, c.replace("_", " "))
        for c, t in zip(CATEGORIES, ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"), strict=True)
    ),
    *(
        _stock(f"hh_grade_{g}", t, f"{g} grade")
        for g, t in zip(GRADES, ("红色", "黄色", "绿色"), strict=True)
    ),
    *(_stock(f"hh_risk_{r}", RISK_TITLES[r], f"risk {r}") for r in RISK_TYPES),
    # 应扶尽扶 (stock)
    _stock("mon_with_measure", "有帮扶措施的监测户", "monitored with ≥ 1 measure"),
    _stock("mon_labour", "有劳动能力的监测户", "labour-capable monitored"),
    _stock("mon_labour_dev", "有开发式措施的有劳动能力监测户", "labour-capable with a development measure"),
    _stock("mon_nolabour", "无劳动能力的监测户", "monitored without labour"),
    _stock("mon_nolabour_safety", "纳入低保特困的无劳动能力监测户", "no-labour under 低保/特困"),
    _stock("mon_labour_over_year", "有劳动能力且识别满一年未消除", "labour-capable not cleared after a year"),
    _stock("hh_eliminated", "曾风险消除的农户", "households ever eliminated"),
    # Income (stock; per-capita net income of the latest year)
    _stock("inc_all_n", "有收入数据的农户", "households with income"),
    _stock("inc_all_sum", "农户人均纯收入合计", "sum of per-capita income, all"),
    _stock("inc_fp_n", "有收入数据的脱贫户", "former-poor with income"),
    _stock("inc_fp_sum", "脱贫户人均纯收入合计", "sum of per-capita income, former-poor"),
    _stock("inc_fp_line_sum", "脱贫户对应监测线合计", "sum of the line, former-poor"),
    _stock("inc_mon_n", "有收入数据的监测户", "monitored with income"),
    _stock("inc_mon_sum", "监测户人均纯收入合计", "sum of per-capita income, monitored"),
    _stock("inc_mon_line_sum", "监测户对应监测线合计", "sum of the line, monitored"),
    _stock("inc_mon_below_line", "人均纯收入低于监测线的监测户", "monitored below the line"),
    # Timeliness at the snapshot (stock)
    _stock("case_open", "办理中的识别案件", "open identification cases"),
    _stock("case_overdue", "超时未认定的识别案件", "identification cases past the decision limit"),
    _stock("warn_open", "待处置预警", "open warnings"),
    _stock("warn_onsite_overdue", "超时未入户的预警", "open warnings past the on-site limit"),
    # Data quality (stock)
    _stock("dq_invalid_id", "身份证号无效的成员所在户", "households with an invalid ID number"),
    _stock("dq_missing_income", "缺少上年度收入的农户", "households without last year's income"),
    _stock("dq_findings", "有未消除疑点数据的农户", "households with an open data-quality finding"),
    _stock("dq_failures", "疑点数据（户）", "data-quality failures (households)"),
    # Warnings (flow)
    _flow("warn_opened", "新增预警", "warnings opened"),
    _flow("warn_closed", "关闭预警", "warnings closed"),
    _flow("warn_converted", "预警转为认定", "warnings converted to identifications"),
    _flow("warn_onsite_n", "预警入户核实数", "warnings checked on site"),
    _flow("warn_onsite_hours_sum", "预警到入户小时合计", "warning → on-site hours, sum"),
    _flow("warn_onsite_late", "超时入户的预警", "warnings checked on site late"),
    # Identification (flow)
    _flow("id_identified", "识别认定户数", "households identified"),
    _flow("id_rejected", "不予纳入", "clues rejected"),
    _flow("id_days_sum", "线索到认定天数合计", "clue → decision days, sum"),
    _flow("id_late", "超时认定", "decisions after the limit"),
    _flow("id_returned", "消除后返贫再认定", "re-identified after elimination"),
    # Elimination (flow)
    _flow("elim_assisted", "帮扶消除", "eliminated through assistance"),
    _flow("elim_natural", "自然消除", "eliminated naturally"),
    _flow("elim_premature", "认定当月或次月消除", "premature eliminations"),
    _flow("elim_months_sum", "认定到消除月数合计", "identification → elimination months, sum"),
    _flow("elim_reversed", "消除回退", "eliminations reversed"),
)
METRIC_BY_CODE = {m.code: m for m in METRICS}
STOCK_CODES = tuple(m.code for m in METRICS if m.kind == STOCK)
FLOW_CODES = tuple(m.code for m in METRICS if m.kind == FLOW)


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    title_zh: str
    title_en: str
    formula: str  # how it is computed, in words (shown in the catalogue)
    numerator: tuple[str, ...]  # base metrics summed
    denominator: tuple[str, ...] | None  # base metrics summed; None: the numerator itself
    direction: str  # HIGHER or LOWER is better
    unit: str
    scale: float = 1.0
    default_weight: float = 0.0  # weight in the composite evaluation until a province sets its own

    def value(self, metrics: Mapping[str, float]) -> float | None:
        num = sum(metrics.get(c, 0.0) for c in self.numerator)
        if self.denominator is None:
            return num * self.scale
        den = sum(metrics.get(c, 0.0) for c in self.denominator)
        if not den:
            return None
        return self.scale * num / den


GROUPS = {
    "coverage": ("覆盖", "coverage"),
    "timeliness": ("及时性", "timeliness"),
    "inclusion": ("应纳尽纳", "inclusion"),
    "assistance": ("应扶尽扶", "assistance"),
    "exit": ("应退尽退", "exit"),
    "outcome": ("成效", "outcome"),
    "quality": ("数据质量", "data quality"),
}

_BOTH = ("elim_assisted", "elim_natural")

INDICATORS: tuple[Indicator, ...] = (
    Indicator("monitored_share", "coverage", "监测对象占比", "monitored share of households",
              "监测对象户数 ÷ 农户数 × 100", ("hh_monitored",), ("hh_total",), HIGHER, "%", 100),
    Indicator("red_share", "coverage", "红色预警户占比", "red-grade share",
              "红色户数 ÷ 农户数 × 100", ("hh_grade_red",), ("hh_total",), LOWER, "%", 100),
    Indicator("decision_days", "timeliness", "线索到认定平均天数", "clue → decision, mean days",
              "Σ(认定时间 − 线索接收时间) ÷ 本月认定户数", ("id_days_sum",), ("id_identified",), LOWER, "天",
              default_weight=1),
    Indicator("decision_on_time", "timeliness", "按时认定率", "decisions on time",
              "(本月认定 − 超时认定) ÷ 本月认定 × 100", ("id_identified",), ("id_identified",), HIGHER, "%", 100),
    Indicator("onsite_hours", "timeliness", "预警到入户平均小时", "warning → on site, mean hours",
              "Σ(入户核实时间 − 预警定级时间) ÷ 入户核实的预警数", ("warn_onsite_hours_sum",), ("warn_onsite_n",),
              LOWER, "小时", default_weight=1),
    Indicator("overdue_cases", "timeliness", "超时未认定案件", "cases past the decision limit",
              "办理中且已过认定时限的识别案件数", ("case_overdue",), None, LOWER, "件"),
    Indicator("overdue_warnings", "timeliness", "超时未入户预警", "warnings past the on-site limit",
              "待处置且已过入户时限、尚未入户核实的预警数", ("warn_onsite_overdue",), None, LOWER, "条"),
    Indicator("warning_conversion", "inclusion", "预警转认定率", "warnings converted",
              "本月由预警转为认定的户数 ÷ 本月关闭的预警数 × 100", ("warn_converted",), ("warn_closed",),
              HIGHER, "%", 100),
    Indicator("measure_coverage", "assistance", "监测户措施覆盖率", "monitored with ≥ 1 measure",
              "有 ≥ 1 项未取消措施的监测户 ÷ 监测户 × 100", ("mon_with_measure",), ("hh_monitored",), HIGHER, "%",
              100, default_weight=2),
    Indicator("development_coverage", "assistance", "有劳动能力户开发式帮扶率",
              "labour-capable with a development measure",
              "有产业或就业措施的有劳动能力监测户 ÷ 有劳动能力监测户 × 100", ("mon_labour_dev",), ("mon_labour",),
              HIGHER, "%", 100, default_weight=2),
    Indicator("safety_net_coverage", "assistance", "无劳动能力户兜底保障率", "no-labour under 低保/特困",
              "有综合保障措施的无劳动能力监测户 ÷ 无劳动能力监测户 × 100", ("mon_nolabour_safety",),
              ("mon_nolabour",), HIGHER, "%", 100, default_weight=1),
    Indicator("eliminations", "exit", "风险消除户数", "eliminations",
              "本月帮扶消除 + 自然消除（未回退）", _BOTH, None, HIGHER, "户"),
    Indicator("assisted_share", "exit", "帮扶消除占比", "assisted share of eliminations",
              "帮扶消除 ÷ 风险消除 × 100", ("elim_assisted",), _BOTH, HIGHER, "%", 100),
    Indicator("months_to_elimination", "exit", "认定到消除平均月数", "identification → elimination, months",
              "Σ 认定到消除月数 ÷ 风险消除户数", ("elim_months_sum",), _BOTH, LOWER, "月"),
    Indicator("premature_share", "exit", "过早消除占比", "premature eliminations",
              "认定当月或次月消除 ÷ 风险消除 × 100", ("elim_premature",), _BOTH, LOWER, "%", 100,
              default_weight=1),
    Indicator("labour_not_cleared", "exit", "有劳动能力满一年未消除占比", "labour-capable not cleared > 1 year",
              "有劳动能力且识别满一年仍为监测对象 ÷ 有劳动能力监测户 × 100", ("mon_labour_over_year",),
              ("mon_labour",), LOWER, "%", 100, default_weight=1),
    Indicator("return_rate", "outcome", "消除后返贫率", "return to risk after elimination",
              "本月消除后再认定户数 ÷ 曾风险消除户数 × 100（目标 ≤ 0.3%）", ("id_returned",), ("hh_eliminated",),
              LOWER, "%", 100, default_weight=2),
    Indicator("income_monitored", "outcome", "监测户人均纯收入", "monitored per-capita income",
              "监测户人均纯收入合计 ÷ 有收入数据的监测户", ("inc_mon_sum",), ("inc_mon_n",), HIGHER, "元"),
    Indicator("income_former_poor", "outcome", "脱贫户人均纯收入", "former-poor per-capita income",
              "脱贫户人均纯收入合计 ÷ 有收入数据的脱贫户", ("inc_fp_sum",), ("inc_fp_n",), HIGHER, "元"),
    Indicator("income_rural", "outcome", "农户人均纯收入", "rural per-capita income",
              "农户人均纯收入合计 ÷ 有收入数据的农户", ("inc_all_sum",), ("inc_all_n",), HIGHER, "元"),
    Indicator("monitored_vs_line", "outcome", "监测户收入与监测线之比", "monitored income ÷ line",
              "Σ 监测户人均纯收入 ÷ Σ 各户适用的监测线 × 100", ("inc_mon_sum",), ("inc_mon_line_sum",), HIGHER,
              "%", 100, default_weight=1),
    Indicator("former_poor_vs_line", "outcome", "脱贫户收入与监测线之比", "former-poor income ÷ line",
              "Σ 脱贫户人均纯收入 ÷ Σ 各户适用的监测线 × 100", ("inc_fp_sum",), ("inc_fp_line_sum",), HIGHER,
              "%", 100),
    Indicator("below_line_share", "outcome", "收入低于监测线的监测户占比", "monitored below the line",
              "人均纯收入低于监测线的监测户 ÷ 有收入数据的监测户 × 100", ("inc_mon_below_line",), ("inc_mon_n",),
              LOWER, "%", 100, default_weight=1),
    Indicator("data_quality", "quality", "疑点数据占比", "data-quality failures",
              "有疑点数据的农户 ÷ 农户数 × 100", ("dq_failures",), ("hh_total",), LOWER, "%", 100,
              default_weight=1),
)  # fmt: skip
INDICATOR_BY_CODE = {i.code: i for i in INDICATORS}


def _on_time(metrics: Mapping[str, float]) -> float | None:
    n = metrics.get("id_identified", 0.0)
    return None if not n else 100.0 * (n - metrics.get("id_late", 0.0)) / n


def indicator_value(code: str, metrics: Mapping[str, float]) -> float | None:
    """The value of one indicator from one region-period's base metrics (None: no denominator)."""
    if code == "decision_on_time":  # the one difference of two metrics
        return _on_time(metrics)
    return INDICATOR_BY_CODE[code].value(metrics)


def ratio_of_rural(metrics: Mapping[str, float], group: str) -> float | None:
    """Mean per-capita income of a group ('mon' or 'fp') as a percentage of the rural mean of the same region."""
    n, s = metrics.get(f"inc_{group}_n", 0.0), metrics.get(f"inc_{group}_sum", 0.0)
    an, a = metrics.get("inc_all_n", 0.0), metrics.get("inc_all_sum", 0.0)
    if not n or not an or not a:
        return None
    return 100.0 * (s / n) / (a / an)
