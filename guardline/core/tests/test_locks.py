"""write_lock: one holder at a time across threads (and processes: it is an flock), re-entrant in a thread, and a
no-op where there is no database file."""

import threading
import time

from guardline.core import locks


def test_writers_take_turns_and_the_lock_is_reentrant(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "_lock_path", lambda using: str(tmp_path / "db.sqlite3.write-lock"))
    inside, most = 0, 0
    guard = threading.Lock()

    def writer():
        nonlocal inside, most
        with locks.write_lock(), locks.write_lock():  # nested: must not wait for itself
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.01)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert most == 1


def test_no_lock_for_a_database_in_memory(db):
    assert locks._lock_path("default") is None
    with locks.write_lock():
        pass
