"""One writer at a time on SQLite, queued in the kernel rather than in SQLite's busy handler.

SQLite lets one transaction write at a time. The others poll: they sleep 1, 2, 5, 10 … up to 100 ms between tries,
so under a steady stream of short write transactions (the live API: a few milliseconds each, from several gunicorn
processes) a waiting writer sleeps far longer than the lock is held, and an unlucky one loses the race again and
again — hundreds of milliseconds for a 3 ms write. Hot write paths take `write_lock()` around their transaction
instead: an exclusive flock on a file next to the database, whose waiters sleep in the kernel and wake as soon as
it is released. Writers that do not take it (imports, pages) still work as before through SQLite's own lock.
On other databases, and on SQLite in memory (tests), it does nothing.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

_held = threading.local()


class SharedExclusive:
    """Sections that may run side by side (`shared`, in any threads, nested too) but not beside an `exclusive` one,
    which waits for them to end and holds them off until it ends."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._changed:
            while self._exclusive:
                self._changed.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._changed:
                self._shared -= 1
                self._changed.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._changed:
            while self._exclusive or self._shared:
                self._changed.wait()
            self._exclusive = True
        try:
            yield
        finally:
            with self._changed:
                self._exclusive = False
                self._changed.notify_all()


# `shared` while this process has the SQLite file open through ADBC's driver, which embeds a second SQLite library
# (guardline.screening.extract.sqlite_hand_over): POSIX locks are per process, so the two libraries cannot see each
# other's locks, and a connection of the other one (Python's sqlite3: Django) open in another thread at the same
# time could have its WAL shared memory truncated under it, or its locks dropped when ADBC closes the file. A
# thread that opens Django connections beside such reads in the same process — the worker's heartbeat — works
# `exclusive`, and closes its connections before it lets go. Shared, not one thread's: a copy rebuild reads its
# tables in several threads at once.
sqlite_libraries = SharedExclusive()


def _lock_path(using: str) -> str | None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        return None
    return name + ".write-lock"


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive flock on `path` (made if missing, owner-only): waiters sleep in the kernel, and the lock
    goes with the process however it ends."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def write_lock(using: str = "default") -> Iterator[None]:
    """Hold the database's write lock (re-entrant within a thread; each thread and process queues for it)."""
    path = _lock_path(using)
    depth = getattr(_held, using, 0)
    if path is None or depth:
        setattr(_held, using, depth + 1)
        try:
            yield
        finally:
            setattr(_held, using, depth)
        return
    with file_lock(path):
        setattr(_held, using, 1)
        try:
            yield
        finally:
            setattr(_held, using, 0)
