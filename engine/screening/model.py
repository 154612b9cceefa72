"""The optional learned scorer: a LightGBM model over the catalogue's indicator values that predicts "falls below
the line or into severe hardship within 6 months". Optional and honest: a model file carries its own held-out
comparison with the index (same households, same dates, none of them seen in training), and `screen()` uses it only
when that comparison says it beats the index; otherwise the index grades and the run says why.

Grades with the model: the triggers keep their force (severe ⇒ red, any ⇒ at least yellow); the model's probability
adds red for the highest `red_share` and yellow for the highest `yellow_share` of households, with probability
cut-offs fixed on the training dates. Reasons come from the model's feature contributions (`pred_contrib`), computed
only for red and yellow households and named with the indicator titles of the catalogue.

Building the training table (features at monthly dates, labels from a simulator's truth) is not the engine's job:
see simulate/screening_labels.py and `guardline train_screening_model`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .catalogue import INDICATORS

FEATURES: tuple[str, ...] = tuple(f"v_{i.code}" for i in INDICATORS)
FORMAT = 1
DEFAULT_PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "max_bin": 63,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,  # far faster than 2 on a busy machine; the data are small
    "seed": 1,
    "deterministic": True,
}
DEFAULT_ROUNDS = 200
# Beating the index means: a higher out-of-time AUC by at least this margin and no lower recall at the workload.
AUC_MARGIN = 0.005


def matrix(table: pa.Table, features: Sequence[str] = FEATURES) -> np.ndarray:
    """Feature matrix (float64, NaN for missing) in the model's column order."""
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise ValueError(f"screening model needs columns {missing}")
    if table.num_rows == 0:
        return np.zeros((0, len(features)))
    return np.column_stack(
        [
            np.asarray(table.column(f).cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
            for f in features
        ]
    )


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    pos = int(labels.sum())
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order = scores.argsort(kind="mergesort")
    _, first_idx, counts = np.unique(scores[order], return_index=True, return_counts=True)
    ranks = np.empty(len(scores))
    ranks[order] = np.repeat(first_idx + (counts - 1) / 2.0 + 1, counts)
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def top_share(scores: np.ndarray, dates: Sequence, share: float) -> np.ndarray:
    """Mask of the highest `share` of each date's households (stable tie-break by position)."""
    scores = np.asarray(scores, dtype=float)
    by_date = np.asarray(dates)
    top = np.zeros(len(scores), dtype=bool)
    for d in np.unique(by_date):
        idx = np.flatnonzero(by_date == d)
        k = max(1, round(share * len(idx)))
        top[idx[np.argsort(-scores[idx], kind="stable")[:k]]] = True
    return top


def recall_at(scores: np.ndarray, labels: np.ndarray, dates: Sequence, share: float) -> float:
    labels = np.asarray(labels)
    pos = labels == 1
    return float((top_share(scores, dates, share) & pos).sum() / pos.sum()) if pos.any() else float("nan")


@dataclass
class ScreeningModel:
    booster: object  # lightgbm.Booster
    meta: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return list(self.meta.get("features", FEATURES))

    @property
    def beats_index(self) -> bool:
        return bool(self.meta.get("beats_index", False))

    @property
    def why(self) -> str:
        """One line (Chinese, like every run message) for the run's output: which scorer graded and why."""
        h = self.meta.get("held_out", {})
        m, i = h.get("model", {}), h.get("index", {})
        figures = (
            f"留出数据 AUC：模型 {m.get('auc', float('nan')):.3f}，指数 {i.get('auc', float('nan')):.3f}；"
            f"前{h.get('workload', 0.05):.0%}户召回率：模型 {m.get('recall_at_workload', float('nan')):.3f}，"
            f"指数 {i.get('recall_at_workload', float('nan')):.3f}"
        )
        if self.beats_index:
            return f"使用学习模型 {self.meta.get('name', '')}（{figures}）"
        return f"使用风险指数：学习模型 {self.meta.get('name', '')} 在留出数据上未优于指数（{figures}）"

    def predict(self, table: pa.Table) -> np.ndarray:
        x = matrix(table, self.features)
        if not len(x):
            return np.zeros(0)
        return np.asarray(self.booster.predict(x), dtype=float)  # type: ignore[attr-defined]

    def grade(self, prob: np.ndarray, severe: np.ndarray, hard: np.ndarray) -> np.ndarray:
        cut = self.meta["cutoffs"]
        return np.where(
            severe | (prob >= cut["red"]), "red", np.where(hard | (prob >= cut["yellow"]), "yellow", "green")
        )

    def contributions(self, table: pa.Table, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the indicators that raise the predicted risk most (code, log-odds contribution), largest first.
        Call it with red and yellow households only: it costs far more than predicting."""
        x = matrix(table, self.features)
        if not len(x):
            return []
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True))  # type: ignore[attr-defined]
        codes = [f.removeprefix("v_") for f in self.features]
        out = []
        for row in contrib[:, : len(codes)]:
            order = np.argsort(-row, kind="stable")[:top]
            out.append([(codes[j], round(float(row[j]), 3)) for j in order if row[j] > 0])
        return out

    def save(self, directory: Path | str) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(d / "model.txt"))  # type: ignore[attr-defined]
        (d / "model.json").write_text(json.dumps(self.meta, indent=1, ensure_ascii=False, default=str) + "\n")
        return d

    @classmethod
    def load(cls, directory: Path | str) -> ScreeningModel:
        import lightgbm as lgb

        d = Path(directory)
        meta = json.loads((d / "model.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"screening model {d}: unknown format {meta.get('format')!r}")
        booster = lgb.Booster(model_file=str(d / "model.txt"))
        if list(booster.feature_name()) != list(meta["features"]):
            raise ValueError(f"screening model {d}: features of model.txt and model.json differ")
        return cls(booster, meta)


def train(
    x: np.ndarray,
    y: np.ndarray,
    *,
    params: dict | None = None,
    rounds: int = DEFAULT_ROUNDS,
    features=FEATURES,
):
    import lightgbm as lgb

    data = lgb.Dataset(x, label=np.asarray(y), feature_name=list(features), free_raw_data=True)
    return lgb.train({**DEFAULT_PARAMS, **(params or {})}, data, num_boost_round=rounds)


def fit(
    train_table: pa.Table,
    train_labels: Sequence[int],
    train_dates: Sequence[date],
    test_table: pa.Table,
    test_labels: Sequence[int],
    test_dates: Sequence[date],
    *,
    name: str = "screening",
    workload: float = 0.05,
    red_share: float = 0.01,
    params: dict | None = None,
    rounds: int = DEFAULT_ROUNDS,
    source: dict | None = None,
) -> ScreeningModel:
    """Train on the training table and compare with the index on the held-out table; `test_table` must carry the
    index `score` column. Held-out dates must lie after the training labels' horizon (checked by the caller, who
    knows the horizon; recorded here)."""
    y_train, y_test = np.asarray(train_labels), np.asarray(test_labels)
    if y_train.sum() == 0:
        raise ValueError("no positive label in the training table")
    booster = train(matrix(train_table), y_train, params=params, rounds=rounds)
    model = ScreeningModel(booster, {"format": FORMAT, "name": name, "features": list(FEATURES)})
    p_train = model.predict(train_table)
    cut_red = float(np.mean([np.quantile(p_train[np.asarray(train_dates) == d], 1 - red_share)
                             for d in sorted(set(train_dates))]))  # fmt: skip
    cut_yellow = float(np.mean([np.quantile(p_train[np.asarray(train_dates) == d], 1 - workload)
                                for d in sorted(set(train_dates))]))  # fmt: skip
    p_test = model.predict(test_table)
    index_score = matrix(test_table, ["score"])[:, 0]
    held: dict[str, Any] = {
        "workload": workload,
        "samples": len(y_test),
        "positives": int(y_test.sum()),
        "dates": [str(min(test_dates)), str(max(test_dates))] if len(test_dates) else [],
        "model": {
            "auc": auc(p_test, y_test),
            "recall_at_workload": recall_at(p_test, y_test, test_dates, workload),
        },
        "index": {
            "auc": auc(index_score, y_test),
            "recall_at_workload": recall_at(index_score, y_test, test_dates, workload),
        },
    }
    beats = bool(
        held["model"]["auc"] >= held["index"]["auc"] + AUC_MARGIN
        and held["model"]["recall_at_workload"] >= held["index"]["recall_at_workload"]
    )
    model.meta.update(
        {
            "training": {
                "samples": len(y_train),
                "positives": int(y_train.sum()),
                "dates": [str(min(train_dates)), str(max(train_dates))],
                "rounds": rounds,
                "params": {**DEFAULT_PARAMS, **(params or {})},
                "auc_in_sample": auc(p_train, y_train),
            },
            "held_out": held,
            "beats_index": beats,
            "rule": f"model AUC ≥ index AUC + {AUC_MARGIN} and recall at {workload:.0%} ≥ the index's",
            "cutoffs": {
                "red": cut_red,
                "yellow": cut_yellow,
                "red_share": red_share,
                "yellow_share": workload,
            },
            "source": source or {},
        }
    )
    return model
