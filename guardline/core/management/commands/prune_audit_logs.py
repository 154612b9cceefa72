"""`guardline prune_audit_logs [--dry-run]`: archive the audit-log entries older than GUARDLINE_AUDIT_RETENTION_DAYS
to GUARDLINE_AUDIT_ARCHIVE_DIR (gzip'd JSON lines + SHA-256 sidecar), then delete them
(core.audit_services.audit_log_prune). Safe to interrupt and re-run; the ledger is never pruned."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guardline.core.audit_services import AuditRetentionError, archive_dir, audit_log_prune


class Command(BaseCommand):
    help = (
        "Archive and delete personal-data accesses and change-log entries older than "
        "GUARDLINE_AUDIT_RETENTION_DAYS (at least 180)"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would be archived")

    def handle(self, *args, dry_run: bool, **options):
        try:
            result = audit_log_prune(dry_run=dry_run)
        except AuditRetentionError as e:
            raise CommandError(str(e)) from e
        counts = f"{result.accesses} personal-data accesses and {result.changes} change-log entries"
        before = f"before {result.cutoff:%Y-%m-%d %H:%M}"
        if dry_run:
            self.stdout.write(f"dry run: {counts} {before} would be archived to {archive_dir()} and deleted")
        elif result.archive is None:
            self.stdout.write(f"nothing to prune {before}")
        else:
            self.stdout.write(
                f"archived {counts} {before} to {result.archive} (sha256 {result.sha256}); deleted"
            )
