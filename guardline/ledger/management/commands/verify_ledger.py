from django.core.management.base import BaseCommand, CommandError

from guardline.ledger.services import ledger_verify


class Command(BaseCommand):
    help = (
        "Recompute the ledger's hash chain and check its signed checkpoints; exit 1 at the first bad entry."
    )

    def handle(self, *args, **options):
        result = ledger_verify()
        if not result.ok:
            raise CommandError(f"LEDGER BROKEN at seq {result.bad_seq}: {result.reason} — {result.detail}")
        self.stdout.write(
            f"OK: {result.entries} entries, {result.checkpoints} signed checkpoints, chain intact "
            f"(last seq {result.last_seq})"
        )
