import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from simulate.screening_labels import HORIZON, add_months, monthly, train_model


class Command(BaseCommand):
    help = (
        "Train the learned screening model on a simulated county and compare it with the index on another one "
        "(out of time and out of county); writes model.txt + model.json. screen uses it only if it beats the index."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sim", type=Path, required=True, help="simulated county to train on")
        parser.add_argument(
            "--held-out", type=Path, required=True, help="another simulated county (other seed)"
        )
        parser.add_argument("--out", type=Path, default=Path("var/models/screening"))
        parser.add_argument("--first", default="2024-03", help="first training month (YYYY-MM)")
        parser.add_argument("--train-last", default="2024-08", help="last training month")
        parser.add_argument(
            "--last", default="2025-06", help="last held-out month (6 months of truth follow)"
        )

    def handle(self, *args, sim, held_out, out, first, train_last, last, **options):
        for d in (sim, held_out):
            if not (d / "truth" / "outcomes.csv").exists():
                raise CommandError(f"{d}: not a simulated county (no truth/outcomes.csv)")
        train_dates = monthly(first, train_last)
        start = add_months(train_dates[-1], HORIZON)
        test_dates = monthly(f"{start.year}-{start.month:02d}", last)
        if not test_dates:
            raise CommandError(f"no held-out month between {start} and {last}")
        started = dt.datetime.now()
        model = train_model(
            sim, held_out, train_dates, test_dates, progress=lambda m: self.stderr.write(m), name=str(out)
        )
        model.save(out)
        seconds = (dt.datetime.now() - started).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"{model.why} → {out} ({seconds:.0f}s)"))
