"""One screening pass: input tables in, a grade for every household and the details of every red and yellow one
out. The SQL does the grading for all households; explanations (reasons, risk types, sources, first-signal
dates) are put into words only for the households that get a warning, so explaining never dominates run time."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from string import Formatter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import steps
from .backends import DuckDBBackend, SparkBackend
from .backends import backend as make_backend
from .catalogue import INDICATORS, default_weights
from .explain import DIGESTS_SCHEMA, digests, explain_table, fingerprint
from .model import ScreeningModel
from .params import PARAM_NAMES, Override, resolve
from .rules import DEFAULT_RULES, Rule, compiled

# What no later step reads once a step has run (see engine.screening.steps): the inputs and the intermediate
# tables are each a province wide; freeing them as soon as they are done keeps the peak down.
RELEASED_AFTER = {
    "pr_feat": ["p_feat", "dropouts", "members"],
    "v_feat": ["events"],
    "i_feat": ["household_years"],
    # `features` is a view over these: they live until `scored` has read it.
    "scored": ["features", "households", "m_feat", "e_feat", "pr_feat", "v_feat", "i_feat"],
}

SCHEMAS: dict[str, pa.Schema] = {
    "households": pa.schema(
        [
            ("household_id", pa.int64()),
            ("household_no", pa.string()),
            ("village_code", pa.string()),
            ("household_type", pa.string()),
            ("monitor_category", pa.string()),
            ("no_labour_household", pa.bool_()),
            ("relocation_site", pa.bool_()),
        ]
    ),
    "members": pa.schema(
        [
            ("member_id", pa.int64()),
            ("household_id", pa.int64()),
            ("is_active", pa.bool_()),
            ("birth_date", pa.date32()),
            ("education", pa.string()),
            ("student_status", pa.string()),
            ("health", pa.string()),
            ("disability_grade", pa.int32()),
            ("labour_capacity", pa.string()),
            ("work_months", pa.int32()),
            ("basic_medical_insured", pa.bool_()),
        ]
    ),
    "household_years": pa.schema(
        [
            ("household_id", pa.int64()),
            ("year", pa.int32()),
            *[
                (c, pa.float64())
                for c in (
                    "wage_income",
                    "business_income",
                    "property_income",
                    "transfer_income",
                    "business_cost",
                    "claim_income",
                    "compliant_out_of_pocket",
                )
            ],
            *[(c, pa.bool_()) for c in ("housing_unsafe", "dropout", "water_unsafe", "uninsured_member")],
            ("household_size", pa.int32()),
        ]
    ),
    "events": pa.schema(
        [
            ("feed", pa.string()),
            ("household_id", pa.int64()),
            ("member_id", pa.int64()),
            ("village_code", pa.string()),
            ("event_date", pa.date32()),
            ("received_date", pa.date32()),
            ("amount", pa.float64()),
            ("kind", pa.string()),
        ]
    ),
}


def conform(name: str, table: pa.Table) -> pa.Table:
    """Select and cast the columns the engine reads; a missing column is a clear error."""
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"screening input {name} lacks columns {missing}")
    return pa.table({f.name: table.column(f.name).cast(f.type) for f in schema})


@dataclass
class WarningOut:
    household_id: int
    household_no: str
    village_code: str
    grade: str
    score: float
    risk_types: list[str]
    reasons: list[str]
    sources: list[str]
    first_signal_date: date
    rules: list[str]
    points: list[tuple[str, float]]  # (indicator code, points), largest first
    index_score: float | None = None  # the index, also when the model graded
    contributions: list[tuple[str, float]] = field(default_factory=list)  # model: (indicator code, log-odds)


@dataclass
class ScreenResult:
    """What a pass found: every household's grade, and the warnings of the red and yellow ones.

    `warning_table` (explain.WARNINGS_SCHEMA: one row per red or yellow household not in `kept`, in household
    order) is explained on first use when `screen(explain_later=True)` left it to do — in whichever thread asks
    first, so that a caller can explain in one thread while it writes the grades in another."""

    as_of: date
    grades: pa.Table  # household_id, household_no, village_code, score, grade, fired_rules
    explaining: Callable[[], pa.Table] = field(repr=False)  # gives the warning table (once)
    timings: dict[str, float] = field(default_factory=dict)
    features: pa.Table | None = None  # every feature, value, share and point (with_features=True)
    scorer: str = "index"  # "index" or "model": what graded beyond the triggers
    scorer_note: str = ""  # why (a model that does not beat the index is not used, and this says so)
    # household_id, digest: red or yellow households whose open warning `known` held exactly (not explained again)
    kept: pa.Table = field(default_factory=DIGESTS_SCHEMA.empty_table)
    _table: pa.Table | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def warning_table(self) -> pa.Table:
        with self._lock:
            if self._table is None:
                t = time.perf_counter()
                self._table = self.explaining()
                self.explaining = _explained  # drops the details the closure held
                self.timings["explain"] = time.perf_counter() - t
                self.timings["total"] = self.timings.get("total", 0.0) + self.timings["explain"]
            return self._table

    @cached_property
    def warnings(self) -> list[WarningOut]:
        """The warnings as objects (built on first use: a province's set-based write-back reads the table)."""
        return warnings_from_table(self.warning_table)

    def counts(self) -> dict[str, int]:
        out = {"red": 0, "yellow": 0, "green": 0}
        for g in self.grades.column("grade").to_pylist():
            out[g] += 1
        return out


def screen(
    inputs: Mapping[str, Any],
    as_of: date,
    *,
    overrides: Iterable[Override] = (),
    rules: Sequence[Rule] = DEFAULT_RULES,
    backend: str | DuckDBBackend | SparkBackend = "duckdb",
    income_year: int | None = None,
    with_features: bool = False,
    progress: Callable[[str], None] | None = None,
    model: ScreeningModel | None = None,
    consume: bool = False,
    known: pa.Table | None = None,
    explain_later: bool = False,
) -> ScreenResult:
    """Grade every household of `inputs` as of `as_of` (see engine.screening.steps for the input tables).

    With a `model` whose held-out comparison says it beats the index, the model's probability (× 100) is the score
    and sets the grades beyond the triggers; otherwise the index does, and `scorer_note` says why.

    `inputs` are Arrow tables; with a SparkBackend they may also be Spark DataFrames (e.g. read from Parquet on a
    cluster by engine.screening.spark_job), which never pass through this process. With `consume`, the input
    tables are taken out of the `inputs` dict as soon as no step needs them, so that a caller handing over a
    province's tables does not keep them alive through grading and explaining.

    `known` (household_id, digest) are the open warnings as stored: a red or yellow household whose explanation's
    inputs hash to its stored digest (explain.digests) is not explained again but listed in `kept` — on a daily
    re-run, most of them. With `explain_later`, the warnings are explained when ScreenResult.warning_table is
    first read, not before this returns."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    runner = make_backend(backend) if isinstance(backend, str) else backend
    window = steps.Window.at(as_of, income_year)
    compiled_rules = compiled(list(rules))
    try:
        for name in SCHEMAS:
            table = inputs[name]
            if isinstance(table, pa.Table):
                runner.load(name, conform(name, table))
            elif isinstance(runner, SparkBackend):
                runner.load_frame(name, table, SCHEMAS[name])
            else:
                raise TypeError(
                    f"screening input {name}: an Arrow table, or a Spark DataFrame with backend=spark"
                )
        if isinstance(inputs["households"], pa.Table):
            villages = set(inputs["households"].column("village_code").to_pylist())
        else:
            villages = set(runner.query("SELECT DISTINCT village_code FROM households").column(0).to_pylist())
        runner.load("params", resolve(villages, overrides, as_of.year, default_weights()))
        timings["load"] = time.perf_counter() - t0
        # `scored` keeps only what is read after it: everything for the full feature table; the features, values
        # and points a model scores and explains; or, graded by the index, what the explanation reads.
        by_model = model is not None and model.beats_index
        wide = steps.wide_columns(_explained_params(list(rules)))
        keep = (
            None if with_features else wide if by_model else [*_explained_columns(wide, list(rules)), "score"]
        )
        for table, sql in steps.sequence(window, compiled_rules, keep):
            t = time.perf_counter()
            if progress:
                progress(table)
            runner.run(table, sql)
            if table in RELEASED_AFTER:
                runner.drop(RELEASED_AFTER[table])
                if consume and isinstance(inputs, dict):
                    for name in RELEASED_AFTER[table]:
                        inputs.pop(name, None)
            timings[table] = time.perf_counter() - t
        scorer, note, src, score, grade = "index", "", "scored", "score", "grade"
        if model is not None:
            note = model.why
            if by_model:
                t = time.perf_counter()
                _model_scores(runner, model, list(rules))
                timings["model"] = time.perf_counter() - t
                scorer, score, grade = "model", "m.model_score", "m.model_grade"
                src = "scored JOIN model_scores AS m USING (household_id)"
        t = time.perf_counter()
        grades = runner.query(
            f"SELECT household_id, household_no, village_code, {score} AS score, {grade} AS grade, fired_rules, "
            f"scored.score AS index_score FROM {src} ORDER BY household_id"
        )
        # (In this order: the digests hash the rows with their schema.)
        detail_columns = [
            *wide[:3], f"{score} AS score", f"{grade} AS grade", "fired_rules", "scored.score AS index_score",
            *[c for c in wide[3:] if c != "score"],
        ]  # fmt: skip
        if scorer != "model":  # the model's contributions read its features; the index explains from fewer
            detail_columns = _explained_columns(detail_columns, list(rules))
        details = runner.query(
            f"SELECT {', '.join(detail_columns)} FROM {src} WHERE {grade} <> 'green' ORDER BY household_id"
        )
        features = (
            runner.query(
                f"SELECT scored.*{', m.model_score, m.model_grade' if scorer == 'model' else ''} FROM {src} "
                "ORDER BY household_id"
            )
            if with_features
            else None
        )
        timings["fetch"] = time.perf_counter() - t
        t = time.perf_counter()
        scorer_id = json.dumps(model.meta, sort_keys=True, default=str) if scorer == "model" and model else ""
        fp = fingerprint(list(rules), details.schema, scorer == "model", scorer_id)
        hashed = digests(details, fp, known)
        details = details.append_column("digest", hashed.column("digest"))
        same = hashed.column("known")
        kept = details.filter(same).select(["household_id", "digest"])
        details = details.filter(pc.invert(same))
        del hashed, same
        timings["digest"] = time.perf_counter() - t
        explaining = _explaining(details, list(rules), as_of, model if scorer == "model" else None)
        del details
    finally:
        runner.close()
    timings["total"] = time.perf_counter() - t0
    result = ScreenResult(
        as_of=as_of,
        grades=grades,
        explaining=explaining,
        timings=timings,
        features=features,
        scorer=scorer,
        scorer_note=note,
        kept=kept,
    )
    if not explain_later:
        result.warning_table  # noqa: B018 (explained now)
    return result


def grade_variants(
    inputs: Mapping[str, pa.Table],
    as_of: date,
    variants: Sequence[tuple[Iterable[Override], Sequence[Rule]]],
    *,
    income_year: int | None = None,
    model: ScreeningModel | None = None,
) -> list[pa.Table]:
    """Grade the same households under several sets of (overrides, rules) — a policy what-if, a rule's trial —
    computing their features once: only the `scored` step (the parameters join there) and the model's scoring run
    per variant. One table per variant with the columns of ScreenResult.grades, in household order; grades, scores
    and triggers equal `screen`'s with the same overrides, rules and `model` (which grades only when it beats the
    index, as there). Nothing is explained."""
    runner = DuckDBBackend()
    window = steps.Window.at(as_of, income_year)
    scoring = model if model is not None and model.beats_index else None  # as in `screen`
    keep = ["household_id", "household_no", "village_code", "score", *(scoring.features if scoring else [])]
    score, grade = ("m.model_score", "m.model_grade") if scoring else ("score", "grade")
    src = "scored JOIN model_scores AS m USING (household_id)" if scoring else "scored"
    try:
        for name in SCHEMAS:
            runner.load(name, conform(name, inputs[name]))
        villages = set(inputs["households"].column("village_code").to_pylist())
        *shared, _ = steps.sequence(window, [], keep)
        for table, sql in shared:
            runner.run(table, sql)
            if table in RELEASED_AFTER:
                runner.drop(RELEASED_AFTER[table])
        out = []
        for overrides, rules in variants:
            runner.drop(["params", "scored", "model_scores"])
            runner.load("params", resolve(villages, overrides, as_of.year, default_weights()))
            runner.run("scored", steps.scored(compiled(list(rules)), keep))
            if scoring:
                _model_scores(runner, scoring, list(rules))
            out.append(
                runner.query(
                    f"SELECT household_id, household_no, village_code, {score} AS score, {grade} AS grade, "
                    f"fired_rules, scored.score AS index_score FROM {src} ORDER BY household_id"
                )
            )
        return out
    finally:
        runner.close()


def _explaining(
    details: pa.Table, rules: list[Rule], as_of: date, model: ScreeningModel | None
) -> Callable[[], pa.Table]:
    """The explanation of `details` (the red and yellow households to explain), to run when asked: the model's
    contributions (with a model) and explain.explain_table."""

    def explain() -> pa.Table:
        contributions = model.contributions(details) if model is not None else None
        return explain_table(details, rules, as_of, contributions)

    return explain


def _explained() -> pa.Table:
    raise RuntimeError("the warnings were explained already")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a stretch that makes millions of small, acyclic objects (row
    dicts, tuples, the warnings it keeps): each collection would walk the whole growing heap again, for nothing.
    Reference counting still frees everything; the collector runs again afterwards."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _model_scores(runner, model: ScreeningModel, rules: list[Rule]) -> None:
    """Score every household with the model and load `model_scores(household_id, model_score, model_grade)`."""
    severity = {r.code: r.severity for r in rules}
    table = runner.query(f"SELECT household_id, fired_rules, {', '.join(model.features)} FROM scored")
    fired = [[c for c in (f or "").split(";") if c] for f in table.column("fired_rules").to_pylist()]
    severe = np.array([any(severity.get(c) == "severe" for c in f) for f in fired], dtype=bool)
    hard = np.array([bool(f) for f in fired], dtype=bool)
    prob = model.predict(table)
    runner.load(
        "model_scores",
        pa.table(
            {
                "household_id": table.column("household_id"),
                "model_score": pa.array(np.round(100.0 * prob, 2), pa.float64()),
                "model_grade": pa.array(model.grade(prob, severe, hard).tolist(), pa.string()),
            }
        ),
    )


EXPLAINED_PARAMS = ("monitoring_line", "med_annual_oop", "rigid_dibao_multiple", "thin_margin_multiple")


def _explained_params(rules: list[Rule]) -> list[str]:
    """The parameters the details read: the four every explanation shows and those the reason templates name."""
    named = [
        name.split(".")[0].split("[")[0]
        for rule in rules
        for _, name, _, _ in Formatter().parse(rule.reason)
        if name and name.startswith("p_")
    ]
    return [*EXPLAINED_PARAMS, *(n.removeprefix("p_") for n in named if n.removeprefix("p_") in PARAM_NAMES)]


def _explained_columns(columns: list[str], rules: list[Rule]) -> list[str]:
    """The detail columns `explain` reads: identity and grade, points, dates, feed counts, and the fields the
    rules' reason templates name. Turning a row into a dict costs per column, and a red/yellow row has ~150."""
    wanted = {
        "household_id",
        "household_no",
        "village_code",
        "fired_rules",
        "disaster_risk_type",
        "assistance_kind",
    }
    wanted |= {f"pt_{i.code}" for i in INDICATORS} | {f"n_{f}" for f in steps.FEEDS} | set(steps.DATE_COLUMNS)
    for rule in rules:
        wanted |= {
            name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(rule.reason) if name
        }
    return [c for c in columns if " AS " in c or c in wanted]


def warnings_from_table(table: pa.Table) -> list[WarningOut]:
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    return [
        WarningOut(
            household_id=columns["household_id"][n],
            household_no=columns["household_no"][n],
            village_code=columns["village_code"][n],
            grade=columns["grade"][n],
            score=columns["score"][n],
            risk_types=columns["risk_types"][n],
            reasons=columns["reasons"][n],
            sources=columns["sources"][n],
            first_signal_date=columns["first_signal_date"][n],
            rules=columns["rules"][n],
            points=[(p["code"], p["points"]) for p in columns["points"][n]],
            index_score=columns["index_score"][n],
            contributions=[(c["code"], c["value"]) for c in columns["contributions"][n]],
        )
        for n in range(table.num_rows)
    ]
