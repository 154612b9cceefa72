"""Reports read back: the monthly report as xlsx (figures equal to direct queries) and as PDF (text, embedded CJK
font, glyphs rendered rather than tofu), ledgers with masked or logged ID numbers, and list exports in scope."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from engine.ids import mask_id_number
from guardline.accounts.models import Role
from guardline.assistance.models import Measure
from guardline.core.models import Job, PersonalDataAccess
from guardline.quality.tests.conftest import eliminated, identified, income, line, plan
from guardline.registry.models import Household, Member
from guardline.screening.models import HouseholdGrade, RiskWarning
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db
MARCH = timezone.make_aware(datetime(2026, 3, 10, 9, 0))
FEB = MARCH - timedelta(days=30)


@pytest.fixture
def county_data(households, villages):
    """In March 2026: A identified (illness, marginal) with two measures, one delivered; A2 identified in
    February and eliminated in March; a red warning opened for B and one closed; grades for all three."""
    a, a2, b = households["A"], households["A2"], households["B"]
    line(villages["A"].code, "8000")
    income(a, 2025, per_capita_net_income=Decimal("6500"))
    income(a2, 2025, per_capita_net_income=Decimal("9100"))
    income(b, 2025, per_capita_net_income=Decimal("7000"))
    case = identified(a, "01", "marginal", at=MARCH)
    p = plan(case)
    for code, status, done in (("100A45", "delivered", MARCH), ("100A40", "planned", None)):
        Measure.objects.create(plan=p, household=a, village_code=a.village_code, code=code, status=status,
                               completed_at=done, created_at=MARCH, updated_at=MARCH)  # fmt: skip
    eliminated(
        identified(a2, "07", "unstable_former_poor", at=FEB), at=MARCH + timedelta(days=5), mode="natural"
    )
    for n, (h, grade) in enumerate(((a, "red"), (a2, "green"), (b, "yellow"))):
        HouseholdGrade.objects.create(household=h, village_code=h.village_code, grade=grade, score=10.0 * n,
                                      as_of=MARCH.date(), updated_at=MARCH)  # fmt: skip
    common = {"score": 70.0, "risk_types": "01", "first_signal_date": MARCH.date(), "updated_at": MARCH}
    RiskWarning.objects.create(household=b, village_code=b.village_code, grade="red", opened_at=MARCH,
                               graded_at=MARCH, **common)  # fmt: skip
    RiskWarning.objects.create(household=a, village_code=a.village_code, grade="yellow", status="closed",
                               opened_at=FEB, graded_at=FEB, closed_at=MARCH, **common)  # fmt: skip
    return villages["A"].code[:6]


@pytest.fixture
def admin(make_user, villages):
    return make_user("r_admin", Role.COUNTY_ADMIN, villages["A"].code[:6])


def run_report(client, user, kind: str, region: str, month: str = "2026-03", **extra) -> tuple[Job, bytes]:
    client.login(username=user.username, password=PASSWORD)
    response = client.post(
        reverse("reports:index"), {"kind": kind, "region": region, "month": month, **extra}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.filter(created_by=user).latest("pk")
    assert job.status == "done", job.error
    page = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert reverse("reports:job_download", args=[job.pk]) in page
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert not list(Path(job.result["path"]).parent.glob("*.part"))
    return job, b"".join(download.streaming_content)


def expected(county: str) -> dict[str, object]:
    """The figures, counted straight from the tables."""
    start, end = MARCH.replace(day=1, hour=0), MARCH.replace(month=4, day=1, hour=0)
    hh = Household.objects.filter(village_code__startswith=county, is_active=True)
    return {
        "农户总数": hh.count(),
        "边缘易致贫户": hh.filter(monitor_category="marginal").count(),
        "监测对象合计": hh.exclude(monitor_category="").count(),
        "红色": HouseholdGrade.objects.filter(village_code__startswith=county, grade="red").count(),
        "本月新生成预警": RiskWarning.objects.filter(opened_at__gte=start, opened_at__lt=end).count(),
        "本月关闭预警": RiskWarning.objects.filter(closed_at__gte=start, closed_at__lt=end).count(),
        "100A45 健康帮扶": Measure.objects.filter(code="100A45").count(),
        "本月落实措施": Measure.objects.filter(completed_at__gte=start, completed_at__lt=end).count(),
        "自然消除": 1,
        "人均纯收入低于监测线的农户": hh.filter(latest_per_capita_income__lt=8000).count(),
    }


def test_monthly_xlsx_figures_equal_direct_queries(client, county_data, admin):
    job, content = run_report(client, admin, "monthly_xlsx", county_data)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert "月报（2026年3月）" in sheet["A1"].value
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}
    want = expected(county_data)
    assert want["农户总数"] == 3 and want["本月新生成预警"] == 1 and want["人均纯收入低于监测线的农户"] == 2
    label_100a45 = next(k for k in values if str(k).startswith("100A45"))
    assert values[label_100a45] == want.pop("100A45 健康帮扶") == 1
    for label, number in want.items():
        assert values[label] == number, label
    assert values["月末适用监测线（元/人/年）"] == 8000
    assert job.result["figures"]["identified"] == 1 and job.result["figures"]["eliminated:natural"] == 1


def glyph_boxes(content: bytes, text: str, scale: float = 4) -> list:
    """Render page 1 and cut out the ink of each character of `text` (located through the PDF's text layer)."""
    import numpy as np
    import pypdfium2

    page = pypdfium2.PdfDocument(content)[0]
    textpage = page.get_textpage()
    start = textpage.get_text_range().index(text)
    image = page.render(scale=scale, grayscale=True).to_numpy()
    ink = np.asarray(image).reshape(image.shape[0], image.shape[1], -1)[:, :, 0] < 128
    height = page.get_height()
    boxes = []
    for i in range(len(text)):
        left, bottom, right, top = textpage.get_charbox(start + i)
        crop = ink[int((height - top) * scale) : int((height - bottom) * scale) + 1,
                   int(left * scale) : int(right * scale) + 1]  # fmt: skip
        rows, cols = crop.any(axis=1).nonzero()[0], crop.any(axis=0).nonzero()[0]
        boxes.append(crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] if len(rows) else crop)
    return boxes


