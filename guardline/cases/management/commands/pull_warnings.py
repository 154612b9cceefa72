"""guardline pull_warnings [--region CODE]: open screening warnings not yet in the clue inbox become clues."""

from django.core.management.base import BaseCommand

from guardline.cases.pull_services import clues_pull_warnings


class Command(BaseCommand):
    help = "Turn open screening warnings into clues of channel 'warning' (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="region code prefix (default: everywhere)")

    def handle(self, *args, region: str = "", **options):
        n = clues_pull_warnings(region_code=region)
        self.stdout.write(f"{n} clues created from warnings")
