"""Template context shared by every page: the navigation the user's role allows."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guardline.accounts.roles import Perm, has_perm


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    if has_perm(user, Perm.HANDLE_CLUES):
        items.append(("cases:tasks", _("我的待办")))
        items.append(("cases:inbox", _("线索")))
    if has_perm(user, Perm.REPORT_VISIT):
        items.append(("assistance:visits_due", _("走访")))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("assistance:plan_list", _("帮扶")))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("screening:inbox", _("预警")))
        items.append(("registry:household_list", _("农户台账")))
    if has_perm(user, Perm.IMPORT_REGISTRY) or has_perm(user, Perm.UPLOAD_FEEDS):
        items.append(("ingest:batch_list", _("数据导入")))
    if has_perm(user, Perm.REVIEW_LINKS):
        items.append(("ingest:review_list", _("关联核对")))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("dashboards:home", _("统计分析")))
        items.append(("regions:line_list", _("监测线")))
        items.append(("regions:grid_list", _("网格")))
        items.append(("screening:catalogue", _("指标与规则")))
        if has_perm(user, Perm.RUN_SCREENING):
            items.append(("screening:whatif", _("政策模拟")))
        items.append(("cases:overdue", _("超时督办")))
        items.append(("cases:holidays", _("节假日")))
        items.append(("reports:index", _("报表")))
        items.append(("quality:index", _("疑点数据")))
    if has_perm(user, Perm.VIEW_OVERSIGHT):
        items.append(("oversight:index", _("监督台账")))
    if has_perm(user, Perm.VIEW_AUDIT):
        items.append(("ledger:index", _("防篡改账本")))
    return {"nav_items": items}
