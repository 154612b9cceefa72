"""Each of the twelve feed declarations against INTERCHANGE §3 itself (read from ../shared/spec): the department,
every own field with its Chinese header, a valid row accepted with typed values, a row missing its event date
rejected naming the column, and the natural key that makes a re-sent record recognisable."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from engine.ids import check_char
from engine.ingest import SPECS, records_to_table
from engine.ingest.feeds import FEED_KEYS

SPEC_DOC = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "INTERCHANGE.md"


def _section3() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    text = SPEC_DOC.read_text(encoding="utf-8")
    section = text[text.index("## 3.") : text.index("## 4.")]
    feeds = {}
    for line in section.splitlines():
        m = re.match(r"^\| ([a-z_]+) \| ([^|]+) \| (.+) \|$", line)
        if not m or m.group(1) == "feed":
            continue
        fields = [
            (canon.strip(), re.sub(r"\s*\(.*\)$", "", chinese).strip())
            for canon, chinese in (part.split("←") for part in m.group(3).split(";") if "←" in part)
        ]
        feeds[m.group(1)] = (m.group(2).strip(), fields)
    return feeds


DOC = _section3()
ID = "52052619800101001" + check_char("52052619800101001")
SAMPLE = {  # one plausible value per kind of own field
    "date": "2024-03-05",
    "money": "1,200.50",
    "int": "2",
    "text": "某某",
}


def test_the_spec_lists_exactly_the_declared_feeds():
    assert sorted(DOC) == sorted(FEED_KEYS) and len(FEED_KEYS) == 12


@pytest.mark.parametrize("key", FEED_KEYS)
def test_declaration_matches_interchange(key):
    department, fields = DOC[key]
    spec = SPECS[key]
    declared = {f.name: f for f in spec.fields}
    for canonical, chinese in fields:
        assert canonical in declared, f"{key}: {canonical} not declared"
        assert chinese in declared[canonical].synonyms, f"{key}.{canonical}: header {chinese} not accepted"
    assert spec.event_date == fields[0][0]  # the event date is the feed's first own field
    assert spec.department == department
    assert spec.event_date in spec.natural_key


def _row(key: str, *, by_header: bool) -> dict:
    spec = SPECS[key]
    row: dict = {}
    if spec.require_one_of == ("village_code",):
        row["行政区划代码" if by_header else "village_code"] = "520526100201"
    else:
        row.update({"证件号码": ID, "姓名": "张三"} if by_header else {"id_number": ID, "name": "张三"})
    for canonical, chinese in DOC[key][1]:
        f = next(f for f in spec.fields if f.name == canonical)
        value = SAMPLE.get(f.kind)
        if f.kind == "enum":
            value = next(iter(f.vocab.values()))
        if value is not None:
            row[chinese if by_header else canonical] = value
    return row


@pytest.mark.parametrize("key", FEED_KEYS)
@pytest.mark.parametrize("by_header", [True, False])
def test_a_valid_row_is_accepted_with_typed_values(key, by_header):
    result = records_to_table([_row(key, by_header=by_header)], SPECS[key])
    assert result.rows_rejected == 0, result.con.execute(f"SELECT * FROM {result.errors}").fetchall()
    (clean,) = next(result.iter_clean())
    assert clean[SPECS[key].event_date] == date(2024, 3, 5)
    for f in SPECS[key].fields:
        if f.kind == "money" and f.name in clean and clean[f.name] is not None:
            assert float(clean[f.name]) == 1200.5


@pytest.mark.parametrize("key", FEED_KEYS)
def test_a_row_without_its_event_date_is_rejected_naming_the_column(key):
    row = _row(key, by_header=False)
    row.pop(SPECS[key].event_date)
    result = records_to_table([row], SPECS[key])
    assert result.rows_rejected == 1
    columns = [c for (c,) in result.con.execute(f'SELECT "column" FROM {result.errors}').fetchall()]
    assert SPECS[key].event_date in columns


@pytest.mark.parametrize("key", [k for k in FEED_KEYS if SPECS[k].require_one_of != ("village_code",)])
def test_a_person_row_needs_an_id_number_or_a_name(key):
    row = _row(key, by_header=False)
    row.pop("id_number"), row.pop("name")
    assert records_to_table([row], SPECS[key]).rows_rejected == 1