def looks_like_tofu(boxes: list) -> bool:
    """Real CJK glyphs have strokes inside their bounding box and differ from each other; a missing glyph is the
    same hollow box (or nothing) for every character."""
    hollow = any(b[2:-2, 2:-2].size == 0 or b[2:-2, 2:-2].sum() < 0.05 * b[2:-2, 2:-2].size for b in boxes)
    return hollow or len({b.tobytes() for b in boxes}) < len(boxes)


def test_monthly_pdf_has_text_embedded_cjk_font_and_real_glyphs(client, county_data, admin, villages):
    import pypdf

    _, content = run_report(client, admin, "monthly_pdf", county_data)
    assert content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    county_name = villages["A"].parent.parent.name
    assert f"{county_name}防止返贫监测帮扶月报" in text.replace("\n", "")
    for words in ("边缘易致贫户", "本月新生成预警", "自然消除", "8000"):
        assert words in text
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if "NotoSansCJK" in str(f["/BaseFont"]).replace("-", "")]
    assert cjk, [f["/BaseFont"] for f in fonts]
    descendant = cjk[0]["/DescendantFonts"][0].get_object() if "/DescendantFonts" in cjk[0] else cjk[0]
    assert "/FontFile3" in descendant["/FontDescriptor"] or "/FontFile2" in descendant["/FontDescriptor"]

    # Render page 1 and look at the title's glyphs (see the control test below for what tofu looks like).
    assert not looks_like_tofu(glyph_boxes(content, "防止返贫监测"))


def test_tofu_detector_catches_missing_cjk_font(tmp_path):
    """Control: the same kind of PDF rendered with fontconfig restricted to DejaVu (no CJK glyphs) is caught."""
    import subprocess
    import sys

    if not Path("/usr/share/fonts/truetype/dejavu").is_dir():  # fonts-dejavu-core comes with fontconfig
        pytest.skip("no DejaVu fonts to render the control with")
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir>'
        f"<cachedir>{tmp_path}/cache</cachedir></fontconfig>"
    )
    out = tmp_path / "tofu.pdf"
    script = (
        "import sys, weasyprint; open(sys.argv[1], 'wb').write("
        "weasyprint.HTML(string='<p lang=zh-CN>防止返贫监测</p>').write_pdf())"
    )
    env = {**__import__("os").environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf")}
    subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True, timeout=120)
    assert looks_like_tofu(glyph_boxes(out.read_bytes(), "防止返贫监测"))


