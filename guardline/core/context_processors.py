"""Template context shared by every page: the navigation the user's role allows."""

from __future__ import annotations

from guardline.accounts.roles import Perm, has_perm


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    if has_perm(user, Perm.HANDLE_CLUES):
        items.append(("cases:tasks", "我的待办"))
        items.append(("cases:inbox", "线索"))
    if has_perm(user, Perm.REPORT_VISIT):
        items.append(("assistance:visits_due", "走访"))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("assistance:plan_list", "帮扶"))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("screening:inbox", "预警"))
        items.append(("registry:household_list", "农户台账"))
    if has_perm(user, Perm.IMPORT_REGISTRY) or has_perm(user, Perm.UPLOAD_FEEDS):
        items.append(("ingest:batch_list", "数据导入"))
    if has_perm(user, Perm.REVIEW_LINKS):
        items.append(("ingest:review_list", "关联核对"))
    if has_perm(user, Perm.VIEW_REGISTRY):
        items.append(("dashboards:home", "统计分析"))
        items.append(("regions:line_list", "监测线"))
        items.append(("regions:grid_list", "网格"))
        items.append(("screening:catalogue", "指标与规则"))
        items.append(("cases:overdue", "超时督办"))
        items.append(("cases:holidays", "节假日"))
    return {"nav_items": items}
