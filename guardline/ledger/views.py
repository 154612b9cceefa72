"""The ledger page for auditors and administrators: the verification result and the latest entries, and the
export of the audit logs (personal-data accesses and the change log) of the user's regions."""

from __future__ import annotations

import datetime as dt
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import in_scope, region_code_q, scope_codes
from guardline.core.audit_services import AuditExportError, audit_log_export
from guardline.regions.models import Region

from .models import LedgerCheckpoint, LedgerEntry
from .selectors import ledger_entries
from .services import ledger_verify

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_DAYS = 30  # the form's default period: the last month


def _require_audit(user) -> None:
    if not has_perm(user, Perm.VIEW_AUDIT):
        raise PermissionDenied("您的角色无此权限")


def _export_regions(user):
    """The places a user may export the audit logs of: their scope regions, and the counties and townships in them."""
    return Region.objects.filter(Q(code__in=scope_codes(user)) | (region_code_q(user) & Q(level__in=[3, 4])))


class AuditExportForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("起始日期"))
    until = forms.DateField(label=gettext_lazy("截止日期"))
    region = forms.CharField(label=gettext_lazy("地区"), required=False, max_length=12)
    fmt = forms.ChoiceField(label=gettext_lazy("格式"), choices=[("xlsx", "Excel"), ("csv", "CSV")])
    purpose = forms.CharField(label=gettext_lazy("导出事由"), min_length=2, max_length=200)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_region(self) -> str:
        code = self.cleaned_data["region"].strip()
        if code and not in_scope(self.user, code):
            raise forms.ValidationError(_("该地区不在您的管辖范围内"))
        return code

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("起始日期晚于截止日期"))
        return data


@login_required
def ledger_index(request):
    _require_audit(request.user)
    kind = request.GET.get("kind", "")
    entries = ledger_entries(request.user, kind)
    today = timezone.localdate()
    return render(request, "ledger/index.html", {
        "result": ledger_verify() if request.GET.get("verify") == "1" else None,
        "entries": entries[:100], "kinds": LedgerEntry.Kind.choices, "kind": kind,
        "checkpoint": LedgerCheckpoint.objects.order_by("-seq").first(), "total": entries.count(),
        "export_regions": _export_regions(request.user)[:300],
        "export_since": today - dt.timedelta(days=EXPORT_DAYS), "export_until": today,
    })  # fmt: skip


@login_required
@require_POST
def audit_export(request):
    """The audit logs of a period and region (inside the user's) as csv or xlsx, masked; the export is logged.
    Large exports are refused here (a web request must stay short) and left to `guardline export_audit_logs`."""
    _require_audit(request.user)
    form = AuditExportForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("ledger:index")
    data = form.cleaned_data
    from guardline.reports.exports import max_rows

    out = io.BytesIO()
    try:
        result = audit_log_export(actor=request.user, target=out, fmt=data["fmt"], purpose=data["purpose"],
                                  since=data["since"], until=data["until"], region=data["region"],
                                  max_rows=max_rows())  # fmt: skip
    except AuditExportError as e:
        messages.error(request, str(e))
        return redirect("ledger:index")
    content_type = XLSX_TYPE if data["fmt"] == "xlsx" else "text/csv; charset=utf-8"
    response = HttpResponse(out.getvalue(), content_type=content_type)
    filename = (
        f"{_('审计日志')}-{data['region'] or _('全部地区')}-{data['since']:%Y%m%d}-{data['until']:%Y%m%d}"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{data['fmt']}")
    response["X-Audit-Rows"] = str(result.rows)
    return response
