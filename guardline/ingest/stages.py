"""Wall-clock and CPU seconds per stage of the import path, summed over the process (for benchmarks and logs).

    with stage("store"):
        ...
    stage_totals()      # {"store": 12.3, ...}  wall-clock seconds
    stage_cpu_totals()  # {"store": 10.1, ...}  CPU seconds of the whole process (all threads, DuckDB's too)

CPU seconds say what a stage costs when other work shares the machine (wall-clock then includes waiting for a
core). Costs two clock reads per stage entered; imports enter a handful of stages per file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_wall: dict[str, float] = {}
_cpu: dict[str, float] = {}


@contextmanager
def stage(name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _wall[name] = _wall.get(name, 0.0) + time.perf_counter() - wall
        _cpu[name] = _cpu.get(name, 0.0) + time.process_time() - cpu


def stage_totals() -> dict[str, float]:
    return {name: round(seconds, 1) for name, seconds in _wall.items()}


def stage_cpu_totals() -> dict[str, float]:
    return {name: round(seconds, 1) for name, seconds in _cpu.items()}


def stage_reset() -> None:
    _wall.clear()
    _cpu.clear()
