"""Household income by source in the base year (the year before the simulation starts), INTERCHANGE §2.

Structure: wages (migrant work months × monthly wage by destination, the part brought home; local casual work),
farming (grain and cash crops) and livestock (gross, with their costs), property (land rent, dividends of
linkage-fund assets), transfers (basic pension, allowances, subsidies, support from children, 雨露计划, 低保/特困).
Then the policy floor of the transition period (public-welfare posts, classified 低保 …) lifts most households that
would be under the monitoring line. One scalar — the level of wages and business income — is calibrated so that the
mean per-capita net income of the base year equals the Guizhou rural figure (13,707 yuan in 2022, grown 7 % a year);
the scale found is reported as a check of the raw parameters (≈ 1 means they were right)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .codes import HEALTH, LAB, MIG, STU
from .population import Population

GUIZHOU_2022 = 13707.0  # rural per-capita disposable income, Guizhou 2022 (provincial statistical bulletin)


def target_per_capita(year: int) -> float:
    return GUIZHOU_2022 * (1 + P.GROWTH) ** (year - 2022)


def _lognormal_mean1(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, n)


def rng_copy(rng: np.random.Generator) -> np.random.Generator:
    """An independent copy of the generator's state (for calibration passes that must not consume draws)."""
    copy = np.random.default_rng()
    copy.bit_generator.state = rng.bit_generator.state
    return copy


@dataclass
class SafetyNet:
    job_wage: np.ndarray  # per member: assisted job (public-welfare post, 帮扶车间)
    top_up: np.ndarray  # per household: 低保 / 特困 payments and transfers of the policy floor
    benefit: np.ndarray  # per household: the 低保 / 特困 payment alone
    dibao: np.ndarray
    tekun: np.ndarray
    total: np.ndarray  # per household: everything added


@dataclass
class BaseIncome:
    year: int
    wage: np.ndarray  # per household, yuan/year
    business: np.ndarray
    property_income: np.ndarray
    transfer: np.ndarray
    cost: np.ndarray
    claim: np.ndarray
    chronic_oop: np.ndarray  # compliant out-of-pocket per month (chronic medication, known serious illness)
    rehab: np.ndarray  # disability rehabilitation per year (rigid, not medical out-of-pocket)
    person_wage: np.ndarray  # per member, yuan/year counted as household income
    person_monthly: np.ndarray  # per member: gross monthly wage while working (what an employer reports)
    person_transfer: np.ndarray  # per member: pension and allowances that stop at death
    farm: np.ndarray  # per household: gross farming income (grain and cash crops)
    cash: np.ndarray  # per household: gross income of the cash crop
    livestock: np.ndarray  # per household: gross livestock income
    dibao: np.ndarray  # bool per household
    tekun: np.ndarray  # bool per household (single-person 特困 households)
    benefit: np.ndarray  # per household: yearly 低保 / 特困 payment
    loan: np.ndarray  # bool per household: holds a 小额信贷 loan
    scale: float  # calibration factor applied to wages and business income

    @property
    def net(self) -> np.ndarray:
        return self.wage + self.business + self.property_income + self.transfer - self.cost


