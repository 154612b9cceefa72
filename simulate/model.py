"""Runs the model end to end in memory: population → base income → shocks → civil-affairs responses → income paths
→ ground truth. Writing the files is `county.py`'s job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from . import params as P
from .assistance import Grants, respond, standing
from .conditions import Appraisals, WaterIncidents, appraisals, flags, water_incidents
from .disasters import disasters, market_collapses
from .income import BaseIncome, base_income
from .medical import Settlements, hospitals
from .paths import Tests, Trailing, tests, trailing, year_factors, yearly
from .places import County
from .population import Population, generate
from .schooling import schooling
from .shocks import (
    World,
    accidents,
    background_stays,
    business_failures,
    deaths,
    disability,
    illness,
    job_losses,
)
from .timeline import KIND, Events, Ledger, Timeline
from .truth import Truth, outcomes

STREAMS = ("population", "income", "shocks", "paths", "assistance", "truth", "feeds", "quirks")


@dataclass
class Run:
    pop: Population
    inc: BaseIncome
    tl: Timeline
    events: Events
    settlements: Settlements
    grants: Grants
    houses: Appraisals
    water: WaterIncidents
    yearly: np.ndarray  # (households, years, components)
    flags: dict[str, np.ndarray]
    trailing: Trailing
    tests: Tests
    truth: Truth
    hospital_names: list[list[str]]


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per stage, all from the seed (a change in one stage leaves the others' draws)."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}


def run(
    county: County,
    households: int,
    seed: int,
    start: date,
    months: int,
    say: Callable[[str], None] = lambda stage: None,
) -> Run:
    rngs = streams(seed)
    tl = Timeline.of(start, months)
    say("population")
    pop = generate(rngs["population"], county, households, start)
    say("income")
    inc = base_income(pop, rngs["income"])
    say("shocks")
    names = hospitals(county)
    ledger = Ledger(tl.length)
    per_level = np.array([len(n) for n in names])
    w = World(rngs["shocks"], pop, inc, tl, ledger, per_level, np.full(pop.members, tl.length))
    parts = [deaths(w)]
    accident_events, bills = accidents(w)
    illness_events, illness_bills = illness(w)
    parts += [accident_events, illness_events, disability(w), job_losses(w), business_failures(w)]
    parts += [disasters(w), market_collapses(w)]
    per_capita = inc.net / pop.size
    poorest = per_capita < np.quantile(per_capita, 0.2)
    parts.append(schooling(w.rng, tl, pop.hh, pop.birth, pop.school_u, poorest, ledger))
    events = Events.concat(parts)
    events = events.take(np.lexsort((events.person, events.household, events.kind, events.day)))
    settlements = Settlements.concat([*bills, *illness_bills, background_stays(w)])
    say("paths")
    yf = year_factors(rngs["paths"], inc, tl)
    dead = np.flatnonzero(w.alive_until < tl.length)
    death_at = (pop.hh[dead], w.alive_until[dead])
    first_pass = trailing(inc, yf, ledger, tl, pop.size, death_at)
    say("assistance")
    w.rng = rngs["assistance"]
    grants = Grants.concat([standing(w), respond(w, events, first_pass, tests(first_pass))])
    del first_pass
    houses = appraisals(w, events)
    water = water_incidents(w, events)
    final = trailing(inc, yf, ledger, tl, pop.size, death_at)
    final_tests = tests(final)
    say("truth")
    truth = outcomes(rngs["truth"], pop, tl, final_tests, ledger)
    return Run(
        pop=pop,
        inc=inc,
        tl=tl,
        events=events,
        settlements=settlements,
        grants=grants,
        houses=houses,
        water=water,
        yearly=yearly(inc, yf, ledger, tl),
        flags=flags(w, events, houses, water),
        trailing=final,
        tests=final_tests,
        truth=truth,
        hospital_names=names,
    )


def measured(r: Run) -> dict[str, object]:
    """Rates the run actually produced, to compare with MODEL.md."""
    pop, truth, tl = r.pop, r.truth, r.tl
    y = r.yearly
    per_capita = {}
    for i, year in enumerate(tl.years):
        total = y[:, i, 0] + y[:, i, 1] + y[:, i, 2] + y[:, i, 3] - y[:, i, 4]
        per_capita[str(year)] = round(float(total.sum() / pop.size.sum()))
    fp, base = pop.former_poor, r.inc.net
    falls = truth.falls
    fallen = truth.drivers[falls].tolist()

    def share(prefixes: tuple[str, ...]) -> float:
        if not fallen:
            return 0.0
        return round(float(np.mean([any(c.startswith(prefixes) for c in d.split(";")) for d in fallen])), 3)

    members = pop.members
    return {
        "households": pop.households,
        "members": members,
        "mean_household_size": round(float(pop.size.mean()), 2),
        "former_poor_share": round(float(fp.mean()), 3),
        "monitored_share": round(float((truth.category != "").mean()), 3),
        "share_chronic": round(float((pop.health == 1).mean()), 3),
        "share_serious_illness": round(float((pop.health == 2).mean()), 3),
        "share_disabled": round(float((pop.disability_grade > 0).mean()), 3),
        "share_insured": round(float(pop.insured.mean()), 3),
        "share_migrant_workers": round(float((pop.work_months > 0).mean()), 3),
        "wage_level_calibration": round(r.inc.scale, 3),
        "per_capita_net_income": per_capita,
        "former_poor_per_capita_base_year": round(float(base[fp].sum() / max(pop.size[fp].sum(), 1))),
        "general_per_capita_base_year": round(float(base[~fp].sum() / max(pop.size[~fp].sum(), 1))),
        "dibao_share": round(float(r.inc.dibao.mean()), 3),
        "monitoring_line": P.MONITORING_LINE,
        "share_below_line_at_start": round(float(truth.already_below.mean()), 3),
        "share_hardship_at_start": round(float((truth.already_hardship & ~truth.already_below).mean()), 3),
        "share_falling_in_window": round(float(falls.mean()), 3),
        "share_falling_below_line": round(float((falls & (truth.below_month >= 0)).mean()), 3),
        "driver_share_illness": share(("01",)),
        "driver_share_disaster_or_market": share(("02", "06")),
        "driver_share_schooling": share(("09",)),
        "driver_share_disability": share(("03",)),
        "driver_share_accident": share(("05",)),
        "driver_share_employment": share(("07",)),
        "driver_share_labour": share(("04",)),
        "events": {k: int((r.events.kind == i).sum()) for k, i in KIND.items()},
    }
