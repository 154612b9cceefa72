"""The measure recommender (DOMAIN §7): from the household's risk types, labour capacity, conditions and what it
already receives, propose measures and check the plan rules. Pure: no Django, no database.

Rules (each a `RuleCheck`):
- R1 labour-capable ⇒ at least one development-type measure (industry 100A39 or employment 100A40);
- R2 no labour and no stable income ⇒ 低保 / 特困 (100A48) considered;
- R3 single risk ⇒ a single measure preferred (complex risks ⇒ combined measures);
- R4 what is missing is what is given: a housing, water, schooling or insurance problem gets its measure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .catalogue import CATALOGUE, DEVELOPMENT_CODES, SAFETY_NET_CODES

# Risk type → measures that answer it, best first (DOMAIN §7 risk codes; 02xx share the disaster entry).
RISK_MEASURES: dict[str, tuple[str, ...]] = {
    "01": ("100A45",),  # illness → health
    "02": ("100A54", "100A50"),  # disaster → living conditions, housing
    "03": ("100A48", "100A45"),  # disability → allowances, health
    "04": ("100A48", "100A42"),  # lack of labour → safety net, public-welfare post
    "05": ("100A48", "100A45"),  # accident → 临时救助, health
    "06": ("100A39", "100A41"),  # business failure → industry, finance
    "07": ("100A40",),  # unstable employment → employment
    "09": ("100A46", "100A47"),  # schooling → education
    "99": ("100A52",),  # other → social help
}
# Living-condition problems (HouseholdYear flags) → the measure that fixes them.
CONDITION_MEASURES = {
    "housing_unsafe": "100A50",
    "water_unsafe": "100A51",
    "dropout": "100A46",
    "uninsured_member": "100A45",
}
CONDITION_LABELS = {
    "housing_unsafe": "住房安全问题",
    "water_unsafe": "饮水安全问题",
    "dropout": "义务教育阶段失学辍学",
    "uninsured_member": "有成员未参加基本医疗保险",
}


def measures_for_risk(code: str) -> tuple[str, ...]:
    return RISK_MEASURES.get("02" if code.startswith("02") else code, ("100A52",))


@dataclass(frozen=True)
class Household:
    """What the recommender looks at."""

    risk_types: tuple[str, ...] = ()
    labour_capable: bool = False  # at least one member with ordinary or skilled labour
    stable_income: bool = True  # per-capita income at or above the monitoring line
    conditions: frozenset[str] = frozenset()  # keys of CONDITION_MEASURES that hold
    received: frozenset[str] = frozenset()  # measure codes planned, under way or delivered


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    ok: bool
    message: str
    blocking: bool = True  # False: a preference (R3), shown but not required


@dataclass(frozen=True)
class Proposal:
    code: str
    reason: str

    @property
    def name(self) -> str:
        return CATALOGUE[self.code].name


@dataclass
class Recommendation:
    proposals: list[Proposal] = field(default_factory=list)
    checks: list[RuleCheck] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.proposals]


def check_plan(h: Household, codes: Iterable[str]) -> list[RuleCheck]:
    """The rules over a set of measure codes (proposed plus received)."""
    plan = set(codes)
    checks = []
    if h.labour_capable:
        ok = bool(plan & DEVELOPMENT_CODES)
        checks.append(RuleCheck("R1", ok, "有劳动能力：已有开发式帮扶措施（产业或就业）" if ok
                                else "有劳动能力的家庭至少须有一项开发式帮扶措施（产业或就业）"))  # fmt: skip
    if not h.labour_capable and not h.stable_income:
        ok = bool(plan & SAFETY_NET_CODES)
        checks.append(RuleCheck("R2", ok, "无劳动能力且无稳定收入：已考虑低保或特困供养" if ok
                                else "无劳动能力且无稳定收入的家庭须考虑低保或特困供养（综合保障 100A48）"))  # fmt: skip
    risks = {("02" if r.startswith("02") else r) for r in h.risk_types}
    if len(risks) == 1:
        ok = len(plan) <= 1
        checks.append(RuleCheck("R3", ok, "单一风险：单项措施" if ok
                                else "单一风险宜采取单项措施，请确认多项措施确有必要", blocking=False))  # fmt: skip
    for key in sorted(h.conditions):
        code = CONDITION_MEASURES[key]
        ok = code in plan
        checks.append(
            RuleCheck("R4", ok, f"{CONDITION_LABELS[key]}：{'已' if ok else '须'}安排{CATALOGUE[code].name}")
        )
    return checks


def recommend(h: Household) -> Recommendation:
    """Propose what is missing: one measure per risk (two for complex risks), then what the rules require. Codes the
    household already receives are never proposed again."""
    chosen: dict[str, str] = {}

    def add(code: str, reason: str) -> None:
        if code not in h.received and code not in chosen:
            chosen[code] = reason

    risks = list(dict.fromkeys(h.risk_types))
    single = len({("02" if r.startswith("02") else r) for r in risks}) == 1
    for risk in risks:
        options = measures_for_risk(risk)
        if not h.labour_capable and h.stable_income:
            options = tuple(c for c in options if c not in SAFETY_NET_CODES) or options
        for code in options[: 1 if single else 2]:
            add(code, f"风险类型 {risk}")
    for key in sorted(h.conditions):
        add(CONDITION_MEASURES[key], CONDITION_LABELS[key])
    have = set(h.received) | set(chosen)
    if h.labour_capable and not have & DEVELOPMENT_CODES:
        code = "100A39" if any(r == "06" for r in risks) else "100A40"
        add(code, "有劳动能力，须有开发式帮扶")
    if not h.labour_capable and not h.stable_income and not have & SAFETY_NET_CODES:
        add("100A48", "无劳动能力且无稳定收入，考虑低保或特困供养")
    proposals = [Proposal(code, reason) for code, reason in chosen.items()]
    return Recommendation(proposals, check_plan(h, [*h.received, *chosen]))
