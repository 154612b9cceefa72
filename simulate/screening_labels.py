"""Labelled screening samples from a simulated county: the engine's features at monthly screening dates, each
household labelled from the simulator's ground truth (truth/outcomes.csv) with whether it falls below the line or
into severe hardship in the `horizon` months after the date. Truth only ever becomes a label, never a feature.

The population at date T is every household that was neither below the line nor in hardship before the window
and has not fallen by T. Used by bench/bench_quality.py and `guardline train_screening_model`."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine.screening import screen

HORIZON = 6


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return month_end(d.year + m // 12, m % 12 + 1)


def monthly(first: str, last: str) -> list[date]:
    """Month ends from `first` to `last` (YYYY-MM)."""
    y1, m1 = map(int, first.split("-"))
    y2, m2 = map(int, last.split("-"))
    out, d, end = [], month_end(y1, m1), month_end(y2, m2)
    while d <= end:
        out.append(d)
        d = add_months(d, 1)
    return out


def _month(text: str) -> date | None:
    if not text:
        return None
    y, m = text.split("-")[:2]
    return date(int(y), int(m), 1)


@dataclass
class Outcome:
    household_no: str
    excluded: bool  # below the line or in hardship before the window
    first: date | None  # first month of the fall (1st day)
    below: date | None  # first month below the line


def outcomes(out_dir: Path | str) -> dict[str, Outcome]:
    result = {}
    with open(Path(out_dir) / "truth" / "outcomes.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            result[row["household_no"]] = Outcome(
                row["household_no"],
                row["already_below_line"] == "1" or row["already_hardship"] == "1",
                _month(row["first_month"]) if row["falls"] == "1" else None,
                _month(row["below_line_month"]),
            )
    return result


@dataclass
class Frame:
    """One screening date of one county: the engine's scored table (every feature, indicator value, point,
    trigger flag, score and grade) for every household, which of them are at risk that day (not yet fallen, not
    below the line or in hardship before the window) and their labels (0 for households not at risk)."""

    as_of: date
    scored: pa.Table
    at_risk: np.ndarray  # bool per row
    labels: np.ndarray  # int8 per row

    def risk_rows(self) -> tuple[pa.Table, list[int]]:
        idx = np.flatnonzero(self.at_risk)
        return self.scored.take(pa.array(idx, pa.int64())), self.labels[idx].tolist()


def frames(
    out_dir: Path | str,
    dates: Sequence[date],
    *,
    inputs: dict[str, pa.Table] | None = None,
    horizon: int = HORIZON,
    progress: Callable[[str], None] | None = None,
    **screen_kwargs,
) -> list[Frame]:
    from .screening_inputs import screening_inputs

    truth = outcomes(out_dir)
    inputs = inputs if inputs is not None else screening_inputs(out_dir)
    out = []
    for t in dates:
        started = time.perf_counter()
        result = screen(inputs, t, with_features=True, **screen_kwargs)
        assert result.features is not None
        nos = result.features.column("household_no").to_pylist()
        at_risk = np.zeros(len(nos), dtype=bool)
        labels = np.zeros(len(nos), dtype=np.int8)
        end = add_months(t, horizon)
        for i, no in enumerate(nos):
            o = truth[no]
            if o.excluded or (o.first is not None and o.first <= t):
                continue
            at_risk[i] = True
            labels[i] = int(o.first is not None and t < o.first <= end)
        out.append(Frame(t, result.features, at_risk, labels))
        if progress:
            progress(f"{t}: {int(at_risk.sum()):,} at risk, {int(labels.sum())} fall within {horizon} months, "
                     f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    return out


def concat(frames_: Sequence[Frame]) -> tuple[pa.Table, list[int], list[date]]:
    """Stack the households at risk of every frame into one table, its labels and each row's screening date."""
    parts = [f.risk_rows() for f in frames_]
    tables = [t for t, _ in parts]
    labels = [x for _, lab in parts for x in lab]
    dates = [f.as_of for f, (_, lab) in zip(frames_, parts, strict=True) for _ in lab]
    table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    return table, labels, dates


def train_model(
    train_dir: Path | str,
    test_dir: Path | str,
    train_dates: Sequence[date],
    test_dates: Sequence[date],
    *,
    horizon: int = HORIZON,
    progress: Callable[[str], None] | None = None,
    train_frames: list[Frame] | None = None,
    test_frames: list[Frame] | None = None,
    **fit_kwargs,
):
    """Train the screening model on `train_dir` at `train_dates` and compare it with the index on `test_dir` at
    `test_dates` (another simulated county; dates strictly after the training labels' horizon)."""
    from engine.screening.model import fit

    if min(test_dates) < add_months(max(train_dates), horizon):
        raise ValueError(
            f"held-out dates from {min(test_dates)} overlap the training labels (up to "
            f"{add_months(max(train_dates), horizon)}): the split must be out of time"
        )
    train_frames = train_frames or frames(train_dir, train_dates, horizon=horizon, progress=progress)
    test_frames = test_frames or frames(test_dir, test_dates, horizon=horizon, progress=progress)
    tr, tr_labels, tr_dates = concat(train_frames)
    te, te_labels, te_dates = concat(test_frames)
    return fit(
        tr,
        tr_labels,
        tr_dates,
        te,
        te_labels,
        te_dates,
        source={
            "train": str(train_dir),
            "held_out": str(test_dir),
            "horizon_months": horizon,
            "label": f"falls below the line or into severe hardship within {horizon} months (simulator truth)",
        },
        **fit_kwargs,
    )
