"""What each column a rule condition or reason template may name means: the reference an administrator reads
while writing a trigger (the rule editor lists it beside the form). Every feature, derived, date and text column of
engine.screening.steps has an entry; a test keeps it so when a step gains a column."""

from __future__ import annotations

from dataclasses import dataclass

from .params import PARAMETERS
from .steps import DATE_COLUMNS, DERIVED_COLUMNS, FEATURE_COLUMNS, TEXT_COLUMNS

# The units of the fields and parameters, for the English page.
UNIT_EN = {
    "人": "persons", "人次": "person-times", "次": "times", "元": "yuan", "元/人/年": "yuan per person per year",
    "月": "months", "年": "years", "天": "days", "比例": "share", "倍": "times", "分": "points", "级": "level",
    "0/1": "0/1", "日期": "date", "代码": "code", "文字": "text",
}  # fmt: skip


@dataclass(frozen=True)
class FieldDoc:
    name: str
    title_zh: str
    title_en: str
    unit: str
    group: str  # household, income, health, labour, schooling, living, events, parameter

    @property
    def unit_en(self) -> str:
        return UNIT_EN.get(self.unit, self.unit)


def _f(name: str, title_zh: str, title_en: str, unit: str, group: str) -> tuple[str, FieldDoc]:
    return name, FieldDoc(name, title_zh, title_en, unit, group)


