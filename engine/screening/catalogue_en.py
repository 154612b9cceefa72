"""English texts of the indicator catalogue, for the English UI: each indicator's definition, source, unit and
direction. The Chinese in catalogue.py stays the definition of record; these are its translations, and a test
(tests/test_catalogue_en.py) keeps them complete, free of Chinese and carrying the numbers of every formula.

The same Chinese source name always gets the same English name (the test checks it part by part of the
"a + b" source lists); units use the wording of fields.UNIT_EN.
"""

from __future__ import annotations

from .catalogue import Indicator

DEFINITIONS_EN: dict[str, str] = {
    # income
    "income_line_ratio": (
        "Last year's per-capita adjusted income (net income + insurance payouts − compliant out-of-pocket "
        "medical costs) ÷ the monitoring line"
    ),
    "income_projected_ratio": (
        "(Last year's adjusted income + last year's compliant out-of-pocket medical costs − out-of-pocket "
        "medical costs of the last 12 months − out-of-pocket medical costs of the last 3 months (treatment "
        "still going on) − disaster losses of the last 12 months − expected lost wages of members who fell ill, "
        "were badly injured, died or lost their job − expected school costs in the coming school year of "
        "members of upper-secondary/vocational-school or college age) ÷ household size ÷ the monitoring line"
    ),
    "income_level": "Last year's per-capita net income ÷ last year's rural per-capita disposable income",
    "income_trend": "Rate of change of last year's per-capita net income on the year before",
    "transfer_dependence": "Transfer income ÷ gross income",
    "rigid_expenditure_share": "Last year's compliant out-of-pocket medical costs ÷ household net income",
    "medical_oop_12m": (
        "Total out-of-pocket costs of the medical-insurance settlements of the last 12 months ÷ household size "
        "÷ the monitoring line"
    ),
    "medical_ongoing": (
        "Total out-of-pocket costs of the medical-insurance settlements of the last 3 months ÷ household size "
        "÷ the monitoring line: the treatment is still going on, so more costs are coming"
    ),
    "lost_wages": (
        "Expected lost wages of members who in the last 12 months fell seriously ill, were badly injured, newly "
        "got a grade 1–2 disability, died, or lost their job and came home (last year's wage income × their "
        "share of the household's months of migrant work × 0.5) ÷ the income margin (last year's adjusted "
        "income − monitoring line × household size, at least 1000 yuan)"
    ),
    "school_costs_next": (
        "Expected yearly school costs of members aged 15–17 (upper secondary or secondary vocational school) "
        "and 18–21 (college) on the next 1 September (09-01) ÷ the income margin (last year's adjusted income "
        "− monitoring line × household size, at least 1000 yuan)"
    ),
    # health
    "illness_count": (
        "Members registered with a long-term chronic or a serious illness + diagnoses made in the last 12 "
        "months (a member may count more than once)"
    ),
    "serious_illness": (
        "Members registered with a serious illness + serious-illness diagnoses made in the last 12 months (a "
        "member may count more than once)"
    ),
    "disability": (
        "Members with a disability (grade 1–2 counts as 2) + disability certificates newly issued in the last "
        "12 months"
    ),
    "uninsured": "Members not enrolled in basic medical insurance",
    # labour and employment
    "dependency_ratio": "Members under 16 or aged 65 and over ÷ members aged 16–64",
    "labour_count": "Ordinary labourers + skilled labourers",
    "skilled_share": "Skilled labourers ÷ labourers",
    "migrant_months": "Months of migrant work of all members, summed",
    "employment_loss": (
        "Members whose latest employment change is a registered job loss or a return home (with no new job "
        "since)"
    ),
    "labour_education": "Mean years of schooling of the labourers",
    "no_labour_household": (
        "The household registry marks the whole household as unable to work, or it has no ordinary, skilled "
        "or weak labourer"
    ),
    "elderly_share": "Members aged 65 and over ÷ household size",
    # schooling
    "students": "Members enrolled in school",
    "costly_students": (
        "Members enrolled in upper secondary school, secondary vocational school, junior college or higher"
    ),
    "dropout": (
        "Members of compulsory-schooling age whose latest school-enrolment status is dropped out, or a dropout "
        "flagged in the annual survey"
    ),
    # housing, water, credit, disasters
    "housing": (
        "Housing safety appraisal in the last 24 months: grade C = 1, grade D = 2; unsafe housing flagged in "
        "the annual survey = 1; the higher of the two"
    ),
    "water": (
        "Days of the village's longest water cut in the last 12 months ÷ the water-cut threshold; water below "
        "standard, a long way to fetch water, or a drinking-water problem flagged in the annual survey counts "
        "as 1; the highest of these"
    ),
    "credit_overdue": "Longest time a microcredit loan was overdue in the last 12 months, in days",
    "disaster_exposure": "Direct economic losses from disasters in the last 12 months ÷ household net income",
    "shock_health": (
        "New serious-illness diagnoses, new grade 1–2 disabilities and severe injuries in the last 6 months "
        "(events, not persons)"
    ),
    "shock_labour": (
        "Deaths, severe injuries and job losses (returning home) of labourers in the last 6 months (events, not "
        "persons)"
    ),
    "assistance_new": (
        "Newly admitted in the last 12 months to dibao (minimum living allowance), tekun (extreme-poverty "
        "support), temporary assistance, the near-dibao group or the group in hardship from rigid expenditure"
    ),
    # status
    "former_poor": "The household type is formerly poor household",
    "relocated": "A household resettled by poverty-relief relocation",
    "monitored": "Currently a monitored household (any category)",
}

