"""Fuzzing the file importers through the real service (`import_file`): random bytes, truncated UTF-8/GB18030,
headers mixing the real Chinese synonyms with garbage, hostile cells (huge strings, control characters, formulas,
NUL bytes, IDs with wrong check digits, odd dates), empty files, as CSV and as .xlsx.

Whatever comes in: never an exception other than the file-level `IngestFileError`; a rejected file stores nothing;
a file with row errors stores only accepted rows and its counts add up. Bounded (derandomized, ~25 examples per kind)
so CI stays stable."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import engine.ingest.feeds  # noqa: F401  (registers the feed specs in SPECS)
from engine.ids import IdStatus, check_char, classify_id_number
from engine.ingest.errors import IngestFileError
from engine.ingest.specs import SPECS
from guardline.ingest.models import FeedEvent, ImportBatch
from guardline.ingest.services import import_file
from guardline.registry.models import Household, Member

pytestmark = pytest.mark.django_db

KINDS = ("registry", "medical_settlement", "death_registration", "disaster_loss")
VILLAGE = "@VILLAGE@"  # replaced by a real village code of the test database
_counter = itertools.count()


def _id(first17: str, good: bool) -> str:
    c = check_char(first17)
    return first17 + (c if good else ("0" if c != "0" else "1"))


SPEC = "@SPEC@"  # expanded to every column label of the kind's table, in order
VALID_ROW = "@VALID@"  # expanded to a plausible row for the kind's table (then some cells overwritten)
SYNONYMS = sorted({s for spec in SPECS.values() for f in spec.fields for s in (*f.synonyms, f.name)})
header_cells = st.one_of(
    st.sampled_from(SYNONYMS),
    st.sampled_from(SYNONYMS).map(lambda s: f" {s}\u3000"),  # padded with ASCII and full-width spaces
    st.text(max_size=12),
    st.just(""),
)
headers = st.one_of(
    st.lists(header_cells, max_size=3).map(lambda extra: [SPEC, *extra]),  # the real table, extra columns
    st.lists(st.one_of(st.just(SPEC), header_cells), min_size=1, max_size=14),
)
cells = st.one_of(
    st.sampled_from(
        [
            "",
            VILLAGE,
            "520526000000000001",
            "张三",
            "户主",
            "之子",
            "男",
            "女",
            "是",
            "否",
            "=1+1",
            '=HYPERLINK("http://x")',
            "+1",
            "@SUM(A1)",
            "\x00",
            "a\x00b",
            "\r\n",
            "\x1b[31m",
            "\ufeff",
            "2024-02-30",
            "2024年3月5日",
            "20240305",
            "3/5/2024",
            "2024.3.5",
            "1900-01-01",
            "9999-12-31",
            "45000",
            "-1",
            "1e309",
            "NaN",
            "1,200元",
            "99999999999999999999999",
            "13800001234",
        ]
    ),
    st.builds(_id, st.just("52052619800101001"), st.booleans()),
    st.builds(_id, st.from_regex(r"\A[0-9]{17}\Z"), st.booleans()),
    st.sampled_from([1, 300, 40_000]).map(lambda n: "长" * n),
    st.text(max_size=20),
)
rows = st.one_of(
    st.lists(cells, max_size=16),
    st.tuples(
        st.just(VALID_ROW), st.integers(0, 99), st.lists(st.tuples(st.integers(0, 20), cells), max_size=2)
    ),
)
tables = st.tuples(headers, st.lists(rows, max_size=12))


def _valid_row(kind: str, n: int, village: str) -> list[str]:
    first17 = f"5205261980{n // 28 + 1:02d}{n % 28 + 1:02d}{n:03d}"
    values = {
        "household_no": f"5205260000000{n:05d}",
        "village_code": village,
        "name": f"张{n}",
        "id_number": first17 + check_char(first17),
        "relation": "户主",
        "sex": "男",
    }
    spec = SPECS[kind]
    for f in spec.fields:
        if f.kind == "date" and f.name != "birth_date":
            values[f.name] = "2024-03-05"
        elif f.kind == "money":
            values[f.name] = "100"
    return [values.get(f.name, "") for f in spec.fields]


def _expand(table, kind: str, village: str) -> list[list[str]]:
    """The drawn table with its placeholders replaced: the spec's headers, plausible rows, the test's village."""
    header, drawn = table
    labels = [f.label for f in SPECS[kind].fields]
    out = [[cell for h in header for cell in (labels if h == SPEC else [h])]]
    for row in drawn:
        if isinstance(row, tuple):
            _, n, changes = row
            row = _valid_row(kind, n, village)
            for index, cell in changes:
                if index < len(row):
                    row[index] = cell
        out.append([village if c == VILLAGE else c for c in row])
    return out


files = st.one_of(
    st.tuples(st.just("csv"), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), tables, st.none()),
    st.tuples(
        st.just("csv"), st.sampled_from(["utf-8", "gb18030"]), tables, st.integers(0, 400)
    ),  # truncated
    st.tuples(st.just("xlsx"), st.just(""), tables, st.none()),
    st.tuples(st.sampled_from(["csv", "xlsx"]), st.just("bytes"), st.binary(max_size=600), st.none()),
)


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def _xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), FeedEvent.objects.count()


@pytest.fixture
def village_code(villages, households):
    return villages["A"].code


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(case=files)
@example(case=("csv", "bytes", b"", None))
@example(case=("csv", "utf-8", (["户编号", "行政区划代码", "姓名"], []), None))
def test_import_never_crashes_nor_writes_partially(kind, case, village_code, tmp_path):
    suffix, encoding, table, cut = case
    if encoding == "bytes":
        content = table
    elif suffix == "xlsx":
        content = _xlsx_bytes(_expand(table, kind, village_code))
    else:
        content = _csv_bytes(_expand(table, kind, village_code), encoding)
        if cut is not None:
            content = content[:cut]
    path = tmp_path / f"fuzz-{next(_counter)}.{suffix}"
    path.write_bytes(content)

    with transaction.atomic():  # each example starts from the same database
        before = _counts()
        batches = ImportBatch.objects.count()
        try:
            batch = import_file(kind, path)
        except IngestFileError as exc:
            assert str(exc).strip()
            assert _counts() == before, "a rejected file must store nothing"
            failed = ImportBatch.objects.order_by("-pk").first()
            assert ImportBatch.objects.count() == batches + 1
            assert failed is not None and failed.status == ImportBatch.Status.FAILED and failed.message
        else:
            assert batch.status == ImportBatch.Status.DONE, batch.message
            assert 0 <= batch.rows_rejected <= batch.rows_read
            assert batch.rows_read == batch.rows_accepted + batch.rows_rejected
            households, members, events = (after - b for after, b in zip(_counts(), before, strict=True))
            if kind == "registry":
                assert events == 0
                assert 0 <= members <= batch.rows_accepted and households <= members
                assert batch.created + batch.updated + batch.unchanged <= batch.rows_accepted
                for number in Member.objects.values_list("id_number", flat=True):
                    assert classify_id_number(number).status == IdStatus.VALID, number
            else:
                assert households == members == 0
                assert events == batch.created <= batch.rows_accepted
        transaction.set_rollback(True)