_DOCS = dict(
    [
        # the household and its members (registry, as of the screening date)
        _f("size", "家庭人口（台账在册成员数，缺失时取年度信息人口）", "Household size", "人", "household"),
        _f("members", "台账在册成员数", "Active members in the registry", "人", "household"),
        _f("labour_count", "劳动力人数（普通劳动力、技能劳动力）", "Labourers (ordinary or skilled)", "人", "labour"),
        _f("able_count", "有劳动能力人数（含弱劳动力）", "Members able to work (incl. weak)", "人", "labour"),
        _f("skilled_count", "技能劳动力人数", "Skilled labourers", "人", "labour"),
        _f("dependants", "16岁以下和65岁以上人数", "Members under 16 or 65 and over", "人", "household"),
        _f("elderly", "65岁以上人数", "Members aged 65 and over", "人", "household"),
        _f("ill_count", "登记为长期慢性病或大病的人数", "Members with chronic or serious illness", "人", "health"),
        _f("serious_count", "登记为大病的人数", "Members with serious illness", "人", "health"),
        _f("disabled_count", "残疾人数", "Members with a disability", "人", "health"),
        _f("severe_disabled_count", "一、二级残疾人数", "Members with grade 1-2 disability", "人", "health"),
        _f("work_months", "成员上年务工月数合计", "Months of migrant work last year, all members", "月", "labour"),
        _f("labour_edu_years", "劳动力平均受教育年限", "Labourers' mean years of schooling", "年", "labour"),
        _f("students", "在校生人数", "Students", "人", "schooling"),
        _f("costly_students", "高中、中职、大专及以上在校生人数", "Students in costly stages", "人", "schooling"),
        _f("uninsured_count", "未参加基本医疗保险人数", "Members without basic medical insurance", "人", "health"),
        _f("upper_school_age", "下一个9月1日年满15–17岁的人数", "Aged 15-17 on the next 1 September", "人", "schooling"),
        _f("college_age", "下一个9月1日年满18–21岁的人数", "Aged 18-21 on the next 1 September", "人", "schooling"),
        _f("former_poor", "脱贫户（1是，0否）", "Former poor household (1 yes, 0 no)", "0/1", "household"),
        _f("relocated", "易地扶贫搬迁户（1是，0否）", "Relocated household (1 yes, 0 no)", "0/1", "household"),
        _f("monitored", "已纳入监测（1是，0否）", "Already monitored (1 yes, 0 no)", "0/1", "household"),
        _f("no_labour", "无劳动力户（1是，0否）", "No member able to work (1 yes, 0 no)", "0/1", "labour"),
        _f("vulnerable", "脱贫户或监测对象（1是，0否）", "Former poor or monitored (1 yes, 0 no)", "0/1", "household"),
        # the latest annual income delivered by the screening date
        _f("income_year", "所用年度收入的年份", "Year of the income used", "年", "income"),
        _f("gross", "家庭年总收入（工资性、经营性、财产性、转移性）", "Gross annual income", "元", "income"),
        _f("net", "家庭年纯收入（总收入 − 生产经营支出）", "Net annual income", "元", "income"),
        _f("adj_net", "调整后纯收入（纯收入 + 理赔收入 − 合规自付医疗费用）", "Adjusted net income", "元", "income"),
        _f("oop_last_year", "上年合规自付医疗费用", "Last year's compliant out-of-pocket medical costs", "元", "income"),
        _f("wage", "上年工资性收入", "Last year's wage income", "元", "income"),
        _f("pc_net", "人均纯收入", "Net income per head", "元", "income"),
        _f("pc_adj", "人均调整后纯收入", "Adjusted net income per head", "元", "income"),
        _f("income_change", "人均纯收入较前一年的变化（−0.3 即下降30%）", "Change of net income per head on the year before", "比例", "income"),
        _f("transfer_share", "转移性收入占总收入比例", "Share of transfers in gross income", "比例", "income"),
        _f("rigid_share", "上年合规自付医疗费用占纯收入比例", "Compliant out-of-pocket over net income", "比例", "income"),
        _f("housing_flag", "年度信息标注住房安全问题（1是）", "Annual survey: unsafe housing (1 yes)", "0/1", "living"),
        _f("dropout_flag", "年度信息标注失学辍学（1是）", "Annual survey: dropout (1 yes)", "0/1", "schooling"),
        _f("water_flag", "年度信息标注饮水安全问题（1是）", "Annual survey: unsafe water (1 yes)", "0/1", "living"),
        _f("uninsured_flag", "年度信息标注有成员未参保（1是）", "Annual survey: a member uninsured (1 yes)", "0/1", "health"),
        # department events (received by the screening date)
        _f("med_oop_12m", "近12个月家庭医疗个人自付合计", "Out-of-pocket medical costs, last 12 months", "元", "health"),
        _f("med_oop_3m", "近3个月家庭医疗个人自付合计", "Out-of-pocket medical costs, last 3 months", "元", "health"),
        _f("med_stays_12m", "近12个月医疗结算次数", "Medical settlements, last 12 months", "次", "health"),
        _f("med_max_stay_oop", "近12个月单次结算个人自付最高额", "Largest out-of-pocket of one settlement, 12 months", "元", "health"),
        _f("person_oop_max", "近12个月个人医疗自付最高的成员的自付额", "Largest one person's out-of-pocket, 12 months", "元", "health"),
        _f("new_illness_12m", "近12个月新确诊慢性病、大病人次", "New diagnoses, last 12 months", "人次", "health"),
        _f("new_serious_12m", "近12个月新确诊大病人次", "New serious-illness diagnoses, last 12 months", "人次", "health"),
        _f("new_disability_12m", "近12个月新办残疾人证人数", "New disability certificates, last 12 months", "人", "health"),
        _f("new_severe_disability_12m", "近12个月新办一、二级残疾人证人数", "New grade 1-2 disability certificates, 12 months", "人", "health"),
        _f("labour_deaths_12m", "近12个月死亡的劳动力人数", "Labourers who died, last 12 months", "人", "events"),
        _f("accidents_severe_12m", "近12个月成员重伤或因意外死亡人次", "Members badly hurt or killed in accidents, 12 months", "人次", "events"),
        _f("accidents_labour_12m", "近12个月劳动力重伤或因意外死亡人次", "Labourers badly hurt or killed in accidents, 12 months", "人次", "events"),
        _f("job_losses_12m", "近12个月失业登记或返乡且尚未再就业的人数", "Job losses not yet followed by a job, 12 months", "人", "labour"),
        _f("lost_work_months", "近12个月患大病、重伤、死亡、新发重残或失业成员的上年务工月数", "Work months of members hit by a shock, 12 months", "月", "labour"),
        _f("lost_wages", "预计工资损失（上年工资收入 × 受冲击成员务工月数占比 × 0.5）", "Expected lost wages", "元", "labour"),
        _f("shocks_health_6m", "近6个月大病、一二级残疾、重伤事件数", "Health shocks, last 6 months", "次", "events"),
        _f("shocks_labour_6m", "近6个月失业返乡及劳动力死亡、重伤事件数", "Labour shocks, last 6 months", "次", "events"),
        _f("dropouts_open", "义务教育年龄成员辍学且尚未复学人数", "Compulsory-age dropouts not back at school", "人", "schooling"),
        _f("housing_level_24m", "近24个月住房鉴定等级（0安全，1为C级，2为D级）", "Housing appraisal, 24 months (0 safe, 1 C, 2 D)", "级", "living"),
        _f("disaster_loss_12m", "近12个月灾害直接经济损失合计", "Direct disaster losses, last 12 months", "元", "events"),
        _f("credit_overdue_max", "近12个月小额信贷最长逾期天数", "Longest microcredit overdue, 12 months", "天", "events"),
        _f("assistance_new_12m", "近12个月新纳入低保、特困、临时救助等次数", "New social assistance, last 12 months", "次", "events"),
        _f("water_days_max", "近12个月所在村最长停水天数", "Longest water cut in the village, 12 months", "天", "living"),
        _f("water_quality", "所在村水质或取水距离不达标（1是）", "Village water quality or distance failing (1 yes)", "0/1", "living"),
        # computed with the parameters
        _f("projected_pc", "预估人均收入（上年调整后收入扣除近期医疗自付、灾害损失、工资损失和下一学年教育支出）", "Projected income per head", "元", "income"),
        # first-signal dates (the signal_date of a rule)
        _f("med_first_date", "近12个月首次医疗结算日期", "First medical settlement, 12 months", "日期", "health"),
        _f("serious_first_date", "近12个月首次确诊大病日期", "First serious diagnosis, 12 months", "日期", "health"),
        _f("disability_first_date", "近12个月首次办残疾人证日期", "First disability certificate, 12 months", "日期", "health"),
        _f("death_first_date", "近12个月首位劳动力死亡日期", "First labourer's death, 12 months", "日期", "events"),
        _f("accident_first_date", "近12个月首次重伤或意外死亡日期", "First severe accident, 12 months", "日期", "events"),
        _f("job_loss_first_date", "近12个月首次失业或返乡日期", "First job loss, 12 months", "日期", "labour"),
        _f("housing_first_date", "近24个月首次鉴定为C/D级危房日期", "First C/D housing appraisal, 24 months", "日期", "living"),
        _f("disaster_first_date", "近12个月首次灾害损失日期", "First disaster loss, 12 months", "日期", "events"),
        _f("credit_first_date", "近12个月首次信贷逾期日期", "First microcredit overdue, 12 months", "日期", "events"),
        _f("assistance_first_date", "近12个月首次新纳入救助日期", "First new assistance, 12 months", "日期", "events"),
        _f("dropout_first_date", "近12个月首次辍学日期", "First dropout, 12 months", "日期", "schooling"),
        _f("water_first_date", "近12个月所在村首次饮水问题日期", "First water incident in the village, 12 months", "日期", "living"),
        # text (reason templates only)
        _f("disaster_risk_type", "近12个月灾害损失的风险类型代码（0201洪涝等）", "Risk code of the disaster loss", "代码", "events"),
        _f("assistance_kind", "近12个月新纳入的救助类别", "Kind of the new assistance", "文字", "events"),
    ]
)  # fmt: skip

