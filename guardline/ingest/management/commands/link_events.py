import time

from django.core.management.base import BaseCommand

from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.link_services import feed_events_link_probabilistic


class Command(BaseCommand):
    help = (
        "Link department events without a usable ID number by name, birth date, sex and village (Splink). "
        "Only events never examined before, unless --relink."
    )

    def add_arguments(self, parser):
        parser.add_argument("--feed", choices=FEED_KEYS)
        parser.add_argument(
            "--relink",
            action="store_true",
            help="examine again every unlinked event without a clerk's decision (e.g. after a registry import)",
        )
        parser.add_argument(
            "--upper", type=float, help="automatic link threshold (default: setting LINK_UPPER)"
        )
        parser.add_argument("--lower", type=float, help="review threshold (default: setting LINK_LOWER)")

    def handle(self, *args, feed, relink, upper, lower, **options):
        started = time.monotonic()

        def progress(done: int, total: int, stage: str) -> None:
            self.stderr.write(f"\r{stage}: {done}/{total}", ending="")

        run = feed_events_link_probabilistic(
            feed=feed, relink=relink, upper=upper, lower=lower, progress=progress
        )
        self.stderr.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Examined {run.examined}: linked {run.linked}, review {run.review}, unlinked {run.unlinked} "
                f"({time.monotonic() - started:.1f}s)"
            )
        )
