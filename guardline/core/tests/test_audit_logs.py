"""Audit logs kept and handed over: the masked export (command and the ledger page's button, region-scoped, itself
logged) and the pruning past the retention period into a verified archive (never below 180 days, rows deleted only
once the archive is complete, the ledger never pruned)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from guardline.accounts.models import Role
from guardline.core import audit_services, failpoints
from guardline.core.audit_services import (
    archive_verify,
    audit_log_export,
    audit_log_prune,
    mask_personal,
    mask_text,
)
from guardline.core.changelog import change_entry, log_changes
from guardline.core.models import ChangeLog, PersonalDataAccess
from guardline.core.services import personal_data_access_log
from guardline.ledger.models import LedgerEntry
from guardline.ledger.services import ledger_append, ledger_verify
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def _id_of(household) -> str:
    return household.members.get().id_number


def _change(household, *, days_ago: float = 0, reason: str = "", **after) -> ChangeLog:
    member = household.members.get()
    log_changes([change_entry(
        entity="member", entity_id=member.pk, household_id=household.pk, action="update",
        before={"id_number": member.id_number, "phone": "", "health": "healthy"},
        after={"id_number": member.id_number, "phone": PHONE, "health": "disabled", **after},
        actor_id=None, at=timezone.now() - dt.timedelta(days=days_ago),
    )])  # fmt: skip
    entry = ChangeLog.objects.order_by("-id").first()
    if reason:
        ChangeLog.objects.filter(pk=entry.pk).update(reason=reason)
    return entry


def _access(user, household, *, days_ago: float = 0, purpose: str = "入户核实") -> PersonalDataAccess:
    access = personal_data_access_log(user=user, household_id=household.pk, purpose=purpose)
    if days_ago:
        PersonalDataAccess.objects.filter(pk=access.pk).update(
            at=timezone.now() - dt.timedelta(days=days_ago)
        )
        access.refresh_from_db()
    return access


def _csv(content: bytes) -> list[dict[str, str]]:
    """The exported rows, but the creation of the test's user accounts (their change-log entries)."""
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return [r for r in rows if not r["对象"].startswith("user#")]


@pytest.fixture
def auditor(make_user, villages):
    """An auditor of village A's township: sees A and A2, not B (another township)."""
    return make_user("auditor_t", Role.AUDITOR, villages["A"].code[:9])


# ---------------------------------------------------------------------------------------------------- masking


def test_access_entries_carry_the_households_region(cadre_a, households):
    access = personal_data_access_log(user=cadre_a, household_id=households["A"].pk, purpose="入户核实")
    assert access.region_code == households["A"].village_code and access.channel == "page"


def test_change_values_are_decrypted_and_masked_nested_and_in_free_text(households):
    number = _id_of(households["A"])
    entry = _change(households["A"], note=f"身份证 {number}，电话 {PHONE}", household_no="520526000000000001",
                    relatives=[{"id_number": number, "phone": PHONE}])  # fmt: skip
    assert entry.after["id_number"] != number  # stored encrypted
    masked = mask_personal(entry.after)
    assert masked["id_number"] == number[:6] + "********" + number[-4:]
    assert masked["phone"] == "138****5678"
    assert number not in masked["note"] and PHONE not in masked["note"] and "138****5678" in masked["note"]
    assert masked["relatives"] == [{"id_number": masked["id_number"], "phone": "138****5678"}]
    assert masked["household_no"] == "520526000000000001"  # a record number, not a person's
    assert mask_text("金额 123456789012345678 元") == "金额 123456789012345678 元"  # no valid ID checksum


# ----------------------------------------------------------------------------------------------------- export