def _safety_net(
    pop: Population,
    rng: np.random.Generator,
    scale: float,
    raw: np.ndarray,
    fixed: np.ndarray,
    chronic_oop: np.ndarray,
    can_work: np.ndarray,
) -> SafetyNet:
    """The 低保 means test (which, as in Guizhou, leaves pensions and policy subsidies out of the assessed income;
    households without able labour or with a seriously ill or severely disabled member) and 特困 for lone elders;
    then the policy floor: most households that would still be under the monitoring line have been lifted above it
    by measures already in place (a public-welfare post or a 帮扶车间 job for a member who can work; classified 低保,
    eco-ranger or industry subsidies for the others)."""
    n_h = pop.households
    head = pop.first
    assessed = (raw * scale - chronic_oop * 12) / pop.size
    alone_old = (pop.size == 1) & (pop.age[head] >= 60) & (pop.labour[head] != LAB["ordinary"])
    u = rng.random(n_h)
    tekun = alone_old & (assessed < P.DIBAO_STANDARD * 1.5) & (u < 0.6)
    able = np.bincount(pop.hh, weights=np.isin(pop.labour, [LAB["ordinary"], LAB["skilled"]]), minlength=n_h)
    frail = np.bincount(pop.hh, weights=pop.labour == LAB["lost"], minlength=n_h) > 0
    dibao = ~tekun & ((able == 0) | frail) & (assessed < P.DIBAO_STANDARD) & (u < P.DIBAO_TAKE_UP)
    top_up = np.where(dibao, np.maximum(P.DIBAO_STANDARD - assessed, 0.3 * P.DIBAO_STANDARD) * pop.size, 0.0)
    top_up += np.where(tekun, P.TEKUN_FACTOR * P.DIBAO_STANDARD, 0.0)
    benefit = top_up.copy()
    per_capita = (raw * scale + fixed + top_up - chronic_oop * 12) / pop.size
    lifted = (per_capita < P.MONITORING_LINE * P.FLOOR_BAND) & (rng.random(n_h) < P.FLOOR_P)
    lift = (P.MONITORING_LINE * rng.uniform(*P.FLOOR_TO, n_h) - per_capita) * pop.size
    lift = np.where(lifted, np.maximum(lift, 0.0), 0.0)
    candidates = np.flatnonzero(can_work & (pop.age < 65) & (pop.migrant == MIG["none"]) & lifted[pop.hh])
    worker = np.full(n_h, -1)
    worker[pop.hh[candidates][::-1]] = candidates[::-1]
    job_wage = np.zeros(pop.members)
    with_job = worker >= 0
    job_wage[worker[with_job]] = lift[with_job]
    top_up += np.where(with_job, 0.0, lift)
    total = top_up + np.bincount(pop.hh, weights=job_wage, minlength=n_h)
    return SafetyNet(job_wage, top_up, benefit, dibao, tekun, total)


