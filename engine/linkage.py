"""Probabilistic linkage of department rows that lack a usable ID number (Fellegi–Sunter with Splink on DuckDB).

Rows are compared with registry members on name (exact; same pinyin, which catches homophone typos such as
张伟/张玮; one character different, which catches look-alike typos such as 王/玉; close pinyin), birth date (exact
or one day off), sex, village (same village, or same township for rows that carry only the township's code) and, for
IDs that went through Excel as numbers, the surviving first 15 digits. The model is trained unsupervised on the data
itself (the share of matches from near-certain rules, u by random sampling, m by expectation maximisation), so no
labelled pairs are needed.

For each row the best candidate is kept with the runner-up's probability; `decide` turns that into "link" (above
`upper`, and far likelier than the runner-up), "review" (between the thresholds: clerical review) or "none".

Rows are compared in chunks so memory stays bounded on large registries; each chunk is scored with the same trained
model, so chunking changes speed and memory only, never the result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import duckdb
import pyarrow as pa
from pypinyin import lazy_pinyin

# Splink logs every training step at INFO; the platform reports its own progress.
# (splink.internals.splink_logging.enable would turn them back on; nothing here calls it.)
logging.getLogger("splink").setLevel(logging.ERROR)

# (id, name, birth date, sex "male"/"female", 12-digit village code, first 15 digits of a damaged ID)
PersonRow = tuple[int, str | None, date | None, str | None, str | None, str | None]
Progress = Callable[[int, int, str], None]

# Share of department rows assumed to be about someone in the registry, for the deterministic-rule estimate of the
# prior. Only a starting point: the rules below count the matches they find and the prior is scaled from that.
DETERMINISTIC_RECALL = 0.7
CHUNK_ROWS = 250_000
MEMORY_LIMIT = "3GB"  # DuckDB's share; the Arrow inputs and Python objects come on top


@dataclass(frozen=True)
class Candidate:
    row_id: int
    member_id: int
    probability: float
    second_probability: float  # the next-best candidate's probability (0 if none)


@lru_cache(maxsize=1 << 20)
def pinyin(name: str) -> str:
    return "".join(lazy_pinyin(name or ""))


def _arrow(rows: Sequence[PersonRow]) -> pa.Table:
    if not rows:
        uid, name, birth, sex, village, id15 = [], [], [], [], [], []
    else:
        uid, name, birth, sex, village, id15 = (list(col) for col in zip(*rows, strict=True))
    return person_columns(uid, name, birth, sex, village, id15)


def _text(values) -> pa.Array:
    """Strings with "" as NULL."""
    import pyarrow.compute as pc

    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
    array = array.cast(pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def person_columns(uid, name, birth, sex, village, id15) -> pa.Table:
    """The Arrow form `link_tables` takes, from columns (lists or Arrow arrays; birth dates as dates or ISO text):
    pinyin (per distinct name) and township code added, "" as NULL. `id15` is only ever compared for equality
    (blocking), so callers may pass a keyed hash of the first 15 ID characters instead of the characters."""
    import pyarrow.compute as pc

    names, villages = _text(name), _text(village)
    if isinstance(names, pa.ChunkedArray):
        names = names.combine_chunks()
    distinct = pc.unique(names)
    spelled = pa.array([pinyin(n) if n else None for n in distinct.to_pylist()], pa.string())
    births = birth if isinstance(birth, pa.Array | pa.ChunkedArray) else pa.array(birth)
    if not pa.types.is_date32(births.type):
        births = (
            births.cast(pa.date32())
            if len(births) and not pa.types.is_null(births.type)
            else (pa.nulls(len(births), pa.date32()))
        )
    return pa.table(
        {
            "uid": pa.array(uid, pa.int64())
            if not isinstance(uid, pa.Array | pa.ChunkedArray)
            else uid.cast(pa.int64()),
            "name": names,
            "name_py": pc.take(spelled, pc.index_in(names, distinct)),
            "birth_date": births,
            "sex": _text(sex),
            "village_code": villages,
            "township_code": pc.utf8_slice_codeunits(villages, 0, 9),
            "id15": _text(id15),
        }
    )


def _settings(prior: float = 0.0001):  # Splink's default prior, replaced by `LinkageModel._prior`
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        probability_two_random_records_match=prior,
        unique_id_column_name="uid",
        comparisons=[
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("name"),
                    cll.ExactMatchLevel("name"),
                    cll.ExactMatchLevel("name_py"),
                    cll.LevenshteinLevel("name", 1),
                    cll.JaroWinklerLevel("name_py", 0.88),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="birth_date",
                comparison_levels=[
                    cll.NullLevel("birth_date"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.AbsoluteDateDifferenceLevel(
                        "birth_date", input_is_string=False, threshold=1, metric="day"
                    ),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("sex"),
            cl.CustomComparison(
                output_column_name="village_code",
                comparison_levels=[
                    cll.NullLevel("village_code"),
                    cll.ExactMatchLevel("village_code"),
                    cll.ExactMatchLevel("township_code"),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("village_code", "birth_date"),
            block_on("name_py", "birth_date"),
            block_on("village_code", "name_py"),
            block_on("township_code", "name_py"),
            block_on("id15"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


_registry_lock = threading.Lock()
_registry: list = []  # [(weak reference to the members table, DuckDB connection holding it as registry_rows)]


def _registry_connection(members: pa.Table) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with `members` loaded as registry_rows, reused while the same members table is linked
    against again (a multi-feed import links every file against one registry table: it is loaded once)."""
    import weakref

    if _registry and _registry[0][0]() is members:
        return _registry[0][1]
    _release_registry()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # DuckDB would otherwise cache up to 80 % of RAM; beyond the limit it spills to temporary files instead.
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.register("members_arrow", members)
    con.execute("CREATE TABLE registry_rows AS SELECT * FROM members_arrow")
    con.unregister("members_arrow")
    _registry.append((weakref.ref(members, lambda _ref: _release_registry()), con))
    return con


