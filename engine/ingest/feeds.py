"""The twelve department feeds of INTERCHANGE §3, as declarations. A thirteenth feed is one more `feed(...)` call.

Every feed row names a person (ID number, and name; birth date, sex and village help linkage when the ID is missing
or damaged) or, for village-level feeds, a village. A missing or damaged ID never rejects a feed row: the row is
kept for probabilistic linkage with a warning, and a damaged ID keeps its surviving first 15 characters.
"""

from __future__ import annotations

from .specs import Field, TableSpec, register

PERSON = (
    Field("id_number", ("证件号码", "身份证号", "身份证号码"), "id_number", strict=False),
    Field("name", ("姓名",)),
    Field("birth_date", ("出生日期",), "date"),
    Field("sex_text", ("性别",)),
    Field("village_code", ("行政区划代码", "村代码"), "region_code"),
)


def _m(name: str, header: str) -> Field:
    return Field(name, (header,), "money", min=0)


def _d(name: str, header: str, required: bool = True) -> Field:
    return Field(name, (header,), "date", required=required)


def feed(
    key: str,
    title: str,
    department: str,
    own: tuple[Field, ...],
    *,
    village_level: bool = False,
    extra_key: tuple[str, ...] = (),
    amount: str = "",
    kind: str = "",
) -> TableSpec:
    """Declare a feed: person columns + its own fields; the event date is its first own field."""
    date_field = own[0].name
    if village_level:
        person = tuple(
            Field(f.name, f.synonyms, f.kind, f.name == "village_code", strict=f.strict) for f in PERSON
        )
        one_of: tuple[str, ...] = ("village_code",)
    else:
        person = PERSON
        one_of = ("id_number", "name")
    return register(
        TableSpec(
            key=key,
            title_zh=title,
            department=department,
            fields=person + own,
            event_date=date_field,
            require_one_of=one_of,
            natural_key=("id_number", "name", "birth_date", "village_code", date_field, *extra_key),
            screen_amount=amount,
            screen_kind=kind,
        )
    )


MEDICAL_SETTLEMENT = feed(
    "medical_settlement",
    "医保结算",
    "医保",
    (
        _d("settle_date", "结算日期"),
        Field("hospital", ("医疗机构",)),
        _m("total_cost", "医疗总费用"),
        _m("fund_paid", "基本医保支付"),
        _m("critical_paid", "大病保险支付"),
        _m("assistance_paid", "医疗救助支付"),
        _m("out_of_pocket", "个人自付"),
    ),
    extra_key=("hospital", "total_cost"),
    amount="out_of_pocket",
)
ILLNESS_DIAGNOSIS = feed(
    "illness_diagnosis",
    "疾病诊断",
    "卫健",
    (
        _d("diagnosis_date", "确诊日期"),
        Field("disease", ("疾病名称",)),
        Field("severity", ("病种类别",)),
    ),
    extra_key=("disease",),
    kind="severity",
)
CIVIL_ASSISTANCE = feed(
    "civil_assistance",
    "社会救助",
    "民政",
    (
        _d("start_date", "起始日期"),
        Field("benefit", ("救助类型",), required=True),
        _m("amount", "救助金额"),
        _d("end_date", "终止日期", required=False),
    ),
    extra_key=("benefit",),
    amount="amount",
    kind="benefit",
)
DEATH_REGISTRATION = feed("death_registration", "死亡登记", "民政/公安", (_d("death_date", "死亡日期"),))
DISABILITY_CERTIFICATE = feed(
    "disability_certificate",
    "残疾人证",
    "残联",
    (
        _d("issue_date", "发证日期"),
        Field("category", ("残疾类别",)),
        Field("grade", ("残疾等级",), "int", min=1, max=4),
    ),
    extra_key=("category", "grade"),
    amount="grade",
    kind="category",
)
SCHOOL_STATUS = feed(
    "school_status",
    "学籍状态",
    "教育",
    (
        _d("report_date", "报告日期"),
        Field("school", ("学校",)),
        Field("stage", ("学段",)),
        Field("status", ("学籍状态",), required=True),
    ),
    extra_key=("status",),
    kind="status",
)
HOUSING_APPRAISAL = feed(
    "housing_appraisal",
    "住房安全鉴定",
    "住建",
    (
        _d("appraisal_date", "鉴定日期"),
        Field("grade", ("鉴定等级",), required=True),
        Field("cause", ("原因",)),
    ),
    extra_key=("grade",),
    kind="grade",
)
WATER_INCIDENT = feed(
    "water_incident",
    "饮水安全问题",
    "水利",
    (
        _d("report_date", "报告日期"),
        Field("problem", ("问题类型",), required=True),
        Field("days", ("持续天数",), "int", min=0, max=3650),
    ),
    village_level=True,
    extra_key=("problem",),
    amount="days",
    kind="problem",
)
DISASTER_LOSS = feed(
    "disaster_loss",
    "灾害损失",
    "应急管理",
    (
        _d("disaster_date", "灾害日期"),
        Field("disaster_type", ("灾种",)),
        _m("loss", "直接经济损失"),
    ),
    extra_key=("disaster_type",),
    amount="loss",
    kind="disaster_type",
)
EMPLOYMENT_CHANGE = feed(
    "employment_change",
    "就业变动",
    "人社",
    (
        _d("change_date", "变动日期"),
        Field("change", ("变动类型",), required=True),
        _m("monthly_wage", "月工资"),
    ),
    extra_key=("change",),
    amount="monthly_wage",
    kind="change",
)
ACCIDENT = feed(
    "accident",
    "意外事故",
    "公安/交警",
    (
        _d("accident_date", "事故日期"),
        Field("injury", ("伤情",), required=True),
    ),
    kind="injury",
)
MICROCREDIT = feed(
    "microcredit",
    "小额信贷",
    "金融",
    (
        _d("due_date", "到期日"),
        Field("overdue_days", ("逾期天数",), "int", min=0),
        _m("balance", "贷款余额"),
    ),
    amount="overdue_days",
)

FEED_KEYS = tuple(
    k
    for k in (
        "medical_settlement",
        "illness_diagnosis",
        "civil_assistance",
        "death_registration",
        "disability_certificate",
        "school_status",
        "housing_appraisal",
        "water_incident",
        "disaster_loss",
        "employment_change",
        "accident",
        "microcredit",
    )
)

# Which feeds each department sends (a department data officer may upload only these). Keys are the values of
# the user's `department` field.
DEPARTMENT_FEEDS: dict[str, tuple[str, ...]] = {
    "medical_insurance": ("medical_settlement",),
    "health": ("illness_diagnosis",),
    "civil_affairs": ("civil_assistance", "death_registration"),
    "police": ("death_registration", "accident"),
    "disability_federation": ("disability_certificate",),
    "education": ("school_status",),
    "housing": ("housing_appraisal",),
    "water": ("water_incident",),
    "emergency": ("disaster_loss",),
    "human_resources": ("employment_change",),
    "finance": ("microcredit",),
}
