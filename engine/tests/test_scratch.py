"""The scratch database: one per process, a connection per caller, and a child process after fork opens its own."""

from __future__ import annotations

import os
import threading

import pyarrow as pa

from engine import scratch


def test_each_connection_has_its_own_tables_on_one_database():
    with scratch.connection() as a, scratch.connection() as b:
        a.register("t", pa.table({"x": [1, 2]}))
        b.register("t", pa.table({"x": [3]}))
        a.execute("CREATE TEMP TABLE d AS SELECT sum(x) AS s FROM t")
        assert a.sql("SELECT s FROM d").fetchall() == [(3,)]
        assert b.sql("SELECT sum(x) FROM t").fetchall() == [(3,)]
        assert b.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'd'").fetchall() == [(0,)]


def test_threads_use_it_side_by_side():
    sums: list[int] = []

    def work(n: int) -> None:
        with scratch.connection() as con:
            con.register("t", pa.table({"x": list(range(n))}))
            sums.append(con.sql("SELECT sum(x) FROM t").fetchall()[0][0])

    threads = [threading.Thread(target=work, args=(n,)) for n in (10, 100, 1000, 10000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sums) == [45, 4950, 499500, 49995000]


def test_a_forked_child_opens_its_own_database():
    with scratch.connection() as con:
        assert con.sql("SELECT 42").fetchall() == [(42,)]
    read, write = os.pipe()
    pid = os.fork()
    if (
        pid == 0
    ):  # the child: must not inherit the parent's database (its threads are not there), and must work
        try:
            ok = scratch._database is None
            with scratch.connection() as con:
                ok = ok and con.sql("SELECT sum(range) FROM range(5000000)").fetchall() == [(12499997500000,)]
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1" and status == 0
    with scratch.connection() as con:  # and the parent goes on with a database of its own
        assert con.sql("SELECT 1").fetchall() == [(1,)]
