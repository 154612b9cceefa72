"""Month-by-month shocks and the household's true income path.

Each shock has a monthly hazard (per person, per labourer, per village…, see MODEL.md), changes the household's
income and rigid expenditure, and leaves the department records a real department would keep. The ground truth
is whether and when each household's trailing-12-month adjusted income per person falls below the monitoring line,
or its rigid expenditure exceeds its income (severe hardship), and which shocks drove it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from .income import MONITORING_LINE, Income
from .population import Population

# Monthly hazards.
ILLNESS = {
    "young": 0.0006,
    "middle": 0.0018,
    "old": 0.0035,
}  # per person: new serious (30 %) or chronic illness
DISABILITY = 0.00008  # per person
ACCIDENT = 0.0004  # per labourer
JOB_LOSS = 0.005  # per migrant worker
BUSINESS_FAILURE = 0.0012  # per household with livestock or business
LABOURER_DEATH = 0.00015  # per labourer (illness), besides accident deaths
ELDER_DEATH = 0.004  # per person aged 75+ (background deaths)
DISASTER_VILLAGE = 0.004  # per village per month, ×3 from May to September (flood season)
DROPOUT = 0.0004  # per compulsory-age student, ×4 in the poorest fifth of households
DISASTER_TYPES = {
    "0201": ("洪涝", 0.35),
    "0202": ("地质灾害", 0.25),
    "0203": ("干旱", 0.15),
    "0205": ("冰雹", 0.25),
}


@dataclass
class Event:
    month: int  # months since start
    day: date
    kind: (
        str  # illness, disability, schooling, disaster, accident, job_loss, business_failure, death, dropout
    )
    household: int
    person: int | None  # index into the member arrays
    risk: str  # DOMAIN §7 code
    income_loss: float = 0.0  # lost income over the next 12 months, yuan
    rigid: float = 0.0  # rigid expenditure caused (medical, schooling), yuan
    details: dict = field(default_factory=dict)


def month_start(start: date, month: int) -> date:
    y, m = divmod(start.month - 1 + month, 12)
    return date(start.year + y, m + 1, 1)


def _day(rng: np.random.Generator, start: date, month: int) -> date:
    return month_start(start, month) + timedelta(days=int(rng.integers(0, 28)))


def simulate_events(
    pop: Population, income: Income, rng: np.random.Generator, start: date, months: int
) -> list[Event]:
    events: list[Event] = []
    n = len(pop.hh)
    labourer = np.isin(pop.labour, ["ordinary", "skilled"])
    migrant = pop.migrant != "none"
    alive = np.ones(n, bool)
    illness_p = np.where(
        pop.age < 40, ILLNESS["young"], np.where(pop.age < 60, ILLNESS["middle"], ILLNESS["old"])
    )
    head_index = np.cumsum(pop.size) - pop.size
    person_wage = np.zeros(n)
    person_wage[migrant] = 4000.0 * pop.work_months[migrant]
    per_capita = income.net / pop.size
    poor_fifth = per_capita < np.quantile(per_capita, 0.2)
    has_business = income.business > np.median(income.business)
    for month in range(months):
        calendar_month = month_start(start, month).month

        def pick(mask: np.ndarray, p: np.ndarray | float) -> np.ndarray:
            return np.where(mask & alive & (rng.random(n) < p))[0]

        for i in pick(np.ones(n, bool), illness_p):
            serious = rng.random() < 0.3
            cost = float(rng.lognormal(10.2, 0.6) if serious else rng.lognormal(8.2, 0.6))
            loss = person_wage[i] * (0.8 if serious else 0.2) + (6000.0 if labourer[i] and serious else 0.0)
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "illness",
                    int(pop.hh[i]),
                    int(i),
                    "01",
                    loss,
                    cost,
                    {"serious": serious},
                )
            )
        for i in pick(np.ones(n, bool), DISABILITY):
            grade = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.25, 0.3, 0.3]))
            loss = person_wage[i] * (0.9 if grade <= 2 else 0.3)
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "disability",
                    int(pop.hh[i]),
                    int(i),
                    "03",
                    loss,
                    2000.0,
                    {"grade": grade},
                )
            )
        for i in pick(labourer, ACCIDENT):
            injury = str(rng.choice(["轻伤", "重伤", "死亡"], p=[0.6, 0.32, 0.08]))
            loss = {"轻伤": 0.1, "重伤": 0.7, "死亡": 1.0}[injury] * (person_wage[i] + 8000.0)
            cost = {"轻伤": 2000.0, "重伤": float(rng.lognormal(10.0, 0.5)), "死亡": 5000.0}[injury]
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "accident",
                    int(pop.hh[i]),
                    int(i),
                    "05",
                    loss,
                    cost,
                    {"injury": injury},
                )
            )
            if injury == "死亡":
                alive[i] = False
        for i in pick(migrant, JOB_LOSS):
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "job_loss",
                    int(pop.hh[i]),
                    int(i),
                    "07",
                    person_wage[i] * 0.6,
                    0.0,
                    {"change": str(rng.choice(["失业登记", "返乡"]))},
                )
            )
        for h in np.where(has_business & (rng.random(pop.households) < BUSINESS_FAILURE))[0]:
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "business_failure",
                    int(h),
                    int(head_index[h]),
                    "06",
                    float(income.business[h] * 0.7),
                    0.0,
                    {"balance": float(rng.lognormal(10.3, 0.4))},
                )
            )
        for i in pick(labourer, LABOURER_DEATH):
            alive[i] = False
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "death",
                    int(pop.hh[i]),
                    int(i),
                    "04",
                    person_wage[i] + 8000.0,
                    8000.0,
                    {"labourer": True},
                )
            )
        for i in pick(pop.age >= 75, ELDER_DEATH):
            alive[i] = False
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "death",
                    int(pop.hh[i]),
                    int(i),
                    "99",
                    0.0,
                    0.0,
                    {"labourer": False},
                )
            )
        season = 3.0 if 5 <= calendar_month <= 9 else 1.0
        for v in np.where(rng.random(len(pop.villages)) < DISASTER_VILLAGE * season)[0]:
            code = str(rng.choice(list(DISASTER_TYPES), p=[p for _, p in DISASTER_TYPES.values()]))
            in_village = np.where(pop.village == v)[0]
            hit = in_village[rng.random(len(in_village)) < rng.uniform(0.15, 0.5)]
            day = _day(rng, start, month)
            for h in hit:
                loss = float(rng.lognormal(8.8, 0.9))
                events.append(
                    Event(
                        month,
                        day,
                        "disaster",
                        int(h),
                        int(head_index[h]),
                        code,
                        loss,
                        0.0,
                        {"disaster_type": DISASTER_TYPES[code][0], "village": int(v)},
                    )
                )
        if calendar_month == 9:  # new school year: senior school or college costs start
            entering = np.where(
                alive
                & (
                    ((pop.age + month // 12) == 15)
                    | (((pop.age + month // 12) == 18) & (rng.random(n) < 0.3))
                )
            )[0]
            for i in entering:
                cost = 3500.0 if pop.age[i] + month // 12 == 15 else 14000.0
                events.append(
                    Event(
                        month,
                        _day(rng, start, month),
                        "schooling",
                        int(pop.hh[i]),
                        int(i),
                        "09",
                        0.0,
                        cost,
                        {"stage": "高中" if cost < 5000 else "大专及以上"},
                    )
                )
        compulsory = (pop.age + month // 12 >= 6) & (pop.age + month // 12 <= 15)
        for i in pick(compulsory, np.where(poor_fifth[pop.hh], DROPOUT * 4, DROPOUT)):
            events.append(
                Event(
                    month,
                    _day(rng, start, month),
                    "dropout",
                    int(pop.hh[i]),
                    int(i),
                    "09",
                    0.0,
                    0.0,
                    {"stage": "初中" if pop.age[i] >= 12 else "小学"},
                )
            )
    return events


def _rolling12(monthly: np.ndarray) -> np.ndarray:
    """Sum over the trailing 12 months (fewer at the start), per row."""
    total = np.cumsum(monthly, axis=1)
    shifted = np.zeros_like(total)
    shifted[:, 12:] = total[:, :-12]
    return total - shifted


def outcomes(pop: Population, income: Income, events: list[Event], months: int) -> dict[str, np.ndarray]:
    """Ground truth per household: the first month its trailing 12-month adjusted income per person falls below
    the line, or its rigid expenditure exceeds its income (severe hardship); and the risk codes behind it."""
    monthly_net = income.net / 12.0
    monthly_rigid = income.out_of_pocket / 12.0
    loss = np.zeros((pop.households, months))
    rigid = np.zeros((pop.households, months))
    for e in events:
        # A shock's income loss and costs are spread over the 12 months that follow it.
        span = slice(e.month, min(months, e.month + 12))
        width = span.stop - span.start
        loss[e.household, span] += e.income_loss / 12.0
        rigid[e.household, span] += e.rigid / max(width, 1)
    trailing_income = monthly_net[:, None] * 12 - _rolling12(loss)
    shock_rigid = _rolling12(rigid)
    trailing_rigid = monthly_rigid[:, None] * 12 + shock_rigid
    adjusted_pc = (trailing_income - shock_rigid) / pop.size[:, None]
    below = adjusted_pc < MONITORING_LINE
    hardship = trailing_rigid > np.maximum(trailing_income, 0)
    already = (income.net / pop.size) < MONITORING_LINE
    bad = (below | hardship) & ~already[:, None]
    falls = bad.any(axis=1)
    first = np.where(falls, bad.argmax(axis=1), -1)
    drivers = np.full(pop.households, "", dtype=object)
    by_household: dict[int, list[Event]] = {}
    for e in events:
        by_household.setdefault(e.household, []).append(e)
    for h in np.where(falls)[0]:
        codes = sorted(
            {
                e.risk
                for e in by_household.get(int(h), [])
                if first[h] - 12 < e.month <= first[h] and (e.income_loss > 0 or e.rigid > 0)
            }
        )
        drivers[h] = ";".join(codes)
    return {
        "falls": falls,
        "first_month": first,
        "severe": hardship.any(axis=1) & ~already,
        "drivers": drivers,
        "already_below": already,
    }
