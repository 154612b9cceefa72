"""Probabilistic linkage of department rows that lack a usable ID number (Fellegi–Sunter with Splink on DuckDB).

Rows are compared with registry members on name (exact, same pinyin — homophone typos such as 张伟/张玮 —, or close
pinyin), birth date and village. The model is trained unsupervised on the data itself (u by random sampling, m by
expectation maximisation), so no labelled pairs are needed. For each row the best candidate is taken when its
match probability reaches `upper` and no other candidate reaches `lower`; rows whose best candidate lies between
the thresholds go to clerical review with their candidates; the rest stay unlinked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
from pypinyin import lazy_pinyin

# Splink logs every training step at INFO; the platform reports its own progress.
logging.getLogger("splink").setLevel(logging.WARNING)

PersonRow = tuple[int, str, date | None, str]  # (id, name, birth date, village code)


@dataclass(frozen=True)
class Candidate:
    row_id: int
    member_id: int
    probability: float
    second_probability: float  # the next-best candidate's probability (0 if none)


def pinyin(name: str) -> str:
    return "".join(lazy_pinyin(name or ""))


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: Sequence[PersonRow]) -> None:
    con.execute(
        f"CREATE OR REPLACE TABLE {name} (uid BIGINT, name VARCHAR, name_py VARCHAR, birth_date VARCHAR, "
        "village_code VARCHAR)"
    )
    con.executemany(
        f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)",
        [
            (uid, n or None, pinyin(n) or None, b.isoformat() if b else None, v or None)
            for uid, n, b, v in rows
        ],
    )


def best_candidates(
    rows: Sequence[PersonRow], members: Sequence[PersonRow], *, floor: float = 0.01
) -> list[Candidate]:
    """Score every row against the registry and return each row's best candidate (with the runner-up's score)."""
    if not rows or not members:
        return []
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    _table(con, "feed_rows", rows)
    _table(con, "registry_rows", members)
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=[
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("name"),
                    cll.ExactMatchLevel("name"),
                    cll.ExactMatchLevel("name_py"),
                    cll.JaroWinklerLevel("name_py", 0.88),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("village_code"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("village_code", "birth_date"),
            block_on("name_py", "birth_date"),
            block_on("village_code", "name_py"),
        ],
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(
        [
            db_api.register("feed_rows", dataset_display_name="feed"),
            db_api.register("registry_rows", dataset_display_name="registry"),
        ],
        settings,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("village_code", "birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py"))
    predictions = linker.inference.predict(threshold_match_probability=floor)
    ranked = con.execute(f"""
        SELECT uid_l, uid_r, match_probability,
               coalesce(lead(match_probability) OVER w, 0) AS second,
               row_number() OVER w AS rank
        FROM {predictions.physical_name}
        WINDOW w AS (PARTITION BY uid_l ORDER BY match_probability DESC, uid_r)
    """).fetchall()
    return [
        Candidate(int(row), int(member), float(p), float(s))
        for row, member, p, s, rank in ranked
        if rank == 1
    ]


def decide(candidate: Candidate, *, upper: float, lower: float) -> str:
    """'link', 'review' or 'none' for a row's best candidate under the thresholds."""
    if candidate.probability >= upper and candidate.second_probability < lower:
        return "link"
    if candidate.probability >= lower:
        return "review"
    return "none"
