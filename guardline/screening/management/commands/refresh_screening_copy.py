from django.core.management.base import BaseCommand

from guardline.screening import mirror


class Command(BaseCommand):
    help = (
        "Bring the columnar copy of the screening inputs (SQLite: <database>.inputs.duckdb; PostgreSQL: in "
        "GUARDLINE_SCREENING_COPY_DIR) up to date now — after a large import, say — so that the next full screening "
        "pass does not pay for it; --rebuild writes it anew from a full read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="rebuild it from a full read")

    def handle(self, *args, rebuild, **options):
        result = mirror.refresh(rebuild=rebuild)
        if result is None:
            self.stdout.write(
                "no screening input copy on this database (it is kept for SQLite in a file, and for PostgreSQL "
                "where GUARDLINE_SCREENING_COPY_DIR names a directory)"
            )
            return
        rows = ", ".join(f"{name} {n:,}" for name, n in result.rows.items())
        done = f"rebuilt ({result.reason})" if result.rebuilt else f"{result.replaced:,} rows replaced"
        if result.reloaded:
            done += f", {', '.join(result.reloaded)} reloaded whole"
        self.stdout.write(
            self.style.SUCCESS(f"screening input copy up to date in {result.seconds:.2f} s: {done}")
        )
        self.stdout.write(f"holds {rows}; change {result.watermark}")
