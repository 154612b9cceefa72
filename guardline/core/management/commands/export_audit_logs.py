"""`guardline export_audit_logs FILE.csv|FILE.xlsx [--since DATE] [--until DATE] [--region CODE]`: personal-data
accesses and change-log entries, oldest first, personal values masked (core.audit_services.audit_log_export). The
export is itself recorded as a personal-data access."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from guardline.accounts.models import User
from guardline.core.audit_services import FORMATS, AuditExportError, audit_log_export


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from e


class Command(BaseCommand):
    help = (
        "Export the audit logs (personal-data accesses and the change log) to a csv or xlsx file; ID numbers and "
        "phones masked; the export is logged"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the file to write: its extension (.csv or .xlsx) gives the format")
        parser.add_argument("--since", type=_date, help="first day (YYYY-MM-DD, local time), inclusive")
        parser.add_argument("--until", type=_date, help="last day (YYYY-MM-DD, local time), inclusive")
        parser.add_argument(
            "--region", default="", help="only entries about this region (a code of any level)"
        )
        parser.add_argument(
            "--user", default="", help="export as this user: only their regions, and the access is theirs"
        )
        parser.add_argument("--purpose", default="命令行导出审计日志", help="why (recorded with the export)")

    def handle(self, *args, file: str, since, until, region: str, user: str, purpose: str, **options):
        path = Path(file)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise CommandError(f"{file}: the file must end in .csv or .xlsx")
        if since and until and since > until:
            raise CommandError("--since is after --until")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user!r}")
        try:
            result = audit_log_export(
                actor=actor, target=path, fmt=fmt, purpose=purpose, since=since, until=until, region=region
            )
        except (AuditExportError, PermissionDenied) as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"{result.rows} entries written to {path}")
