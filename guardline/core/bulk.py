"""Fast multi-row writes for import and screening paths: one parameterised statement run with executemany, or on
PostgreSQL, for many rows, COPY.

Django's `bulk_update` builds a CASE expression per field over the whole batch, which grows badly with batch size;
imports update thousands of rows per chunk, so they use this instead (same transaction, same database adapters).
PostgreSQL runs an executemany as one statement per row (psycopg pipelines them, but the server still parses,
plans and executes each): about 26,000 rows a second for a screening's grades. COPY streams the rows into the table,
or into a temporary one that a single INSERT … SELECT or UPDATE … FROM then applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from .fields import BlindIndexField, EncryptedCharField

# Below this many rows an executemany costs less than a temporary table (a catalog entry made and dropped per
# transaction) and keeps the live path, which writes one household at a time, off the catalog.
COPY_FROM_ROWS = 1000


def copy_wanted(rows: int) -> bool:
    """Whether `rows` rows go through COPY: on PostgreSQL, from COPY_FROM_ROWS rows on."""
    return connection.vendor == "postgresql" and rows >= COPY_FROM_ROWS


def rows_copy(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: COPY `rows` (tuples in the order of `columns`) into `table`, in the caller's transaction. The
    server parses each value's text into the column's type: dates, timestamps and JSON may come as text."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    # Django's cursor wraps its own calls' errors (an IntegrityError, not psycopg's UniqueViolation); this one too.
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def rows_staged(cursor, name: str, like: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: a temporary table `name`, dropped when the caller's transaction ends, with the types of
    `columns` of table `like`, holding `rows` (COPY). What an INSERT … SELECT or UPDATE … FROM then applies."""
    if not connection.in_atomic_block:
        raise RuntimeError("rows_staged needs a transaction: its table is dropped at commit")
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
    cursor.execute(
        f"CREATE TEMP TABLE {quote(name)} ON COMMIT DROP AS SELECT {names} FROM {quote(like)} WITH NO DATA"
    )
    rows_copy(cursor, name, columns, rows)
    cursor.execute(f"ANALYZE {quote(name)}")  # a temporary table has no statistics: the join would be guessed


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
    if params and copy_wanted(len(params)) and connection.in_atomic_block:
        pk, names = opts.pk.column, [f.column for f in columns]
        with connection.cursor() as cursor:
            rows_staged(cursor, "_bulk_update", opts.db_table, [*names, pk], params)
            cursor.execute(
                f"UPDATE {quote(opts.db_table)} AS t SET {', '.join(f'{quote(c)} = s.{quote(c)}' for c in names)} "
                f"FROM _bulk_update AS s WHERE t.{quote(pk)} = s.{quote(pk)}"
            )
    elif params:
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
        if copy_wanted(len(params)):
            rows_copy(cursor, opts.db_table, [f.column for f in columns], params)
        else:
            cursor.executemany(sql, params)
    return len(params)