def test_export_command_writes_both_logs_masked_in_time_order_and_logs_itself(tmp_path, cadre_a, households):
    number = _id_of(households["A"])
    _access(cadre_a, households["A"], days_ago=2, purpose=f"核对 {number}")
    _change(households["A"], days_ago=1, reason="入户核实后修改")
    _access(cadre_a, households["B"])
    target = tmp_path / "audit.csv"
    call_command("export_audit_logs", str(target), stdout=io.StringIO())
    content = target.read_bytes()
    assert not (tmp_path / "audit.csv.part").exists()
    assert number not in content.decode("utf-8-sig") and PHONE not in content.decode("utf-8-sig")
    rows = _csv(content)
    assert [r["记录类型"] for r in rows] == ["个人信息访问", "数据变更", "个人信息访问"]
    first, change, last = rows
    assert first["操作人"] == "cadre_a" and first["户编号"] == households["A"].household_no
    assert first["地区代码"] == households["A"].village_code and first["渠道或操作"] == "页面查看"
    assert first["事由"] == f"核对 {number[:6]}********{number[-4:]}"
    assert json.loads(change["变更后"])["phone"] == "138****5678" and change["事由"] == "入户核实后修改"
    assert change["对象"].startswith("member#") and change["地区代码"] == households["A"].village_code
    assert change["时间"] < last["时间"]
    logged = PersonalDataAccess.objects.get(channel="audit_export")
    assert (
        logged.user is None and logged.purpose == "命令行导出审计日志" and "4 条" in logged.subject
    )  # and the account


def test_export_filters_by_period_and_region(tmp_path, cadre_a, households):
    _access(cadre_a, households["A"], days_ago=10)
    _access(cadre_a, households["A"])
    _access(cadre_a, households["B"])
    _change(households["B"])
    today = timezone.localdate()
    target = tmp_path / "recent-a.csv"
    call_command("export_audit_logs", str(target), "--since", str(today - dt.timedelta(days=1)),
                 "--until", str(today), "--region", households["A"].village_code[:9], stdout=io.StringIO())  # fmt: skip
    rows = _csv(target.read_bytes())
    assert [(r["记录类型"], r["户编号"]) for r in rows] == [("个人信息访问", households["A"].household_no)]
    target = tmp_path / "old.csv"
    call_command("export_audit_logs", str(target), "--until", str(today - dt.timedelta(days=5)),
                 stdout=io.StringIO())  # fmt: skip
    assert len(_csv(target.read_bytes())) == 1


def test_export_as_a_user_is_limited_to_their_regions_and_xlsx_reads_back(
    tmp_path, auditor, cadre_a, households
):
    _access(cadre_a, households["A"])
    _access(cadre_a, households["A2"])
    _access(cadre_a, households["B"])
    _change(households["B"])
    log_changes([change_entry(entity="screening_rule", entity_id=1, household_id=None, action="update",
                              before={"weight": 1}, after={"weight": 2}, actor_id=None)])  # fmt: skip
    target = tmp_path / "audit.xlsx"
    call_command("export_audit_logs", str(target), "--user", "auditor_t", "--purpose", "年度审计",
                 stdout=io.StringIO())  # fmt: skip
    sheet = load_workbook(target).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[0] == "记录类型"
    seen = {r[3] for r in rows}
    assert households["B"].household_no not in seen
    assert {households["A"].household_no, households["A2"].household_no} <= seen
    assert any(r[4] == "screening_rule#1" for r in rows)  # platform-wide changes are every auditor's
    logged = PersonalDataAccess.objects.get(channel="audit_export")
    assert logged.user == auditor and logged.region_code == auditor.scopes.get().region_id
    with pytest.raises(CommandError, match="管辖范围"):
        call_command("export_audit_logs", str(tmp_path / "b.csv"), "--user", "auditor_t",
                     "--region", households["B"].village_code, stdout=io.StringIO())  # fmt: skip
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("export_audit_logs", str(tmp_path / "audit.txt"), stdout=io.StringIO())


def test_export_keeps_spreadsheet_formulas_as_text(cadre_a, households):
    _access(cadre_a, households["A"], purpose='=HYPERLINK("http://x")')
    out = io.BytesIO()
    audit_log_export(actor=None, target=out, fmt="csv", purpose="审计")
    assert _csv(out.getvalue())[0]["事由"] == '\'=HYPERLINK("http://x")'


def test_export_button_on_the_ledger_page(client, auditor, cadre_a, households):
    _access(cadre_a, households["A"])
    _access(cadre_a, households["B"])
    client.login(username="auditor_t", password=PASSWORD)
    page = client.get("/ledger/").content.decode()
    assert 'action="/ledger/audit-export/"' in page and "导出" in page
    today = timezone.localdate()
    form = {"since": str(today - dt.timedelta(days=1)), "until": str(today), "region": "", "fmt": "csv",
            "purpose": "年度审计"}  # fmt: skip
    response = client.post("/ledger/audit-export/", form)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response.content)
    assert [r["户编号"] for r in rows] == [households["A"].household_no]  # B is another township's
    logged = PersonalDataAccess.objects.get(channel="audit_export")
    assert logged.user == auditor and logged.purpose == "年度审计" and logged.request_id
    response = client.post("/ledger/audit-export/", {**form, "fmt": "xlsx"})
    assert response.status_code == 200
    _header, *rows = load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    rows = [r for r in rows if not r[4].startswith("user#")]
    assert [(r[3], r[6]) for r in rows] == [
        (households["A"].household_no, "页面查看"),
        (None, "导出审计日志"),
    ]


