"""Declarations of the tables counties and departments send (INTERCHANGE.md): fields, header synonyms, kinds,
required fields and natural keys. Adding a table (e.g. one of the twelve department feeds) is a declaration here,
not new code: a feed is just another TableSpec, and a rule across columns (e.g. "a person or a village") is a
TableCheck on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import vocab

KINDS = ("text", "id_number", "date", "money", "int", "bool", "enum", "region_code", "phone")


@dataclass(frozen=True)
class Field:
    """One column: canonical name, Chinese header synonyms, kind and checks.

    Enum fields map a cell holding the Chinese label, a known alias (engine.vocab.ALIASES under the field's name,
    unless `aliases` is given) or the code itself to the code; `strict=False` turns an unknown value into a warning
    (value stored as NULL) instead of a rejected row. On an ID field, `strict=False` does the same for an unusable
    ID (department feeds: the row is kept for linkage by name and birth date, with the ID's status and surviving
    first 15 characters). `min`/`max` bound int and money values (inclusive)."""

    name: str
    synonyms: tuple[str, ...]
    kind: str = "text"
    required: bool = False
    vocab: dict[str, str] | None = field(default=None, hash=False, compare=False)
    strict: bool = True
    min: float | None = None
    max: float | None = None
    aliases: dict[str, str] | None = field(default=None, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if self.kind == "enum" and not self.vocab:
            raise ValueError(f"enum field {self.name} needs a vocabulary")

    @property
    def label(self) -> str:
        """The Chinese header people know the column by."""
        return self.synonyms[0] if self.synonyms else self.name

    def alias_map(self) -> dict[str, str]:
        """Extra spellings → canonical Chinese label."""
        return self.aliases if self.aliases is not None else vocab.ALIASES.get(self.name, {})


@dataclass(frozen=True)
class TableCheck:
    """A row rule across columns, evaluated on the normalised values (e.g. a feed row must name a person or a
    village). `invalid_when` is a DuckDB boolean expression over canonical column names; when it is true the row
    gets `code`/`message` reported against `column` (a canonical name) with `severity`."""

    code: str
    message: str
    invalid_when: str
    column: str
    severity: str = "error"


@dataclass(frozen=True)
class TableSpec:
    """A table people send: its fields and the key that identifies a row across re-sends (duplicates inside one
    file are rejected). For department feeds also the department, the event-date field and the "at least one of"
    rule for the subject (a person, or a village): a row with all of `require_one_of` blank is rejected
    ('missing_subject'). `checks` add any other rule across columns."""

    key: str
    title_zh: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]
    department: str = ""
    event_date: str = ""
    require_one_of: tuple[str, ...] = ()
    checks: tuple[TableCheck, ...] = ()
    # What screening reads of a feed row besides its date: one number and one category (engine.screening).
    screen_amount: str = ""
    screen_kind: str = ""

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        screen = [k for k in (self.screen_amount, self.screen_kind) if k]
        unknown = [k for k in (*self.natural_key, *self.require_one_of, *screen) if k not in names]
        if unknown or not self.natural_key or len(set(names)) != len(names):
            raise ValueError(
                f"table {self.key}: unknown fields {unknown}, no natural key or duplicate field names"
            )

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def required(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)


def _enum(
    name: str,
    synonyms: tuple[str, ...],
    table: dict[str, str],
    *,
    strict: bool = True,
    required: bool = False,
) -> Field:
    return Field(name, synonyms, "enum", required, vocab=table, strict=strict)


REGISTRY = TableSpec(
    key="registry",
    title_zh="户籍台账（家庭成员）",
    natural_key=("household_no", "id_number"),
    fields=(
        Field("household_no", ("户编号",), required=True),
        Field("village_code", ("行政区划代码", "村代码"), "region_code", required=True),
        _enum("household_type", ("户类型",), vocab.HOUSEHOLD_TYPES),
        _enum("monitor_category", ("监测对象类别",), vocab.MONITOR_CATEGORIES),
        Field("name", ("姓名",), required=True),
        Field("id_number", ("证件号码", "身份证号", "身份证号码"), "id_number", required=True),
        _enum("relation", ("与户主关系",), vocab.RELATIONS, required=True),
        _enum("sex", ("性别",), vocab.SEXES),
        Field("birth_date", ("出生日期",), "date"),
        _enum("education", ("文化程度",), vocab.EDUCATION, strict=False),
        _enum("student_status", ("在校生状况",), vocab.STUDENT_STATUSES, strict=False),
        _enum("health", ("健康状况",), vocab.HEALTH),
        Field("disability_grade", ("残疾等级",), "int", min=1, max=4),
        _enum("labour_capacity", ("劳动技能",), vocab.LABOUR_CAPACITIES),
        _enum("migrant_work", ("务工状况",), vocab.MIGRANT_WORK),
        Field("work_months", ("务工时间(月)", "务工时间"), "int", min=0, max=12),
        Field("basic_medical_insured", ("是否参加城乡居民基本医疗保险", "是否参加基本医疗保险"), "bool"),
        Field("phone", ("联系电话", "电话"), "phone"),
    ),
)


def _money(name: str, header: str) -> Field:
    return Field(name, (header,), "money", min=0)


INCOME = TableSpec(
    key="income",
    title_zh="年度收入与三保障",
    natural_key=("household_no", "year"),
    fields=(
        Field("household_no", ("户编号",), required=True),
        Field("year", ("年度", "年份"), "int", required=True, min=2000, max=2100),
        _money("wage_income", "工资性收入"),
        _money("business_income", "生产经营性收入"),
        _money("property_income", "财产性收入"),
        _money("transfer_income", "转移性收入"),
        _money("business_cost", "生产经营性支出"),
        _money("claim_income", "理赔收入"),
        _money("compliant_out_of_pocket", "合规自付支出"),
        Field("housing_unsafe", ("住房出现安全问题",), "bool"),
        Field("dropout", ("义务教育阶段失学辍学",), "bool"),
        Field("water_unsafe", ("饮水出现安全问题",), "bool"),
        Field("uninsured_member", ("有家庭成员未参加基本医疗保险",), "bool"),
    ),
)

SPECS: dict[str, TableSpec] = {"registry": REGISTRY, "income": INCOME}


def register(spec: TableSpec) -> TableSpec:
    """Add a table declaration (department feeds register themselves in engine.ingest.feeds)."""
    SPECS[spec.key] = spec
    return spec
