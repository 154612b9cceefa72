"""Where the screening SQL runs. DuckDB in-process is the default; Spark runs the same statements, transpiled by
sqlglot, for provinces that outgrow one machine. Both take Arrow tables in and give Arrow tables back.

The steps are written once, in DuckDB's dialect, so that both engines compute the same numbers bit for bit (see
engine/screening/README.md): the canonical SQL avoids what the engines do differently (ROUND(x, n) of a double,
order-dependent sums of floating-point money), and `to_spark_sql` rewrites the one difference that cannot be
avoided in SQL text — `/`, which in DuckDB always divides in DOUBLE but in Spark divides DECIMAL literals and
columns in DECIMAL (rounded to 6 places)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        self._tables: dict[str, pa.Table] = {}
        self._views: set[str] = set()
        self.con.execute(
            f"SET memory_limit = '{memory_limit or os.environ.get('GUARDLINE_DUCKDB_MEMORY', '4GB')}'"
        )
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def load(self, name: str, table: pa.Table) -> None:
        """The Arrow table as input `name`, scanned in place: a copy into DuckDB's own storage would double the
        memory of a province's events for nothing, as every step reads its inputs once."""
        self._tables[name] = table  # the view reads this table's buffers: keep them alive with the connection
        self.con.register(name, table)

    def run(self, name: str, sql: str) -> None:
        view = is_view(sql)
        self.con.execute(f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS {name}")
        self.con.execute(sql)
        if view:
            self._views.add(name)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def drop(self, names: list[str]) -> None:
        """Free inputs and steps no later step reads: a province's intermediate tables add up."""
        for name in names:
            if self._tables.pop(name, None) is not None:
                self.con.unregister(name)
            elif name in self._views:
                self._views.discard(name)
                self.con.execute(f"DROP VIEW IF EXISTS {name}")
            else:
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        self.con.close()
        self._tables.clear()


SPARK_CONF = {
    # Dates are calendar dates: no time zone may shift them.
    "spark.sql.session.timeZone": "UTC",
    # Arrow both ways (pyarrow tables in, toArrow out).
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # DuckDB's semantics: NULL rather than an error on overflow or a bad cast (Spark 4 turns ANSI mode on).
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str | None = None, **conf: str) -> Any:
    """A Spark session. `master=None` leaves the master to the launcher (spark-submit --master …, or
    GUARDLINE_SPARK_MASTER); on one machine (tests, `guardline screen --backend spark`) pass "local[2]"."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("guardline-screening")
    master = os.environ.get("GUARDLINE_SPARK_MASTER") or master
    if master:
        builder = builder.master(master)
    settings = {
        **SPARK_CONF,
        "spark.sql.shuffle.partitions": os.environ.get("GUARDLINE_SPARK_PARTITIONS", "4"),
        **conf,
    }
    if master and master.startswith("local"):
        # One process: a modest heap, loopback only.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings.setdefault("spark.driver.memory", os.environ.get("GUARDLINE_SPARK_DRIVER_MEMORY", "1g"))
        settings.setdefault("spark.driver.host", "127.0.0.1")
        settings.setdefault("spark.driver.bindAddress", "127.0.0.1")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("GUARDLINE_SPARK_LOG_LEVEL", "ERROR"))
    return session


def _double_division(node: exp.Expression) -> exp.Expression:
    """`a / b` → `CAST(a AS DOUBLE) / CAST(b AS DOUBLE)`: what DuckDB does for integers and decimals alike."""
    if isinstance(node, exp.Div):
        for key in ("this", "expression"):
            operand = node.args[key]
            if not (isinstance(operand, exp.Cast) and operand.to.this == exp.DataType.Type.DOUBLE):
                node.set(key, exp.cast(operand, exp.DataType.Type.DOUBLE))
    return node


def spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement in Spark's dialect, with DuckDB's division semantics."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(_double_division).sql(dialect="spark")


def is_view(sql: str) -> bool:
    """Whether a step creates a view (read once by a later step) rather than a table."""
    return sql.lstrip().upper().startswith("CREATE VIEW")


def to_spark_sql(sql: str) -> tuple[str, str]:
    """`CREATE TABLE|VIEW name AS SELECT …` in DuckDB dialect → (name, the SELECT in Spark dialect)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, exp.Create) or tree.expression is None:
        raise ValueError("screening steps are CREATE TABLE|VIEW … AS SELECT statements")
    name = tree.this.name
    return name, tree.expression.transform(_double_division).sql(dialect="spark")


_SPARK_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.string(): "STRING",
    pa.date32(): "DATE",
}


class SparkBackend:
    """The steps as Spark temporary views, each step's result cached (the next steps read it several times)."""

    name = "spark"

    def __init__(self, session: Any = None, master: str | None = "local[2]") -> None:
        if session is None:
            from pyspark.sql import SparkSession

            # A session already running in this process is used as it is configured.
            session = SparkSession.getActiveSession() or spark_session(master)
        self.spark = session
        self._cached: list[Any] = []
        self._views: list[str] = []

    def load(self, name: str, table: pa.Table) -> None:
        df = self.spark.createDataFrame(table)  # a pyarrow Table keeps its types (Spark ≥ 4.0)
        df.createOrReplaceTempView(name)
        self._views.append(name)

    def load_frame(self, name: str, df: Any, schema: pa.Schema) -> None:
        """A Spark DataFrame as input `name`: the engine's columns, cast to the engine's types."""
        missing = [f.name for f in schema if f.name not in df.columns]
        if missing:
            raise ValueError(f"screening input {name} lacks columns {missing}")
        df.selectExpr(
            *[f"CAST({f.name} AS {_SPARK_TYPES[f.type]}) AS {f.name}" for f in schema]
        ).createOrReplaceTempView(name)
        self._views.append(name)

    def run(self, name: str, sql: str) -> None:
        view, select = to_spark_sql(sql)
        df = self.spark.sql(select)
        if not is_view(sql):  # a view is read once, by the next step: nothing to cache
            df = df.cache()
            df.count()
            self._cached.append(df)
        df.createOrReplaceTempView(view)
        self._views.append(view)

    def query(self, sql: str) -> pa.Table:
        return self.spark.sql(spark_sql(sql)).toArrow()

    def drop(self, names: list[str]) -> None:
        """Nothing to free early: Spark spills cached steps itself, and `close` unpersists them all."""

    def close(self) -> None:
        """Free the cached steps and drop the views; the session stays up for the next screening."""
        for df in self._cached:
            df.unpersist()
        self._cached.clear()
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()


def backend(name: str) -> DuckDBBackend | SparkBackend:
    factories: dict[str, Callable[[], DuckDBBackend | SparkBackend]] = {
        "duckdb": DuckDBBackend,
        "spark": SparkBackend,
    }
    if name not in factories:
        raise ValueError(f"unknown screening backend {name!r} (duckdb or spark)")
    return factories[name]()
