from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guardline.screening.export import write_warnings
from guardline.screening.models import RiskWarning


class Command(BaseCommand):
    help = "Write the open warnings as INTERCHANGE §4 (预警名单): FILE.csv or FILE.xlsx."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--region", default="", help="only villages whose code starts with this")
        parser.add_argument("--grade", choices=("red", "yellow"), action="append")
        parser.add_argument("--all", action="store_true", help="closed warnings too")

    def handle(self, *args, file, region, grade, all, **options):
        qs = RiskWarning.objects.select_related("household").order_by("village_code", "-score", "id")
        if not all:
            qs = qs.filter(status=RiskWarning.Status.OPEN)
        if region:
            qs = qs.filter(village_code__startswith=region)
        if grade:
            qs = qs.filter(grade__in=grade)
        try:
            n = write_warnings(Path(file), qs.iterator(chunk_size=2000))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{n} warnings written to {file}"))
