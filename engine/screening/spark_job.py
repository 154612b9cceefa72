"""Screening on a Spark cluster: a `spark-submit` entry point.

    spark-submit --master yarn --deploy-mode client --py-files guardline-engine.zip \\
        engine/screening/spark_job.py hdfs:///guardline/inputs/2025-06-30 hdfs:///guardline/screened/2025-06-30

INPUT holds the engine's input tables as Parquet (each a file or a directory of files) — households, members,
household_years, events — as `guardline export_screening_inputs DIR` writes them from the operational database,
and optionally `params.json` (regional parameter overrides: [{"name", "region_prefix", "value", "year"}]),
`rules.json` (triggers: [Rule fields]) and `manifest.json` ({"as_of": "YYYY-MM-DD"}). The tables are read by the
executors; only the households that get a warning are explained on the driver. OUTPUT receives `grades/` (every
household: score, grade, fired triggers) and `warnings/` (red and yellow: risk types, reasons, sources,
first-signal date, points) as Parquet, written by Spark (so hdfs://, s3a:// … work as well as local paths).

The SQL runs in the JVM (no Python UDFs): the executors need no Python packages, the driver needs this package
(`--py-files`, or installed) and pyarrow. See engine/screening/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file by spark-submit: make `engine` importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyarrow as pa

from engine.screening.backends import SparkBackend, spark_session
from engine.screening.params import Override
from engine.screening.rules import DEFAULT_RULES, Rule
from engine.screening.run import SCHEMAS, ScreenResult, WarningOut, screen

INPUT_TABLES = tuple(SCHEMAS)

WARNING_SCHEMA = pa.schema(
    [
        ("household_id", pa.int64()),
        ("household_no", pa.string()),
        ("village_code", pa.string()),
        ("grade", pa.string()),
        ("score", pa.float64()),
        ("risk_types", pa.list_(pa.string())),
        ("reasons", pa.list_(pa.string())),
        ("sources", pa.list_(pa.string())),
        ("first_signal_date", pa.date32()),
        ("rules", pa.list_(pa.string())),
        ("points", pa.list_(pa.struct([("indicator", pa.string()), ("points", pa.float64())]))),
        ("as_of", pa.date32()),
    ]
)


def overrides_from_json(items: Sequence[dict]) -> list[Override]:
    return [Override(i["name"], i.get("region_prefix", ""), float(i["value"]), i.get("year")) for i in items]


def overrides_to_json(overrides: Sequence[Override]) -> list[dict]:
    return [
        {"name": o.name, "region_prefix": o.region_prefix, "value": o.value, "year": o.year}
        for o in overrides
    ]


def rules_from_json(items: Sequence[dict]) -> list[Rule]:
    return [Rule(**{**i, "sources": tuple(i.get("sources") or ())}) for i in items]


def rules_to_json(rules: Sequence[Rule]) -> list[dict]:
    return [{**r.as_dict(), "sources": list(r.sources)} for r in rules]


def warnings_table(warnings: Sequence[WarningOut], as_of: date) -> pa.Table:
    rows = [
        {
            **{k: getattr(w, k) for k in WARNING_SCHEMA.names if k not in ("points", "as_of")},
            "points": [{"indicator": c, "points": p} for c, p in w.points],
            "as_of": as_of,
        }
        for w in warnings
    ]
    return pa.Table.from_pylist(rows, schema=WARNING_SCHEMA)


def _path(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def _read_json(spark: Any, path: str) -> Any | None:
    """A small JSON file next to the inputs, on any file system Spark reads (None when it does not exist)."""
    local = Path(path.removeprefix("file://"))
    if "://" not in path or path.startswith("file://"):
        return json.loads(local.read_text(encoding="utf-8")) if local.exists() else None
    try:
        text = "\n".join(spark.sparkContext.wholeTextFiles(path).values().collect())
    except Exception:  # no such file (the Hadoop error surfaces as a Py4J exception)
        return None
    return json.loads(text)


def run_job(
    spark: Any,
    input_dir: str,
    output_dir: str,
    *,
    as_of: date | None = None,
    params: str | None = None,
    rules: str | None = None,
) -> ScreenResult:
    """Read the inputs as Parquet, screen as of `as_of` (else the manifest's date, else today), write grades and
    warnings as Parquet, and return the result."""
    manifest = _read_json(spark, _path(input_dir, "manifest.json")) or {}
    as_of = as_of or (date.fromisoformat(manifest["as_of"]) if manifest.get("as_of") else date.today())
    raw_params = _read_json(spark, params or _path(input_dir, "params.json"))
    raw_rules = _read_json(spark, rules or _path(input_dir, "rules.json"))
    if params and raw_params is None:
        raise FileNotFoundError(params)
    if rules and raw_rules is None:
        raise FileNotFoundError(rules)
    inputs = {name: spark.read.parquet(_path(input_dir, f"{name}.parquet")) for name in INPUT_TABLES}
    result = screen(
        inputs,
        as_of,
        overrides=overrides_from_json(raw_params or []),
        rules=rules_from_json(raw_rules) if raw_rules is not None else DEFAULT_RULES,
        backend=SparkBackend(spark),
    )
    grades = result.grades.append_column("as_of", pa.array([as_of] * result.grades.num_rows, pa.date32()))
    spark.createDataFrame(grades).write.mode("overwrite").parquet(_path(output_dir, "grades"))
    spark.createDataFrame(warnings_table(result.warnings, as_of)).write.mode("overwrite").parquet(
        _path(output_dir, "warnings")
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Guardline screening on Spark (spark-submit entry point)")
    parser.add_argument("input", help="directory of the input tables as Parquet (export_screening_inputs)")
    parser.add_argument("output", help="directory for grades/ and warnings/ (Parquet)")
    parser.add_argument("--as-of", help="screening date YYYY-MM-DD (default: the export's date, else today)")
    parser.add_argument("--params", help="parameter overrides JSON (default: INPUT/params.json if present)")
    parser.add_argument(
        "--rules", help="triggers JSON (default: INPUT/rules.json if present, else the defaults)"
    )
    parser.add_argument("--master", help="Spark master when not set by spark-submit, e.g. local[2]")
    args = parser.parse_args(argv)
    spark = spark_session(args.master)
    try:
        result = run_job(
            spark,
            args.input,
            args.output,
            as_of=date.fromisoformat(args.as_of) if args.as_of else None,
            params=args.params,
            rules=args.rules,
        )
    finally:
        spark.stop()
    counts = result.counts()
    print(
        f"screened {result.grades.num_rows} households as of {result.as_of}: red {counts['red']}, "
        f"yellow {counts['yellow']}, green {counts['green']}; {len(result.warnings)} warnings "
        f"({result.timings.get('total', 0):.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
