"""`guardline screen --backend spark` over the database gives the DuckDB run's grades, and the cluster path works
end to end: `guardline export_screening_inputs DIR` → engine/screening/spark_job.py (its function, not
spark-submit) → the same grades as Parquet."""

from __future__ import annotations

import json
import logging

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.utils import timezone

from guardline.screening.models import HouseholdGrade, RiskWarning, ScreeningRun
from guardline.screening.services import screening_run

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _grades() -> dict[int, tuple[str, float, str]]:
    return {g.household_id: (g.grade, g.score, g.rules) for g in HouseholdGrade.objects.all()}


def test_spark_backend_and_cluster_export(screened_county, tmp_path):
    pytest.importorskip("pyspark")
    from engine.screening.backends import spark_session
    from engine.screening.spark_job import run_job

    duck = screening_run()
    by_duckdb = _grades()
    warnings = {
        w.household_id: (w.grade, w.score, w.risk_types, w.reasons) for w in RiskWarning.objects.all()
    }
    logging.getLogger("py4j").setLevel(logging.WARNING)
    # Tiny data (see engine/screening/tests/test_spark_parity.py); `guardline screen` reuses this session.
    spark = spark_session(
        "local[2]",
        **{
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.codegen.wholeStage": "false",
        },
    )
    try:
        call_command("screen", "--backend", "spark")
        run = ScreeningRun.objects.latest("pk")
        assert run.backend == "spark" and run.status == ScreeningRun.Status.DONE
        # identical grades, scores and reasons: every warning DuckDB opened is found again unchanged
        assert (run.opened, run.closed, run.updated, run.unchanged) == (0, 0, 0, duck.opened)
        assert _grades() == by_duckdb
        assert {
            w.household_id: (w.grade, w.score, w.risk_types, w.reasons) for w in RiskWarning.objects.all()
        } == warnings

        today = timezone.localdate()
        call_command("export_screening_inputs", str(tmp_path / "in"), "--as-of", today.isoformat())
        manifest = json.loads((tmp_path / "in" / "manifest.json").read_text())
        assert manifest["as_of"] == today.isoformat() and manifest["rows"]["households"] == len(by_duckdb)
        assert isinstance(json.loads((tmp_path / "in" / "params.json").read_text()), list)
        assert len(json.loads((tmp_path / "in" / "rules.json").read_text())) >= 21
        result = run_job(spark, str(tmp_path / "in"), str(tmp_path / "out"))
        assert result.as_of == today
        grades = pq.read_table(tmp_path / "out" / "grades").to_pylist()
        assert {g["household_id"]: (g["grade"], g["score"], g["fired_rules"]) for g in grades} == by_duckdb
        assert pq.read_table(tmp_path / "out" / "warnings").num_rows == duck.red + duck.yellow
    finally:
        spark.stop()
