"""Person and household shocks in the simulated window, drawn as first-event times from monthly hazards (params.py):
deaths, accidents, new serious or chronic illness, disability, job loss, business failure. Each shock writes its
money effects into the ledger (lost wages or business income, medical bills via `medical.settle`, rehabilitation,
claims) and becomes one event row. Village-level shocks (disasters, market collapses) are in `disasters.py`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .codes import HEALTH, LAB, MIG
from .income import BaseIncome
from .medical import Settlements, level_for, routine_stays, settle
from .population import Population
from .timeline import BUSINESS, CLAIM, KIND, OOP, REHAB, RISK, TRANSFER, WAGE, Events, Ledger, Timeline
from .traits import band

NEVER = np.iinfo(np.int64).max // 4
DISABILITY_CATEGORIES = ("肢体", "视力", "听力", "言语", "智力", "精神", "多重")
DISABILITY_CATEGORY_P = (0.50, 0.12, 0.12, 0.03, 0.08, 0.10, 0.05)
NEW_GRADE_P = (0.15, 0.25, 0.30, 0.30)


@dataclass
class World:
    rng: np.random.Generator
    pop: Population
    inc: BaseIncome
    tl: Timeline
    ledger: Ledger
    names_per_level: np.ndarray
    alive_until: np.ndarray  # per member: timeline month of death (the length of the timeline if alive)

    def first_time(self, candidates: np.ndarray, p: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Members (or households) among `candidates` with an event in the window, and its timeline month."""
        p_arr = np.broadcast_to(np.asarray(p, np.float64), candidates.shape)
        t = self.rng.geometric(np.clip(p_arr, 1e-12, 1.0)) - 1
        hit = t < self.tl.months
        return candidates[hit], self.tl.first + t[hit]

    def alive(self, person: np.ndarray, month: np.ndarray) -> np.ndarray:
        return month <= self.alive_until[person]

    def settle(
        self, person: np.ndarray, day: np.ndarray, total: np.ndarray, level: np.ndarray, risk: int
    ) -> Settlements:
        h = self.pop.hh[person]
        dibao, tekun = self.inc.dibao[h], self.inc.tekun[h]
        reduced = dibao | tekun | self.pop.former_poor[h]
        s = settle(self.rng, person, h, day, total, level, reduced, dibao, tekun, risk, self.names_per_level)
        self.ledger.add(h, self.tl.month_of(day), OOP, s.compliant, s.risk)
        return s

    def lose_wage(
        self,
        person: np.ndarray,
        month: np.ndarray,
        months: np.ndarray | int,
        share: float | np.ndarray,
        risk: int,
    ) -> None:
        monthly = self.inc.person_wage[person] / 12 * share
        self.ledger.spread(self.pop.hh[person], month, months, -monthly, WAGE, risk)


def deaths(w: World) -> Events:
    """Deaths of elders (background) and of labourers (risk 04); accident deaths are drawn with accidents."""
    pop, n = w.pop, w.pop.members
    p = np.select(
        [pop.age >= 90, pop.age >= 80, pop.age >= 70],
        [P.ELDER_DEATH[90], P.ELDER_DEATH[80], P.ELDER_DEATH[70]],
        0.0,
    )
    elder, t_elder = w.first_time(np.flatnonzero(p > 0), p[p > 0])
    able = np.flatnonzero(np.isin(pop.labour, [LAB["ordinary"], LAB["skilled"]]))
    labourer, t_lab = w.first_time(able, P.LABOURER_DEATH)
    when = np.full(n, NEVER)
    np.minimum.at(when, elder, t_elder)
    np.minimum.at(when, labourer, t_lab)
    dead = np.flatnonzero(when < NEVER)
    month = when[dead]
    w.alive_until[dead] = month
    is_lab = np.isin(pop.labour[dead], [LAB["ordinary"], LAB["skilled"]]) & (pop.age[dead] < 70)
    h = pop.hh[dead]
    rest = w.tl.length - month
    w.ledger.spread(h, month + 1, rest, -w.inc.person_transfer[dead] / 12, TRANSFER, 0)
    w.ledger.spread(h, month, rest, -w.inc.person_wage[dead] / 12, WAGE, np.where(is_lab, RISK["04"], 0))
    return Events.make(
        len(dead),
        kind=np.where(is_lab, KIND["labourer_death"], KIND["death"]),
        household=h,
        person=dead,
        month=month,
        day=w.tl.random_days(w.rng, month),
        risk=np.where(is_lab, RISK["04"], 0),
    )


