"""The hash-chained ledger: appends verify; a row altered, deleted or re-hashed directly in the database, or a
forged checkpoint, is caught at the right sequence number; concurrent appends keep one chain."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from guardline.ledger import chain
from guardline.ledger.models import LedgerCheckpoint, LedgerEntry
from guardline.ledger.services import ledger_append, ledger_checkpoint, ledger_verify


def _fill(n: int = 5) -> list[LedgerEntry]:
    return [
        ledger_append(kind="fund", entity="fund_movement", entity_id=i, actor=None,
                      payload={"amount": Decimal("1000.50") * i, "date": date(2026, 3, i), "note": "产业到户"})
        for i in range(1, n + 1)
    ]  # fmt: skip


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params)


def test_appends_chain_and_verify(db):
    entries = _fill(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    stored = LedgerEntry.objects.get(seq=3)
    assert stored.payload == {"amount": "3001.50", "date": "2026-03-03", "note": "产业到户"}
    result = ledger_verify()
    assert result.ok and result.entries == 5 and result.last_seq == 5


def test_payload_altered_with_raw_sql_is_pinpointed(db):
    _fill(6)
    _sql(
        "UPDATE ledger_ledgerentry SET payload = %s WHERE seq = %s", ['{"amount": "9999999", "note": "x"}', 4]
    )
    result = ledger_verify()
    assert not result.ok and result.bad_seq == 4 and result.reason == "hash_mismatch"
    with pytest.raises(CommandError, match="seq 4: hash_mismatch"):
        call_command("verify_ledger")


def test_altered_and_rehashed_row_breaks_the_next_link(db):
    entries = _fill(4)
    e = entries[1]
    forged = chain.entry_hash(seq=e.seq, at=e.at, kind=e.kind, entity=e.entity, entity_id=e.entity_id,
                              actor_id=e.actor_id, payload={"amount": "1"}, prev_hash=e.prev_hash)  # fmt: skip
    _sql(
        "UPDATE ledger_ledgerentry SET payload = %s, hash = %s WHERE seq = %s", ['{"amount": "1"}', forged, 2]
    )
    result = ledger_verify()
    assert not result.ok and result.bad_seq == 3 and result.reason == "broken_link"


def test_deleted_row_is_a_gap(db):
    _fill(5)
    _sql("DELETE FROM ledger_ledgerentry WHERE seq = %s", [3])
    result = ledger_verify()
    assert not result.ok and result.bad_seq == 3 and result.reason == "missing_seq"


def test_deleted_tail_is_noticed(db):
    _fill(5)
    _sql("DELETE FROM ledger_ledgerentry WHERE seq >= %s", [4])
    result = ledger_verify()
    assert not result.ok and result.bad_seq == 4 and result.reason == "missing_seq"


def test_checkpoints_sign_the_end_and_catch_a_rewritten_chain(db):
    _fill(3)
    cp = ledger_checkpoint()
    assert cp is not None and cp.seq == 3 and ledger_checkpoint() is None  # nothing new to sign
    _fill(2)
    assert ledger_verify().ok and ledger_verify().checkpoints == 1
    # Someone rewrites entry 2 and re-hashes everything after it (and the head): only the checkpoint catches it.
    rows = list(LedgerEntry.objects.order_by("seq"))
    prev = rows[0].hash
    for row in rows[1:]:
        if row.seq == 2:
            row.payload = {"amount": "1"}
        row.prev_hash = prev
        row.hash = chain.entry_hash(seq=row.seq, at=row.at, kind=row.kind, entity=row.entity,
                                    entity_id=row.entity_id, actor_id=row.actor_id, payload=row.payload,
                                    prev_hash=prev)  # fmt: skip
        prev = row.hash
    LedgerEntry.objects.all().delete()
    LedgerEntry.objects.bulk_create(rows)
    result = ledger_verify()
    assert not result.ok and result.bad_seq == 3 and result.reason == "checkpoint_mismatch"


def test_forged_checkpoint_fails_its_signature(db, settings):
    entries = _fill(3)
    ledger_checkpoint()
    _sql("UPDATE ledger_ledgerentry SET payload = %s WHERE seq = %s", ['{"a": 1}', 2])
    # The forger signs a new checkpoint without the key.
    e = entries[2]
    LedgerCheckpoint.objects.all().delete()
    fake = chain.checkpoint_signature(key="guessed", seq=e.seq, hash=e.hash, signed_at=e.at)
    LedgerCheckpoint.objects.create(seq=e.seq, hash=e.hash, signed_at=e.at, key_id="x", signature=fake)
    result = ledger_verify()
    assert not result.ok and result.reason == "bad_signature" and result.bad_seq == 3
    # A checkpoint whose hash was edited is caught the same way.
    LedgerCheckpoint.objects.all().delete()
    assert ledger_checkpoint() is not None
    LedgerCheckpoint.objects.update(hash="f" * 64)
    assert ledger_verify().reason == "bad_signature"


def test_a_second_successor_of_the_same_entry_is_refused(db):
    entries = _fill(2)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(seq=99, at=entries[1].at, kind="fund", entity="x", entity_id="1",
                                   payload={}, prev_hash=entries[0].hash, hash="a" * 64)  # fmt: skip


def test_command_prints_ok(db, capsys):
    _fill(2)
    call_command("ledger_checkpoint")
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "OK: 2 entries, 1 signed checkpoints" in out


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    threads_n, per_thread = 4, 5
    barrier = threading.Barrier(threads_n)
    appended: list[int] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def writer(t: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(per_thread):
                for _attempt in range(200):
                    try:
                        with transaction.atomic():
                            e = ledger_append(kind="admin", entity="user", entity_id=f"{t}-{i}",
                                              payload={"t": t, "i": i})  # fmt: skip
                        break
                    except OperationalError:  # SQLite in memory (tests): a busy shared cache, try again
                        time.sleep(0.005)
                else:
                    raise RuntimeError("could not append")
                with guard:
                    appended.append(e.seq)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(appended) == list(range(1, threads_n * per_thread + 1))
    result = ledger_verify()
    assert result.ok and result.entries == threads_n * per_thread


def test_ledger_page_for_auditors_only(client, make_user, villages):
    from tests.support import PASSWORD

    _fill(2)
    make_user("aud_l", "auditor", villages["A"].code[:6])
    make_user("cadre_l", "village_cadre", villages["A"].code)
    client.login(username="cadre_l", password=PASSWORD)
    assert client.get("/ledger/").status_code == 403
    client.login(username="aud_l", password=PASSWORD)
    page = client.get("/ledger/?verify=1").content.decode()
    assert "fund_movement#2" in page and "alert-success" in page


def test_ledger_page_shows_the_auditors_regions_only(client, make_user, villages, households):
    """Entries about a place (a region code, a household, a fund project or asset) show only inside the user's
    regions; entries about no place (screening rules, accounts) show to every audit role; verification still
    checks the whole chain."""
    from tests.support import PASSWORD

    a, b = villages["A"].code, villages["B"].code
    ledger_append(kind="admin", entity="monitoring_line", entity_id=11, payload={"region": a[:6]})
    ledger_append(kind="fund", entity="fund_movement", entity_id=12, payload={"region_code": b[:9]})
    ledger_append(kind="fund", entity="fund_movement", entity_id=13, payload={"region_code": a})
    ledger_append(kind="decision", entity="case", entity_id=14, payload={"household_id": households["A"].pk})
    ledger_append(kind="decision", entity="case", entity_id=15, payload={"household_id": households["B"].pk})
    ledger_append(kind="admin", entity="screening_rule", entity_id=16, payload={"code": "R1"})
    make_user("aud_t", "auditor", a[:9])
    client.login(username="aud_t", password=PASSWORD)
    page = client.get("/ledger/?verify=1").content.decode()
    shown = {n for n in range(11, 17) if f"#{n}</td>" in page}
    assert shown == {13, 14, 16}
    assert "alert-success" in page  # the whole chain verified, not only what the page lists
