"""Writes to the ledger (append, checkpoint) and its verification.

`ledger_append` runs inside the caller's transaction: the entry commits with the fund movement, decision or change
it records, or not at all. It first UPDATEs the head row — on SQLite that takes the database's write lock, on
PostgreSQL the row lock — and only then reads the head, so two concurrent appends queue and never share a
predecessor (the unique `prev_hash` is the last line of defence).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import chain
from .models import LedgerCheckpoint, LedgerEntry, LedgerHead

HEAD_PK = 1


def _key() -> str:
    key = getattr(settings, "GUARDLINE_LEDGER_KEY", "")
    if not key:
        raise RuntimeError("GUARDLINE_LEDGER_KEY is not set")
    return str(key)


def _take_head() -> LedgerHead:
    """Lock the head row (creating it from the last entry if a flush removed it) and return it."""
    if not LedgerHead.objects.filter(pk=HEAD_PK).update(seq=F("seq")):
        last = LedgerEntry.objects.order_by("-seq").first()
        LedgerHead.objects.get_or_create(
            pk=HEAD_PK,
            defaults={"seq": last.seq if last else 0, "hash": last.hash if last else chain.GENESIS},
        )
        LedgerHead.objects.filter(pk=HEAD_PK).update(seq=F("seq"))
    return LedgerHead.objects.select_for_update().get(pk=HEAD_PK)


def ledger_append(
    *, kind: str, entity: str, entity_id: Any, actor: Any = None, payload: dict[str, Any] | None = None
) -> LedgerEntry:
    """Append one entry to the chain in the caller's transaction. `actor` is a user, a user id or None (a
    command or job)."""
    if kind not in LedgerEntry.Kind.values:
        raise ValueError(f"unknown ledger kind: {kind}")
    actor_id = getattr(actor, "pk", actor)
    with transaction.atomic():
        head = _take_head()
        entry = LedgerEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            kind=kind,
            entity=entity[:40],
            entity_id=str(entity_id)[:64],
            actor_id=int(actor_id) if actor_id is not None else None,
            payload=chain.normalise(payload or {}),
            prev_hash=head.hash,
        )
        entry.hash = _hash_of(entry)
        entry.save(force_insert=True)
        LedgerHead.objects.filter(pk=HEAD_PK).update(seq=entry.seq, hash=entry.hash)
    return entry


def _hash_of(entry: LedgerEntry) -> str:
    return chain.entry_hash(
        seq=entry.seq,
        at=entry.at,
        kind=entry.kind,
        entity=entry.entity,
        entity_id=entry.entity_id,
        actor_id=entry.actor_id,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )


@transaction.atomic
def ledger_checkpoint(*, now: dt.datetime | None = None) -> LedgerCheckpoint | None:
    """Sign the current end of the chain (nothing to do if it is empty or already signed)."""
    head = _take_head()
    if head.seq == 0 or LedgerCheckpoint.objects.filter(seq=head.seq).exists():
        return None
    key = _key()
    signed_at = now or timezone.now()
    return LedgerCheckpoint.objects.create(
        seq=head.seq,
        hash=head.hash,
        signed_at=signed_at,
        key_id=chain.key_id(key),
        signature=chain.checkpoint_signature(key=key, seq=head.seq, hash=head.hash, signed_at=signed_at),
    )


# ------------------------------------------------------------------------------------------------ verification
@dataclass
class Verification:
    ok: bool = True
    entries: int = 0
    checkpoints: int = 0
    bad_seq: int | None = None
    reason: str = ""  # hash_mismatch | broken_link | missing_seq | checkpoint_mismatch | bad_signature
    detail: str = ""
    last_seq: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, seq: int, reason: str, detail: str) -> Verification:
        self.ok, self.bad_seq, self.reason, self.detail = False, seq, reason, detail
        return self


def ledger_verify(*, chunk: int = 2000) -> Verification:
    """Recompute the whole chain in sequence order and check every checkpoint. Stops at the first problem and
    says which sequence number and why:

    - missing_seq: a number is absent (a deleted row) or the chain ends before the head / a checkpoint;
    - hash_mismatch: the row's contents no longer give its stored hash (an altered row);
    - broken_link: the row's prev_hash is not the previous row's hash (a row re-hashed after being altered, or
      inserted);
    - bad_signature / checkpoint_mismatch: a checkpoint not signed with the key, or signed over another hash."""
    result = Verification()
    key = _key()
    checkpoints = {c.seq: c for c in LedgerCheckpoint.objects.all()}
    for cp in checkpoints.values():
        if not chain.signature_ok(key=key, seq=cp.seq, hash=cp.hash, signed_at=cp.signed_at,
                                  signature=cp.signature):  # fmt: skip
            return result.fail(cp.seq, "bad_signature", f"检查点 #{cp.seq} 的签名无效（伪造或密钥不同）")
    result.checkpoints = len(checkpoints)
    expected, prev = 1, chain.GENESIS
    for entry in LedgerEntry.objects.order_by("seq").iterator(chunk_size=chunk):
        if entry.seq != expected:
            return result.fail(expected, "missing_seq", f"缺少第 {expected} 条（下一条为 #{entry.seq}）")
        if entry.prev_hash != prev:
            return result.fail(entry.seq, "broken_link", f"#{entry.seq} 的前序哈希与 #{entry.seq - 1} 不一致")
        if _hash_of(entry) != entry.hash:
            return result.fail(entry.seq, "hash_mismatch", f"#{entry.seq} 的内容与其哈希不符（已被改动）")
        cp = checkpoints.get(entry.seq)
        if cp is not None and cp.hash != entry.hash:
            return result.fail(entry.seq, "checkpoint_mismatch", f"#{entry.seq} 的哈希与已签名检查点不符")
        prev = entry.hash
        expected += 1
        result.entries += 1
    last = expected - 1
    result.last_seq = last
    head = LedgerHead.objects.filter(pk=HEAD_PK).first()
    beyond = max([head.seq if head else 0, *checkpoints])
    if beyond > last:
        return result.fail(
            last + 1, "missing_seq", f"账本止于 #{last}，但已记录到 #{beyond}（末尾条目被删除）"
        )
    return result
