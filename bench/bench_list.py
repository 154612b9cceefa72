"""Benchmark: the household list page over a registry of N households (default 1,000,000).

    uv run python bench/bench_list.py --households 1000000

Fills a separate SQLite database with N households spread over the real villages of the county (bulk SQL, not
timed), then renders the list page as a county user through Django's test client: first page, a deep page, and
filtered pages. Prints median and worst of 5 renders per page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "guardline-bench-list")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DATABASE_URL=f"sqlite:///{args.workdir / 'list.sqlite3'}",
        GUARDLINE_VAR_DIR=str(args.workdir),
        DJANGO_SETTINGS_MODULE="config.settings.base",
        GUARDLINE_DEBUG="0",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from guardline.accounts.models import Role, User
    from guardline.accounts.services import user_create
    from guardline.regions.models import Region
    from guardline.regions.services import regions_import_divisions
    from guardline.registry.models import Household

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    county = "520526"
    if not Region.objects.filter(code=county).exists():
        regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=county)
    villages = list(Region.objects.filter(code__startswith=county, level=5).values_list("code", flat=True))
    have = Household.objects.count()
    if have < args.households:
        rng = random.Random(1)
        started = time.monotonic()
        with connection.cursor() as cur:
            batch = []
            for i in range(have, args.households):
                v = villages[i % len(villages)]
                income = None if rng.random() < 0.05 else round(rng.lognormvariate(9.5, 0.5), 2)
                batch.append(
                    (
                        f"{v}{i:07d}",
                        v,
                        rng.choice(["former_poor", "general", "general"]),
                        "marginal" if rng.random() < 0.03 else "",
                        "张三",
                        rng.randint(1, 7),
                        2024 if income else None,
                        income,
                    )
                )
                if len(batch) == 50000:
                    cur.executemany(
                        "INSERT INTO registry_household (household_no, village_code, household_type, "
                        "monitor_category, head_name, member_count, latest_income_year, latest_per_capita_income, "
                        "no_labour_household, relocation_site, phone, is_active, created_at, updated_at) VALUES "
                        "(%s,%s,%s,%s,%s,%s,%s,%s,0,0,'13800001234',1,datetime('now'),datetime('now'))",
                        batch,
                    )
                    batch = []
            if batch:
                cur.executemany(
                    "INSERT INTO registry_household (household_no, village_code, household_type, "
                    "monitor_category, head_name, member_count, latest_income_year, latest_per_capita_income, "
                    "no_labour_household, relocation_site, phone, is_active, created_at, updated_at) VALUES "
                    "(%s,%s,%s,%s,%s,%s,%s,%s,0,0,'13800001234',1,datetime('now'),datetime('now'))",
                    batch,
                )
        print(f"filled {args.households - have:,} households in {time.monotonic() - started:.0f}s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    if not User.objects.filter(username="bench").exists():
        user_create(
            actor=None,
            username="bench",
            password="Bench-Password-2026",
            role=Role.COUNTY_STAFF,
            regions=[county],
        )
    client = Client()
    client.login(username="bench", password="Bench-Password-2026")
    township = villages[0][:9]
    pages = {
        "first page": "/households/",
        "last page (200)": "/households/?page=10000",
        "township filter": f"/households/?region={township}",
        "type + income band": "/households/?household_type=former_poor&income_band=6000_8700",
        "monitored only": "/households/?monitor_category=any",
        "search by household no": f"/households/?q={villages[3]}0000003",
    }
    print(f"household list over {Household.objects.count():,} households (ms, median / max of 5):")
    for label, url in pages.items():
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"  {label:<24} {statistics.median(times):7.1f} / {max(times):7.1f}")


if __name__ == "__main__":
    main()
