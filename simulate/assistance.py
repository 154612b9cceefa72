"""What civil affairs does after shocks, fed back into the income path: new 低保 for households whose income fell
under the 低保 standard (after 2–4 months), 临时救助 after serious shocks, and the 民政 statuses 低保边缘 and
刚性支出困难 (valid 12 months) for households in difficulty that do not get 低保."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import params as P
from .paths import Tests, Trailing
from .shocks import World
from .timeline import KIND, TRANSFER, Events

BENEFITS = ("低保", "特困", "临时救助", "低保边缘", "刚性支出困难")
BENEFIT = {b: i for i, b in enumerate(BENEFITS)}


@dataclass
class Grants:
    household: np.ndarray
    person: np.ndarray
    benefit: np.ndarray  # index into BENEFITS
    day: np.ndarray  # start date
    amount: np.ndarray  # yuan per year (低保, 特困) or once (临时救助); NaN: none
    end: np.ndarray  # datetime64[D], NaT when open-ended

    def __len__(self) -> int:
        return len(self.household)

    @staticmethod
    def concat(parts: list[Grants]) -> Grants:
        return Grants(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Grants)})


def _first(mask: np.ndarray) -> np.ndarray:
    """First column index where a row is true (-1 when never)."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def respond(w: World, events: Events, trailing: Trailing, tests: Tests) -> Grants:
    rng, tl, pop = w.rng, w.tl, w.pop
    n_h = pop.households
    window = slice(tl.first, tl.end)
    on_benefit = w.inc.dibao | w.inc.tekun
    assessed = (trailing.income - trailing.oop) / trailing.size
    under = _first(assessed[:, window] < P.DIBAO_STANDARD)
    under[on_benefit | (assessed[:, tl.first - 1] < P.DIBAO_STANDARD)] = -1
    new = np.flatnonzero((under >= 0) & (rng.random(n_h) < P.NEW_DIBAO_P))
    start = tl.first + under[new] + rng.integers(2, 5, len(new))
    ok = start < tl.end
    new, start = new[ok], start[ok]
    pc = assessed[new, start - 2]
    yearly = np.round(
        np.maximum(P.DIBAO_STANDARD - pc, 0.3 * P.DIBAO_STANDARD) * trailing.size[new, start], -1
    )
    w.ledger.spread(new, start, tl.length, yearly / 12, TRANSFER, 0)
    parts = [_grants(w, new, BENEFIT["低保"], start, yearly)]
    # 临时救助 after serious illness, a severe accident or death, a labourer's death, a damaged house.
    serious = (
        (events.kind == KIND["serious_illness"])
        | ((events.kind == KIND["accident"]) & (events.detail >= 1))
        | (events.kind == KIND["labourer_death"])
        | ((events.kind == KIND["disaster"]) & (events.extra > 0))
    )
    pick = np.flatnonzero(serious & (rng.random(len(events)) < P.TEMP_ASSISTANCE_P))
    h = events.household[pick]
    month = events.month[pick] + rng.integers(1, 4, len(pick))
    amount = np.round(rng.uniform(1000, 5000, len(pick)) * np.where(events.extra[pick] > 0, 2, 1), -2)
    w.ledger.add(h, month, TRANSFER, amount, 0)
    keep = month < tl.end
    parts.append(_grants(w, h[keep], BENEFIT["临时救助"], month[keep], amount[keep]))
    # 民政 statuses for households in difficulty without 低保.
    hard = _first(tests.hardship[:, window])
    hard[tests.hardship[:, tl.first - 1] | on_benefit] = -1
    h = np.flatnonzero((hard >= 0) & (rng.random(n_h) < 0.4))
    month = tl.first + hard[h] + rng.integers(1, 3, len(h))
    keep = month < tl.end
    parts.append(_grants(w, h[keep], BENEFIT["刚性支出困难"], month[keep], None, valid_months=12))
    edge = _first(tests.below[:, window])
    edge[tests.below[:, tl.first - 1] | on_benefit] = -1
    edge[new] = -1
    h = np.flatnonzero((edge >= 0) & (rng.random(n_h) < 0.25))
    month = tl.first + edge[h] + rng.integers(1, 4, len(h))
    keep = month < tl.end
    parts.append(_grants(w, h[keep], BENEFIT["低保边缘"], month[keep], None))
    return Grants.concat(parts)


def _grants(
    w: World, h: np.ndarray, benefit: int, month: np.ndarray, amount: np.ndarray | None, valid_months: int = 0
) -> Grants:
    day = w.tl.random_days(w.rng, month)
    end = np.full(len(h), np.datetime64("NaT"), "datetime64[D]")
    if valid_months:
        end = day + np.timedelta64(valid_months * 30, "D")
    return Grants(
        household=h,
        person=w.pop.first[h],
        benefit=np.full(len(h), benefit),
        day=day,
        amount=np.full(len(h), np.nan) if amount is None else amount.astype(np.float64),
        end=end,
    )


def standing(w: World) -> Grants:
    """低保 and 特困 households already receiving support when the window opens (granted months or years before)."""
    inc, tl = w.inc, w.tl
    parts = []
    for benefit, mask in ((BENEFIT["低保"], inc.dibao), (BENEFIT["特困"], inc.tekun)):
        h = np.flatnonzero(mask)
        back = w.rng.integers(2, 60, len(h))
        g = _grants(w, h, benefit, np.full(len(h), tl.first), np.round(inc.benefit[h], -1))
        g.day = g.day - (back * 30).astype("timedelta64[D]")
        parts.append(g)
    return Grants.concat(parts)
