"""Where the screening SQL runs. DuckDB in-process is the default; Spark runs the same statements, transpiled by
sqlglot, for provinces that outgrow one machine. Both take Arrow tables in and give Arrow tables back."""

from __future__ import annotations

import os
from collections.abc import Callable

import pyarrow as pa
import sqlglot


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(
            f"SET memory_limit = '{memory_limit or os.environ.get('GUARDLINE_DUCKDB_MEMORY', '4GB')}'"
        )
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")

    def run(self, name: str, sql: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute(sql)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def spark_session(master: str | None = None):
    """A local Spark session (tests, one machine) or the cluster's, when run under spark-submit."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("guardline-screening")
    master = master or os.environ.get("GUARDLINE_SPARK_MASTER")
    if master:
        builder = builder.master(master)
    return (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("GUARDLINE_SPARK_PARTITIONS", "8"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", os.environ.get("GUARDLINE_SPARK_DRIVER_MEMORY", "2g"))
        .getOrCreate()
    )


def to_spark_sql(sql: str) -> tuple[str, str]:
    """`CREATE TABLE name AS SELECT …` in DuckDB dialect → (name, the SELECT in Spark dialect)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, sqlglot.exp.Create):
        raise ValueError("screening steps are CREATE TABLE … AS SELECT statements")
    name = tree.this.name
    return name, tree.expression.sql(dialect="spark")


class SparkBackend:
    name = "spark"

    def __init__(self, session=None) -> None:
        self.spark = session or spark_session()
        self._cached: list = []

    def load(self, name: str, table: pa.Table) -> None:
        df = self.spark.createDataFrame(table)
        df.createOrReplaceTempView(name)

    def run(self, name: str, sql: str) -> None:
        view, select = to_spark_sql(sql)
        df = self.spark.sql(select).cache()
        df.count()
        self._cached.append(df)
        df.createOrReplaceTempView(view)

    def query(self, sql: str) -> pa.Table:
        select = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
        return self.spark.sql(select).toArrow()

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()


def backend(name: str) -> DuckDBBackend | SparkBackend:
    factories: dict[str, Callable[[], DuckDBBackend | SparkBackend]] = {
        "duckdb": DuckDBBackend,
        "spark": SparkBackend,
    }
    if name not in factories:
        raise ValueError(f"unknown screening backend {name!r} (duckdb or spark)")
    return factories[name]()