def accidents(w: World) -> tuple[Events, list[Settlements]]:
    pop, rng = w.pop, w.rng
    workers = np.flatnonzero(
        np.isin(pop.labour, [LAB["ordinary"], LAB["skilled"], LAB["weak"]]) & (pop.age < 65)
    )
    person, month = w.first_time(workers, P.ACCIDENT)
    keep = w.alive(person, month)
    person, month = person[keep], month[keep]
    k = len(person)
    injury = rng.choice(3, size=k, p=P.ACCIDENT_INJURY_P)
    day = w.tl.random_days(rng, month)
    cost = np.select(
        [injury == 0, injury == 1],
        [rng.lognormal(np.log(1500), 0.5, k), rng.lognormal(np.log(30000), 0.6, k)],
        rng.lognormal(np.log(8000), 0.8, k),
    )
    treated = (injury < 2) | (rng.random(k) < 0.5)
    settle_day = day + rng.integers(1, 20, k).astype("timedelta64[D]")
    bills = [
        w.settle(
            person[treated], settle_day[treated], cost[treated], level_for(rng, cost[treated]), RISK["05"]
        )
    ]
    off = np.select([injury == 0, injury == 1], [1, rng.integers(6, 13, k)], w.tl.length)
    off = np.where((injury == 1) & (rng.random(k) < 0.2), w.tl.length, off)
    w.lose_wage(person, month, off, 1.0, RISK["05"])
    claim_p = np.select([injury == 1, injury == 2], [0.4, 0.3], 0.0)
    claimed = rng.random(k) < claim_p
    claim = np.where(injury == 2, rng.lognormal(np.log(80000), 0.5, k), cost * rng.uniform(0.3, 0.8, k))
    w.ledger.add(
        pop.hh[person[claimed]],
        month[claimed] + rng.integers(2, 8, int(claimed.sum())),
        CLAIM,
        claim[claimed],
        RISK["05"],
    )
    died = injury == 2
    w.alive_until[person[died]] = np.minimum(w.alive_until[person[died]], month[died])
    w.ledger.spread(
        pop.hh[person[died]],
        month[died] + 1,
        w.tl.length,
        -w.inc.person_transfer[person[died]] / 12,
        TRANSFER,
        0,
    )
    events = Events.make(
        k,
        kind=KIND["accident"],
        household=pop.hh[person],
        person=person,
        month=month,
        day=day,
        risk=RISK["05"],
        detail=injury,
        amount=cost,
    )
    return events, bills


def illness(w: World) -> tuple[Events, list[Settlements]]:
    """New serious illness (bills over the following months, work stops, a carer may come home) and new chronic
    illness (a first stay, then medication every month)."""
    pop, rng, tl = w.pop, w.rng, w.tl
    b = band(pop.age, P.AGE_BANDS)
    healthy_of_serious = np.flatnonzero(pop.health != HEALTH["serious"])
    person, month = w.first_time(healthy_of_serious, np.array(P.NEW_SERIOUS)[b[healthy_of_serious]])
    keep = w.alive(person, month)
    person, month = person[keep], month[keep]
    k = len(person)
    day = tl.random_days(rng, month)
    total = rng.lognormal(np.log(P.SERIOUS_COST_MEDIAN), P.SERIOUS_COST_SIGMA, k)
    stays = rng.integers(2, 7, k)
    row = np.repeat(np.arange(k), stays)
    share = rng.gamma(1.0, 1.0, len(row))
    share /= np.bincount(row, weights=share)[row]
    offset_days = np.where(
        np.arange(len(row)) == np.repeat(np.cumsum(stays) - stays, stays),
        rng.integers(3, 20, len(row)),
        rng.integers(20, 330, len(row)),
    )
    bill_total = total[row] * share
    level = np.where(rng.random(len(row)) < 0.8, np.where(rng.random(len(row)) < 0.5, 3, 2), 1)
    bills = [
        w.settle(person[row], day[row] + offset_days.astype("timedelta64[D]"), bill_total, level, RISK["01"])
    ]
    w.lose_wage(person, month, rng.integers(4, 13, k), 1.0, RISK["01"])
    top = _top_earner(pop, w.inc)[pop.hh[person]]
    carer = (top >= 0) & (top != person) & (w.inc.person_wage[person] == 0) & (rng.random(k) < 0.3)
    w.lose_wage(top[carer], month[carer], rng.integers(3, 7, int(carer.sum())), 0.5, RISK["01"])
    serious = Events.make(
        k,
        kind=KIND["serious_illness"],
        household=pop.hh[person],
        person=person,
        month=month,
        day=day,
        risk=RISK["01"],
        detail=rng.integers(0, 8, k),
        amount=total,
    )
    free = np.flatnonzero(pop.health == HEALTH["healthy"])
    person, month = w.first_time(free, np.array(P.NEW_CHRONIC)[b[free]])
    keep = w.alive(person, month)
    person, month = person[keep], month[keep]
    k = len(person)
    day = tl.random_days(rng, month)
    stay = rng.random(k) < 0.5
    cost = rng.lognormal(np.log(3000), 0.6, k)
    bills.append(
        w.settle(
            person[stay],
            day[stay] + rng.integers(2, 15, int(stay.sum())).astype("timedelta64[D]"),
            cost[stay],
            np.where(rng.random(int(stay.sum())) < 0.4, 0, 1),
            RISK["01"],
        )
    )
    w.ledger.spread(
        pop.hh[person], month + 1, tl.length, rng.uniform(*P.CHRONIC_MEDS_MONTHLY, k), OOP, RISK["01"]
    )
    chronic = Events.make(
        k,
        kind=KIND["chronic_illness"],
        household=pop.hh[person],
        person=person,
        month=month,
        day=day,
        risk=RISK["01"],
        detail=rng.integers(0, 9, k),
        amount=np.where(stay, cost, 0.0),
    )
    return Events.concat([serious, chronic]), bills


