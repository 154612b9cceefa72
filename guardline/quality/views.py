from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.core.paging import CappedPaginator
from guardline.regions.models import Region

from . import selectors
from .rules import RULES, RULES_BY_CODE


def _require_view(user) -> None:
    if not has_perm(user, Perm.VIEW_REGISTRY):
        raise PermissionDenied("您的角色无此权限")


@login_required
def index(request):
    """Open findings per village of the user's regions, with a count per rule."""
    _require_view(request.user)
    return render(request, "quality/index.html", {
        "rules": RULES, "villages": selectors.village_summary(request.user),
        "can_run": has_perm(request.user, Perm.RUN_SCREENING),
    })  # fmt: skip


@login_required
def finding_list(request):
    """The households behind the counts (one village or region, optionally one rule), each with a fix link."""
    _require_view(request.user)
    region = request.GET.get("region", "").strip()
    rule = request.GET.get("rule", "")
    if region:
        require_scope(request.user, region)
    page = CappedPaginator(selectors.open_findings(request.user, region=region, rule=rule), 50).get_page(
        request.GET.get("page")
    )
    for f in page:
        f.rule_def = RULES_BY_CODE.get(f.rule)
    place = Region.objects.filter(code=region).first() if region else None
    return render(request, "quality/finding_list.html", {
        "page": page, "rules": RULES, "region": region, "rule": rule, "place": place,
    })  # fmt: skip


@login_required
@require_POST
def run_now(request):
    if not has_perm(request.user, Perm.RUN_SCREENING):
        raise PermissionDenied("您的角色无此权限")
    from .tasks import quality_check_task

    quality_check_task.enqueue()
    messages.success(request, _("已提交疑点数据检查，完成后刷新本页即可看到结果"))
    return redirect("quality:index")
