from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from guardline.core.backup import BackupError, Target, database_has_data, restore


class Command(BaseCommand):
    help = (
        "Restore a `guardline backup` archive: checks every SHA-256 first (a damaged archive changes nothing), "
        "refuses a non-empty database unless --force. Stop the web and task processes before restoring."
    )

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path, help="archive written by `guardline backup`")
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")

    def handle(self, *args, src, force, **options):
        target = Target(connection.vendor, connection.settings_dict, Path(settings.MEDIA_ROOT))

        def has_data() -> bool:
            try:
                return database_has_data(connection)
            finally:
                connection.close()  # the restore writes through its own connection

        try:
            manifest = restore(
                target, src, force=force, has_data=has_data, log=lambda s: self.stderr.write(f"restore: {s}")
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {src} (created {manifest['created_at']}, {len(manifest['files']) - 1} media files)"
            )
        )
