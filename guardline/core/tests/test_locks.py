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


def test_shared_sections_overlap_and_an_exclusive_one_waits_for_them_and_holds_them_off():
    """core.locks.sqlite_libraries: ADBC reads (shared, from several threads at once, nested) and the worker's
    heartbeat (exclusive) never overlap."""
    sections = locks.SharedExclusive()
    order: list[str] = []
    reading = threading.Event()

    def read_in_another_thread():
        with sections.shared():
            order.append("other read")

    def beat():
        with sections.exclusive():
            order.append("beat")

    with sections.shared(), sections.shared():  # nested in one thread, and another thread's beside it
        helper = threading.Thread(target=read_in_another_thread)
        helper.start()
        helper.join(timeout=5)
        assert order == ["other read"]
        beating = threading.Thread(target=beat)
        beating.start()
        time.sleep(0.2)
        assert order == ["other read"]  # the beat waits for the reads to end
        order.append("reads end")
    beating.join(timeout=5)
    assert order == ["other read", "reads end", "beat"]

    def read_after_beat():
        reading.set()
        with sections.shared():
            order.append("read")

    with sections.exclusive():
        waiting = threading.Thread(target=read_after_beat)
        waiting.start()
        reading.wait(timeout=5)
        time.sleep(0.2)
        order.append("beat ends")
    waiting.join(timeout=5)
    assert order[-2:] == ["beat ends", "read"]