def test_export_button_refuses_bad_forms_other_regions_and_too_much(client, auditor, cadre_a, households,
                                                                      settings):  # fmt: skip
    _access(cadre_a, households["A"])
    _change(households["A"])
    client.login(username="auditor_t", password=PASSWORD)
    today = str(timezone.localdate())
    form = {"since": today, "until": today, "region": "", "fmt": "csv", "purpose": "年度审计"}
    for bad, message in [({"purpose": ""}, "这个字段是必填项"),
                         ({"region": households["B"].village_code}, "不在您的管辖范围内"),
                         ({"since": "2026-02-01", "until": "2026-01-01"}, "起始日期晚于截止日期")]:  # fmt: skip
        response = client.post("/ledger/audit-export/", {**form, **bad}, follow=True)
        assert response.redirect_chain[-1][0] == "/ledger/" and message in response.content.decode()
    settings.GUARDLINE = {**settings.GUARDLINE, "EXPORT_MAX_ROWS": 1}
    response = client.post("/ledger/audit-export/", form, follow=True)
    assert "超过页面导出上限" in response.content.decode()
    assert not PersonalDataAccess.objects.filter(channel="audit_export").exists()


def test_export_button_is_for_audit_roles_only(client, cadre_a, households):
    client.login(username="cadre_a", password=PASSWORD)
    assert client.get("/ledger/").status_code == 403
    today = str(timezone.localdate())
    form = {"since": today, "until": today, "fmt": "csv", "purpose": "查看"}
    assert client.post("/ledger/audit-export/", form).status_code == 403
    assert client.get("/ledger/audit-export/").status_code == 405
    assert not PersonalDataAccess.objects.filter(channel="audit_export").exists()


# ------------------------------------------------------------------------------------------------------ prune


@pytest.fixture
def archive(tmp_path, settings):
    settings.GUARDLINE_AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    settings.GUARDLINE_AUDIT_RETENTION_DAYS = 365
    return tmp_path / "archive"


