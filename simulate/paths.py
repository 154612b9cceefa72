"""The true monthly income path of every household and the trailing-12-month figures the monitoring rules look at.

Month τ of the timeline: base-year components grown at GROWTH a year with household-year noise, plus everything the
ledger holds for (household, τ). Household size drops after a death. The figures at τ are sums over τ-11..τ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .income import BaseIncome
from .timeline import (
    BUSINESS,
    CLAIM,
    COMPONENTS,
    COST,
    EDU,
    LIVING,
    OOP,
    PROPERTY,
    REHAB,
    TRANSFER,
    WAGE,
    Ledger,
    Timeline,
)


@dataclass
class YearFactors:
    growth: np.ndarray  # (households, years): trend × household-year noise (1 in the base year)
    claim: np.ndarray  # (households, years): background claims


def year_factors(rng: np.random.Generator, inc: BaseIncome, tl: Timeline) -> YearFactors:
    n_h, years = len(inc.wage), len(tl.years)
    trend = (1 + P.GROWTH) ** np.arange(years)
    noise = rng.lognormal(0.0, P.YEAR_NOISE, (n_h, years))
    noise[:, 0] = 1.0
    drawn = rng.lognormal(np.log(3000), 0.8, (n_h, years))
    claim = np.where(rng.random((n_h, years)) < P.CLAIM_BACKGROUND_P, drawn, 0.0)
    claim[:, 0] = inc.claim
    return YearFactors(trend[None, :] * noise, claim)


def yearly(inc: BaseIncome, yf: YearFactors, ledger: Ledger, tl: Timeline) -> np.ndarray:
    """(households, years, components): each year's totals by component (spending positive)."""
    n_h, years = len(inc.wage), len(tl.years)
    h, month, comp, amount, _risk = ledger.arrays()
    key = (h * years + month // 12) * COMPONENTS + comp
    out = np.bincount(key, weights=amount, minlength=n_h * years * COMPONENTS).reshape(n_h, years, COMPONENTS)
    g = yf.growth
    for c, base in (
        (WAGE, inc.wage),
        (BUSINESS, inc.business),
        (PROPERTY, inc.property_income),
        (TRANSFER, inc.transfer),
        (COST, inc.cost),
    ):
        out[:, :, c] += base[:, None] * g
    out[:, :, CLAIM] += yf.claim
    out[:, :, OOP] += inc.chronic_oop[:, None] * 12
    out[:, :, REHAB] += inc.rehab[:, None]
    return out


@dataclass
class Trailing:
    """Trailing-12-month sums at every timeline month τ ≥ 11 (columns: τ; NaN before), per household."""

    income: np.ndarray  # net income + claims
    oop: np.ndarray  # compliant out-of-pocket medical spending
    rigid: np.ndarray  # medical + schooling + rehabilitation + emergency living costs
    size: np.ndarray  # household size at τ


def trailing(
    inc: BaseIncome,
    yf: YearFactors,
    ledger: Ledger,
    tl: Timeline,
    size: np.ndarray,
    deaths: tuple[np.ndarray, np.ndarray],
) -> Trailing:
    n_h, length = len(inc.wage), tl.length
    h, month, comp, amount, _risk = ledger.arrays()
    sign = np.zeros(COMPONENTS)
    sign[[WAGE, BUSINESS, PROPERTY, TRANSFER, CLAIM]] = 1.0
    sign[COST] = -1.0
    income = _monthly(h, month, amount * sign[comp], n_h, length)
    year_of = np.arange(length) // 12
    base_net = inc.wage + inc.business + inc.property_income + inc.transfer - inc.cost
    income += base_net[:, None] * yf.growth[:, year_of] / 12 + yf.claim[:, year_of] / 12
    medical = comp == OOP
    oop = _monthly(h[medical], month[medical], amount[medical], n_h, length) + inc.chronic_oop[:, None]
    other = np.isin(comp, [EDU, REHAB, LIVING])
    rigid = _monthly(h[other], month[other], amount[other], n_h, length) + inc.rehab[:, None] / 12 + oop
    dead_h, dead_month = deaths
    gone = _monthly(dead_h, dead_month + 1, np.ones(len(dead_h)), n_h, length)
    now = np.maximum(size[:, None] - np.cumsum(gone, axis=1), 1)
    return Trailing(_window(income), _window(oop), _window(rigid), now)


def _monthly(h: np.ndarray, month: np.ndarray, amount: np.ndarray, n_h: int, length: int) -> np.ndarray:
    keep = (month >= 0) & (month < length)
    key = h[keep] * length + month[keep]
    return np.bincount(key, weights=amount[keep], minlength=n_h * length).reshape(n_h, length)


def _window(monthly: np.ndarray) -> np.ndarray:
    """Sum over the 12 months ending at each τ (τ < 11: NaN)."""
    total = np.cumsum(monthly, axis=1)
    out = np.full_like(total, np.nan)
    out[:, 11] = total[:, 11]
    out[:, 12:] = total[:, 12:] - total[:, :-12]
    return out


@dataclass
class Tests:
    adjusted_pc: np.ndarray  # (income − compliant out-of-pocket) per person, per τ
    below: np.ndarray  # adjusted per capita under the monitoring line
    hardship: np.ndarray  # rigid expenditure > income, or income − rigid < k × 低保 with a large rigid share


def tests(t: Trailing) -> Tests:
    adjusted = (t.income - t.oop) / t.size
    below = adjusted < P.MONITORING_LINE
    left = (t.income - t.rigid) / t.size
    large = t.rigid >= P.HARDSHIP_RIGID_SHARE * np.maximum(t.income, 1)
    hardship = (t.rigid > np.maximum(t.income, 0)) | ((left < P.HARDSHIP_K * P.DIBAO_STANDARD) & large)
    return Tests(adjusted, below, hardship)
