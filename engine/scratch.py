"""Connections to one in-memory DuckDB database per process, for the small set-based steps around the engine's
passes (explaining, digests, the write-back's comparisons).

Opening a DuckDB database costs 13-21 ms and a connection to an open one 0.3 ms; a live re-screen of one household
needed four of them. Each caller gets its own connection (its registered tables and temporary tables are its own
and go when it is closed); the database is shared, and made anew in a forked child. Its queries state their
order (ORDER BY): insertion order is not preserved, which lets DuckDB stream more of them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None
_pid = 0


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection to the process's scratch database, closed on leaving."""
    global _database, _pid
    with _lock:  # making the database, and making a connection from it, are not thread-safe
        if _database is None or _pid != os.getpid():
            _database = duckdb.connect(config={"preserve_insertion_order": False})
            _pid = os.getpid()
        con = _database.cursor()
    try:
        yield con
    finally:
        con.close()
