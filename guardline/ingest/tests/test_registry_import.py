"""Importing registry and income files into the platform: counts, change log, idempotency, row errors, scope."""

from decimal import Decimal

import pytest

from guardline.accounts.models import Role
from guardline.core.crypto import blind_index
from guardline.core.models import ChangeLog
from guardline.ingest.models import ImportBatch
from guardline.ingest.services import import_file
from guardline.registry.models import Household, HouseholdYear, Member
from tests.files import INCOME_HEADERS, REGISTRY_HEADERS, income_rows, registry_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def village_codes(villages):
    return [villages["A"].code, villages["A2"].code, villages["B"].code]


def test_registry_import_creates_households_members_and_change_log(tmp_path, village_codes):
    rows = registry_rows(village_codes, 30)
    batch = import_file("registry", write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows))
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (len(rows), len(rows), 0)
    assert Household.objects.count() == 30
    assert Member.objects.count() == len(rows)
    h = Household.objects.get(household_no=rows[0]["户编号"])
    assert h.member_count == h.members.count()
    assert h.head_name == rows[0]["姓名"]
    head = h.members.get(relation="head")
    assert head.sex in ("male", "female") and head.birth_date is not None  # derived from the ID
    assert ChangeLog.objects.filter(entity="member", action="create").count() == len(rows)
    assert ChangeLog.objects.filter(entity="household", action="create").count() == 30


def test_same_file_twice_changes_nothing(tmp_path, village_codes):
    path = write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, registry_rows(village_codes, 20))
    import_file("registry", path)
    counts = (Household.objects.count(), Member.objects.count(), ChangeLog.objects.count())
    again = import_file("registry", path)
    assert again.status == ImportBatch.Status.DUPLICATE
    forced = import_file("registry", path, force=True)
    assert forced.status == ImportBatch.Status.DONE
    assert forced.created == 0 and forced.updated == 0 and forced.unchanged == forced.rows_accepted
    assert (Household.objects.count(), Member.objects.count(), ChangeLog.objects.count()) == counts


def test_changes_are_logged_with_before_and_after(tmp_path, village_codes):
    rows = registry_rows(village_codes, 5)
    import_file("registry", write_csv(tmp_path / "v1.csv", REGISTRY_HEADERS, rows))
    rows[0]["健康状况"] = "患有大病"
    rows[0]["残疾等级"] = ""
    moved_out = rows.pop(1) if rows[1]["户编号"] == rows[0]["户编号"] else None
    batch = import_file("registry", write_csv(tmp_path / "v2.csv", REGISTRY_HEADERS, rows))
    member = Member.objects.get(id_number_hash=blind_index(rows[0]["证件号码"]))
    assert member.health == "serious"
    change = ChangeLog.objects.filter(entity="member", entity_id=member.pk, action="update").latest("at")
    assert change.after["health"] == "serious"
    assert change.before["health"] in ("healthy", "chronic")
    assert change.reason == f"import:registry:{batch.pk}"
    if moved_out:
        gone = Member.objects.get(id_number_hash=blind_index(moved_out["证件号码"]))
        assert gone.is_active is False
        assert member.household.member_count == member.household.members.filter(is_active=True).count()


def test_bad_rows_are_rejected_and_good_rows_committed(tmp_path, village_codes):
    rows = registry_rows(village_codes, 10)
    rows[3]["证件号码"] = "5.20526199001011E+17"  # Excel-damaged
    rows[5]["与户主关系"] = "邻居"  # not a relation
    for row in rows:  # old code of Weining before recoding: kept, warned
        if row["户编号"] == rows[7]["户编号"]:
            row["行政区划代码"] = "522427100200"
    batch = import_file("registry", write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows))
    assert batch.rows_rejected == 2
    assert batch.rows_accepted == len(rows) - 2
    assert Member.objects.count() == len(rows) - 2
    assert not Member.objects.filter(
        name=rows[5]["姓名"], id_number_hash=blind_index(rows[5]["证件号码"])
    ).exists()
    codes = {e["code"] for e in batch.errors_sample}
    assert "unknown_region" in codes
    rows_in_errors = {e["source_row"] for e in batch.errors_sample if e["severity"] == "error"}
    assert rows_in_errors == {3 + 2, 5 + 2}  # header is file row 1, data starts at row 2
    assert Household.objects.get(household_no=rows[7]["户编号"]).village_code == "522427100200"
    from openpyxl import load_workbook

    sheet = load_workbook(batch.error_report.path).active
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["文件", "行号", "列", "原值", "问题", "级别"]
    assert sheet.max_row - 1 == len(batch.errors_sample)


