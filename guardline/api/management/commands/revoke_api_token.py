from django.core.management.base import BaseCommand, CommandError

from guardline.api.models import DepartmentToken
from guardline.api.services import department_token_revoke


class Command(BaseCommand):
    help = "Revoke a department's API token (by the number `create_api_token` printed); it stops working at once."

    def add_arguments(self, parser):
        parser.add_argument("token_id", type=int)

    def handle(self, *args, token_id, **options):
        token = DepartmentToken.objects.filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"Token #{token_id} does not exist")
        department_token_revoke(actor=None, token=token)
        self.stdout.write(self.style.SUCCESS(f"Token #{token.pk} ({token}) revoked"))
