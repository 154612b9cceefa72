"""Wall-clock seconds per stage of the import path, summed over the process (for benchmarks and logs).

    with stage("store"):
        ...
    stage_totals()  # {"store": 12.3, ...}

Costs a perf_counter call per stage entered; imports enter a handful of stages per file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_totals: dict[str, float] = {}


@contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        _totals[name] = _totals.get(name, 0.0) + time.perf_counter() - started


def stage_totals() -> dict[str, float]:
    return {name: round(seconds, 1) for name, seconds in _totals.items()}


def stage_reset() -> None:
    _totals.clear()
