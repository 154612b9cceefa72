"""Writing encrypted columns in bulk: the migration that encrypts existing rows, and `guardline rotate_keys`.

Every model column declared as `EncryptedCharField`, and every `BlindIndexField` derived from one, is found from the
models themselves (historical models in a migration), read with a raw cursor in primary-key order, and rewritten
only where it differs from what the current keys give: a value stored as plaintext, or under another data key or
mode, is encrypted with the current key; a blind index that is not the keyed hash of its source under the current
lookup key is recomputed. Each batch commits on its own, so an interrupted run loses nothing and a re-run continues
(rows already current are only read). Nothing here is logged in the change log: the values do not change. The
personal values kept inside change-log entries (before/after) are re-encrypted the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, models, transaction

from . import crypto
from .changelog import PERSONAL_KEYS
from .fields import BlindIndexField, EncryptedCharField

BATCH_ROWS = 5000
Progress = Callable[[str, int, int], None]  # (model label, rows read, rows rewritten)


@dataclass
class RotateResult:
    rows: int = 0
    rewritten: int = 0


def encrypted_models(models_: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    """The models among `models_` with at least one encrypted column."""
    return [
        m
        for m in models_
        if not m._meta.proxy
        and m._meta.managed
        and any(isinstance(f, EncryptedCharField) for f in m._meta.concrete_fields)
    ]


def _blind(field: BlindIndexField, plain: dict[str, str], ring: crypto.Keyring) -> str:
    value = plain.get(field.source, "")
    if field.transform == "prefix15":
        value = crypto.prefix15(value)
    return crypto.blind_index(value, ring)


def model_reencrypt(
    model: type[models.Model],
    *,
    decrypt_only: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> RotateResult:
    """Bring every encrypted column and blind index of `model` to the current keys (see the module docstring).

    With `decrypt_only`, write the plaintext back and empty the blind indexes instead (the migration's reverse)."""
    ring = crypto.keyring()
    opts = model._meta
    quote = connection.ops.quote_name
    secret = [f for f in opts.concrete_fields if isinstance(f, EncryptedCharField)]
    blind = [f for f in opts.concrete_fields if isinstance(f, BlindIndexField)]
    columns: list[models.Field] = [opts.pk, *secret, *blind]
    select = (
        f"SELECT {', '.join(quote(f.column) for f in columns)} FROM {quote(opts.db_table)} "
        f"WHERE {quote(opts.pk.column)} > %s ORDER BY {quote(opts.pk.column)} LIMIT %s"
    )
    written: list[models.Field] = [*secret, *blind]
    update = (
        f"UPDATE {quote(opts.db_table)} SET {', '.join(quote(f.column) + ' = %s' for f in written)} "
        f"WHERE {quote(opts.pk.column)} = %s"
    )
    result = RotateResult()
    last: object = (
        0 if isinstance(opts.pk, models.AutoField | models.BigAutoField | models.IntegerField) else ""
    )
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [last, batch_rows])
            rows = cursor.fetchall()
            if not rows:
                break
            changes = []
            for row in rows:
                pk, stored = row[0], row[1 : 1 + len(secret)]
                hashes = row[1 + len(secret) :]
                plain = {f.name: crypto.decrypt(v, ring) for f, v in zip(secret, stored, strict=True)}
                if decrypt_only:
                    new_stored = [plain[f.name] for f in secret]
                    new_hashes = ["" for _ in blind]
                else:
                    new_stored = [
                        crypto.encrypt(plain[f.name], ring) if crypto.needs_reencryption(v, ring) else v
                        for f, v in zip(secret, stored, strict=True)
                    ]
                    new_hashes = [_blind(f, plain, ring) for f in blind]
                if list(stored) != new_stored or list(hashes) != new_hashes:
                    changes.append([*new_stored, *new_hashes, pk])
            if changes:
                cursor.executemany(update, changes)
        result.rows += len(rows)
        result.rewritten += len(changes)
        last = rows[-1][0]
        if progress is not None:
            progress(opts.label, result.rows, result.rewritten)
    return result


def _rekey(values: dict | None, ring: crypto.Keyring, decrypt_only: bool) -> dict | None:
    if not values:
        return values
    out = {}
    for key, value in values.items():
        if key in PERSONAL_KEYS and isinstance(value, str) and value:
            if decrypt_only:
                value = crypto.decrypt(value, ring)
            elif crypto.needs_reencryption(value, ring):
                value = crypto.encrypt(crypto.decrypt(value, ring), ring)
        out[key] = value
    return out


def changelog_reencrypt(
    model: type[models.Model] | None = None,
    *,
    decrypt_only: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> RotateResult:
    """The same for the personal values inside change-log entries' before/after (`changelog.PERSONAL_KEYS`)."""
    from django.db.models import Q

    from .bulk import update_rows

    if model is None:
        from .models import ChangeLog

        model = ChangeLog
    ring = crypto.keyring()
    personal = Q()
    for key in sorted(PERSONAL_KEYS):
        personal |= Q(before__has_key=key) | Q(after__has_key=key)
    entries = model._default_manager.filter(personal).order_by("pk")
    result = RotateResult()
    last = 0
    while True:
        with transaction.atomic():
            rows = list(entries.filter(pk__gt=last).values_list("pk", "before", "after")[:batch_rows])
            if not rows:
                break
            changed = []
            for pk, before, after in rows:
                new_before, new_after = _rekey(before, ring, decrypt_only), _rekey(after, ring, decrypt_only)
                if new_before != before or new_after != after:
                    changed.append(model(pk=pk, before=new_before, after=new_after))
            update_rows(model, changed, ["before", "after"])
        result.rows += len(rows)
        result.rewritten += len(changed)
        last = rows[-1][0]
        if progress is not None:
            progress(model._meta.label, result.rows, result.rewritten)
    return result
