"""The same screening on DuckDB and on Spark (pyspark, local mode): identical grades, scores, points per indicator
and warnings on one simulated county; and the spark-submit job over Parquet inputs gives the same answer."""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.screening import INDICATORS, screen
from engine.screening.params import Override
from engine.screening.run import conform
from simulate import simulate_county
from simulate.screening_inputs import screening_inputs

pyspark = pytest.importorskip("pyspark")

from engine.screening.backends import SparkBackend, spark_session, spark_sql  # noqa: E402
from engine.screening.spark_job import overrides_to_json, run_job  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
DIVISIONS = Path(os.environ.get("GUARDLINE_DIVISIONS_DIR", ROOT.parent / "shared" / "data" / "divisions"))
POINTS = [f"pt_{i.code}" for i in INDICATORS]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    simulate_county(county="520526", households=400, seed=3, out_dir=out, divisions_dir=DIVISIONS)
    return screening_inputs(out)


@pytest.fixture(scope="module")
def spark():
    # Tiny data: whole-stage code generation of the 32-indicator step costs more than it saves, and so do
    # adaptive re-planning and many shuffle partitions (still two, so partial aggregates are merged).
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = spark_session(
        "local[2]",
        **{
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.codegen.wholeStage": "false",
        },
    )
    yield session
    session.stop()


def _warnings(result) -> list[dict]:
    return [w.__dict__ for w in result.warnings]


def _features(result) -> list[dict]:
    """Per household: the grade, the score, the triggers and every indicator's points."""
    columns = ["household_id", "grade", "score", "fired_rules", *POINTS]
    return result.features.select(columns).to_pylist()


def test_duckdb_and_spark_agree(inputs, spark):
    from engine.screening import DEFAULT_RULES, Rule

    as_of = date(2024, 9, 30)
    from collections import Counter

    townships = Counter(v[:9] for v in inputs["households"].column("village_code").to_pylist())
    local = Rule("local_ill", "乡镇自定：多人户", "99", "hard", "size >= 3", "", "{size:.0f} 口之家",
                 region=townships.most_common(1)[0][0])  # fmt: skip
    rules = [*DEFAULT_RULES, local]  # a region's own trigger too: its region test is SQL of its own
    duck = screen(inputs, as_of, with_features=True, rules=rules)
    sparked = screen(inputs, as_of, with_features=True, backend=SparkBackend(spark), rules=rules)
    assert any("local_ill" in (f or "") for f in duck.grades.column("fired_rules").to_pylist())
    counts = duck.counts()
    assert counts["red"] > 0 and counts["yellow"] > 0 and counts["green"] > 0
    assert sparked.grades.to_pylist() == duck.grades.to_pylist()  # ids, grades, scores to the last bit
    assert _features(sparked) == _features(duck)
    assert _warnings(sparked) == _warnings(duck)  # risk types, reasons, sources, dates, points


def test_spark_job_over_parquet(inputs, spark, tmp_path):
    """What `guardline export_screening_inputs` writes, screened by the spark-submit job with a regional
    override; its Parquet output equals DuckDB's answer."""
    as_of = date(2025, 3, 31)
    township = sorted(set(inputs["households"].column("village_code").to_pylist()))[0][:9]
    overrides = [Override("monitoring_line", township, 12000)]
    src = tmp_path / "inputs"
    src.mkdir()
    for name, table in inputs.items():
        pq.write_table(conform(name, table), src / f"{name}.parquet")
    (src / "params.json").write_text(json.dumps(overrides_to_json(overrides)))
    (src / "manifest.json").write_text(json.dumps({"as_of": as_of.isoformat()}))

    result = run_job(spark, str(src), str(tmp_path / "out"))
    duck = screen(inputs, as_of, overrides=overrides)
    assert result.as_of == as_of
    grades = pq.read_table(tmp_path / "out" / "grades").sort_by("household_id")
    assert grades.drop_columns(["as_of"]).to_pylist() == duck.grades.to_pylist()
    warnings = pq.read_table(tmp_path / "out" / "warnings").sort_by("household_id").to_pylist()
    assert len(warnings) == len(duck.warnings) > 0
    for got, want in zip(warnings, duck.warnings, strict=True):
        assert got["household_id"] == want.household_id and got["grade"] == want.grade
        assert got["score"] == want.score and got["risk_types"] == want.risk_types
        assert got["reasons"] == want.reasons and got["first_signal_date"] == want.first_signal_date
        assert [(p["indicator"], p["points"]) for p in got["points"]] == want.points


def test_division_is_done_in_double_as_duckdb_does(spark):
    """Spark divides DECIMALs in DECIMAL (rounded to 6 places); the transpiler casts to DOUBLE like DuckDB."""
    value = spark.sql(spark_sql("SELECT 5 / GREATEST(3 - 0, 0.5) AS v")).toArrow()
    assert value.column("v").to_pylist() == [5 / 3]
    assert value.schema.field("v").type == pa.float64()
