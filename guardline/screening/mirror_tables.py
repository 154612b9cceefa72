"""What the screening input copy (guardline.screening.mirror) holds and how changes reach it: per input table, the
columns copied and the key (`COPIES`), and the triggers that log every row inserted, deleted, or changed in a
copied column into InputChange (`TRIGGERS`: SQLite's, made by migration screening.0005; `PG_TRIGGERS`:
PostgreSQL's, made by migration screening.0012; both made again by `sync` when one is missing)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from engine.screening.run import SCHEMAS
from guardline.ingest.models import FeedEvent
from guardline.registry.models import Household, HouseholdYear, Member

from .extract import _MONEY, PG_RECEIVED_DATE, pg_double
from .models import InputChange, InputCopyState

CHANGES = InputChange._meta.db_table
STATE = InputCopyState._meta.db_table


@dataclass(frozen=True)
class Copy:
    """One input table's copy: the engine's columns (SCHEMAS[name]) plus `extra` ones a read filters on, read from
    `table` by `columns` (copy column → database column), keyed by `key`; `source` is its code in InputChange."""

    name: str
    source: int
    table: str
    key: str
    columns: dict[str, str]
    extra: tuple[tuple[str, pa.DataType], ...] = ()
    # PostgreSQL's expression for a copy column where it is not the database column as it is
    on_postgres: tuple[tuple[str, str], ...] = ()

    @property
    def schema(self) -> pa.Schema:
        fields = [*SCHEMAS[self.name], *self.extra]
        if self.key not in SCHEMAS[self.name].names:
            fields.insert(0, pa.field(self.key, pa.int64()))
        return pa.schema(fields)

    def select(self, vendor: str = "sqlite") -> str:
        expressions = dict(self.columns)
        if vendor == "postgresql":
            expressions.update(self.on_postgres)
        return (
            "SELECT "
            + ", ".join(db if db == column else f"{db} AS {column}" for column, db in expressions.items())
            + f" FROM {self.table}"
        )


def _same(names) -> dict[str, str]:
    return {n: n for n in names}


COPIES = (
    Copy(
        "households", 1, Household._meta.db_table, "household_id",
        {"household_id": "id", **_same(SCHEMAS["households"].names[1:]), "is_active": "is_active"},
        extra=(("is_active", pa.bool_()),),
    ),
    Copy(
        "members", 2, Member._meta.db_table, "member_id",
        {"member_id": "id", **_same(SCHEMAS["members"].names[1:])},
    ),
    Copy(
        "household_years", 3, HouseholdYear._meta.db_table, "id",
        {"id": "id", **_same(SCHEMAS["household_years"].names)},
        on_postgres=tuple((c, pg_double(c)) for c in _MONEY),
    ),
    Copy(
        "events", 4, FeedEvent._meta.db_table, "id",
        {
            "id": "id", **_same(["feed", "household_id", "member_id", "village_code", "event_date"]),
            # SQLite keeps the datetime as ISO text; its first ten characters are the date (extract._text_dates)
            "received_date": "created_at", **_same(["amount", "kind", "link_status"]),
        },
        extra=(("link_status", pa.string()),),
        on_postgres=(("received_date", PG_RECEIVED_DATE),),
    ),
)  # fmt: skip
BY_NAME = {c.name: c for c in COPIES}


def _trigger_names(copy: Copy) -> dict[str, str]:
    logged = f"INSERT INTO {CHANGES} (source, row_id) VALUES ({copy.source}, "
    watched = ", ".join(dict.fromkeys(copy.columns.values()))
    return {
        f"screening_copy_{copy.name}_insert": f"AFTER INSERT ON {copy.table} BEGIN {logged}NEW.id); END",
        f"screening_copy_{copy.name}_update": (
            f"AFTER UPDATE OF {watched} ON {copy.table} BEGIN {logged}OLD.id); "
            f"INSERT INTO {CHANGES} (source, row_id) SELECT {copy.source}, NEW.id WHERE NEW.id <> OLD.id; END"
        ),
        f"screening_copy_{copy.name}_delete": f"AFTER DELETE ON {copy.table} BEGIN {logged}OLD.id); END",
    }


TRIGGERS = {name: body for copy in COPIES for name, body in _trigger_names(copy).items()}


def triggers_create(cursor) -> None:
    """Create the change triggers (SQLite), replacing any of the same name. Used by the migration and by `sync`."""
    for name, body in TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"CREATE TRIGGER {name} {body}")


def triggers_drop(cursor) -> None:
    for name in TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


# PostgreSQL: one trigger per statement, not per row (an import's COPY of a million events logs them in one
# INSERT … SELECT from the statement's transition table). An UPDATE logs the rows whose copied columns changed.
# A TRUNCATE logs nothing row by row: it forgets the copy's state, so the next sync rebuilds the copy.
PG_EVENTS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
    "truncate": "AFTER TRUNCATE ON {table}",
}


def _pg_function(copy: Copy) -> str:
    logged = f"INSERT INTO {CHANGES} (source, row_id) SELECT {copy.source}, "
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in dict.fromkeys(copy.columns.values()))
    return (
        f"CREATE OR REPLACE FUNCTION screening_copy_{copy.name}_log() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  IF TG_OP = 'INSERT' THEN {logged}id FROM new_rows;\n"
        f"  ELSIF TG_OP = 'DELETE' THEN {logged}id FROM old_rows;\n"
        "  ELSIF TG_OP = 'UPDATE' THEN\n"
        f"    {logged}o.id FROM old_rows AS o LEFT JOIN new_rows AS n ON n.id = o.id WHERE n.id IS NULL OR {changed};\n"
        f"    {logged}n.id FROM new_rows AS n WHERE NOT EXISTS (SELECT 1 FROM old_rows AS o WHERE o.id = n.id);\n"
        f"  ELSE DELETE FROM {STATE};\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


PG_TRIGGERS = {
    f"screening_copy_{copy.name}_{event}": (copy, when.format(table=copy.table))
    for copy in COPIES
    for event, when in PG_EVENTS.items()
}


def pg_triggers_create(cursor) -> None:
    """Create PostgreSQL's change triggers and their functions, replacing any of the same name."""
    for copy in COPIES:
        cursor.execute(_pg_function(copy))
    for name, (copy, when) in PG_TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {copy.table}")
        cursor.execute(
            f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION screening_copy_{copy.name}_log()"
        )


def pg_triggers_drop(cursor) -> None:
    for name, (copy, _) in PG_TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {copy.table}")
    for copy in COPIES:
        cursor.execute(f"DROP FUNCTION IF EXISTS screening_copy_{copy.name}_log()")