def disability(w: World) -> Events:
    pop, rng, tl = w.pop, w.rng, w.tl
    person, month = w.first_time(np.flatnonzero(pop.health != HEALTH["disabled"]), P.NEW_DISABILITY)
    keep = w.alive(person, month)
    person, month = person[keep], month[keep]
    k = len(person)
    grade = rng.choice(4, size=k, p=NEW_GRADE_P) + 1
    share = np.select([grade <= 2, grade == 3], [1.0, 0.5], 0.2)
    w.lose_wage(person, month, tl.length, share, RISK["03"])
    h = pop.hh[person]
    rehab = np.where(grade <= 2, rng.uniform(2000, 6000, k), rng.uniform(500, 2000, k))
    w.ledger.spread(h, month, 12, rehab / 12, REHAB, RISK["03"])
    severe = grade <= 2
    w.ledger.spread(h[severe], month[severe] + 4, tl.length, P.DISABILITY_ALLOWANCE / 12, TRANSFER, 0)
    return Events.make(
        k,
        kind=KIND["disability"],
        household=h,
        person=person,
        month=month,
        day=tl.random_days(rng, month),
        risk=RISK["03"],
        detail=grade,
        extra=rng.choice(len(DISABILITY_CATEGORIES), size=k, p=DISABILITY_CATEGORY_P),
    )


def job_losses(w: World) -> Events:
    """A migrant worker loses the job or comes home; back at work after a gap (mean JOB_GAP_MONTHS)."""
    pop, rng, tl = w.pop, w.rng, w.tl
    migrants = np.flatnonzero((pop.migrant != MIG["none"]) & (pop.work_months > 0))
    person, month = w.first_time(migrants, P.JOB_LOSS)
    keep = w.alive(person, month)
    person, month = person[keep], month[keep]
    k = len(person)
    gap = np.clip(rng.geometric(1 / P.JOB_GAP_MONTHS, k), 1, 12)
    w.lose_wage(person, month, gap, 1.0, RISK["07"])
    new_wage = w.inc.person_monthly[person] * rng.uniform(0.8, 1.1, k)
    return Events.make(
        k,
        kind=KIND["job_loss"],
        household=pop.hh[person],
        person=person,
        month=month,
        day=tl.random_days(rng, month),
        risk=RISK["07"],
        detail=(rng.random(k) < 0.75).astype(np.int64),
        amount=np.round(new_wage, -1),
        extra=gap,
    )


def business_failures(w: World) -> Events:
    """Livestock epidemics, failed projects: most of a year's livestock (or farm) income lost; loans fall overdue."""
    pop, rng, tl, inc = w.pop, w.rng, w.tl, w.inc
    owners = np.flatnonzero(inc.livestock > 0)
    h, month = w.first_time(owners, P.BUSINESS_FAILURE)
    k = len(h)
    loss = inc.livestock[h] * rng.uniform(0.5, 1.0, k)
    w.ledger.spread(h, month, 12, -loss / 12, BUSINESS, RISK["06"])
    balance = np.where(inc.loan[h], np.minimum(rng.lognormal(np.log(30000), 0.4, k), 50000), 0.0)
    return Events.make(
        k,
        kind=KIND["business_failure"],
        household=h,
        person=pop.first[h],
        month=month,
        day=tl.random_days(rng, month),
        risk=RISK["06"],
        amount=loss,
        extra=np.round(balance, -2),
    )


def _top_earner(pop: Population, inc: BaseIncome) -> np.ndarray:
    order = np.lexsort((inc.person_wage, pop.hh))
    top = np.full(pop.households, -1)
    top[pop.hh[order]] = order  # the last (largest wage) per household wins
    return np.where(inc.wage > 0, top, -1)


def background_stays(w: World) -> Settlements:
    person, month, total = routine_stays(w.rng, w.pop.age, w.tl.length, w.alive_until)
    day = w.tl.random_days(w.rng, month)
    return w.settle(person, day, total, level_for(w.rng, total), RISK["01"])
