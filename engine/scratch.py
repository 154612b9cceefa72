"""Connections to one in-memory DuckDB database per process, for the small set-based steps around the engine's
passes (explaining, digests, the write-back's comparisons).

Opening a DuckDB database costs 13-21 ms and a connection to an open one 0.3 ms; a live re-screen of one household
needed four of them. Each caller gets its own connection (its registered tables and temporary tables are its own
and go when it is closed); the database is shared. Its queries state their order (ORDER BY): insertion order is
not preserved, which lets DuckDB stream more of them.

DuckDB is not fork-safe: the database is closed before the process forks (gunicorn's master, a worker pool), so
that parent and child each open their own when they next need one; a child never touches, nor destroys, the
parent's threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection to the process's scratch database, closed on leaving."""
    global _database
    with _lock:  # making the database, and making a connection from it, are not thread-safe
        if _database is None:
            _database = duckdb.connect(config={"preserve_insertion_order": False})
        con = _database.cursor()
    try:
        yield con
    finally:
        con.close()


def _before_fork() -> None:
    global _database
    _lock.acquire()
    if _database is not None:
        _database.close()  # connections still open keep the database alive until they close
        _database = None


os.register_at_fork(before=_before_fork, after_in_parent=_lock.release, after_in_child=_lock.release)
