import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from guardline.screening.services import screening_run
from guardline.screening.tasks import aggregates_refresh_later, warnings_to_clues


class Command(BaseCommand):
    help = (
        "Grade every household (red/yellow/green with reasons) and bring the warnings in step, in one pass."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", help="screening date YYYY-MM-DD (default: today): only what was known then"
        )
        parser.add_argument(
            "--backend",
            choices=("duckdb", "spark"),
            default="duckdb",
            help="duckdb (in-process, default) or spark (local[2] or GUARDLINE_SPARK_MASTER; needs Java and pyspark)",
        )
        parser.add_argument("--household", type=int, action="append", help="only this household (repeatable)")
        parser.add_argument(
            "--model",
            help="learned model directory (default: GUARDLINE_SCREENING_MODEL); used only if it beats the index",
        )

    def handle(self, *args, as_of, backend, household, model, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError(f"--as-of {as_of!r}: expected a date like 2025-06-30") from None

        def progress(stage: str, done: int, total: int) -> None:
            self.stderr.write(f"[{done}/{total}] {stage}")

        run = screening_run(
            as_of=day, backend=backend, household_ids=household, progress=progress, model_dir=model
        )
        seconds = run.timings.get("total", 0)
        self.stdout.write(self.style.SUCCESS(f"{run.message} (engine {seconds:.1f}s)"))
        # What the background task does after a run (screening.tasks), so a county that screens from cron finds
        # its warnings in the clue inbox and its dashboards following.
        clues = warnings_to_clues(household)
        if clues:
            self.stdout.write(f"{clues} 条预警转入线索库")
        if household is None:
            aggregates_refresh_later()
