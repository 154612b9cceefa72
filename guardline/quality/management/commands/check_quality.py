from django.core.management.base import BaseCommand

from guardline.quality.services import quality_check_run


class Command(BaseCommand):
    help = "Run every data-quality rule (疑点数据) and bring the findings in step (run nightly from cron/systemd)."

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="only the households of this region code")

    def handle(self, *args, region, **options):
        result = quality_check_run(
            region_code=region,
            progress=lambda done, total, stage: self.stderr.write(f"[{done}/{total}] {stage}"),
        )
        for code, n in result.per_rule.items():
            self.stdout.write(f"{code}: {n}")
        self.stdout.write(self.style.SUCCESS(result.message))
