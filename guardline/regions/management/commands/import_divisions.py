import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from guardline.regions.services import regions_import_divisions


class Command(BaseCommand):
    help = "Load the statistical division codes (province → village) from the divisions folder. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            type=Path,
            default=settings.GUARDLINE["DIVISIONS_DIR"],
            help="folder with provinces/cities/areas/streets/villages .csv.xz",
        )
        parser.add_argument("--province", help="2-digit province code, e.g. 52")
        parser.add_argument("--county", help="6-digit county code, e.g. 520526")

    def handle(self, *args, path, province, county, **options):
        if province and (len(province) != 2 or not province.isdigit()):
            raise CommandError("--province must be a 2-digit code, e.g. 52")
        if county and (len(county) != 6 or not county.isdigit()):
            raise CommandError("--county must be a 6-digit code, e.g. 520526")
        started = time.monotonic()

        def progress(file_name: str, count: int) -> None:
            if options["verbosity"] >= 2 or count % 100000 == 0:
                self.stdout.write(f"  {file_name}: {count}")

        try:
            result = regions_import_divisions(path, province=province, county=county, progress=progress)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Divisions loaded: {counts} in {time.monotonic() - started:.1f}s")
        )
        if result.orphans:
            self.stdout.write(
                self.style.WARNING(f"{result.orphans} codes whose parent is missing from the source")
            )
