from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render

from guardline.accounts.roles import Perm, has_perm
from guardline.core.services import job_create

from . import selectors
from .feed_services import feed_feedback_xlsx
from .forms import UploadForm
from .tasks import import_file_task


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied("您的角色无此权限")


@login_required
def batch_list(request):
    if not (has_perm(request.user, Perm.IMPORT_REGISTRY) or has_perm(request.user, Perm.UPLOAD_FEEDS)):
        raise PermissionDenied("您的角色无此权限")
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        folder = Path(settings.MEDIA_ROOT) / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with open(path, "wb") as fh:
            for part in upload.chunks():
                fh.write(part)
        job = job_create(
            kind=f"import_{form.cleaned_data['kind']}",
            user=request.user,
            params={
                "kind": form.cleaned_data["kind"],
                "path": str(path),
                "display_name": upload.name,
                "user_id": request.user.pk,
            },
        )
        import_file_task.enqueue(job.pk)
        return redirect("ingest:job_detail", pk=job.pk)
    batches = selectors.batch_list(request.user)[:50]
    return render(request, "ingest/batch_list.html", {"form": form, "batches": batches})


@login_required
def job_detail(request, pk: int):
    job = selectors.job_get(request.user, pk)
    batch = None
    if job.result.get("batch_id"):
        batch = selectors.batch_get(request.user, job.result["batch_id"])
    template = "ingest/_job_progress.html" if request.headers.get("HX-Request") else "ingest/job_detail.html"
    return render(request, template, {"job": job, "batch": batch})


@login_required
def batch_detail(request, pk: int):
    batch = selectors.batch_get(request.user, pk)
    return render(request, "ingest/batch_detail.html", {"batch": batch})


@login_required
def batch_report(request, pk: int):
    batch = selectors.batch_get(request.user, pk)
    if not batch.error_report:
        raise Http404("该批次没有错误报告")
    return FileResponse(
        batch.error_report.open("rb"),
        as_attachment=True,
        filename=f"导入问题-{batch.pk}-{Path(batch.file_name).stem}.xlsx",
    )


@login_required
def batch_feedback(request, pk: int):
    """The department's to-do list for a feed batch: rejected rows and unlinked rows, each with the reason."""
    batch = selectors.batch_get(request.user, pk)
    if not batch.feed:
        raise Http404("只有部门数据批次有反馈表")
    content = feed_feedback_xlsx(batch)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''feedback-{batch.pk}.xlsx"
    return response
