from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from guardline.core.backup import BackupError, Target, backup


class Command(BaseCommand):
    help = (
        "Write one tar.gz archive with a consistent copy of the database (SQLite online backup, or pg_dump -Fc on "
        "PostgreSQL: needs pg_dump on PATH) and the uploaded files, with a manifest of SHA-256 hashes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "dest", type=Path, help="archive to write, e.g. /backup/guardline-2025-06-30.tar.gz"
        )

    def handle(self, *args, dest, **options):
        target = Target(connection.vendor, connection.settings_dict, Path(settings.MEDIA_ROOT))
        try:
            manifest = backup(target, dest, log=lambda stage: self.stderr.write(f"backup: {stage}"))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        n = len(manifest["files"])
        self.stdout.write(self.style.SUCCESS(f"{dest}: {connection.vendor} database and {n - 1} media files"))
