"""Village-level shocks: natural disasters by season (hail, floods, landslides, spring drought by township, ice
storms, crop pests) and market collapses of a village's cash crop. Each hits a share of the households of the
village; crop and livestock losses reduce business income over the next 12 months, damaged houses become unsafe and
cost the household its share of the repairs, and some households get relief money (救灾款) or a crop-insurance
claim."""

from __future__ import annotations

import numpy as np

from . import params as P
from .shocks import World
from .timeline import BUSINESS, CLAIM, KIND, LIVING, RISK, TRANSFER, Events


def _village_ranges(w: World) -> tuple[np.ndarray, np.ndarray]:
    v = np.arange(w.pop.county.villages)
    return np.searchsorted(w.pop.village, v), np.searchsorted(w.pop.village, v, side="right")


def disasters(w: World) -> Events:
    pop, rng, tl = w.pop, w.rng, w.tl
    lo, hi = _village_ranges(w)
    codes = pop.county.village_codes
    township = np.unique(np.array([c[:9] for c in codes.tolist()]), return_inverse=True)[1]
    parts: list[Events] = []
    for index, (_name, risk, season, hazard, hit_range, crop_range, house_p) in enumerate(P.DISASTERS):
        for month in range(tl.first, tl.end):
            if tl.month_start(month).month not in season:
                continue
            if risk == "0203":  # drought strikes whole townships
                struck = np.flatnonzero(rng.random(township.max() + 1) < hazard)
                villages = np.flatnonzero(np.isin(township, struck))
            else:
                villages = np.flatnonzero(rng.random(len(codes)) < hazard)
            day = tl.random_days(rng, np.array([month]))[0]
            for v in villages.tolist():
                h = np.arange(lo[v], hi[v])
                h = h[rng.random(len(h)) < rng.uniform(*hit_range)]
                if len(h):
                    parts.append(_hit(w, h, month, day, index, risk, crop_range, house_p))
    return Events.concat(parts) if parts else Events.empty()


def _hit(
    w: World,
    h: np.ndarray,
    month: int,
    day: np.datetime64,
    index: int,
    risk: str,
    crop_range: tuple[float, float],
    house_p: float,
) -> Events:
    rng, inc = w.rng, w.inc
    k = len(h)
    crop = inc.farm[h] * rng.uniform(*crop_range, k)
    animals = np.where(rng.random(k) < 0.4, inc.livestock[h] * rng.uniform(0.3, 0.8, k), 0.0)
    house = rng.random(k) < house_p
    house_loss = np.where(house, rng.lognormal(np.log(20000), 0.7, k), 0.0)
    r = RISK[risk]
    w.ledger.spread(h, month, 12, -(crop + animals) / 12, BUSINESS, r)
    # Repairs the household pays itself after relief and the dangerous-house renovation grant.
    own_share = house_loss[house] * rng.uniform(0.3, 0.7, int(house.sum()))
    w.ledger.spread(h[house], month + 1, 6, own_share / 6, LIVING, r)
    relief = rng.random(k) < np.where(house, 0.8, P.DISASTER_RELIEF_P)
    amount = np.where(house, rng.uniform(5000, 20000, k), rng.uniform(500, 3000, k))
    w.ledger.add(h[relief], month + rng.integers(1, 3, int(relief.sum())), TRANSFER, amount[relief], 0)
    insured = rng.random(k) < P.CROP_INSURANCE_P
    w.ledger.add(h[insured], month + rng.integers(2, 5, int(insured.sum())), CLAIM, 0.3 * crop[insured], 0)
    return Events.make(
        k,
        kind=KIND["disaster"],
        household=h,
        person=w.pop.first[h],
        month=month,
        day=day,
        risk=r,
        detail=index,
        amount=np.round(crop + animals + house_loss, -1),
        extra=house.astype(np.float64),
    )


def market_collapses(w: World) -> Events:
    """The price of a village's main cash crop collapses (tobacco, apples, chillies, potatoes for sale): growers
    lose 30–60 % of that crop's income."""
    pop, rng, tl, inc = w.pop, w.rng, w.tl, w.inc
    lo, hi = _village_ranges(w)
    parts: list[Events] = []
    for month in range(tl.first, tl.end):
        for v in np.flatnonzero(rng.random(pop.county.villages) < P.MARKET_SHOCK_VILLAGE).tolist():
            h = np.arange(lo[v], hi[v])
            h = h[(inc.cash[h] > 0) & (rng.random(len(h)) < 0.7)]
            if not len(h):
                continue
            loss = inc.cash[h] * rng.uniform(0.3, 0.6, len(h))
            w.ledger.spread(h, month, 12, -loss / 12, BUSINESS, RISK["06"])
            parts.append(
                Events.make(
                    len(h),
                    kind=KIND["market"],
                    household=h,
                    person=pop.first[h],
                    month=month,
                    day=tl.random_days(rng, np.array([month]))[0],
                    risk=RISK["06"],
                    amount=np.round(loss, -1),
                )
            )
    return Events.concat(parts) if parts else Events.empty()
