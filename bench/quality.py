"""Screening quality on simulated counties, against their ground truth (truth/outcomes.csv).

At each monthly screening date T the population is every household that was neither below the line nor in
hardship before the window and has not fallen by T; a household is positive when it falls (below the line or into
severe hardship, the simulator's definition of DOMAIN §2–3) in the 6 months after T (simulate/screening_labels.py).
Methods compared on the same held-out households and dates: rules alone (severe trigger ⇒ red, any trigger ⇒
yellow; ranked by severity and number of triggers), the index (score ranking, grades) and the learned model.
Reported: recall and precision of red+yellow, precision of red, recall at a fixed workload (top 5 % by score per
date), AUC of the score, missed fallers and false alarms per grade, and lead time (days from the first warning of
the unbroken monthly run of warnings that reaches the fall to the first day of the month the income falls below
the line).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from engine.screening.model import auc, top_share
from simulate.screening_labels import Outcome, add_months, month_end, outcomes

__all__ = ["TOP_SHARES", "Outcome", "add_months", "auc", "evaluate", "lead_times", "month_end", "outcomes"]


TOP_SHARES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


def evaluate(
    labels: Sequence[int],
    scores: Sequence[float],
    grades: Sequence[str],
    dates: Sequence,
    workload: float = 0.05,
) -> dict:
    """Pooled over screening dates; the workload is taken per date (the top share of each date's population)."""
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=float)
    g = np.asarray(grades)
    top = top_share(s, dates, workload)
    pos = y == 1
    flagged = g != "green"
    red = g == "red"

    def rate(a: np.ndarray, b: np.ndarray) -> float:
        return float(a.sum() / b.sum()) if b.sum() else float("nan")

    per_grade = {
        k: {
            "households": int((g == k).sum()),
            "fallers": int((pos & (g == k)).sum()),
            "false_alarms" if k != "green" else "non_fallers": int((~pos & (g == k)).sum()),
        }
        for k in ("red", "yellow", "green")
    }
    return {
        "samples": len(y),
        "positives": int(pos.sum()),
        "base_rate": float(pos.mean()) if len(y) else float("nan"),
        "flagged_share": float(flagged.mean()),
        "recall_flagged": rate(flagged & pos, pos),
        "precision_flagged": rate(flagged & pos, flagged),
        "red_share": float(red.mean()),
        "precision_red": rate(red & pos, red),
        "recall_red": rate(red & pos, pos),
        "recall_at_workload": rate(top & pos, pos),
        "precision_at_workload": rate(top & pos, top),
        "workload": workload,
        # How far the ranking itself can go: precision and recall of the top share of each date's population
        # (a red grade given to that share alone could be no more precise than this).
        "at_top": {
            share: {"precision": rate(t & pos, t), "recall": rate(t & pos, pos)}
            for share in TOP_SHARES
            for t in [top_share(s, dates, share)]
        },
        "auc": auc(s, y),
        "missed_fallers": int((pos & ~flagged).sum()),
        "false_alarms": {
            "red": per_grade["red"]["false_alarms"],
            "yellow": per_grade["yellow"]["false_alarms"],
        },
        "per_grade": per_grade,
    }


def lead_times(truth: dict[str, Outcome], flagged_at: dict[str, set[date]], dates: list[date]) -> list[int]:
    """Days from the first warning of the unbroken run of monthly warnings that reaches the fall to the first day
    of the month the income falls below the line; households without a warning in the month before are not counted
    here (they are missed)."""
    out = []
    for no, o in truth.items():
        if o.excluded or o.below is None or o.below <= dates[0]:
            continue
        flagged = flagged_at.get(no, set())
        before = [d for d in dates if d < o.below]
        if not before or before[-1] not in flagged:
            continue
        start = before[-1]
        for d in reversed(before):
            if d not in flagged:
                break
            start = d
        out.append((o.below - start).days)
    return out
