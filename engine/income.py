"""Household income formulas (DOMAIN §3), versioned.

家庭纯收入 (net) = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出; per capita = net ÷ household size.
Adjusted income for the inclusion test, default = net + 理赔收入 (claims) − 合规自付支出 (compliant out-of-pocket).
Blank components count as 0 in the sums, but a year with every income component blank has no net income (NULL),
so "not collected" is never mistaken for "earned nothing".

A formula is identified by its version string, stored with every computed row. To change the formula, add a new
version here and make it the default; old rows keep the version that computed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

INCOME_PARTS = ("wage_income", "business_income", "property_income", "transfer_income")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IncomeFigures:
    net_income: Decimal | None
    per_capita_net_income: Decimal | None
    adjusted_income: Decimal | None
    per_capita_adjusted_income: Decimal | None
    formula_version: str


def _d(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def compute_v2024_1(row: dict, household_size: int) -> IncomeFigures:
    """Version 2024.1: the national definition with the default adjusted-income rule."""
    if all(row.get(k) is None for k in INCOME_PARTS):
        return IncomeFigures(None, None, None, None, "2024.1")
    net = sum((_d(row.get(k)) for k in INCOME_PARTS), Decimal(0)) - _d(row.get("business_cost"))
    adjusted = net + _d(row.get("claim_income")) - _d(row.get("compliant_out_of_pocket"))

    def per_capita(x: Decimal) -> Decimal | None:
        return (x / household_size).quantize(CENT, ROUND_HALF_UP) if household_size > 0 else None

    return IncomeFigures(
        net.quantize(CENT), per_capita(net), adjusted.quantize(CENT), per_capita(adjusted), "2024.1"
    )


FORMULAS = {"2024.1": compute_v2024_1}
DEFAULT_FORMULA = "2024.1"


def compute(row: dict, household_size: int, version: str = DEFAULT_FORMULA) -> IncomeFigures:
    """Derived income figures for one household-year under the given formula version."""
    return FORMULAS[version](row, household_size)
