"""Fast multi-row UPDATE for import paths: one parameterised statement run with executemany.

Django's `bulk_update` builds a CASE expression per field over the whole batch, which grows badly with batch size;
imports update thousands of rows per chunk, so they use this instead (same transaction, same database adapters).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models

from .fields import BlindIndexField, EncryptedCharField


def update_rows(model: type[models.Model], objects: Iterable[models.Model], fields: Sequence[str]) -> int:
    """UPDATE each object's `fields` by primary key. Returns the number of objects written."""
    opts = model._meta
    quote = connection.ops.quote_name
    columns = [opts.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(opts.pk.column)} = %s"
    params = [
        [
            f.pre_save(obj, False)
            if isinstance(f, BlindIndexField)
            else f.get_db_prep_save(getattr(obj, f.attname), connection)
            for f in columns
        ]
        + [obj.pk]
        for obj in objects
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)


def insert_rows(model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str]) -> int:
    """INSERT objects with executemany (one statement, many parameter rows), without returning primary keys.

    Several times faster than `bulk_create` on SQLite, whose variable limit splits a batch into many small
    statements each compiled by the ORM. Callers that need the new keys read them back by natural key. Only the
    fields whose database form differs from the Python value (JSON, aware datetimes, encrypted text) go through
    Django's preparation, blind indexes are computed from their source field; the drivers adapt the rest (str, int,
    bool, Decimal, date)."""
    if not objects:
        return 0
    opts = model._meta
    quote = connection.ops.quote_name
    columns = [opts.get_field(name) for name in fields]
    prepared = [isinstance(f, models.JSONField | models.DateTimeField | EncryptedCharField) for f in columns]
    derived = [isinstance(f, BlindIndexField) for f in columns]
    names = ", ".join(quote(f.column) for f in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(opts.db_table)} ({names}) VALUES ({marks})"
    attnames = [f.attname for f in columns]
    params = []
    for obj in objects:
        row = []
        for f, attname, prep, derive in zip(columns, attnames, prepared, derived, strict=True):
            if derive:
                row.append(f.pre_save(obj, True))
                continue
            value = getattr(obj, attname)
            row.append(f.get_db_prep_save(value, connection) if prep else value)
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
