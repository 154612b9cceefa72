"""File ingest: read what counties and departments send, normalise it set-based in DuckDB, and report every
problem by file, row and column.

    result = load_table(path, REGISTRY)            # or records_to_table(records, REGISTRY) for JSON
    checked = records.check_records(records, spec) # a few JSON records (live API): Python when plain, else DuckDB
    for rows in result.iter_clean(batch_size=5000, order_by=("household_no",)): ...
    write_error_report(result, "errors.xlsx")

Modules: specs (declarations), feeds (the twelve department feeds, declared), read (files → DuckDB), header (header detection), sqlkinds (SQL per field kind),
normalize (the set-based SELECT, errors and clean tables), result (the entry points above), records (the same
rules row by row in Python, for small pushes).
"""

from __future__ import annotations

from . import feeds as feeds  # registers the department feed declarations in SPECS
from .errors import IngestFileError
from .result import LoadResult, load_table, records_to_table, write_error_report
from .specs import INCOME, REGISTRY, SPECS, Field, TableCheck, TableSpec

__all__ = [
    "INCOME",
    "REGISTRY",
    "SPECS",
    "Field",
    "IngestFileError",
    "LoadResult",
    "TableCheck",
    "TableSpec",
    "load_table",
    "records_to_table",
    "write_error_report",
]