# The Chinese source names, one by one: 年度收入信息 = 年度收入 = annual income records; 台账 = household
# registry; 年度信息 = annual survey (as in fields.py: "Annual survey: unsafe housing").
SOURCES_EN: dict[str, str] = {
    "income_line_ratio": "annual income records",
    "income_projected_ratio": (
        "annual income records + medical-insurance settlements + disaster losses + illness diagnoses + "
        "accidents + death registrations + employment changes + household registry (dates of birth)"
    ),
    "income_level": "annual income records",
    "income_trend": "annual income records",
    "transfer_dependence": "annual income records",
    "rigid_expenditure_share": "annual income records",
    "medical_oop_12m": "medical-insurance settlements",
    "medical_ongoing": "medical-insurance settlements",
    "lost_wages": (
        "annual income records + illness diagnoses + accidents + disability certificates + death registrations "
        "+ employment changes + household registry"
    ),
    "school_costs_next": "household registry (dates of birth) + annual income records",
    "illness_count": "household registry + illness diagnoses",
    "serious_illness": "household registry + illness diagnoses",
    "disability": "household registry + disability certificates",
    "uninsured": "household registry",
    "dependency_ratio": "household registry",
    "labour_count": "household registry",
    "skilled_share": "household registry",
    "migrant_months": "household registry",
    "employment_loss": "employment changes",
    "labour_education": "household registry",
    "no_labour_household": "household registry",
    "elderly_share": "household registry",
    "students": "household registry",
    "costly_students": "household registry",
    "dropout": "school-enrolment status + annual survey",
    "housing": "housing-safety appraisals + annual survey",
    "water": "drinking-water safety incidents + annual survey",
    "credit_overdue": "microcredit",
    "disaster_exposure": "disaster losses",
    "shock_health": "illness diagnoses + disability certificates + accidents",
    "shock_labour": "death registrations + accidents + employment changes",
    "assistance_new": "social assistance",
    "former_poor": "household registry",
    "relocated": "household registry",
    "monitored": "household registry",
}

# Every unit the catalogue uses; the wording of fields.UNIT_EN wherever that has the unit.
UNITS_EN: dict[str, str] = {
    "倍": "times",
    "比例": "share",
    "人": "persons",
    "人次": "person-times",
    "月": "months",
    "年": "years",
    "天": "days",
    "次": "times",
    "级": "level",
    "是/否": "yes/no",
}

DIRECTIONS_EN: dict[str, str] = {"越低风险越高": "lower is riskier", "越高风险越高": "higher is riskier"}


def english(indicator: Indicator) -> dict[str, str]:
    """The English title, definition, source, unit and direction of one indicator. A text missing here (the test
    keeps none missing) falls back to the Chinese rather than breaking the page."""
    return {
        "title": indicator.title_en,
        "definition": DEFINITIONS_EN.get(indicator.code, indicator.definition),
        "source": SOURCES_EN.get(indicator.code, indicator.source),
        "unit": UNITS_EN.get(indicator.unit, indicator.unit),
        "direction": DIRECTIONS_EN.get(indicator.direction, indicator.direction),
    }
