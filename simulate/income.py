"""Annual household income by source (INTERCHANGE §2), calibrated to Guizhou.

Targets (see MODEL.md): rural per-capita disposable income in Guizhou 13,707 yuan (2022), growing ~7 % a year
(≈ 15,700 in 2024); former-poor households somewhat below the rural average; a few per cent of households below a
monitoring line of 8,700. Wage income dominates (migrant work out of the province), then farming and livestock,
then transfers (basic pension for the elderly, subsidies, 低保 for the poorest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population

MONTHLY_WAGE = {"out_of_province": 4800.0, "in_province": 4000.0, "in_county": 3000.0}
GROWTH = 0.07
BASE_YEAR = 2024
PENSION_PER_ELDER = 2100.0  # urban-rural residents' basic pension, Guizhou minimum + county top-up, yuan/year
MONITORING_LINE = 8700.0  # 2024 line used for calibration only; the platform reads lines from its data
DIBAO_PER_PERSON = 5100.0  # rural 低保 guarantee line, yuan/person/year (Bijie ≈ 425/month)


@dataclass
class Income:
    wage: np.ndarray
    business: np.ndarray
    property_income: np.ndarray
    transfer: np.ndarray
    business_cost: np.ndarray
    claim: np.ndarray
    out_of_pocket: np.ndarray
    dibao: np.ndarray  # bool: household receives 低保

    @property
    def net(self) -> np.ndarray:
        return self.wage + self.business + self.property_income + self.transfer - self.business_cost


def _per_household(pop: Population, values: np.ndarray) -> np.ndarray:
    return np.bincount(pop.hh, weights=values, minlength=pop.households)


def base_income(pop: Population, rng: np.random.Generator) -> Income:
    """Income of the base year (2024) for every household."""
    wage_level = np.array([MONTHLY_WAGE.get(m, 0.0) for m in pop.migrant.tolist()])
    person_wage = wage_level * pop.work_months * rng.lognormal(-0.06, 0.35, len(pop.hh))
    local = np.isin(pop.labour, ["ordinary", "skilled", "weak"]) & (pop.migrant == "none")
    person_wage += np.where(
        local & (rng.random(len(pop.hh)) < 0.7), rng.lognormal(9.0, 0.4, len(pop.hh)), 0.0
    )
    place = 1.0 - 0.3 * pop.remoteness  # remote villages: lower wages, smaller farms, worse market access
    wage = _per_household(pop, person_wage) * place
    farm = (
        rng.lognormal(9.2, 0.4, pop.households)
        * (0.5 + 0.18 * pop.size)
        * (1.0 - 0.3 * pop.relocation)
        * place
    )
    livestock = (
        np.where(rng.random(pop.households) < 0.45, rng.lognormal(9.2, 0.6, pop.households), 0.0) * place
    )
    business = farm + livestock
    business_cost = business * rng.uniform(0.25, 0.45, pop.households)
    property_ = 150.0 + np.where(
        rng.random(pop.households) < 0.25, rng.lognormal(6.8, 0.5, pop.households), 0.0
    )
    elders = _per_household(pop, (pop.age >= 60).astype(float))
    transfer = (
        elders * PENSION_PER_ELDER + np.where(pop.former_poor, 900.0, 0.0) + 1200.0 + 350.0 * pop.size
    )  # farmland and per-person subsidies
    oop_person = np.select(
        [pop.health == "serious", pop.health == "chronic", pop.health == "disabled"],
        [
            rng.lognormal(9.2, 0.6, len(pop.hh)),
            rng.lognormal(7.2, 0.6, len(pop.hh)),
            rng.lognormal(6.5, 0.5, len(pop.hh)),
        ],
        0.0,
    )
    out_of_pocket = _per_household(pop, oop_person)
    claim = np.where(rng.random(pop.households) < 0.03, rng.lognormal(7.5, 0.8, pop.households), 0.0)
    income = Income(
        wage,
        business,
        property_,
        transfer,
        business_cost,
        claim,
        out_of_pocket,
        np.zeros(pop.households, bool),
    )
    # 低保: households whose income per person is below the guarantee line receive the difference (mostly).
    per_capita = income.net / pop.size
    dibao = (per_capita < DIBAO_PER_PERSON * 1.1) & (rng.random(pop.households) < 0.85)
    income.transfer = income.transfer + np.where(
        dibao, np.maximum(DIBAO_PER_PERSON - per_capita, 600) * pop.size, 0
    )
    income.dibao = dibao
    # Existing assistance (public-welfare posts, consolidated support for former-poor households, relatives'
    # remittances) lifts most low-income households above the monitoring line; about a fifth of them stay below,
    # which reproduces the few per cent below the line reported by monitoring counties.
    per_capita = income.net / pop.size
    low = (per_capita < MONITORING_LINE) & (rng.random(pop.households) < 0.8)
    lift = MONITORING_LINE * rng.uniform(1.02, 1.45, pop.households) - per_capita
    income.wage = income.wage + np.where(low, np.maximum(lift, 0) * pop.size, 0.0)
    return income


def for_year(base: Income, year: int, rng: np.random.Generator) -> Income:
    """Another year's income: the base grown (or shrunk) at the trend rate with household-level noise."""
    factor = (1 + GROWTH) ** (year - BASE_YEAR) * rng.lognormal(0, 0.06, len(base.wage))
    return Income(
        base.wage * factor,
        base.business * factor,
        base.property_income * factor,
        base.transfer,
        base.business_cost * factor,
        base.claim * rng.random(len(base.wage)) * 2,
        base.out_of_pocket * rng.lognormal(0, 0.2, len(base.wage)),
        base.dibao,
    )
