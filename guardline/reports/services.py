"""Writing reports: the monthly report as xlsx and as PDF (WeasyPrint, Noto Sans CJK through fontconfig), the
ledgers as xlsx, and csv/xlsx exports of list pages. Files of background reports are written next to their final
name and renamed when complete, so a half-written file is never offered for download."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from guardline.accounts.models import User
from guardline.accounts.roles import Perm, has_perm
from guardline.core.models import Job
from guardline.core.services import personal_data_access_log
from guardline.core.spreadsheets import csv_text, xlsx_options

from . import selectors

Progress = Callable[[int, int, str], None]
PDF_CSS = Path(__file__).with_name("pdf.css")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def monthly_xlsx(report: selectors.MonthlyReport, target: Path | io.BytesIO) -> None:
    book = xlsxwriter.Workbook(target, xlsx_options(in_memory=isinstance(target, io.BytesIO)))
    sheet = book.add_worksheet("月报")
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#E8F0E8", "border": 1})
    cell = book.add_format({"border": 1})
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 1, 16)
    sheet.write(0, 0, report.title, title)
    sheet.write(1, 0, f"区划代码 {report.region_code}；生成时间 {_cell(report.generated_at)}")
    r = 3
    for section in report.sections:
        sheet.write(r, 0, section.title, head)
        r += 1
        sheet.write_row(r, 0, section.header, head)
        r += 1
        for label, value in section.rows:
            sheet.write(r, 0, label, cell)
            sheet.write(r, 1, _cell(value), cell)
            r += 1
        r += 1
    book.close()


def monthly_pdf(report: selectors.MonthlyReport) -> bytes:
    """HTML → PDF with WeasyPrint; the CJK glyphs come from Debian's fonts-noto-cjk via fontconfig and are
    embedded (subset) in the file."""
    import weasyprint

    html = render_to_string("reports/monthly_pdf.html", {"report": report})
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(filename=str(PDF_CSS))])


def ledger_xlsx(ledger: selectors.Ledger, target: Path, progress: Progress | None = None) -> None:
    book = xlsxwriter.Workbook(str(target), xlsx_options(constant_memory=True))
    sheet = book.add_worksheet(ledger.title)
    head = book.add_format({"bold": True, "bg_color": "#E8F0E8", "border": 1, "text_wrap": True})
    sheet.write_row(0, 0, ledger.columns, head)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, len(ledger.columns) - 1, 14)
    n = 0
    for n, row in enumerate(ledger.rows, start=1):
        # Strings stay strings (IDs and household numbers must not become numbers).
        sheet.write_row(n, 0, [_cell(v) for v in row])
        if progress and n % 1000 == 0:
            progress(n, ledger.total, "写入台账")
    book.close()
    if progress:
        progress(n, ledger.total, "写入台账")


def table_export(columns: list[str], rows: Iterable[list[Any]], fmt: str) -> tuple[bytes, str]:
    """A list page's rows as csv (UTF-8 with BOM, so Excel reads the Chinese) or xlsx. Returns content and type."""
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        writer = csv.writer(buf)
        writer.writerow([csv_text(c) for c in columns])
        for row in rows:
            writer.writerow([csv_text(_cell(v)) for v in row])
        return buf.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, xlsx_options(in_memory=True))
    sheet = book.add_worksheet("导出")
    sheet.write_row(0, 0, columns, book.add_format({"bold": True}))
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [_cell(v) for v in row])
    book.close()
    return out.getvalue(), XLSX_TYPE


# ------------------------------------------------------------------------------------------ background reports

REPORT_KINDS = {
    "monthly_xlsx": "月报（Excel）",
    "monthly_pdf": "月报（PDF）",
    "ledger_households": "监测对象台账（Excel）",
    "ledger_measures": "帮扶措施台账（Excel）",
    "ledger_eliminations": "风险消除台账（Excel）",
}


def report_output_dir(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "reports" / str(job_id)


def report_build(job: Job, progress: Progress | None = None) -> dict[str, Any]:
    """Build the report a job asks for (params: kind, region, year, month, unmasked, user_id); returns the job
    result (file path and download name). The file is written as `.part` and renamed when complete."""
    p = job.params
    user = User.objects.get(pk=p["user_id"])
    kind, region = p["kind"], p["region"]
    unmasked = bool(p.get("unmasked")) and has_perm(user, Perm.VIEW_PERSONAL_DATA)
    folder = report_output_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    name = selectors.region_name(region)
    if kind in ("monthly_xlsx", "monthly_pdf"):
        if progress:
            progress(0, 2, "统计")
        report = selectors.monthly_report(user, region, int(p["year"]), int(p["month"]))
        if progress:
            progress(1, 2, "生成文件")
        ext = "xlsx" if kind == "monthly_xlsx" else "pdf"
        filename = f"{name}月报-{report.year}-{report.month:02d}.{ext}"
        final = folder / filename
        part = final.with_name(final.name + ".part")
        if ext == "xlsx":
            monthly_xlsx(report, part)
        else:
            part.write_bytes(monthly_pdf(report))
        if progress:
            progress(2, 2, "完成")
        extra: dict[str, Any] = {"figures": {k: _cell(v) for k, v in report.figures.items()}}
    elif kind.startswith("ledger_"):
        ledger = selectors.ledger(user, kind.removeprefix("ledger_"), region, unmasked=unmasked)
        filename = f"{name}{ledger.title}-{timezone.localdate():%Y%m%d}{'-未脱敏' if unmasked else ''}.xlsx"
        final = folder / filename
        part = final.with_name(final.name + ".part")
        ledger_xlsx(ledger, part, progress)
        if unmasked:
            from guardline.registry.models import Household

            ids = sorted(ledger.household_ids)
            villages: dict[int, str] = {}
            for start in range(0, len(ids), 500):
                villages.update(
                    Household.objects.filter(pk__in=ids[start : start + 500]).values_list(
                        "pk", "village_code"
                    )
                )
            for household_id in ids:
                personal_data_access_log(
                    user=user,
                    household_id=household_id,
                    region_code=villages.get(household_id, ""),
                    purpose=f"导出{ledger.title}（未脱敏，任务 #{job.pk}）",
                    channel="export",  # PersonalDataAccess.Channel.EXPORT
                    job=job,
                )
        extra = {"rows": ledger.total, "unmasked": unmasked}
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    os.replace(part, final)
    return {"path": str(final), "filename": filename, **extra}
