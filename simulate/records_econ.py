"""Department rows about houses, water, disasters, jobs, accidents and loans (see `records.py` for the others)."""

from __future__ import annotations

import numpy as np

from . import params as P
from .conditions import GRADES, WATER_PROBLEMS
from .model import Run
from .records import INJURIES, FeedTable, concat, constant, days, of_kind, random_days, table


def housing_appraisal(rng: np.random.Generator, r: Run) -> FeedTable:
    a = r.houses
    source = np.where(a.cause == "年度排查", "routine_check", "disaster").astype(object)
    grade = np.array(GRADES, dtype=object)[a.grade]
    return table(
        rng, r.pop.first[a.household], source, a.day, (5, 30), 鉴定日期=a.day, 鉴定等级=grade, 原因=a.cause
    )


def water_incident(rng: np.random.Generator, r: Run) -> FeedTable:
    w = r.water
    day = w.day + days(rng, 1, 10, len(w.day))
    problem = np.array(WATER_PROBLEMS, dtype=object)[w.problem]
    t = table(
        rng, np.full(len(day), -1), "water", day, (0, 10), 报告日期=day, 问题类型=problem, 持续天数=w.days
    )
    t.village = w.village
    return t


def disaster_loss(rng: np.random.Generator, r: Run) -> FeedTable:
    ev = r.events
    i = of_kind(r, "disaster")
    names = np.array([d[0] for d in P.DISASTERS], dtype=object)
    return table(
        rng,
        ev.person[i],
        "disaster",
        ev.day[i],
        (3, 30),
        灾害日期=ev.day[i],
        灾种=names[ev.detail[i]],
        直接经济损失=ev.amount[i],
    )


def employment_change(rng: np.random.Generator, r: Run) -> FeedTable:
    """Registered unemployment (a quarter of job losses), returns home (60 % of them recorded), back at work with
    the new monthly wage (half recorded), and routine employment registrations of migrant workers."""
    ev, pop = r.events, r.pop
    i = of_kind(r, "job_loss")
    registered = ev.detail[i] == 0
    recorded = i[registered | (rng.random(len(i)) < 0.6)]
    change = np.where(ev.detail[recorded] == 0, "失业登记", "返乡").astype(object)
    day = ev.day[recorded] + days(rng, 10, 60, len(recorded))
    no_wage = np.full(len(recorded), np.nan)
    parts = [
        table(
            rng, ev.person[recorded], "job_loss", day, (5, 30), 变动日期=day, 变动类型=change, 月工资=no_wage
        )
    ]
    back = i[rng.random(len(i)) < 0.5]
    day = ev.day[back] + (ev.extra[back] * 30).astype("timedelta64[D]") + days(rng, 0, 20, len(back))
    job = constant("就业", len(back))
    parts.append(
        table(
            rng,
            ev.person[back],
            "re_employment",
            day,
            (5, 30),
            变动日期=day,
            变动类型=job,
            月工资=ev.amount[back],
        )
    )
    migrants = np.flatnonzero(pop.work_months > 0)
    person = np.repeat(migrants, rng.poisson(P.BACKGROUND["new_job"] * r.tl.months / 12, len(migrants)))
    day = random_days(rng, r, len(person))
    wage = np.round(r.inc.person_monthly[person] * rng.uniform(0.9, 1.15, len(person)), -1)
    job = constant("就业", len(person))
    parts.append(table(rng, person, "registration", day, (5, 30), 变动日期=day, 变动类型=job, 月工资=wage))
    return concat(parts)


def accident(rng: np.random.Generator, r: Run) -> FeedTable:
    ev = r.events
    i = of_kind(r, "accident")
    injury = np.array(INJURIES, dtype=object)[ev.detail[i]]
    return table(rng, ev.person[i], "accident", ev.day[i], (0, 10), 事故日期=ev.day[i], 伤情=injury)


def microcredit(rng: np.random.Generator, r: Run) -> FeedTable:
    """Loans that fell overdue after a business failure, loans falling due and repaid, and a few short delays.
    Reported when the bank's overdue list is extracted (after the due date and the days overdue)."""
    ev, inc, pop = r.events, r.inc, r.pop
    i = of_kind(r, "business_failure")
    i = i[ev.extra[i] > 0]
    due = ev.day[i] + days(rng, 30, 180, len(i))
    overdue = rng.integers(31, 200, len(i))
    t = table(
        rng, ev.person[i], "business_failure", due, (0, 1), 到期日=due, 逾期天数=overdue, 贷款余额=ev.extra[i]
    )
    t.report = due + overdue.astype("timedelta64[D]") + days(rng, 5, 20, len(i))
    parts = [t]
    holders = np.flatnonzero(inc.loan)
    for label, lo, hi in (("loan_due", 0, 1), ("late_payment", 1, 30)):
        h = np.repeat(holders, rng.poisson(P.BACKGROUND[label] * r.tl.months / 12, len(holders)))
        due = random_days(rng, r, len(h))
        late = rng.integers(lo, hi, len(h))
        balance = np.round(np.minimum(rng.lognormal(np.log(30000), 0.4, len(h)), 50000), -2)
        t = table(rng, pop.first[h], label, due, (0, 1), 到期日=due, 逾期天数=late, 贷款余额=balance)
        t.report = due + late.astype("timedelta64[D]") + days(rng, 5, 20, len(h))
        parts.append(t)
    return concat(parts)
