from engine.ingest.feeds import FEED_KEYS

from ._importing import ImportCommand


class Command(ImportCommand):
    help = "Import a department feed file (INTERCHANGE §3): FEED is one of " + ", ".join(FEED_KEYS)

    def add_arguments(self, parser):
        parser.add_argument("feed", choices=FEED_KEYS)
        super().add_arguments(parser)

    def handle(self, *args, feed: str, **options):
        self.kind = feed
        return super().handle(*args, **options)
