"""Shared body of the import_registry and import_income commands."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.ingest import IngestFileError
from guardline.ingest.models import ImportBatch
from guardline.ingest.services import import_file


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="apply again even if this exact file was imported"
        )
        parser.add_argument("--report", type=Path, help="also write the row-level error report (xlsx) here")

    def handle(self, *args, file: Path, force: bool, report: Path | None, **options):
        if not file.exists():
            raise CommandError(f"File not found: {file}")
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int, stage: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 1 or (total and done >= total):
                last[0] = now
                pct = f"{100 * done / total:5.1f}%" if total else "     "
                sys.stderr.write(f"\r{stage} {pct} {done}/{total}   ")
                sys.stderr.flush()

        try:
            batch = import_file(self.kind, file, progress=progress, force=force)
        except IngestFileError as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        style = self.style.WARNING if batch.status == ImportBatch.Status.DUPLICATE else self.style.SUCCESS
        self.stdout.write(style(f"Batch #{batch.pk} {batch.status}: {batch.message} ({elapsed:.1f}s)"))
        if report and batch.error_report:
            report.write_bytes(batch.error_report.read())
            self.stdout.write(f"Error report written to {report}")
