from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guardline.accounts.models import Role, User
from guardline.accounts.services import user_create
from guardline.regions.models import Grid, MonitoringLine, Region
from guardline.registry.models import Household

DEMO_PASSWORD = "Guardline-2026"
DEMO_MARK = "【演示】"  # the demo's own clues start with this, so a second run adds nothing


class Command(BaseCommand):
    help = (
        "Create demo accounts (one per role), the province's monitoring lines, the open warnings as clues, and a few "
        "clues and cases of the demo village at different steps. Idempotent."
    )

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
        if village:
            self._seed_cases(county, village)

    def _seed_cases(self, county: str, village: Region) -> None:
        """The clue inbox and the case pages with something in them: every open warning of the county as a clue,
        then three households of the demo village — a visit report waiting in the inbox, a case at the village
        review, and a household identified last week with its plan drawn up from the recommendation."""
        from guardline.assistance import services as assistance
        from guardline.cases import pull_services
        from guardline.cases import services as cases
        from guardline.cases.models import Case, Clue

        pulled = pull_services.clues_pull_warnings(region_code=county)
        self.stdout.write(f"  {pulled} clues from open warnings")
        if Clue.objects.filter(description__startswith=DEMO_MARK).exists():
            return
        users = {
            u.username: u for u in User.objects.filter(username__in=["village", "township", "county_staff"])
        }
        if len(users) < 3:
            return
        busy = Case.objects.values("household_id")
        households = list(
            Household.objects.filter(village_code=village.code)
            .exclude(pk__in=busy)
            .order_by("household_no")[:3]
        )
        if len(households) < 3:
            return
        cadre, township, county_staff = users["village"], users["township"], users["county_staff"]
        now = timezone.now()

        def report(household, concern: str, text: str, at) -> Clue:
            clue = cases.clue_report(actor=cadre, village_code=village.code, household=household, concern=concern,
                                     description=DEMO_MARK + text, now=at)  # fmt: skip
            return clue.merged_into or clue

        def commitment() -> SimpleUploadedFile:
            return SimpleUploadedFile("承诺授权书.pdf", b"%PDF-1.4 demo", content_type="application/pdf")

        report(households[0], "illness", "户主住院，自付费用较高，请乡镇核实", now - timedelta(hours=3))

        clue = report(households[1], "disaster", "房屋受暴雨损坏", now - timedelta(days=3))
        case = clue.case or cases.case_open(actor=township, clue=clue, now=now - timedelta(days=3))
        cases.case_transition(actor=cadre, case=case, action="home_check", notes="已入户，房屋部分受损",
                              files=[("commitment", commitment())], now=now - timedelta(days=2))  # fmt: skip
        cases.case_transition(actor=township, case=case, action="compare", notes="无车辆、无商品房",
                              now=now - timedelta(days=1))  # fmt: skip

        start = now - timedelta(days=20)
        clue = report(households[2], "illness", "家中成员患慢性病，长期用药", start)
        case = clue.case or cases.case_open(actor=township, clue=clue, now=start)
        review = {"participants": ["村支书", "村主任", "村民代表甲", "村民代表乙", "村民代表丙"], "votes_for": 5,
                  "votes_against": 0, "votes_abstain": 0, "minutes": "一致同意纳入监测"}  # fmt: skip
        steps = [
            ("home_check", cadre, {"notes": "已入户，情况属实", "files": [("commitment", commitment())]}),
            ("compare", township, {"notes": "无车辆、无商品房"}),
            ("village_review", cadre, {"data": review}),
            ("notice_close", cadre, {"notes": "公示无异议"}),
            ("township_approve", township, {"notes": "同意"}),
            ("county_identify", county_staff, {"data": {"category": "marginal", "risk_types": ["01"]}}),
        ]
        at = start + timedelta(days=1)
        for action, actor, kwargs in steps:
            if action == "notice_close":
                at = case.notice_ends_at
            case = cases.case_transition(actor=actor, case=case, action=action, now=at, **kwargs)
            at += timedelta(days=1)
        plan = assistance.plan_create(actor=cadre, case=case, notes="先看病，再稳就业", now=at)
        for proposal in assistance.recommendation(case).proposals:
            assistance.measure_add(actor=cadre, plan=plan, code=proposal.code, responsible=cadre, now=at)
        self.stdout.write(
            f"  demo village {village.name}: 1 clue in the inbox, 1 case at the village review, "
            f"1 identified household with its plan"
        )
