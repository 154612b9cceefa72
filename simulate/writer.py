"""Streaming CSV writing from columns with Apache Arrow's C++ writer: cells are produced one chunk of rows at a
time, so millions of rows never exist as Python objects at once. UTF-8, Chinese headers, '\\n' line ends, no
quoting (no value the simulator writes contains a comma, quote or line break — checked), dates ISO, blanks for
missing values (NaN, NaT, None), numbers in their shortest exact form (1234.5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CHUNK = 250_000
Column = Callable[[slice], object]  # returns a numpy array, a list or a pyarrow array for a slice of rows
_SPECIAL = '[,"\\n\\r]'
_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def to_arrow(values: object) -> pa.Array:
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, list):
        return pa.array(values, type=pa.string())
    assert isinstance(values, np.ndarray)
    kind = values.dtype.kind
    if kind == "M":
        return pa.array(values.astype("datetime64[D]"))
    if kind == "f":
        return pa.array(values, from_pandas=True)
    if kind in "iu":
        return pa.array(values.astype(np.int64))
    if kind == "b":
        return pa.array(values.astype(np.int64))
    return pa.array(values, type=pa.string(), from_pandas=True)


def write_csv(path: Path, header: list[str], columns: list[Column], rows: int) -> int:
    """Write `rows` rows; each column is a function returning the cells of a slice of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f"c{i}" for i in range(len(columns))]
    with open(path, "wb") as fh:
        fh.write((",".join(header) + "\n").encode("utf-8"))
        for lo in range(0, rows, CHUNK):
            part = slice(lo, min(rows, lo + CHUNK))
            arrays = [to_arrow(column(part)) for column in columns]
            for array in arrays:
                if (
                    pa.types.is_string(array.type)
                    and pc.any(pc.match_substring_regex(array, _SPECIAL)).as_py()
                ):
                    raise ValueError(f"{path.name}: a value contains a comma, quote or line break")
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(pa.table(arrays, names=names), buffer, _OPTIONS)
            fh.write(buffer.getvalue().to_pybytes())
    return rows


def array_column(values: np.ndarray) -> Column:
    return lambda part: values[part]


def labels_column(labels: np.ndarray, codes: np.ndarray) -> Column:
    """Chinese labels of integer codes (e.g. REL_LABELS[relation])."""
    dictionary = pa.array(labels.tolist(), type=pa.string())
    return lambda part: pc.take(dictionary, pa.array(np.asarray(codes[part], np.int64)))


def constant_column(value: str) -> Column:
    return lambda part: pa.array([value], type=pa.string()).take(
        pa.array(np.zeros(part.stop - part.start, np.int64))
    )
