import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guardline.screening.extract import screening_inputs_export


class Command(BaseCommand):
    help = (
        "Write the screening engine's inputs (households, members, household years, linked events) as Parquet, "
        "with the rules and parameters in force, for engine/screening/spark_job.py on a Spark cluster."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--as-of", help="screening date YYYY-MM-DD the parameters are resolved for (default: today)"
        )

    def handle(self, *args, directory, as_of, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of {as_of!r}: expected a date like 2025-06-30") from None
        rows = screening_inputs_export(Path(directory), day)
        summary = ", ".join(f"{name} {n}" for name, n in rows.items())
        self.stdout.write(
            self.style.SUCCESS(f"screening inputs as of {day} written to {directory}: {summary}")
        )
        self.stdout.write(
            f"spark-submit --master … engine/screening/spark_job.py {directory} OUTPUT_DIR  # grades/ and warnings/"
        )