def _release_registry() -> None:
    while _registry:
        _registry.pop()[1].close()


def _clear_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what one linkage left in the shared connection (Splink's tables and views), keeping registry_rows."""
    for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        con.execute(f'DROP VIEW IF EXISTS "{name}"')
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name <> 'registry_rows'"
    ).fetchall():
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


class LinkageModel:
    """A Fellegi–Sunter model trained on (a sample of) the rows to link and the registry, then applied in chunks."""

    def __init__(self, rows: pa.Table, members: pa.Table):
        from splink import block_on

        self.con = _registry_connection(members)
        self.members = len(members)
        sample = (
            rows if len(rows) <= CHUNK_ROWS else rows.take(list(range(0, len(rows), len(rows) // CHUNK_ROWS)))
        )
        linker = self._linker(sample, _settings(self._prior(sample)))
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
        # Each EM pass fixes the comparisons it blocks on and learns the others' m probabilities. A pass whose
        # blocking finds no pair at all (a small file, or rows about people nowhere near the registry) has nothing
        # to learn from: Splink refuses it, and the comparisons keep what the other passes (or the settings' starting
        # values) give them, instead of the whole import failing.
        from splink.internals.exceptions import EMTrainingException

        for fields in (
            ("village_code", "birth_date"),
            ("village_code", "name_py"),
            ("name_py", "birth_date"),
        ):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*fields), estimate_without_term_frequencies=True
                )
            except EMTrainingException:
                continue
        self.settings = linker.misc.save_model_to_json()

    def _prior(self, rows: pa.Table) -> float:
        """The probability that a random row–member pair is a match, from the pairs that agree exactly on name,
        birth date and village (a near-certain rule found DETERMINISTIC_RECALL of the matches): Splink's
        `estimate_probability_two_random_records_match`, counted here so that its edge cases do not stop an
        import. No exact pair at all (a small file, or one about people far from the registry) counts as half a
        pair instead of zero, which Splink cannot score with (log of 0); more exact pairs than the recall allows (a
        handful of rows, all in the registry) caps at one pair in two instead of failing."""
        self.con.register("prior_arrow", rows)
        try:
            observed = self.con.execute(
                "SELECT count(*) FROM prior_arrow f JOIN registry_rows r ON f.name = r.name "
                "AND f.birth_date = r.birth_date AND f.village_code = r.village_code"
            ).fetchall()[0][0]
        finally:
            self.con.unregister("prior_arrow")
        total = max(len(rows) * self.members, 1)
        return min(max(observed, 0.5) / DETERMINISTIC_RECALL / total, 0.5)

    def _linker(self, rows: pa.Table, settings=None):
        from splink import DuckDBAPI, Linker

        self.con.register("feed_arrow", rows)
        self.con.execute("CREATE OR REPLACE TABLE feed_rows AS SELECT * FROM feed_arrow")
        self.con.unregister("feed_arrow")
        db_api = DuckDBAPI(connection=self.con)  # one per linker: table names must be unique within it
        return Linker(
            [
                db_api.register("feed_rows", dataset_display_name="feed"),
                db_api.register("registry_rows", dataset_display_name="registry"),
            ],
            settings or _settings(),
            log_level=None,  # Splink's default turns its INFO chatter on
        )

    def best(self, rows: pa.Table, *, floor: float) -> list[Candidate]:
        linker = self._linker(rows, self.settings)
        predictions = linker.inference.predict(threshold_match_probability=floor)
        ranked = self.con.execute(f"""
            SELECT uid_l, uid_r, match_probability, coalesce(second, 0) FROM (
                SELECT uid_l, uid_r, match_probability,
                       lead(match_probability) OVER w AS second,
                       row_number() OVER w AS rank
                FROM {predictions.physical_name}
                WINDOW w AS (PARTITION BY uid_l ORDER BY match_probability DESC, uid_r)
            ) WHERE rank = 1
        """).fetchall()
        predictions.drop_table_from_database_and_remove_from_cache()
        return [Candidate(int(r), int(m), float(p), float(s)) for r, m, p, s in ranked]


def best_candidates(
    rows: Sequence[PersonRow],
    members: Sequence[PersonRow],
    *,
    floor: float = 0.01,
    chunk_rows: int = CHUNK_ROWS,
    training_rows: Sequence[PersonRow] = (),
    progress: Progress | None = None,
) -> list[Candidate]:
    """Score every row against the registry and return each row's best candidate (with the runner-up's score).

    Rows with no candidate above `floor` are absent from the result. `training_rows` (ids distinct from the rows')
    join the rows for training only: a few new rows are too few to learn the model's parameters from."""
    if not rows or not members:
        return []
    return link_tables(
        _arrow(rows),
        _arrow(members),
        floor=floor,
        chunk_rows=chunk_rows,
        training=_arrow(training_rows) if training_rows else None,
        progress=progress,
    )


def person_table(rows: Sequence[PersonRow]) -> pa.Table:
    """The Arrow form `link_tables` takes (pinyin and township code added)."""
    return _arrow(rows)


def link_tables(
    table: pa.Table,
    members: pa.Table,
    *,
    floor: float = 0.01,
    chunk_rows: int = CHUNK_ROWS,
    training: pa.Table | None = None,
    progress: Progress | None = None,
) -> list[Candidate]:
    """`best_candidates` on Arrow tables made by `person_table` (large inputs skip the Python tuples)."""
    out: list[Candidate] = []
    with _registry_lock:  # one linkage at a time per process: they share the registry's connection
        try:
            model = LinkageModel(
                pa.concat_tables([table, training]) if training is not None else table, members
            )
            for start in range(0, len(table), chunk_rows):
                out += model.best(table.slice(start, chunk_rows), floor=floor)
                if progress is not None:
                    progress(
                        min(start + chunk_rows, len(table)), len(table), "按姓名、出生日期、性别、村匹配"
                    )
        finally:
            _clear_work_tables(_registry_connection(members))
    return out


def best_share(candidate: Candidate) -> float:
    """How much likelier the best candidate is than the runner-up, as the probability that the best is the person
    given that one of the two is: odds₁ / (odds₁ + odds₂). A namesake in the same village (other birth date) keeps
    this near 1; two equally good candidates bring it to ½."""
    p1, p2 = candidate.probability, candidate.second_probability
    if p2 <= 0:
        return 1.0
    if p1 >= 1:
        return 1.0 if p2 < 1 else 0.5
    o1, o2 = p1 / (1 - p1), (p2 / (1 - p2) if p2 < 1 else float("inf"))
    return o1 / (o1 + o2)


def decide(candidate: Candidate, *, upper: float, lower: float) -> str:
    """'link', 'review' or 'none' for a row's best candidate under the thresholds: a link needs the best candidate
    above `upper` both on its own and against the runner-up (`best_share`)."""
    if candidate.probability >= upper and best_share(candidate) >= upper:
        return "link"
    if candidate.probability >= lower:
        return "review"
    return "none"