# Every column a condition may name, in the order the steps define them; then the parameters (p_<name>).
FIELD_DOCS: dict[str, FieldDoc] = {
    name: _DOCS[name]
    for name in (*FEATURE_COLUMNS, *DERIVED_COLUMNS, *DATE_COLUMNS, *TEXT_COLUMNS)
    if name in _DOCS
}
# The parameters' titles for the English page (their Chinese titles are in params.PARAMETERS).
PARAMETER_TITLES_EN = {
    "monitoring_line": "Monitoring line (per-capita net income)",
    "rural_income_last_year": "Rural per-capita disposable income, last year",
    "dibao_standard": "Rural dibao standard",
    "med_burden_share_vulnerable": "Personal out-of-pocket in a year above this share of last year's rural "
    "per-capita disposable income (former-poor and monitored households)",
    "med_burden_share_other": "Personal out-of-pocket in a year above this share of last year's rural "
    "per-capita disposable income (other households)",
    "med_stay_oop_vulnerable": "Out-of-pocket of one hospital stay (former-poor and monitored households)",
    "med_stay_oop_other": "Out-of-pocket of one hospital stay (other households)",
    "med_annual_oop": "Household medical out-of-pocket in a year",
    "disaster_loss_share": "Disaster loss as a share of the household's yearly net income",
    "disaster_loss_severe_share": "Disaster loss as a share of the household's yearly net income (severe)",
    "water_cut_days": "Days without drinking water",
    "credit_overdue_days": "Days a microcredit loan is overdue",
    "income_drop_share": "Fall of per-capita net income on the year before (unstable income)",
    "near_line_multiple": "Range of unstable income (multiple of the monitoring line)",
    "rigid_dibao_multiple": "Income after rigid expenditure below this multiple of the dibao standard",
    "school_cost_upper": "Expected yearly school costs of a member of upper-secondary age (enrolment rate × cost)",
    "school_cost_college": "Expected yearly school costs of a member of college age (enrolment rate × cost)",
    "thin_margin_multiple": "Thin income margin after a major shock (projected per-capita income ÷ the line)",
    "grade_red": "Red grade score line",
    "grade_yellow": "Yellow grade score line",
}
PARAMETER_DOCS: dict[str, FieldDoc] = {
    f"p_{p.name}": FieldDoc(
        f"p_{p.name}", p.title_zh, PARAMETER_TITLES_EN.get(p.name, p.title_zh), p.unit, "parameter"
    )
    for p in PARAMETERS
}


def undocumented() -> list[str]:
    """Columns of the steps without an entry here (kept empty by a test)."""
    return [c for c in (*FEATURE_COLUMNS, *DERIVED_COLUMNS, *DATE_COLUMNS, *TEXT_COLUMNS) if c not in _DOCS]
