"""Housing safety appraisals (住建) and village water-supply incidents (水利): the records, and the yearly "three
guarantees + water" flags of the income files that follow from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .shocks import World
from .timeline import KIND, Events

GRADES = ("A", "B", "C", "D")
ROUTINE_GRADE_P = (0.50, 0.35, 0.12, 0.03)
WATER_PROBLEMS = ("停水", "水质不达标", "取水距离远")
WATER_PROBLEM_P = (0.60, 0.25, 0.15)
DROUGHT = next(i for i, d in enumerate(P.DISASTERS) if d[1] == "0203")


@dataclass
class Appraisals:
    household: np.ndarray
    day: np.ndarray
    grade: np.ndarray  # index into GRADES
    cause: np.ndarray  # object array of strings


@dataclass
class WaterIncidents:
    village: np.ndarray
    day: np.ndarray
    problem: np.ndarray  # index into WATER_PROBLEMS
    days: np.ndarray


def appraisals(w: World, events: Events) -> Appraisals:
    """Routine checks (a few per cent of houses a year) and appraisals of houses damaged by disasters."""
    rng, tl, n_h = w.rng, w.tl, w.pop.households
    count = rng.poisson(P.BACKGROUND["housing_check"] * tl.months / 12, n_h)
    h = np.repeat(np.arange(n_h), count)
    day = tl.random_days(rng, rng.integers(tl.first, tl.end, len(h)))
    grade = rng.choice(4, size=len(h), p=ROUTINE_GRADE_P)
    cause = np.full(len(h), "年度排查", dtype=object)
    damaged = np.flatnonzero((events.kind == KIND["disaster"]) & (events.extra > 0))
    d_day = events.day[damaged] + rng.integers(10, 60, len(damaged)).astype("timedelta64[D]")
    names = np.array([d[0] for d in P.DISASTERS], dtype=object)
    return Appraisals(
        household=np.concatenate([h, events.household[damaged]]),
        day=np.concatenate([day, d_day]),
        grade=np.concatenate([grade, np.where(rng.random(len(damaged)) < 0.6, 2, 3)]),
        cause=np.concatenate([cause, names[events.detail[damaged]]]),
    )


def water_incidents(w: World, events: Events) -> WaterIncidents:
    """Routine incidents per village, plus supply cuts in half of the villages a drought struck."""
    rng, tl = w.rng, w.tl
    villages = w.pop.county.villages
    count = rng.poisson(P.BACKGROUND["water_incident"] * tl.months / 12, villages)
    v = np.repeat(np.arange(villages), count)
    day = tl.random_days(rng, rng.integers(tl.first, tl.end, len(v)))
    problem = rng.choice(3, size=len(v), p=WATER_PROBLEM_P)
    days = np.clip(rng.lognormal(np.log(10), 0.9, len(v)), 1, 180).astype(np.int64)
    drought = np.flatnonzero((events.kind == KIND["disaster"]) & (events.detail == DROUGHT))
    pairs = np.stack([w.pop.village[events.household[drought]], events.month[drought]])
    struck = np.unique(pairs, axis=1) if len(drought) else np.zeros((2, 0), np.int64)
    pick = rng.random(struck.shape[1]) < 0.5
    dv, dm = struck[0, pick], struck[1, pick]
    return WaterIncidents(
        village=np.concatenate([v, dv]),
        day=np.concatenate([day, tl.random_days(rng, dm)]),
        problem=np.concatenate([problem, np.zeros(len(dv), np.int64)]),
        days=np.concatenate([days, rng.integers(20, 90, len(dv))]),
    )


def flags(w: World, events: Events, houses: Appraisals, water: WaterIncidents) -> dict[str, np.ndarray]:
    """(households, years) booleans: 住房出现安全问题, 义务教育阶段失学辍学, 饮水出现安全问题."""
    tl, pop, rng = w.tl, w.pop, w.rng
    years = len(tl.years)
    housing = np.zeros((pop.households, years), bool)
    housing[:, 0] = rng.random(pop.households) < 0.004
    bad = houses.grade >= 2
    housing[houses.household[bad], np.clip(tl.month_of(houses.day[bad]) // 12, 0, years - 1)] = True
    dropout = np.zeros((pop.households, years), bool)
    d = events.kind == KIND["dropout"]
    dropout[events.household[d], events.month[d] // 12] = True
    water_flag = np.zeros((pop.county.villages, years), bool)
    serious = (water.days > 30) | (water.problem > 0)  # a cut of more than a month, quality or distance
    water_flag[water.village[serious], np.clip(tl.month_of(water.day[serious]) // 12, 0, years - 1)] = True
    water_h = water_flag[pop.village]
    water_h[:, 0] |= rng.random(pop.households) < 0.005
    return {"housing": housing, "dropout": dropout, "water": water_h}
