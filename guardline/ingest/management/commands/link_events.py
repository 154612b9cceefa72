import time

from django.core.management.base import BaseCommand

from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.feed_services import feed_events_link_probabilistic


class Command(BaseCommand):
    help = "Link department events without a usable ID number by name, birth date and village (Splink)."

    def add_arguments(self, parser):
        parser.add_argument("--feed", choices=FEED_KEYS)
        parser.add_argument(
            "--upper", type=float, help="automatic link threshold (default: setting LINK_UPPER)"
        )
        parser.add_argument("--lower", type=float, help="review threshold (default: setting LINK_LOWER)")

    def handle(self, *args, feed, upper, lower, **options):
        started = time.monotonic()
        run = feed_events_link_probabilistic(feed=feed, upper=upper, lower=lower)
        self.stdout.write(
            self.style.SUCCESS(
                f"Examined {run.examined}: linked {run.linked}, review {run.review}, unlinked {run.unlinked} "
                f"({time.monotonic() - started:.1f}s)"
            )
        )