def base_income(pop: Population, rng: np.random.Generator) -> BaseIncome:
    n, n_h = pop.members, pop.households
    hh = pop.hh
    place = 1.0 - 0.3 * pop.remoteness  # remote villages: lower wages, smaller yields, worse market access
    factor = _lognormal_mean1(rng, P.HOUSEHOLD_FACTOR_SIGMA, n_h) * place
    # Wages: gross monthly wage by destination; the household counts what is brought home.
    level, kept = np.zeros(n), np.ones(n)
    for place_name, wage in P.MONTHLY_WAGE.items():
        level[pop.migrant == MIG[place_name]] = wage
        kept[pop.migrant == MIG[place_name]] = P.WAGE_KEPT[place_name]
    monthly = level * _lognormal_mean1(rng, P.WAGE_SIGMA, n) * factor[hh]
    monthly *= np.where(pop.male, 1.0, P.WOMAN_WAGE) * np.where(
        pop.labour == LAB["skilled"], P.SKILL_WAGE, 1.0
    )
    migrant_wage = monthly * pop.work_months * kept
    can_work = np.isin(pop.labour, [LAB["ordinary"], LAB["skilled"], LAB["weak"]]) & (pop.age < 70)
    local = can_work & (pop.migrant == MIG["none"]) & (rng.random(n) < P.LOCAL_WORK_P)
    weak = np.where(pop.labour == LAB["weak"], 0.5, 1.0)
    local_wage = np.where(local, rng.lognormal(np.log(P.LOCAL_WORK_ANNUAL), 0.5, n) * weak, 0.0) * factor[hh]
    person_wage = migrant_wage + local_wage
    monthly = np.where(pop.work_months > 0, monthly, local_wage / 12)
    # Farming needs someone at home: adults who can work and are away less than half the year.
    home = can_work & (pop.work_months < 6)
    home_adults = np.bincount(hh, weights=home, minlength=n_h)
    land = rng.lognormal(np.log(P.LAND_MU_MEDIAN), 0.5, n_h) * np.where(pop.relocated, 0.3, 1.0)
    rented_out = ((home_adults == 0) & (rng.random(n_h) < 0.6)) | (rng.random(n_h) < P.LAND_RENT_P)
    farm = land * P.FARM_GROSS_PER_MU * rng.lognormal(0, 0.3, n_h) * np.sqrt(factor)
    farm *= np.minimum(1.0, 0.4 + 0.4 * home_adults) * np.where(rented_out, 0.3, 1.0)
    farm_cost = farm * rng.uniform(*P.FARM_COST_SHARE, n_h)
    grows = (home_adults > 0) & ~rented_out & (rng.random(n_h) < P.CASH_CROP_P)
    cash = np.where(grows, rng.lognormal(np.log(P.CASH_CROP_GROSS_MEDIAN), 0.6, n_h) * factor, 0.0)
    farm = farm + cash
    farm_cost = farm_cost + cash * P.CASH_CROP_COST_SHARE
    keeps = (home_adults > 0) & (rng.random(n_h) < P.LIVESTOCK_P)
    live_net = np.where(keeps, rng.lognormal(np.log(P.LIVESTOCK_NET_MEDIAN), 0.8, n_h) * factor, 0.0)
    livestock = live_net / (1 - rng.uniform(*P.LIVESTOCK_COST_SHARE, n_h))
    live_cost = livestock - live_net
    # Property.
    rent = np.where(rented_out, land * rng.uniform(200, 600, n_h) * 0.7, 0.0)
    dividend_p = np.where(pop.former_poor, P.DIVIDEND_P_FORMER_POOR, 0.0)
    dividend = np.where(rng.random(n_h) < dividend_p, rng.uniform(200, 800, n_h), 0.0)
    # Transfers that do not depend on income.
    person_transfer = np.where(pop.age >= 60, P.PENSION * rng.uniform(1.0, 1.3, n), 0.0)
    person_transfer += np.where(pop.age >= 80, P.OLD_AGE_ALLOWANCE, 0.0)
    severe = (pop.disability_grade >= 1) & (pop.disability_grade <= 2)
    person_transfer += np.where(severe, P.DISABILITY_ALLOWANCE, 0.0)
    in_vocational = np.isin(pop.student, [STU["vocational"], STU["college"]])
    person_transfer += np.where(in_vocational & pop.former_poor[hh], P.YULU_SUBSIDY, 0.0)
    working_age = np.bincount(hh, weights=(pop.age >= 18) & (pop.age < 60), minlength=n_h)
    elder_alone = (working_age[hh] == 0) & (pop.age >= 60)
    support = np.where(elder_alone, rng.lognormal(np.log(P.ELDER_SUPPORT_MEDIAN), 0.5, n), 0.0)
    eco = np.where(rng.random(n_h) < P.ECO_SUBSIDY_P, rng.uniform(200, 1500, n_h), 0.0)
    fixed_transfer = pop.per_household(person_transfer + support) + land * P.FARMLAND_SUBSIDY_PER_MU + eco
    fixed = rent + dividend + fixed_transfer
    # Health costs (compliant out-of-pocket) and rehabilitation.
    chronic = np.where(pop.health == HEALTH["chronic"], rng.uniform(*P.CHRONIC_MEDS_MONTHLY, n), 0.0)
    serious_draw = rng.lognormal(np.log(P.SERIOUS_ONGOING_MEDIAN), 0.6, n) / 12
    serious = np.where(pop.health == HEALTH["serious"], serious_draw, 0.0)
    chronic_oop = pop.per_household(chronic + serious)
    rehab = np.where(severe, rng.uniform(500, 2500, n), 0.0)
    claim = np.where(rng.random(n_h) < P.CLAIM_BACKGROUND_P, rng.lognormal(np.log(3000), 0.8, n_h), 0.0)
    # Calibrate the level of wages and business income to the provincial mean, allowing for what the safety net
    # and the policy floor add (computed at the previous pass's level, then the level is solved again).
    target = target_per_capita(pop.start.year - 1) * pop.size.sum()
    raw = pop.per_household(person_wage) + farm - farm_cost + livestock - live_cost
    scale = float((target - fixed.sum()) / raw.sum())
    for _ in range(2):
        extra = _safety_net(pop, rng_copy(rng), scale, raw, fixed, chronic_oop, can_work)
        scale = float((target - fixed.sum() - extra.total.sum()) / raw.sum())
    net = _safety_net(pop, rng, scale, raw, fixed, chronic_oop, can_work)
    person_wage = person_wage * scale + net.job_wage
    farm, farm_cost, cash = farm * scale, farm_cost * scale, cash * scale
    livestock, live_cost = livestock * scale, live_cost * scale
    loan_p = np.where(pop.former_poor, P.LOAN_P["former_poor"], P.LOAN_P["general"])
    return BaseIncome(
        year=pop.start.year - 1,
        wage=pop.per_household(person_wage),
        business=farm + livestock,
        property_income=rent + dividend,
        transfer=fixed_transfer + net.top_up,
        cost=farm_cost + live_cost,
        claim=claim,
        chronic_oop=chronic_oop,
        rehab=pop.per_household(rehab),
        person_wage=person_wage,
        person_monthly=monthly * scale + net.job_wage / 12,
        person_transfer=person_transfer,
        farm=farm,
        cash=cash,
        livestock=livestock,
        dibao=net.dibao,
        tekun=net.tekun,
        benefit=net.benefit,
        loan=(rng.random(n_h) < loan_p) & (keeps | (farm > 0)),
        scale=scale,
    )
