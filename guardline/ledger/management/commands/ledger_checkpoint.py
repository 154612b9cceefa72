from django.core.management.base import BaseCommand

from guardline.ledger.services import ledger_checkpoint


class Command(BaseCommand):
    help = "Sign the current end of the ledger (HMAC-SHA256 with GUARDLINE_LEDGER_KEY). Run from cron, e.g. hourly."

    def handle(self, *args, **options):
        cp = ledger_checkpoint()
        if cp is None:
            self.stdout.write("nothing new to sign")
        else:
            self.stdout.write(f"checkpoint #{cp.seq} {cp.hash} signed with key {cp.key_id}")
