from django.core.management.base import BaseCommand, CommandError

from engine.ingest.feeds import DEPARTMENT_FEEDS
from guardline.api.services import department_token_create
from guardline.regions.models import Region


class Command(BaseCommand):
    help = "Create a bearer token for a department's system to push events (printed once; stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--department", required=True, choices=sorted(DEPARTMENT_FEEDS))
        parser.add_argument("--region", required=True, help="region code whose households the data may touch")

    def handle(self, *args, name, department, region, **options):
        place = Region.objects.filter(code=region).first()
        if place is None:
            raise CommandError(f"Region {region} not loaded")
        token, raw = department_token_create(actor=None, name=name, department=department, region=place)
        self.stdout.write(self.style.SUCCESS(f"Token #{token.pk} for {name} ({department}, {place.name}):"))
        self.stdout.write(raw)
