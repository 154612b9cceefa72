import sys
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from simulate import simulate_county


class Command(BaseCommand):
    help = "Write a synthetic, calibrated county (registry, income, department feeds, ground truth) in INTERCHANGE formats."

    def add_arguments(self, parser):
        parser.add_argument("--county", default=settings.GUARDLINE["DEMO_COUNTY"])
        parser.add_argument("--households", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--quirks", action="store_true", help="also write files with real-world quirks")
        parser.add_argument("--divisions", type=Path, default=settings.GUARDLINE["DIVISIONS_DIR"])

    def handle(self, *args, **o):
        started = time.monotonic()

        def progress(done: int, total: int, stage: str) -> None:
            sys.stderr.write(f"\r{stage}: {done}/{total}        ")
            sys.stderr.flush()

        summary = simulate_county(
            county=o["county"],
            households=o["households"],
            seed=o["seed"],
            out_dir=o["out"],
            divisions_dir=o["divisions"],
            start=o["start"],
            months=o["months"],
            quirks=o["quirks"],
            progress=progress,
        )
        sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Simulated county {o['county']} in {time.monotonic() - started:.1f}s → {o['out']}"
            )
        )
        for key, value in summary.items():
            self.stdout.write(f"  {key}: {value}")
