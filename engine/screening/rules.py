"""Triggers (DOMAIN §2–4) as data. A rule is a condition over the feature table and the regional parameters —
one SQL boolean expression, validated here so that an administrator editing it in the UI can only compare,
combine and compute with known columns — plus the risk type it points to, its severity (`severe` ⇒ red,
`hard` ⇒ at least yellow), the column holding its first-signal date, the feeds it rests on and a Chinese reason
template. The platform stores rule sets as versioned rows; DEFAULT_RULES is what a new installation starts with.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from string import Formatter

import sqlglot
from sqlglot import exp

from .params import PARAM_NAMES
from .steps import DATE_COLUMNS, DERIVED_COLUMNS, FEATURE_COLUMNS, TEXT_COLUMNS

SEVERITIES = ("severe", "hard")

# What a reason template may write: a plain field name, with an optional number format of a thousands separator,
# a precision and fixed or percent presentation ("{pc_adj:,.0f}", "{income_change:.0%}").
TEMPLATE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TEMPLATE_SPEC = re.compile(r"^(,?(\.\d+)?[f%])?$")
RISK_CODES = {
    "01": "因病",
    "02": "因自然灾害",
    "0201": "洪涝",
    "0202": "地质灾害",
    "0203": "干旱",
    "0204": "生物灾害",
    "0205": "气象灾害",
    "0206": "地震",
    "0299": "其他自然灾害",
    "03": "因残",
    "04": "缺劳动力",
    "05": "因意外事故",
    "06": "因产业(项目)失败",
    "07": "因务工就业不稳",
    "09": "因学",
    "99": "其他",
}
_ALLOWED_NODES = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not, exp.And, exp.Or,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Is, exp.In,
    exp.Between, exp.Coalesce, exp.Greatest, exp.Least, exp.Abs, exp.Case, exp.If, exp.Tuple,
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    code: str
    title_zh: str
    risk_type: str  # a DOMAIN §7 code, or "disaster" for the code of the disaster type
    severity: str
    condition: str
    signal_date: str  # a DATE_COLUMNS name ("" = the screening date)
    reason: str  # str.format template over feature columns, p_<param> and the rule's own fields
    sources: tuple[str, ...] = ()
    # "" = every household (a province's rule); else a division code (county, township…): the rule fires only on
    # the households of that region — a county's own trigger beside the province's.
    region: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class RuleError(ValueError):
    """What is wrong with a rule (in Chinese), and which of its fields it is about (a Rule field name, "" for the
    rule set as a whole), so that an editor can show the message under that field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def allowed_columns() -> set[str]:
    return set(FEATURE_COLUMNS) | set(DERIVED_COLUMNS) | {f"p_{n}" for n in PARAM_NAMES}