def test_ledgers_mask_ids_and_log_unmasked_export(client, county_data, admin, make_user, villages):
    head = Member.objects.get(household__household_no="520526000000000001", relation="head")
    _, content = run_report(client, admin, "ledger_households", county_data)
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][:7] == ("序号", "县（区）", "乡镇", "村", "户编号", "户主姓名", "户主证件号码")
    data = {r[4]: r for r in rows[1:]}
    assert set(data) == {"520526000000000001", "520526000000000002"}  # the two households under a label
    a = data["520526000000000001"]
    assert a[6] == mask_id_number(head.id_number) and head.id_number not in str(rows)
    assert a[9] == "边缘易致贫户" and a[10] == "因病" and a[11] == "2026-03" and "健康帮扶" in a[-1]
    assert not PersonalDataAccess.objects.exists()

    job, content = run_report(client, admin, "ledger_households", county_data, unmasked="1")
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert head.id_number in [r[6] for r in rows]
    assert job.result["unmasked"] is True
    access = PersonalDataAccess.objects.get(user=admin, household_id=head.household_id)
    assert (access.channel, access.job_id) == ("export", job.pk)
    assert access.region_code == head.household.village_code  # what the audit export's region scope reads

    auditor = make_user("r_aud", Role.AUDITOR, villages["A"].code[:6])  # no view_personal_data
    client.logout()
    _, content = run_report(client, auditor, "ledger_households", county_data, unmasked="1")
    assert head.id_number not in content.decode("latin-1")
    assert head.id_number not in str(list(openpyxl.load_workbook(io.BytesIO(content)).active.values))

    for kind, first in (("ledger_measures", "100A40"), ("ledger_eliminations", "自然消除")):
        _, content = run_report(client, admin, kind, county_data)
        values = str(list(openpyxl.load_workbook(io.BytesIO(content)).active.values))
        assert first in values and head.id_number not in values


def test_report_outside_scope_is_refused(client, county_data, make_user, villages):
    cadre = make_user("r_cadre", Role.VILLAGE_CADRE, villages["A"].code)
    client.login(username=cadre.username, password=PASSWORD)
    response = client.post(reverse("reports:index"),
                           {"kind": "monthly_xlsx", "region": villages["B"].code, "month": "2026-03"})  # fmt: skip
    assert response.status_code == 200 and "不在您的管辖范围内" in response.content.decode()
    assert not Job.objects.filter(created_by=cadre).exists()
    job, content = run_report(client, cadre, "monthly_xlsx", villages["A"].code)
    values = {
        r[0]: r[1] for r in openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
    }
    assert values["农户总数"] == 1  # village A only
    other = make_user("r_other", Role.VILLAGE_CADRE, villages["B"].code)
    client.logout()
    client.login(username=other.username, password=PASSWORD)
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404


def test_list_exports_follow_filters_and_scope(client, county_data, make_user, villages, households):
    cadre = make_user("r_cadre2", Role.VILLAGE_CADRE, villages["A"].code)
    client.login(username=cadre.username, password=PASSWORD)
    page = client.get(reverse("registry:household_list"), {"monitor_category": "any"}).content.decode()
    assert reverse("reports:list_export", args=["households", "xlsx"]) + "?monitor_category=any" in page
    response = client.get(
        reverse("reports:list_export", args=["households", "xlsx"]), {"monitor_category": "any"}
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["520526000000000001"]
    assert "13800001234" not in str(rows) and "138****1234" in str(rows)
    response = client.get(reverse("reports:list_export", args=["households", "csv"]))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff户编号")
    assert {r[0] for r in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]} == {"520526000000000001"}
    for name, url in (
        ("warnings", "screening:inbox"),
        ("clues", "cases:inbox"),
        ("cases", "cases:case_list"),
    ):
        assert reverse("reports:list_export", args=[name, "csv"]) in client.get(reverse(url)).content.decode()
        assert client.get(reverse("reports:list_export", args=[name, "xlsx"])).status_code == 200
    county = make_user("r_county", Role.COUNTY_STAFF, villages["A"].code[:6])
    client.logout()
    client.login(username=county.username, password=PASSWORD)
    text = client.get(reverse("reports:list_export", args=["warnings", "csv"])).content.decode("utf-8")
    assert households["B"].household_no in text and "红色" in text
    text = client.get(reverse("reports:list_export", args=["cases", "csv"]), {"state": "identified"}).content
    assert "520526000000000001" in text.decode("utf-8")
