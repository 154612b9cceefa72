from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from guardline.accounts.models import Role, User
from guardline.accounts.services import user_create
from guardline.regions.models import Grid, MonitoringLine, Region
from guardline.registry.models import Household

DEMO_PASSWORD = "Guardline-2026"


class Command(BaseCommand):
    help = "Create demo accounts (one per role) and the province's monitoring lines for a county. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--county", default="520526")

    def handle(self, *args, county: str, **options):
        county_region = Region.objects.filter(code=county).first()
        if county_region is None:
            raise CommandError(
                f"County {county} not loaded: run `guardline import_divisions --county {county}` first"
            )
        province = county[:2]
        for year, amount, start in (
            (2023, "8050", date(2023, 1, 1)),
            (2024, "8700", date(2024, 1, 1)),
            (2025, "8700", date(2025, 1, 1)),
            (2026, "9000", date(2026, 1, 1)),
        ):
            MonitoringLine.objects.get_or_create(
                region_id=province,
                year=year,
                effective_from=start,
                defaults={"amount": Decimal(amount), "note": "演示数据：省级默认"},
            )
        # The busiest village of the county (by households) makes the village-level demo accounts interesting.
        busiest = (
            Household.objects.filter(village_code__startswith=county)
            .values_list("village_code", flat=True)
            .order_by("village_code")
            .first()
        )
        village = Region.objects.filter(code=busiest).first() if busiest else None
        village = (
            village or Region.objects.filter(code__startswith=county, level=Region.Level.VILLAGE).first()
        )
        township = village.parent if village else None
        accounts = [
            ("province", Role.PROVINCE_OFFICER, province, "省级管理员", ""),
            ("county_admin", Role.COUNTY_ADMIN, county, "县管理员", ""),
            ("county_staff", Role.COUNTY_STAFF, county, "县工作人员", ""),
            ("township", Role.TOWNSHIP_REVIEWER, township.code if township else county, "乡镇审核员", ""),
            ("village", Role.VILLAGE_CADRE, village.code if village else county, "村干部", ""),
            ("grid", Role.GRID_WORKER, village.code if village else county, "网格员", ""),
            ("medical", Role.DEPARTMENT_OFFICER, county, "医保局数据专员", "medical_insurance"),
            ("auditor", Role.AUDITOR, county, "审计员", ""),
        ]
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for username, role, region, name, department in accounts:
            if not User.objects.filter(username=username).exists():
                user_create(
                    actor=None,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    regions=[region],
                    full_name=name,
                    department=department,
                )
            where = Region.objects.get(code=region)
            self.stdout.write(f"  {username:<13} {Role(role).label:<12} {where.name} ({region})")
        if village:
            grid, _ = Grid.objects.get_or_create(village=village, name="第一网格")
            grid.workers.add(User.objects.get(username="grid"))