def validate(rule: Rule) -> str:
    """Check a rule and return its condition normalised as DuckDB SQL; RuleError says what is wrong, in Chinese."""
    if not rule.code.replace("_", "").isalnum() or not rule.code.isascii() or len(rule.code) > 40:
        raise RuleError(f"规则代码 {rule.code!r} 只能由字母、数字和下划线组成（不超过40个字符）", "code")
    if rule.severity not in SEVERITIES:
        raise RuleError(
            f"规则 {rule.code}: 严重程度应为 severe 或 hard，而不是 {rule.severity!r}", "severity"
        )
    if rule.risk_type not in RISK_CODES and rule.risk_type != "disaster":
        raise RuleError(
            f"规则 {rule.code}: 风险类型 {rule.risk_type!r} 不在 DOMAIN §7 的代码表中", "risk_type"
        )
    if rule.region and not (
        rule.region.isdigit() and rule.region.isascii() and len(rule.region) in REGION_LENGTHS
    ):
        raise RuleError(f"规则 {rule.code}: 适用地区 {rule.region!r} 不是行政区划代码", "region")
    if rule.signal_date and rule.signal_date not in DATE_COLUMNS:
        raise RuleError(f"规则 {rule.code}: 信号日期字段 {rule.signal_date!r} 不存在", "signal_date")
    try:
        tree = sqlglot.parse_one(rule.condition, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise RuleError(
            f"规则 {rule.code}: 条件无法解析：{exc.errors[0]['description'] if exc.errors else exc}",
            "condition",
        ) from None
    known = allowed_columns()
    for node in tree.walk():
        if not isinstance(node, _ALLOWED_NODES):
            raise RuleError(f"规则 {rule.code}: 条件中不允许使用 {node.sql(dialect='duckdb')!r}", "condition")
        if isinstance(node, exp.Column) and (node.table or node.name not in known):
            raise RuleError(f"规则 {rule.code}: 未知字段 {node.sql(dialect='duckdb')!r}", "condition")
    try:
        _ = rule.reason.format_map(_Probe())
        fields = [
            (name, spec, conversion) for _, name, spec, conversion in Formatter().parse(rule.reason) if name
        ]
    except (KeyError, ValueError, IndexError) as exc:
        raise RuleError(f"规则 {rule.code}: 原因模板有误：{exc}", "reason") from None
    for name, spec, conversion in fields:
        # Explanations are written in SQL for many households (engine.screening.explain): a template may use
        # plain fields with the number formats both Python and DuckDB's format write alike.
        if conversion or not TEMPLATE_FIELD.match(name) or not TEMPLATE_SPEC.match(spec or ""):
            raise RuleError(
                f"规则 {rule.code}: 原因模板中 {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} 的写法不受支持（字段名后可用的格式：,.0f  .1f  .0%  等）",
                "reason",
            )
    return tree.sql(dialect="duckdb")


class _Probe(dict):
    def __missing__(self, key: str) -> float:
        if key in allowed_columns() or key in DATE_COLUMNS or key in TEXT_COLUMNS or key == "risk_name":
            return 0.0
        raise KeyError(f"原因模板中的未知字段 {key}")


REGION_LENGTHS = (2, 4, 6, 9, 12)  # province, city, county, township, village codes


def compiled(rules: list[Rule]) -> list[tuple[str, str, str]]:
    """(code, severity, condition as DuckDB SQL) per rule; a regional rule's condition holds only in its region."""
    codes = [r.code for r in rules]
    if len(set(codes)) != len(codes):
        raise RuleError("规则代码重复")
    return [(r.code, r.severity, _in_region(r, validate(r))) for r in rules]


def _in_region(rule: Rule, condition: str) -> str:
    if not rule.region:
        return condition
    # SUBSTR and = read the same in DuckDB and Spark SQL; the code was checked to be digits.
    return f"(SUBSTR(village_code, 1, {len(rule.region)}) = '{rule.region}' AND ({condition}))"


def _r(*args, **kwargs) -> Rule:
    return Rule(*args, **kwargs)


DEFAULT_RULES: tuple[Rule, ...] = (
    _r("income_below_line", "人均收入低于监测线", "99", "severe", "pc_adj < p_monitoring_line", "",
       "上年人均调整后收入 {pc_adj:,.0f} 元，低于监测线 {p_monitoring_line:,.0f} 元"),
    _r("income_unstable", "收入不稳", "99", "hard",
       "pc_adj < p_near_line_multiple * p_monitoring_line AND income_change < -p_income_drop_share", "",
       "上年人均纯收入下降 {income_change:.0%}，人均调整后收入 {pc_adj:,.0f} 元接近监测线"),
    _r("medical_burden", "医疗个人负担过重", "01", "hard",
       "person_oop_max > CASE WHEN vulnerable = 1 THEN p_med_burden_share_vulnerable ELSE p_med_burden_share_other "
       "END * p_rural_income_last_year", "med_first_date",
       "近12个月个人医疗自付最高 {person_oop_max:,.0f} 元，超过上年农村居民人均可支配收入的规定比例",
       ("medical_settlement",)),
    _r("medical_stay", "单次住院自付过高", "01", "hard",
       "med_max_stay_oop > CASE WHEN vulnerable = 1 THEN p_med_stay_oop_vulnerable ELSE p_med_stay_oop_other END",
       "med_first_date", "单次住院个人自付 {med_max_stay_oop:,.0f} 元", ("medical_settlement",)),
    _r("medical_annual", "家庭年度医疗自付过高", "01", "hard", "med_oop_12m > p_med_annual_oop",
       "med_first_date", "近12个月家庭医疗自付合计 {med_oop_12m:,.0f} 元，超过 {p_med_annual_oop:,.0f} 元",
       ("medical_settlement",)),
    _r("serious_illness_new", "新确诊大病", "01", "hard", "new_serious_12m > 0", "serious_first_date",
       "近12个月新确诊大病 {new_serious_12m:.0f} 人", ("illness_diagnosis",)),
    _r("disability_new", "新发一二级残疾", "03", "hard", "new_severe_disability_12m > 0", "disability_first_date",
       "近12个月新发一、二级残疾人证 {new_severe_disability_12m:.0f} 人", ("disability_certificate",)),
    _r("labourer_death", "主要劳动力死亡", "04", "hard", "labour_deaths_12m > 0", "death_first_date",
       "近12个月劳动力死亡 {labour_deaths_12m:.0f} 人", ("death_registration",)),
    _r("labourer_injury", "劳动力重伤或意外死亡", "05", "hard", "accidents_labour_12m > 0", "accident_first_date",
       "近12个月劳动力重伤或因意外死亡 {accidents_labour_12m:.0f} 人", ("accident",)),
    _r("accident_severe", "家庭成员重伤", "05", "hard", "accidents_severe_12m > 0", "accident_first_date",
       "近12个月家庭成员重伤或因意外死亡 {accidents_severe_12m:.0f} 人", ("accident",)),
    _r("job_loss", "失业或返乡", "07", "hard", "job_losses_12m > 0", "job_loss_first_date",
       "近12个月 {job_losses_12m:.0f} 名劳动力失业登记或返乡，尚未再就业", ("employment_change",)),
    _r("dropout", "义务教育阶段辍学", "09", "hard", "dropouts_open > 0 OR dropout_flag = 1", "dropout_first_date",
       "义务教育阶段辍学 {dropouts_open:.0f} 人", ("school_status",)),
    _r("housing_unsafe", "C/D级危房", "99", "hard", "housing_level_24m > 0 OR housing_flag = 1",
       "housing_first_date", "住房鉴定为C级或D级危房（或年度信息标注住房安全问题）", ("housing_appraisal",)),
    _r("water_unsafe", "饮水安全问题", "99", "hard",
       "(water_days_max > p_water_cut_days OR water_quality = 1 OR water_flag = 1) "
       "AND pc_adj < p_near_line_multiple * p_monitoring_line", "water_first_date",
       "所在村停水 {water_days_max:.0f} 天或水质、取水距离不达标", ("water_incident",)),
    _r("uninsured", "未参加基本医疗保险", "01", "hard", "(uninsured_count > 0 OR uninsured_flag = 1) AND pc_adj < p_near_line_multiple * p_monitoring_line", "",
       "{uninsured_count:.0f} 名成员未参加基本医疗保险"),
    _r("disaster_loss", "灾害损失较大", "disaster", "hard", "disaster_loss_12m > p_disaster_loss_share * GREATEST(net, 1000)",
       "disaster_first_date", "近12个月灾害直接经济损失 {disaster_loss_12m:,.0f} 元（{risk_name}）", ("disaster_loss",)),
    _r("disaster_loss_severe", "灾害损失超过年收入", "disaster", "severe",
       "disaster_loss_12m > p_disaster_loss_severe_share * GREATEST(net, 1000)", "disaster_first_date",
       "近12个月灾害直接经济损失 {disaster_loss_12m:,.0f} 元，超过家庭年纯收入（{risk_name}）", ("disaster_loss",)),
    _r("credit_overdue", "小额信贷逾期", "06", "hard", "credit_overdue_max > p_credit_overdue_days",
       "credit_first_date", "小额信贷逾期 {credit_overdue_max:.0f} 天", ("microcredit",)),
    _r("assistance_new", "新纳入社会救助", "99", "hard", "assistance_new_12m > 0", "assistance_first_date",
       "近12个月新纳入{assistance_kind}", ("civil_assistance",)),
    _r("rigid_expenditure", "刚性支出超过收入", "01", "severe",
       "GREATEST(oop_last_year, med_oop_12m) > GREATEST(net, 0) + 0.01 AND med_oop_12m > 0", "med_first_date",
       "医疗刚性支出（上年合规自付 {oop_last_year:,.0f} 元、近12个月医疗自付 {med_oop_12m:,.0f} 元，取其大者）超过家庭纯收入"),
    _r("shock_thin_margin", "重大冲击且预估收入低于监测线", "99", "severe",
       "(new_serious_12m > 0 OR shocks_health_6m > 0 OR shocks_labour_6m > 0 OR job_losses_12m > 0 "
       "OR labour_deaths_12m > 0 OR med_oop_3m > 0 OR med_oop_12m > p_med_annual_oop "
       "OR disaster_loss_12m > p_disaster_loss_share * GREATEST(net, 1000)) "
       "AND projected_pc < p_thin_margin_multiple * p_monitoring_line", "",
       "近期发生大病、重伤、劳动力死亡、失业返乡、持续治疗或较大灾害损失，预估人均收入 {projected_pc:,.0f} 元，"
       "低于监测线的 {p_thin_margin_multiple:.1f} 倍"),
    _r("rigid_after_income", "扣除刚性支出后收入过低", "01", "hard",
       "(net - med_oop_12m) / size < p_rigid_dibao_multiple * p_dibao_standard AND med_oop_12m > 0.4 * GREATEST(net, 1)",
       "med_first_date", "扣除近12个月医疗自付后人均收入低于低保标准的 {p_rigid_dibao_multiple:.0f} 倍"),
)  # fmt: skip
