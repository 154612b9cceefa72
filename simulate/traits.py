"""Member attributes derived from age, sex and cohort: education, health, disability, labour capacity, migrant work
and insurance (rates in params.py, sources in MODEL.md). School stages come from `schooling.stage`."""

from __future__ import annotations

import numpy as np

from . import params as P
from .codes import EDU, HEALTH, LAB, MIG, STU

# Education of adults by age band (18-29, 30-44, 45-59, 60-69, 70+) over
# (illiterate, primary, junior, senior, vocational, college); women of 45+ had far less schooling.
EDU_ORDER = ("illiterate", "primary", "junior", "senior", "vocational", "college")
EDU_BANDS = (30, 45, 60, 70)
EDU_MEN = (
    (0.01, 0.06, 0.38, 0.17, 0.20, 0.18),
    (0.03, 0.25, 0.50, 0.10, 0.07, 0.05),
    (0.06, 0.42, 0.40, 0.08, 0.03, 0.01),
    (0.22, 0.52, 0.21, 0.05, 0.0, 0.0),
    (0.42, 0.44, 0.11, 0.03, 0.0, 0.0),
)
EDU_WOMEN = (
    (0.01, 0.07, 0.38, 0.16, 0.21, 0.17),
    (0.06, 0.32, 0.45, 0.08, 0.05, 0.04),
    (0.20, 0.46, 0.28, 0.04, 0.02, 0.0),
    (0.50, 0.38, 0.10, 0.02, 0.0, 0.0),
    (0.74, 0.21, 0.04, 0.01, 0.0, 0.0),
)


def band(age: np.ndarray, edges: tuple[int, ...]) -> np.ndarray:
    return np.searchsorted(np.array(edges), age, side="right")


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u > cum).sum(axis=1)


def _education(
    rng: np.random.Generator, age: np.ndarray, male: np.ndarray, student: np.ndarray
) -> np.ndarray:
    tables = np.array([EDU_WOMEN, EDU_MEN])
    probs = tables[male.astype(np.int64), band(age, EDU_BANDS)]
    codes = np.array([EDU[e] for e in EDU_ORDER])
    edu = codes[_pick(rng, probs)]
    young = age < 18
    edu[young & (age < 6)] = EDU["preschool"]
    edu[young & (age >= 6) & (age < 12)] = EDU["primary"]
    edu[young & (age >= 12)] = EDU["junior"]
    for stage in ("senior", "vocational", "college"):
        edu[student == STU[stage]] = EDU[stage]
    return edu


def _health(rng: np.random.Generator, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One status per person, in the order of precedence of the registry: 残疾 > 患有大病 > 长期慢性病 > 健康."""
    b = band(age, P.AGE_BANDS)
    n = len(age)
    health = np.full(n, HEALTH["healthy"], np.int64)
    health[rng.random(n) < np.array(P.CHRONIC_P)[b]] = HEALTH["chronic"]
    health[rng.random(n) < np.array(P.SERIOUS_P)[b]] = HEALTH["serious"]
    disabled = rng.random(n) < np.array(P.DISABLED_P)[b]
    health[disabled] = HEALTH["disabled"]
    grade = np.where(disabled, rng.choice(4, n, p=P.DISABILITY_GRADE_P) + 1, 0)
    return health, grade


def labour_capacity(
    rng: np.random.Generator,
    age: np.ndarray,
    student: np.ndarray,
    health: np.ndarray,
    grade: np.ndarray,
    education: np.ndarray,
) -> np.ndarray:
    """无劳动力: children, students, 75+; 丧失劳动力: serious illness or disability grade 1–2; weak: 60+, chronic
    illness, disability grade 3–4; skilled more likely with vocational or higher education."""
    n = len(age)
    u = rng.random(n)
    lab = np.full(n, LAB["ordinary"], np.int64)
    skill_p = P.SKILLED * np.select(
        [np.isin(education, [EDU["vocational"], EDU["college"]]), education == EDU["senior"]], [2.5, 1.3], 1.0
    )
    lab[(age < 60) & (rng.random(n) < skill_p)] = LAB["skilled"]
    lab[(age >= 60) & (u < 0.6)] = LAB["weak"]
    lab[(health == HEALTH["chronic"]) & (u < 0.35)] = LAB["weak"]
    serious = health == HEALTH["serious"]
    lab[serious] = np.where(u[serious] < 0.7, LAB["lost"], LAB["weak"])
    lab[(grade >= 1) & (grade <= 2)] = LAB["lost"]
    lab[grade == 3] = LAB["weak"]
    lab[(grade == 4) & (u < 0.5)] = LAB["weak"]
    lab[(age < 16) | (student != STU["not_student"]) | (age >= 75)] = LAB["none"]
    return lab


def _migrant(
    rng: np.random.Generator, hh: np.ndarray, age: np.ndarray, male: np.ndarray, labour: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Migration is a household strategy: the main labourer (the first able man of 18–50, else the first able
    member) goes out in most households that have one; other able members follow less often."""
    n = len(age)
    able = np.isin(labour, [LAB["ordinary"], LAB["skilled"]]) & (age >= 16) & (age < 60)
    prime = able & male & (age >= 18) & (age <= 50)
    main = np.full(int(hh[-1]) + 1 if n else 0, -1)
    for mask in (able, prime):  # later passes win: prime-age men first
        idx = np.flatnonzero(mask)[::-1]
        main[hh[idx]] = idx
    is_main = np.zeros(n, bool)
    is_main[main[main >= 0]] = True
    goes = np.where(is_main, P.MAIN_MIGRANT, P.OTHER_MIGRANT * np.where(age <= 45, 1.0, 0.5))
    goes = able & (rng.random(n) < goes)
    split = np.array(list(P.MIGRANT_P.values()))
    dest = rng.choice(len(split), size=n, p=split / split.sum())
    mig = np.full(n, MIG["none"], np.int64)
    months = np.zeros(n, np.int64)
    for i, place in enumerate(P.MIGRANT_P):
        mask = goes & (dest == i)
        mig[mask] = MIG[place]
        mean = P.MIGRANT_MONTHS_MEAN[place]
        months[mask] = np.clip(np.rint(rng.normal(mean, 2.2, int(mask.sum()))), 1, 12)
    weak = (labour == LAB["weak"]) & (age < 70) & (rng.random(n) < 0.08)
    mig[weak] = MIG["in_county"]
    months[weak] = np.clip(np.rint(rng.normal(5.0, 2.0, int(weak.sum()))), 1, 12)
    return mig, months


def assign_traits(
    rng: np.random.Generator, hh: np.ndarray, age: np.ndarray, male: np.ndarray, student: np.ndarray
) -> dict[str, np.ndarray]:
    education = _education(rng, age, male, student)
    health, grade = _health(rng, age)
    labour = labour_capacity(rng, age, student, health, grade, education)
    migrant, months = _migrant(rng, hh, age, male, labour)
    insured = rng.random(len(age)) < np.where(age == 0, 0.90, P.INSURED)
    return {
        "education": education,
        "health": health,
        "grade": grade,
        "labour": labour,
        "migrant": migrant,
        "months": months,
        "insured": insured,
    }
