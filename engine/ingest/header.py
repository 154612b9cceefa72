"""Finding the header row below any title rows and mapping header cells to the fields of a TableSpec.

Matching ignores spaces, full-/half-width differences (NFKC), case, a leading "*" (required marker) and a trailing
unit such as "(元)", "（元）" or "(月)". Chinese synonyms and the canonical English names both match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .errors import IngestFileError
from .specs import Field, TableSpec

HEADER_SCAN_ROWS = 30
_UNIT = re.compile(r"\([^()]*\)$")  # after NFKC, full-width brackets are ASCII ones

Row = tuple[int, list[str | None]]  # (1-based row number as Excel shows it, cells)


def normalise_header(text: object) -> str:
    """The comparable form of a header cell."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(s.split()).replace("*", "")
    s = _UNIT.sub("", s)
    return s.lower()


@dataclass
class HeaderMatch:
    """Where the header is and which column holds which field."""

    header_rows: list[int]  # 1-based row numbers of the header row(s); the last one is "the" header row
    data_start: int  # index into the scanned rows of the first data row
    columns: dict[str, int]  # field name -> 0-based column index
    headers: dict[str, str]  # field name -> header text as in the file
    ignored: list[str]  # header texts of columns that match no field (or duplicate one)
    hidden_used: list[str]  # header texts of hidden columns that were read
    width: int  # number of columns in the header


def _lookup(spec: TableSpec) -> dict[str, Field]:
    table: dict[str, Field] = {}
    for f in spec.fields:
        for name in (f.name, *f.synonyms):
            table[normalise_header(name)] = f
    return table


def _matches(cells: list[str | None], lookup: dict[str, Field]) -> dict[str, list[int]]:
    """Field name -> every column whose header names it (in column order)."""
    found: dict[str, list[int]] = {}
    for j, cell in enumerate(cells):
        f = lookup.get(normalise_header(cell))
        if f is not None:
            found.setdefault(f.name, []).append(j)
    return found


def _merge(upper: list[str | None], lower: list[str | None]) -> list[str | None]:
    """Two header rows (a group label row with merged cells above the column names): the lower row's name wins;
    the upper fills the columns whose name was merged vertically across both rows (blank below)."""
    width = max(len(upper), len(lower))
    up = upper + [None] * (width - len(upper))
    low = lower + [None] * (width - len(lower))
    return [b if b not in (None, "") else a for a, b in zip(up, low, strict=True)]


def find_header(
    rows: list[Row], spec: TableSpec, file_name: str, hidden: set[int] | None = None
) -> HeaderMatch:
    """The header is the first row (within the first 30) holding every required field, possibly together with the
    row below it when that row completes it (two-row merged headers); failing that, the best match, which then
    raises IngestFileError naming the missing required columns."""
    hidden = hidden or set()
    lookup = _lookup(spec)
    required = {f.name for f in spec.required}
    scan = rows[:HEADER_SCAN_ROWS]
    best: tuple[int, int, list[str | None], list[int]] | None = (
        None  # (matches, last index, cells, row numbers)
    )
    chosen = None
    for i, (row_no, cells) in enumerate(scan):
        candidate = (len(_matches(cells, lookup)), i, cells, [row_no])
        if i + 1 < len(scan):
            merged = _merge(cells, scan[i + 1][1])
            n = len(_matches(merged, lookup))
            # The pair wins only if both rows contribute: more fields than either row alone.
            if n > candidate[0] and n > len(_matches(scan[i + 1][1], lookup)):
                candidate = (n, i + 1, merged, [row_no, scan[i + 1][0]])
        if candidate[0] >= min(2, len(spec.fields)) and required <= _matches(candidate[2], lookup).keys():
            chosen = candidate
            break
        if best is None or candidate[0] > best[0]:
            best = candidate
    if chosen is None:
        if best is None or best[0] < 2:
            wanted = "、".join(f.label for f in spec.required)
            raise IngestFileError(f"{file_name}：前{HEADER_SCAN_ROWS}行中找不到表头（应包含：{wanted}）")
        chosen = best
    _, last, cells, header_rows = chosen
    found = _matches(cells, lookup)
    missing = [f.label for f in spec.required if f.name not in found]
    if missing:
        raise IngestFileError(f"{file_name}：缺少必填列：{'、'.join(missing)}（表头在第{header_rows[-1]}行）")
    columns: dict[str, int] = {}
    for name, js in found.items():
        # Policy for hidden columns: hiding is a view setting, so a hidden column is read like any other, except
        # that a visible column with the same header wins (the hidden one is usually an old copy kept aside).
        visible = [j for j in js if j not in hidden]
        columns[name] = (visible or js)[0]
    used = set(columns.values())
    ignored = [str(c).strip() for j, c in enumerate(cells) if c not in (None, "") and j not in used]
    return HeaderMatch(
        header_rows=header_rows,
        data_start=last + 1,
        columns=columns,
        headers={name: str(cells[j]).strip() for name, j in columns.items()},
        ignored=ignored,
        hidden_used=[str(cells[j]).strip() for j in sorted(used & hidden)],
        width=len(cells),
    )
