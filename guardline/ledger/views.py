"""The ledger page for auditors and administrators: the verification result and the latest entries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from guardline.accounts.roles import Perm, has_perm

from .models import LedgerCheckpoint, LedgerEntry
from .selectors import ledger_entries
from .services import ledger_verify


@login_required
def ledger_index(request):
    if not has_perm(request.user, Perm.VIEW_AUDIT):
        raise PermissionDenied("您的角色无此权限")
    kind = request.GET.get("kind", "")
    entries = ledger_entries(request.user, kind)
    return render(request, "ledger/index.html", {
        "result": ledger_verify() if request.GET.get("verify") == "1" else None,
        "entries": entries[:100], "kinds": LedgerEntry.Kind.choices, "kind": kind,
        "checkpoint": LedgerCheckpoint.objects.order_by("-seq").first(), "total": entries.count(),
    })  # fmt: skip
