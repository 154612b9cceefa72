"""Hospital stays and their settlements under the "three guarantees" (basic insurance, critical-illness insurance,
medical assistance): the source of both the 医保 feed and the household's compliant out-of-pocket spending.

Reimbursement by hospital level (township health centre, county, city, province): policy-scope share of the bill,
deductible, basic-fund rate — approximately Guizhou's 2024 residents' insurance. Critical-illness insurance pays 60 %
of the compliant remainder above 10,000 yuan (5,000 for 低保/特困 and former-poor people); medical assistance pays 70 %
of what is left for 低保 and 100 % for 特困 households. 个人自付 in the feed is everything the patient paid; only the
in-scope part counts as 合规自付 for the household's income test."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import params as P
from .places import County
from .traits import band

LEVEL_SCOPE = np.array([0.95, 0.90, 0.85, 0.80])
LEVEL_DEDUCTIBLE = np.array([100.0, 400.0, 800.0, 1200.0])
LEVEL_FUND = np.array([0.88, 0.80, 0.65, 0.55])
CRITICAL_THRESHOLD = (10000.0, 5000.0)  # others; low-income and former-poor people
CRITICAL_RATE = 0.60


def hospitals(county: County) -> list[list[str]]:
    """Hospital names per level: township (the household's own 卫生院), county, city, province."""
    short, city = county.short_name, county.city_name
    province = [f"{county.province_name}人民医院"]
    if county.code.startswith("52"):
        province = ["贵州医科大学附属医院", "贵州省人民医院", "昆明医科大学第一附属医院"]
    return [
        ["卫生院"],
        [f"{short}人民医院", f"{short}中医院", f"{short}第二人民医院"],
        [f"{city}第一人民医院", f"{city}中医院"] if city else [f"{short}人民医院"],
        province,
    ]


@dataclass
class Settlements:
    person: np.ndarray
    household: np.ndarray
    day: np.ndarray  # settlement (discharge) date, datetime64[D]
    level: np.ndarray
    hospital: np.ndarray  # index into the level's list
    total: np.ndarray
    fund: np.ndarray
    critical: np.ndarray
    assistance: np.ndarray
    personal: np.ndarray  # everything the patient paid
    compliant: np.ndarray  # the in-scope part of it
    risk: np.ndarray  # ledger risk index

    def __len__(self) -> int:
        return len(self.person)

    @staticmethod
    def concat(parts: list[Settlements]) -> Settlements:
        return Settlements(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Settlements)}
        )


def settle(
    rng: np.random.Generator,
    person: np.ndarray,
    household: np.ndarray,
    day: np.ndarray,
    total: np.ndarray,
    level: np.ndarray,
    reduced: np.ndarray,
    dibao: np.ndarray,
    tekun: np.ndarray,
    risk: int,
    names_per_level: np.ndarray,
) -> Settlements:
    """Split each bill between the three guarantees and the patient."""
    n = len(person)
    scope = total * LEVEL_SCOPE[level] * rng.uniform(0.95, 1.0, n)
    fund = np.maximum(scope - LEVEL_DEDUCTIBLE[level], 0.0) * LEVEL_FUND[level]
    remainder = scope - fund
    threshold = np.where(reduced, CRITICAL_THRESHOLD[1], CRITICAL_THRESHOLD[0])
    critical = np.maximum(remainder - threshold, 0.0) * CRITICAL_RATE
    remainder -= critical
    assistance = np.where(tekun, remainder, np.where(dibao, 0.7 * remainder, 0.0))
    compliant = remainder - assistance
    personal = total - fund - critical - assistance
    hospital = (rng.random(n) * names_per_level[level]).astype(np.int64)
    return Settlements(
        person=np.asarray(person, np.int64),
        household=np.asarray(household, np.int64),
        day=day,
        level=level,
        hospital=hospital,
        total=np.round(total, 2),
        fund=np.round(fund, 2),
        critical=np.round(critical, 2),
        assistance=np.round(assistance, 2),
        personal=np.round(personal, 2),
        compliant=np.round(compliant, 2),
        risk=np.full(n, risk, np.int64),
    )


def level_for(rng: np.random.Generator, total: np.ndarray) -> np.ndarray:
    """Cheap stays happen in township centres and the county hospital; expensive ones in the city or province."""
    u = rng.random(len(total))
    return np.select(
        [total < 2500, total < 8000, total < 30000],
        [np.where(u < 0.6, 0, 1), np.where(u < 0.8, 1, 2), np.where(u < 0.6, 2, 3)],
        np.where(u < 0.3, 2, 3),
    )


def routine_stays(
    rng: np.random.Generator, age: np.ndarray, length: int, alive_until: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Routine hospital stays over the whole timeline: (person, timeline month, total cost)."""
    rate = np.array(P.HOSPITAL_YEARLY)[band(age, P.AGE_BANDS)] * length / 12
    person = np.repeat(np.arange(len(age)), rng.poisson(rate))
    month = rng.integers(0, length, len(person))
    keep = month <= alive_until[person]
    person, month = person[keep], month[keep]
    total = rng.lognormal(np.log(P.HOSPITAL_COST_MEDIAN), P.HOSPITAL_COST_SIGMA, len(person))
    return person, month, total
