from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, region_code_q, scope_codes
from guardline.core.models import Job
from guardline.core.services import job_create
from guardline.regions.models import Region

from .exports import LISTS
from .services import REPORT_KINDS, report_output_dir, table_export
from .tasks import report_build_task


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


def _report_regions(user):
    """The places a user may report on: their own scope regions, and the counties and townships inside them."""
    return Region.objects.filter(Q(code__in=scope_codes(user)) | (region_code_q(user) & Q(level__in=[3, 4])))


@login_required
def index(request):
    _require(request.user, Perm.VIEW_REGISTRY)
    today = timezone.localdate()
    errors = []
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        region = request.POST.get("region", "")
        try:
            year, month = (int(x) for x in request.POST.get("month", "").split("-"))
            if not 1 <= month <= 12 or not 2000 <= year <= 2100:
                raise ValueError
        except ValueError:
            year = month = 0
            errors.append("请选择报告月份")
        if kind not in REPORT_KINDS:
            errors.append("请选择报表类型")
        if not region or not in_scope(request.user, region):
            errors.append("该地区不在您的管辖范围内")
        if not errors:
            unmasked = request.POST.get("unmasked") == "1" and has_perm(request.user, Perm.VIEW_PERSONAL_DATA)
            job = job_create(kind=f"report_{kind}", user=request.user, params={
                "kind": kind, "region": region, "year": year, "month": month, "unmasked": unmasked,
                "user_id": request.user.pk, "display_name": REPORT_KINDS[kind],
            })  # fmt: skip
            report_build_task.enqueue(job.pk)
            return redirect("reports:job_detail", pk=job.pk)
    jobs = Job.objects.filter(created_by=request.user, kind__startswith="report_")[:20]
    return render(request, "reports/index.html", {
        "kinds": REPORT_KINDS, "regions": _report_regions(request.user)[:300], "jobs": jobs, "errors": errors,
        "default_month": f"{today.year}-{today.month:02d}",
        "can_unmask": has_perm(request.user, Perm.VIEW_PERSONAL_DATA),
    })  # fmt: skip


def _job(user, pk: int) -> Job:
    job = Job.objects.filter(pk=pk, created_by=user, kind__startswith="report_").first()
    if job is None:
        raise Http404("任务不存在")
    return job


@login_required
def job_detail(request, pk: int):
    job = _job(request.user, pk)
    template = (
        "reports/_job_progress.html" if request.headers.get("HX-Request") else "reports/job_detail.html"
    )
    return render(request, template, {"job": job})


@login_required
def job_download(request, pk: int):
    job = _job(request.user, pk)
    path = Path(job.result.get("path", ""))
    if job.status != Job.Status.DONE or not path.is_file() or report_output_dir(job.pk) not in path.parents:
        raise Http404("报表尚未生成")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.result["filename"])


@login_required
def list_export(request, name: str, fmt: str):
    """The filtered list of a list page (same query string) as csv or xlsx."""
    spec = LISTS.get(name)
    if spec is None or fmt not in ("csv", "xlsx"):
        raise Http404("无此导出")
    _require(request.user, spec.perm)
    columns, rows = spec.build(request.user, request.GET)
    content, content_type = table_export(columns, rows, fmt)
    response = HttpResponse(content, content_type=content_type)
    filename = f"{spec.title}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
