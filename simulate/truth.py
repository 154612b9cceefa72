"""Ground truth per household: whether and when it truly falls under the monitoring line or into severe hardship
during the window, and the risk types (DOMAIN §7) that drove it; which households are monitored at the start."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .codes import HEALTH
from .paths import Tests
from .population import Population
from .timeline import CLAIM, EDU, LIVING, OOP, REHAB, RISKS, TRANSFER, Ledger, Timeline

MAX_RISKS = 5  # the national form records up to five risk types
DRIVER_SHARE = 0.15  # a risk type drives a fall when it carries at least this share of the shock burden


@dataclass
class Truth:
    already_below: np.ndarray
    already_hardship: np.ndarray
    below_month: np.ndarray  # timeline index, -1: never (or already at the start)
    hardship_month: np.ndarray
    falls_month: np.ndarray
    start_pc: np.ndarray  # adjusted per-capita income over the 12 months before the start
    min_pc: np.ndarray  # lowest adjusted per-capita income in the window
    end_pc: np.ndarray
    drivers: np.ndarray  # object: "01;0205" …
    category: np.ndarray  # object: monitored-object category at the start, "" when not monitored

    @property
    def falls(self) -> np.ndarray:
        return self.falls_month >= 0


def _first(mask: np.ndarray, offset: int) -> np.ndarray:
    return np.where(mask.any(axis=1), mask.argmax(axis=1) + offset, -1)


def outcomes(rng: np.random.Generator, pop: Population, tl: Timeline, tests: Tests, ledger: Ledger) -> Truth:
    t0, window = tl.first - 1, slice(tl.first, tl.end)
    already_below, already_hardship = tests.below[:, t0], tests.hardship[:, t0]
    below = _first(tests.below[:, window] & ~already_below[:, None], tl.first)
    hardship = _first(tests.hardship[:, window] & ~already_hardship[:, None], tl.first)
    clean = ~already_below & ~already_hardship
    either = np.where(below < 0, hardship, np.where(hardship < 0, below, np.minimum(below, hardship)))
    falls = np.where(clean, either, -1)
    adjusted = tests.adjusted_pc
    return Truth(
        already_below=already_below,
        already_hardship=already_hardship,
        below_month=below,
        hardship_month=hardship,
        falls_month=falls,
        start_pc=adjusted[:, t0],
        min_pc=np.nanmin(adjusted[:, window], axis=1),
        end_pc=adjusted[:, tl.end - 1],
        drivers=drivers(ledger, falls, pop.households),
        category=_monitored(rng, pop, already_below, already_hardship, adjusted[:, t0]),
    )


def drivers(ledger: Ledger, falls: np.ndarray, n_h: int) -> np.ndarray:
    """Risk types whose losses and costs in the 12 months up to the fall carry ≥ DRIVER_SHARE of the burden
    (largest first, at most five; "99" when no shock explains the fall: income fluctuation)."""
    out = np.full(n_h, "", dtype=object)
    fallen = np.flatnonzero(falls >= 0)
    if not len(fallen):
        return out
    h, month, comp, amount, risk = ledger.arrays()
    f = falls[h]
    spend = np.isin(comp, [OOP, EDU, REHAB, LIVING])
    relief = np.isin(comp, [CLAIM, TRANSFER])
    burden = np.where(spend, np.maximum(amount, 0), np.where(relief, 0, np.maximum(-amount, 0)))
    keep = (f >= 0) & (risk > 0) & (month <= f) & (month > f - 12) & (burden > 0)
    slot = np.full(n_h, -1)
    slot[fallen] = np.arange(len(fallen))
    r = len(RISKS)
    key = slot[h[keep]] * r + risk[keep]
    table = np.bincount(key, weights=burden[keep], minlength=len(fallen) * r).reshape(-1, r)
    share = table / np.maximum(table.sum(axis=1, keepdims=True), 1e-9)
    order = np.argsort(-share, axis=1, kind="stable")[:, :MAX_RISKS]
    codes = np.array(RISKS, dtype=object)
    for i, row in enumerate(order.tolist()):
        chosen = [codes[c] for c in row if share[i, c] >= DRIVER_SHARE]
        out[fallen[i]] = ";".join(chosen) if chosen else "99"
    return out


def _monitored(
    rng: np.random.Generator, pop: Population, below: np.ndarray, hardship: np.ndarray, pc: np.ndarray
) -> np.ndarray:
    """Households already identified when the window opens: many of those under the line, some in hardship, and a
    few near the line with a seriously ill or disabled member whose risk is not yet eliminated."""
    n_h = pop.households
    ill = np.isin(pop.health, [HEALTH["serious"], HEALTH["disabled"]])
    sick = np.bincount(pop.hh, weights=ill, minlength=n_h) > 0
    u = rng.random(n_h)
    near = ~below & (pc < P.MONITORING_LINE * 1.25) & sick & (u < P.MONITORED_NEAR)
    chosen = (below & (u < P.MONITORED_BELOW)) | near
    sudden = ~below & hardship & (u < 0.5)
    category = np.full(n_h, "", dtype=object)
    typical = np.where(pop.former_poor, "脱贫不稳定户", "边缘易致贫户")
    category[chosen] = typical[chosen]
    category[sudden] = "突发严重困难户"
    return category
