"""The hash chain itself, free of the ORM: canonical JSON, entry hashes and checkpoint signatures.

An entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
(seq, at, kind, entity, entity_id, actor, payload, prev_hash); the first entry's prev_hash is GENESIS. A checkpoint
signs (seq, hash, signed_at) with HMAC-SHA256 under the key of `settings.GUARDLINE_LEDGER_KEY`, so whoever can edit
the database but not read the key cannot rewrite the chain up to a checkpoint and re-sign it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
from typing import Any

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON-serialisable in the ledger: {type(value).__name__}")


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, compact separators, real Unicode (dates, decimals and sets normalised)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def normalise(payload: Any) -> Any:
    """The payload as it reads back from a JSON column (so the stored value hashes like the appended one)."""
    return json.loads(canonical(payload))


def timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    kind: str,
    entity: str,
    entity_id: str,
    actor_id: int | None,
    payload: Any,
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": timestamp(at),
        "kind": kind,
        "entity": entity,
        "entity_id": entity_id,
        "actor": actor_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def checkpoint_signature(*, key: str, seq: int, hash: str, signed_at: dt.datetime) -> str:
    message = canonical({"seq": seq, "hash": hash, "signed_at": timestamp(signed_at)}).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def key_id(key: str) -> str:
    """A short fingerprint of the signing key (never the key): tells which key signed a checkpoint."""
    return hashlib.sha256(b"guardline-ledger-key:" + key.encode("utf-8")).hexdigest()[:16]


def signature_ok(*, key: str, seq: int, hash: str, signed_at: dt.datetime, signature: str) -> bool:
    expected = checkpoint_signature(key=key, seq=seq, hash=hash, signed_at=signed_at)
    return hmac.compare_digest(expected, signature)
