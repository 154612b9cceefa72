"""guardline rotate_keys — bring every encrypted ID number and phone to the current data key, and every blind
index to the current lookup key and mode (README, "Encryption at rest")."""

from django.apps import apps
from django.core.management.base import BaseCommand

from guardline.core import crypto
from guardline.core.crypto_services import changelog_reencrypt, encrypted_models, model_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the first key of GUARDLINE_DATA_KEYS and recompute the blind "
        "indexes with GUARDLINE_LOOKUP_KEY (only rows that differ are written; safe to interrupt and re-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=5000, help="rows per transaction (default 5000)")
        parser.add_argument("--model", action="append", default=[], help="only this model (app_label.Model)")

    def handle(self, *args, batch: int, model: list[str], **options):
        ring = crypto.keyring()
        self.stdout.write(
            f"mode {ring.mode}; encrypting with key {ring.current[0]!r}; "
            f"decrypting with {', '.join(repr(k) for k, _ in ring.data_keys)}"
        )
        wanted = {m.lower() for m in model}
        total_rows = total_written = 0

        def progress(label: str, rows: int, written: int) -> None:
            self.stdout.write(f"  {label}: {rows} rows read, {written} rewritten")

        for cls in encrypted_models(apps.get_models()):
            if wanted and cls._meta.label_lower not in wanted:
                continue
            result = model_reencrypt(cls, batch_rows=batch, progress=progress)
            self.stdout.write(f"{cls._meta.label}: {result.rows} rows, {result.rewritten} rewritten")
            total_rows += result.rows
            total_written += result.rewritten
        if not wanted or "core.changelog" in wanted:
            result = changelog_reencrypt(batch_rows=batch, progress=progress)
            self.stdout.write(f"core.ChangeLog: {result.rows} rows, {result.rewritten} rewritten")
            total_rows += result.rows
            total_written += result.rewritten
        self.stdout.write(self.style.SUCCESS(f"done: {total_rows} rows read, {total_written} rewritten"))
