"""School stages by school year, schooling costs, new entries (risk 09) and compulsory-age dropouts.

A person's stage in the school year starting in September of year Y follows from the age on 1 September of Y and two
fixed propensities (upper secondary, college): 3–5 preschool (85 %), 6–11 primary, 12–14 junior, 15–17 senior high
or vocational school or none, 18–21 college or none. Costs are paid in September and March, half each. Entering
senior/vocational school (at 15) or college (at 18) inside the simulated window is a schooling shock."""

from __future__ import annotations

from datetime import date

import numpy as np

from . import params as P
from .codes import STU
from .idnumbers import ymd
from .timeline import EDU, KIND, RISK, Events, Ledger, Timeline

COST_BY_STAGE = np.zeros(len(STU))
for _stage, _cost in P.SCHOOL_COST.items():
    COST_BY_STAGE[STU[_stage]] = _cost
ENTRY_AGE = np.full(len(STU), -99)
ENTRY_AGE[[STU["senior"], STU["vocational"], STU["college"]]] = (15, 15, 18)


def stage(age_sept: np.ndarray, u_upper: np.ndarray, u_college: np.ndarray) -> np.ndarray:
    """School stage (STU code) for the age on 1 September of a school year."""
    stu = np.full(len(age_sept), STU["not_student"], np.int64)
    stu[(age_sept >= 3) & (age_sept < 6) & (u_upper < 0.85)] = STU["preschool"]
    stu[(age_sept >= 6) & (age_sept < 12)] = STU["primary"]
    stu[(age_sept >= 12) & (age_sept < 15)] = STU["junior"]
    upper = (age_sept >= 15) & (age_sept < 18)
    senior, vocational = P.SENIOR_ENTRY
    stu[upper & (u_upper < senior)] = STU["senior"]
    stu[upper & (u_upper >= senior) & (u_upper < senior + vocational)] = STU["vocational"]
    stu[(age_sept >= 18) & (age_sept < 22) & (u_college < P.COLLEGE_ENTRY)] = STU["college"]
    return stu


def school_year_of(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def age_on(birth: np.ndarray, day: date) -> np.ndarray:
    return (day.year * 10000 + day.month * 100 + day.day - ymd(birth)) // 10000


def schooling(
    rng: np.random.Generator,
    tl: Timeline,
    hh: np.ndarray,
    birth: np.ndarray,
    school_u: np.ndarray,
    poorest: np.ndarray,
    ledger: Ledger,
) -> Events:
    """Costs of every school year touching the timeline into the ledger; entries and dropouts as events."""
    parts: list[Events] = []
    candidates = np.flatnonzero(age_on(birth, tl.month_start(tl.length - 1)) >= 3)
    young = candidates[age_on(birth[candidates], tl.month_start(0)) <= 22]
    for year in range(tl.base_year - 1, tl.base_year + tl.length // 12):
        sept = (year - tl.base_year) * 12 + 8
        a = age_on(birth[young], date(year, 9, 1))
        st = stage(a, school_u[young, 0], school_u[young, 1])
        cost = COST_BY_STAGE[st]
        entered = ENTRY_AGE[st]
        entry_sept = sept - (a - entered) * 12  # the September this stage began
        in_window = (entered > 0) & (entry_sept >= tl.first) & (entry_sept < tl.end)
        risk = np.where(in_window, RISK["09"], 0)
        for month in (sept, sept + 6):
            ledger.add(hh[young], month, EDU, cost / 2, risk)
        new = in_window & (entry_sept == sept)
        idx = young[new]
        if tl.first <= sept < tl.end and len(idx):
            parts.append(
                Events.make(
                    len(idx),
                    kind=KIND["schooling"],
                    household=hh[idx],
                    person=idx,
                    month=sept,
                    day=np.datetime64(date(year, 9, 1), "D"),
                    risk=RISK["09"],
                    detail=st[new],
                    amount=cost[new],
                )
            )
    parts.append(_dropouts(rng, tl, hh, birth, poorest))
    return Events.concat(parts)


def _dropouts(
    rng: np.random.Generator, tl: Timeline, hh: np.ndarray, birth: np.ndarray, poorest: np.ndarray
) -> Events:
    """Compulsory-age pupils leaving school; 60 % are brought back (劝返) after one to four months."""
    a = age_on(birth, date(school_year_of(tl.month_start(tl.first)), 9, 1))
    pupils = np.flatnonzero((a >= 6) & (a <= 14))
    p = P.DROPOUT * np.where(poorest[hh[pupils]], 4.0, 1.0) * np.where(a[pupils] >= 12, 2.0, 1.0)
    t = rng.geometric(p) - 1
    hit = t < tl.months
    idx, month = pupils[hit], tl.first + t[hit]
    back = np.where(rng.random(len(idx)) < 0.6, rng.integers(1, 5, len(idx)), -1)
    return Events.make(
        len(idx),
        kind=KIND["dropout"],
        household=hh[idx],
        person=idx,
        month=month,
        day=tl.random_days(rng, month),
        risk=RISK["09"],
        detail=np.where(a[idx] >= 12, STU["junior"], STU["primary"]),
        extra=back,
    )