def test_control_characters_in_cells_are_dropped_before_anything_is_stored(tmp_path, village_codes):
    """NUL and other control characters come from broken exports; PostgreSQL refuses NUL in text and openpyxl
    refuses all of them in a report, so they never reach the database, the error sample or the xlsx."""
    rows = registry_rows(village_codes, 6)
    rows[0]["姓名"] = rows[0]["姓名"][:1] + "\x00" + rows[0]["姓名"][1:]
    for row in rows:
        if row["户编号"] == rows[1]["户编号"]:
            row["户编号"] = row["户编号"] + "\x07"
    rows[2]["与户主关系"] = "邻\x00居\x1b"  # rejected: the bad value is reported without the controls
    batch = import_file("registry", write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows))
    assert batch.status == ImportBatch.Status.DONE
    assert batch.rows_rejected == 1
    names = Member.objects.values_list("name", flat=True)
    assert not any("\x00" in n for n in names)
    assert Member.objects.filter(name=rows[0]["姓名"].replace("\x00", "")).exists()
    assert Household.objects.filter(household_no=rows[1]["户编号"].rstrip("\x07")).exists()
    assert [e["value"] for e in batch.errors_sample if e["severity"] == "error"] == ["邻居"]
    from openpyxl import load_workbook

    assert load_workbook(batch.error_report.path).active.max_row == 1 + len(batch.errors_sample)


def test_income_import_computes_per_capita_and_flags_unknown_households(tmp_path, village_codes):
    rows = registry_rows(village_codes, 6)
    import_file("registry", write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows))
    nos = sorted({r["户编号"] for r in rows})
    income = income_rows([*nos, "999999999999999999"])
    batch = import_file("income", write_csv(tmp_path / "收入.csv", INCOME_HEADERS, income))
    assert batch.rows_rejected == 1
    assert HouseholdYear.objects.count() == 6
    h = Household.objects.get(household_no=nos[0])
    y = h.years.get(year=2024)
    r = income[0]
    net = sum(Decimal(r[k]) for k in ("工资性收入", "生产经营性收入", "财产性收入", "转移性收入")) - Decimal(
        r["生产经营性支出"]
    )
    assert y.net_income == net
    assert y.per_capita_net_income == (net / h.member_count).quantize(Decimal("0.01"))
    assert y.adjusted_income == net - Decimal(r["合规自付支出"])
    assert y.formula_version == "2024.1"
    assert h.latest_per_capita_income == y.per_capita_net_income


def test_import_by_a_user_respects_scope(tmp_path, village_codes, make_user, villages):
    staff = make_user("township_b", Role.TOWNSHIP_REVIEWER, villages["B"].parent.code)
    rows = registry_rows(village_codes, 9)
    batch = import_file("registry", write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows), actor=staff)
    assert set(Household.objects.values_list("village_code", flat=True)) == {villages["B"].code}
    outside = sum(1 for r in rows if r["行政区划代码"] != villages["B"].code)
    assert batch.rows_rejected == outside


def test_upload_page_runs_import_with_progress_and_report(client, tmp_path, village_codes, make_user):
    make_user("staff", Role.COUNTY_STAFF, "520526")
    client.login(username="staff", password="Test-Password-2026")
    rows = registry_rows(village_codes, 8)
    rows[0]["证件号码"] = "123"
    path = write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows, encoding="gb18030")
    with open(path, "rb") as fh:
        response = client.post("/imports/", {"kind": "registry", "file": fh})
    assert response.status_code == 302
    job_page = client.get(response["Location"])
    assert job_page.status_code == 200
    batch = ImportBatch.objects.get()
    assert batch.rows_rejected == 1 and batch.rows_accepted == len(rows) - 1
    assert "100%" in job_page.content.decode()
    report = client.get(f"/imports/batches/{batch.pk}/report.xlsx")
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    from guardline.core.models import PersonalDataAccess

    # the report quotes raw values (ID numbers): the download is logged
    access = PersonalDataAccess.objects.get()
    assert access.channel == PersonalDataAccess.Channel.DOWNLOAD and access.user.username == "staff"
    assert access.subject.startswith(f"导入批次 {batch.pk}") and access.region_code == "520526"
    assert client.post("/imports/", {"kind": "registry"}).status_code == 200  # no file: form error, no crash
