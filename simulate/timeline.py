"""The calendar of a run, and the containers that carry what happens in it.

The timeline runs in whole calendar years from January of the base year (the year before the start) to the December
of the last simulated month; months are timeline indexes. Shocks happen only in the simulated window
[`first`, `first + months`); months before it carry the household's base-year situation. `Events` holds the shocks
(one row each), `Ledger` the money they and the background move: per household, timeline month, income component
and risk type — the monthly income path is a sum over it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

# Ledger components (LIVING: emergency basic-living spending, e.g. repairing a house a disaster damaged).
WAGE, BUSINESS, PROPERTY, TRANSFER, COST, CLAIM, OOP, EDU, REHAB, LIVING = range(10)
COMPONENTS = 10
# Risk types (DOMAIN §7), indexed; index 0 = no risk (background, continuing costs, relief).
RISKS = (
    "",
    "01",
    "0201",
    "0202",
    "0203",
    "0204",
    "0205",
    "0206",
    "0299",
    "03",
    "04",
    "05",
    "06",
    "07",
    "09",
    "99",
)
RISK = {code: i for i, code in enumerate(RISKS)}
KINDS = (
    "serious_illness",
    "chronic_illness",
    "disability",
    "accident",
    "job_loss",
    "business_failure",
    "market",
    "labourer_death",
    "death",
    "disaster",
    "schooling",
    "dropout",
)
KIND = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Timeline:
    base_year: int
    first: int  # timeline index of the first simulated month
    months: int
    length: int

    @classmethod
    def of(cls, start: date, months: int) -> Timeline:
        first = 12 + start.month - 1
        last = first + months - 1
        return cls(start.year - 1, first, months, (last // 12 + 1) * 12)

    @property
    def end(self) -> int:
        """Index after the last simulated month."""
        return self.first + self.months

    @property
    def years(self) -> list[int]:
        return [self.base_year + i for i in range(self.length // 12)]

    def month_start(self, index: int) -> date:
        y, m = divmod(index, 12)
        return date(self.base_year + y, m + 1, 1)

    def starts(self) -> np.ndarray:
        """datetime64[D] of the first day of every timeline month, plus the one after the end."""
        return np.array([np.datetime64(self.month_start(i), "D") for i in range(self.length + 1)])

    def random_days(self, rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
        """A random day inside each given timeline month."""
        starts = self.starts()
        lengths = (starts[1:] - starts[:-1]).astype(np.int64)
        month = np.clip(month, 0, self.length - 1)
        offset = (rng.random(len(month)) * lengths[month]).astype(np.int64)
        return starts[month] + offset.astype("timedelta64[D]")

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Timeline index of each datetime64[D] (may fall outside [0, length))."""
        months = days.astype("datetime64[M]").astype(np.int64)
        return months - (self.base_year - 1970) * 12


@dataclass
class Events:
    kind: np.ndarray
    household: np.ndarray
    person: np.ndarray  # -1: household or village level
    month: np.ndarray  # timeline index
    day: np.ndarray  # datetime64[D]
    risk: np.ndarray
    detail: np.ndarray  # kind-specific code (disease, grade, injury, disaster type, school stage, ...)
    amount: np.ndarray  # kind-specific money (treatment cost, direct loss, school cost, new wage, ...)
    extra: np.ndarray  # kind-specific second value (gap months, loan balance, house damaged, ...)

    @classmethod
    def empty(cls) -> Events:
        return cls.make(0)

    @classmethod
    def make(cls, n: int, **values: object) -> Events:
        base: dict[str, np.ndarray] = {
            "kind": np.zeros(n, np.int64),
            "household": np.zeros(n, np.int64),
            "person": np.full(n, -1, np.int64),
            "month": np.zeros(n, np.int64),
            "day": np.zeros(n, "datetime64[D]"),
            "risk": np.zeros(n, np.int64),
            "detail": np.zeros(n, np.int64),
            "amount": np.zeros(n),
            "extra": np.zeros(n),
        }
        for key, value in values.items():
            base[key] = np.broadcast_to(np.asarray(value), (n,)).astype(base[key].dtype, copy=True)
        return cls(**base)

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: np.ndarray) -> Events:
        return Events(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        return Events(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Events)})


class Ledger:
    """Money per (household, timeline month, component, risk); risk 0 = background. Income components are signed
    (a loss is negative); spending components (COST, OOP, EDU, REHAB, LIVING) are positive amounts spent."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._parts: list[tuple[np.ndarray, ...]] = []

    def add(self, household: np.ndarray, month: object, component: int, amount: object, risk: object) -> None:
        h = np.asarray(household, np.int64)
        m = np.broadcast_to(np.asarray(month, np.int64), h.shape)
        a = np.broadcast_to(np.asarray(amount, np.float64), h.shape)
        r = np.broadcast_to(np.asarray(risk, np.int64), h.shape)
        keep = (m >= 0) & (m < self.length) & (a != 0)
        comp = np.full(int(keep.sum()), component, np.int64)
        self._parts.append((h[keep], m[keep], comp, a[keep], r[keep]))

    def spread(
        self,
        household: np.ndarray,
        start: object,
        duration: object,
        monthly: object,
        component: int,
        risk: object,
    ) -> None:
        """`monthly` in each of `duration` months from `start` (clipped to the timeline)."""
        h = np.asarray(household, np.int64)
        s = np.broadcast_to(np.asarray(start, np.int64), h.shape)
        d = np.clip(np.broadcast_to(np.asarray(duration, np.int64), h.shape), 0, self.length)
        d = np.minimum(d, np.maximum(self.length - s, 0))
        rows = np.repeat(np.arange(len(h)), d)
        offset = np.arange(len(rows)) - np.repeat(np.cumsum(d) - d, d)
        a = np.broadcast_to(np.asarray(monthly, np.float64), h.shape)
        r = np.broadcast_to(np.asarray(risk, np.int64), h.shape)
        self.add(h[rows], s[rows] + offset, component, a[rows], r[rows])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(household, month, component, amount, risk), concatenated."""
        if not self._parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, np.zeros(0), empty
        cols = tuple(np.concatenate([p[i] for p in self._parts]) for i in range(5))
        self._parts = [cols]
        return cols
