from django.core.management.base import BaseCommand

from guardline.dashboards.services import aggregates_refresh


class Command(BaseCommand):
    help = (
        "Refresh the dashboards' aggregate table: the current month plus every month changed since the last "
        "refresh (or the given months), for every region (or the given ones)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", action="append", help="month YYYY-MM to recompute (repeatable)")
        parser.add_argument("--region", action="append", help="region code to recompute (repeatable)")

    def handle(self, *args, period, region, **options):
        result = aggregates_refresh(periods=period, regions=region)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.periods)} month(s) {', '.join(result.periods)}: {result.written} rows written, "
                f"{result.deleted} deleted in {result.seconds:.2f}s"
            )
        )
