"""Screening quality on a simulated county, against its ground truth (truth/outcomes.csv).

At each monthly screening date T the population is every household that was neither below the line nor in
hardship before the window and has not fallen by T; a household is positive when it falls (below the line or into
severe hardship, the simulator's definition of DOMAIN §2–3) in the 6 months after T. Methods compared:
rules alone (any trigger), the index (score ranking, grades), and the learned model when given. Reported: recall
and precision of red+yellow, precision of red, recall at a fixed workload (top 5 % by score), AUC of the score,
missed fallers and false alarms per grade, and lead time (days from the first warning of the episode that ends in
the fall to the month the income falls below the line).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return month_end(d.year + m // 12, m % 12 + 1)


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


def outcomes(out_dir: Path) -> dict[str, Outcome]:
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


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half."""
    pos = labels.sum()
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks for ties
    _, first_idx, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first_idx + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def evaluate(samples: list[dict], workload: float = 0.05) -> dict:
    """Samples: dicts with label (0/1), score, grade, rules (bool: any trigger). Pooled over screening dates,
    workload taken per date (the top share of each date's population)."""
    labels = np.array([s["label"] for s in samples], dtype=np.int8)
    scores = np.array([s["score"] for s in samples], dtype=float)
    grades = np.array([s["grade"] for s in samples])
    fired = np.array([s["rules"] for s in samples], dtype=bool)
    dates = np.array([s["as_of"] for s in samples])
    top = np.zeros(len(samples), dtype=bool)
    for d in np.unique(dates):
        idx = np.flatnonzero(dates == d)
        k = max(1, round(workload * len(idx)))
        # stable tie-break by position so that equal scores are not all taken
        chosen = idx[np.argsort(-scores[idx], kind="stable")[:k]]
        top[chosen] = True
    pos = labels == 1
    flagged = grades != "green"
    red = grades == "red"

    def rate(a: np.ndarray, b: np.ndarray) -> float:
        return float(a.sum() / b.sum()) if b.sum() else float("nan")

    per_grade = {
        g: {
            "households": int((grades == g).sum()),
            "fallers": int((pos & (grades == g)).sum()),
            "non_fallers": int((~pos & (grades == g)).sum()),
        }
        for g in ("red", "yellow", "green")
    }
    return {
        "samples": len(samples),
        "positives": int(pos.sum()),
        "base_rate": float(pos.mean()) if len(pos) else float("nan"),
        "flagged_share": float(flagged.mean()),
        "recall_flagged": rate(flagged & pos, pos),
        "precision_flagged": rate(flagged & pos, flagged),
        "red_share": float(red.mean()),
        "precision_red": rate(red & pos, red),
        "recall_red": rate(red & pos, pos),
        "rules_share": float(fired.mean()),
        "recall_rules": rate(fired & pos, pos),
        "precision_rules": rate(fired & pos, fired),
        "recall_at_workload": rate(top & pos, pos),
        "precision_at_workload": rate(top & pos, top),
        "workload": workload,
        "auc": auc(scores, labels),
        "per_grade": per_grade,
    }
