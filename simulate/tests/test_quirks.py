"""The quirk files exhibit every quirk of INTERCHANGE.md, and the platform's reader copes with them: only the
Excel-damaged IDs are rejected."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from datetime import datetime

import pytest
from openpyxl import load_workbook

from .conftest import rows

FULL_DIGITS = "０１２３４５６７８９"


def _cells(sheet) -> list[list[object]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_registry_workbook_quirks(county):
    out, summary = county
    assert summary["files"]["registry_quirks.xlsx"] <= 2000
    sheet = load_workbook(out / "registry_quirks.xlsx").active
    cells = _cells(sheet)
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert "A1:T1" in merged and "A3:D3" in merged  # title and a group header
    assert cells[3][:2] == ["户编号", "行政区划代码"]  # header below two title rows and the group row
    hidden = [c for c, d in sheet.column_dimensions.items() if d.hidden]
    assert hidden and cells[3][18] == "证件号码"  # a hidden old copy of the ID column
    ids = [r[5] for r in cells[4:] if r[0] and r[0] != "合计"]
    assert any(isinstance(i, float) for i in ids)  # stored as numbers: precision lost
    text = [i for i in ids if isinstance(i, str)]
    assert any(i.endswith("x") for i in text) and any(len(i) == 15 and i.isdigit() for i in text)
    assert any(i.startswith("'") for i in text) and any(i != i.strip() for i in text)
    assert any(set(i) <= set(FULL_DIGITS + "X") for i in text)
    births = [r[8] for r in cells[4:] if r[0] and r[0] != "合计"]
    assert any(isinstance(b, datetime) for b in births) and any(isinstance(b, int) for b in births)
    forms = {("年" in b, "/" in b, "-" in b, b.isdigit()) for b in births if isinstance(b, str)}
    assert {(True, False, False, False), (False, True, False, False), (False, False, True, False)} <= forms
    assert (False, False, False, True) in forms  # 20240305
    assert any(all(v is None for v in r) for r in cells[4:])  # empty rows
    assert cells[-1][0] == "合计"


def test_income_workbook_quirks(county):
    out, _ = county
    sheet = load_workbook(out / "income_quirks.xlsx").active
    cells = _cells(sheet)
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert {"A3:A4", "C3:F3", "J3:M3"} <= merged  # a two-row header with merged group cells
    assert sheet.column_dimensions["N"].hidden
    money = [v for r in cells[4:-1] if r[0] for v in r[2:9]]
    texts = [v for v in money if isinstance(v, str)]
    assert any("," in v for v in texts) and any(v.endswith("元") for v in texts)
    assert any(v.startswith("¥") for v in texts) and any(set(v) <= set(FULL_DIGITS) and v for v in texts)
    assert "" in texts or None in money
    assert "0" in texts and any(isinstance(v, float) for v in money)
    assert cells[-1][0] == "总计" and any(all(v is None for v in r) for r in cells[4:])


@pytest.mark.parametrize("kind", ["registry", "income"])
def test_csv_variants_encodings_and_quirks(county, kind):
    out, _ = county
    gb = (out / f"{kind}_quirks_gb18030.csv").read_bytes()
    bom = (out / f"{kind}_quirks_bom.csv").read_bytes()
    assert bom.startswith(codecs.BOM_UTF8) and not gb.startswith(codecs.BOM_UTF8)
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert gb.decode("gb18030") == bom[3:].decode("utf-8")
    data = list(csv.reader(io.StringIO(bom[3:].decode("utf-8"))))
    assert len(data[0]) == 1 and data[1] == [] and data[-1][0] == "合计"  # title, empty line, totals row
    body = [r for r in data[3:-1] if any(r)]
    if kind == "registry":
        ids = [r[5] for r in body]
        assert any("E+" in i for i in ids) and any(i.endswith("x") for i in ids)
        assert any(len(i) == 15 for i in ids) and any(i.startswith("'") for i in ids)
        births = [r[8] for r in body]
        assert any(b.isdigit() and len(b) == 5 for b in births) and any("年" in b for b in births)
    else:
        cells = [v for r in body for v in r[2:9]]
        assert any("," in v for v in cells) and any(v.endswith("元") for v in cells) and "" in cells


def test_quirk_truth_and_the_reader(county):
    engine_ingest = pytest.importorskip("engine.ingest")
    out, _ = county
    truth = rows(out / "truth" / "quirk_rows.csv")
    expected = Counter((t["file"], t["expected"]) for t in truth)
    for name in ("registry_quirks.xlsx", "registry_quirks_gb18030.csv", "registry_quirks_bom.csv"):
        result = engine_ingest.load_table(out / name, engine_ingest.REGISTRY)
        assert result.rows_read == expected[(name, "ok")] + expected[(name, "reject:id_excel_damaged")]
        assert result.rows_rejected == expected[(name, "reject:id_excel_damaged")] > 0
    for name in ("income_quirks.xlsx", "income_quirks_gb18030.csv", "income_quirks_bom.csv"):
        result = engine_ingest.load_table(out / name, engine_ingest.INCOME)
        assert result.rows_read == expected[(name, "ok")] and result.rows_rejected == 0