def _records(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_prune_archives_then_deletes_exactly_the_old_entries(archive, cadre_a, households):
    old_access = _access(cadre_a, households["A"], days_ago=400)
    old_change = _change(households["A"], days_ago=366)
    new_access = _access(cadre_a, households["A"], days_ago=300)
    new_change = _change(households["A"], days_ago=1)
    ledger_append(kind="admin", entity="rectification", entity_id=1, payload={"note": "旧账"})
    ledger_before = list(LedgerEntry.objects.values_list("seq", "hash"))

    out = io.StringIO()
    call_command("prune_audit_logs", "--dry-run", stdout=out)
    assert "dry run: 1 personal-data accesses and 1 change-log entries" in out.getvalue()
    assert not archive.exists() and PersonalDataAccess.objects.count() == 2
    assert ChangeLog.objects.filter(pk__in=[old_change.pk, new_change.pk]).count() == 2

    out = io.StringIO()
    call_command("prune_audit_logs", stdout=out)
    assert "archived 1 personal-data accesses and 1 change-log entries" in out.getvalue()
    assert set(PersonalDataAccess.objects.values_list("pk", flat=True)) == {new_access.pk}
    assert set(ChangeLog.objects.exclude(entity="user").values_list("pk", flat=True)) == {new_change.pk}
    (path,) = archive.glob("*.jsonl.gz")
    assert not list(archive.glob("*.part"))
    digest, name = (archive / f"{path.name}.sha256").read_text().split()
    assert name == path.name and digest == hashlib.sha256(path.read_bytes()).hexdigest()
    records = _records(path)
    assert records[0]["kind"] == "header" and records[-1] == {
        "kind": "end", "core.personaldataaccess": 1, "core.changelog": 1}  # fmt: skip
    by_table = {r["table"]: r for r in records[1:-1]}
    assert by_table["core.personaldataaccess"]["id"] == old_access.pk
    assert by_table["core.personaldataaccess"]["purpose"] == "入户核实"
    assert by_table["core.changelog"]["id"] == old_change.pk
    assert (
        by_table["core.changelog"]["after"] == old_change.after
    )  # as stored: personal values stay encrypted
    assert archive_verify(path) == {"core.personaldataaccess": 1, "core.changelog": 1}
    # the ledger is never pruned; the prune itself is appended to it with the archive's hash
    assert list(LedgerEntry.objects.values_list("seq", "hash"))[: len(ledger_before)] == ledger_before
    last = LedgerEntry.objects.order_by("-seq").first()
    assert last.entity == "audit_archive" and last.payload["sha256"] == digest
    assert last.payload["personal_data_access"] == 1 and last.payload["change_log"] == 1
    assert ledger_verify().ok

    out = io.StringIO()
    call_command("prune_audit_logs", stdout=out)
    assert "nothing to prune" in out.getvalue() and len(list(archive.glob("*.jsonl.gz"))) == 1


def test_a_crash_before_the_delete_loses_nothing_and_the_rerun_archives_again(archive, cadre_a, households,
                                                                               monkeypatch):  # fmt: skip
    old = {
        _access(cadre_a, households["A"], days_ago=400).pk,
        _access(cadre_a, households["B"], days_ago=500).pk,
    }
    old_change = _change(households["A"], days_ago=400)

    def crash(name: str) -> None:
        if name == "audit_prune_before_delete":
            raise SystemExit("killed")  # stands for the SIGKILL of GUARDLINE_FAILPOINT

    monkeypatch.setattr(failpoints, "hit", crash)
    with pytest.raises(SystemExit):
        audit_log_prune()
    assert (
        set(PersonalDataAccess.objects.values_list("pk", flat=True)) == old
        and ChangeLog.objects.filter(pk=old_change.pk).exists()
    )
    (first,) = archive.glob("*.jsonl.gz")
    assert archive_verify(first)["core.personaldataaccess"] == 2  # complete: it was written before the delete

    monkeypatch.undo()
    result = audit_log_prune(now=timezone.now() + dt.timedelta(seconds=1))
    assert (result.accesses, result.changes) == (2, 1)
    assert not PersonalDataAccess.objects.exists() and not ChangeLog.objects.exclude(entity="user").exists()
    second = result.archive
    assert second != first and {r.get("id") for r in _records(second) if r.get("table")} == {
        r.get("id") for r in _records(first) if r.get("table")
    }


def test_an_interrupted_archive_is_never_renamed_nor_followed_by_a_delete(
    archive, cadre_a, households, monkeypatch
):
    _access(cadre_a, households["A"], days_ago=400)

    def broken(part, cutoff, now):
        part.write_bytes(b"\x1f\x8b truncated")
        return "0" * 64, [], []

    monkeypatch.setattr(audit_services, "_write_archive", broken)
    with pytest.raises(Exception):  # noqa: B017 - the gzip reader's error: the archive does not read back
        audit_log_prune()
    assert PersonalDataAccess.objects.count() == 1
    assert not list(archive.glob("*.jsonl.gz")) and list(archive.glob("*.part"))


def test_archive_verify_catches_a_truncated_or_altered_archive(archive, cadre_a, households):
    for days in (400, 401, 402):
        _access(cadre_a, households["A"], days_ago=days)
    path = audit_log_prune().archive
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[:2] + lines[-1:])))  # entries cut out, end line kept
    with pytest.raises(ValueError, match="SHA-256"):
        archive_verify(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="incomplete"):
        archive_verify(path, digest)


def test_a_retention_below_180_days_is_refused(archive, cadre_a, households, settings):
    settings.GUARDLINE_AUDIT_RETENTION_DAYS = 179
    _access(cadre_a, households["A"], days_ago=400)
    with pytest.raises(CommandError, match="at least 180 days"):
        call_command("prune_audit_logs", stdout=io.StringIO())
    with pytest.raises(CommandError, match="at least 180 days"):
        call_command("prune_audit_logs", "--dry-run", stdout=io.StringIO())
    assert PersonalDataAccess.objects.count() == 1 and not archive.exists()
