from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import scope_codes
from guardline.core.models import PersonalDataAccess
from guardline.core.services import job_create, personal_data_access_log

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
    return render(
        request,
        "ingest/batch_detail.html",
        {"batch": batch, "perms_review": has_perm(request.user, Perm.REVIEW_LINKS)},
    )


def _log_download(request, batch, what: str) -> None:
    """A batch's problem report and feedback sheet quote the file's raw values — ID numbers and phones among them,
    unmasked, because they are what must be corrected: every download is logged as a personal-data access."""
    owner = batch.created_by or request.user
    codes = scope_codes(owner)
    personal_data_access_log(
        user=request.user,
        purpose=f"下载{what}以更正数据",
        channel=PersonalDataAccess.Channel.DOWNLOAD,
        subject=f"导入批次 {batch.pk}（{batch.file_name}）{what}",
        region_code=codes[0] if len(codes) == 1 else "",
        job=batch.job,
    )


@login_required
def batch_report(request, pk: int):
    batch = selectors.batch_get(request.user, pk)
    if not batch.error_report:
        raise Http404("该批次没有错误报告")
    _log_download(request, batch, "问题报告")
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
    _log_download(request, batch, "反馈表")
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''feedback-{batch.pk}.xlsx"
    return response


def _review_rows(user, events) -> list[dict]:
    """Each uncertain link as the evidence side by side: the department's row and the registry candidate."""
    from engine.ids import mask_id_number
    from engine.ingest import SPECS
    from guardline.regions.selectors import regions_for_user

    codes = {e.village_code for e in events} | {e.candidate.household.village_code for e in events}
    names = dict(regions_for_user(user).filter(code__in=codes).values_list("code", "name"))
    sexes = {"male": _("男"), "female": _("女")}
    rows = []
    for e in events:
        m = e.candidate
        pairs = [
            (_("姓名"), e.name, m.name),
            (
                _("出生日期"),
                e.birth_date.isoformat() if e.birth_date else "",
                m.birth_date.isoformat() if m.birth_date else "",
            ),
            (_("性别"), sexes.get(e.sex, ""), sexes.get(m.sex, "")),
            (
                _("村"),
                f"{names.get(e.village_code, '')} {e.village_code}".strip(),
                f"{names.get(m.household.village_code, '')} {m.household.village_code}".strip(),
            ),
            (
                _("证件号码"),
                (e.id_prefix15 + _("…（Excel损坏）")) if e.id_prefix15 else _("（未提供）"),
                mask_id_number(m.id_number),
            ),
        ]
        rows.append(
            {
                "event": e,
                "feed_title": SPECS[e.feed].title_zh if e.feed in SPECS else e.feed,
                "pairs": [
                    (label, left or "", right or "", bool(left) and str(left) == str(right))
                    for label, left, right in pairs
                ],
                "household": m.household,
            }
        )
    return rows


@login_required
def review_list(request):
    """The clerical review queue: uncertain links, most likely first, evidence side by side."""
    from guardline.core.paging import CappedPaginator

    _require(request.user, Perm.REVIEW_LINKS)
    page = CappedPaginator(selectors.review_queue(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request, "ingest/review_list.html", {"page": page, "rows": _review_rows(request.user, page)}
    )


@login_required
def review_decide(request, pk: int):
    from .link_services import feed_event_review_decide

    _require(request.user, Perm.REVIEW_LINKS)
    if request.method != "POST" or request.POST.get("decision") not in ("accept", "reject"):
        return HttpResponse("请使用“确认”或“否定”按钮提交", status=400)
    event = feed_event_review_decide(
        user=request.user, event_id=pk, accept=request.POST["decision"] == "accept"
    )
    if request.headers.get("HX-Request"):
        return render(request, "ingest/_review_done.html", {"event": event})
    return redirect("ingest:review_list")
