"""Benchmark: the county dashboard over aggregate tables sized for a county of N households (default 1,000,000).

    uv run python bench/bench_dashboard.py --households 1000000 [--months 24] [--refresh-households 200000]

Fills a separate SQLite database with synthetic `RegionMetric` rows for every real village of the county (520526)
and every month — values drawn so that the county totals N households — rolled up to township, county, city and
province with the engine's roll-up (bulk insert, not timed). Then renders, as a county user through Django's test
client, the county dashboard, a township dashboard and the county's composite ranking of its townships: median and
worst of 7 renders each (after one warm-up).

With --refresh-households M it also inserts M synthetic households (3 % monitored, grades, income) into the same
database and times a full `aggregates_refresh` (every metric of the current month, set-based) and an incremental
one right after (nothing changed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from pathlib import Path


def _timed(client, url: str, runs: int = 7) -> tuple[float, float]:
    assert client.get(url).status_code == 200, url  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--refresh-households", type=int, default=0)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "guardline-bench-dashboard"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / "dashboard.sqlite3"
    if db.exists():
        db.unlink()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{db}",
        GUARDLINE_VAR_DIR=str(args.workdir),
        DJANGO_SETTINGS_MODULE="config.settings.base",
        GUARDLINE_DEBUG="0",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from engine.aggregates import catalogue as cat
    from engine.aggregates.rollup import level_of, rollup
    from guardline.accounts.models import Role
    from guardline.accounts.services import user_create
    from guardline.dashboards.models import RegionMetric
    from guardline.dashboards.selectors import shift
    from guardline.dashboards.services import period_of
    from guardline.regions.models import Region
    from guardline.regions.services import regions_import_divisions

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    county = "520526"
    regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=county)
    villages = list(Region.objects.filter(code__startswith=county, level=5).values_list("code", flat=True))
    per_village = args.households / len(villages)
    current = period_of(timezone.now())
    periods = [shift(current, -i) for i in range(args.months)]

    t0 = time.perf_counter()
    rng = random.Random(7)
    village_rows = []
    for v in villages:
        n = max(1, round(per_village * rng.uniform(0.6, 1.4)))
        for p in periods:
            mon = n * 0.03
            base = {
                "hh_total": n, "hh_former_poor": n * 0.3, "hh_monitored": mon,
                **{f"hh_cat_{c}": mon / 3 for c in cat.CATEGORIES},
                "hh_grade_red": n * 0.01, "hh_grade_yellow": n * 0.1, "hh_grade_green": n * 0.89,
                **{f"hh_risk_{r}": mon / 9 for r in cat.RISK_TYPES},
                "mon_with_measure": mon * 0.95, "mon_labour": mon * 0.7, "mon_labour_dev": mon * 0.6,
                "mon_nolabour": mon * 0.3, "mon_nolabour_safety": mon * 0.28, "mon_labour_over_year": mon * 0.1,
                "hh_eliminated": n * 0.02, "inc_all_n": n * 0.95, "inc_all_sum": n * 0.95 * 14000,
                "inc_fp_n": n * 0.29, "inc_fp_sum": n * 0.29 * 11000, "inc_fp_line_sum": n * 0.29 * 8700,
                "inc_mon_n": mon, "inc_mon_sum": mon * 9000, "inc_mon_line_sum": mon * 8700,
                "inc_mon_below_line": mon * 0.2, "case_open": 2, "case_overdue": 1, "warn_open": n * 0.02,
                "warn_onsite_overdue": 1, "dq_invalid_id": n * 0.002, "dq_missing_income": n * 0.05,
                "dq_failures": n * 0.052, "warn_opened": n * 0.01, "warn_closed": n * 0.009, "warn_converted": 1,
                "warn_onsite_n": 3, "warn_onsite_hours_sum": 30, "warn_onsite_late": 1, "id_identified": 2,
                "id_rejected": 3, "id_days_sum": 22, "id_late": 0, "id_returned": rng.random() < 0.05,
                "elim_assisted": 2, "elim_natural": 1, "elim_premature": rng.random() < 0.1, "elim_months_sum": 30,
                "elim_reversed": 0,
            }  # fmt: skip
            village_rows.extend(
                (v, p, m, float(round(x * rng.uniform(0.9, 1.1), 2))) for m, x in base.items()
            )
    rows = rollup(village_rows)
    RegionMetric.objects.bulk_create(
        (
            RegionMetric(region_code=r, level=level_of(r), period=p, metric=m, value=x)
            for (r, p, m), x in rows.items()
        ),
        batch_size=5000,
    )
    county_total = sum(x for (r, p, m), x in rows.items() if r == county and p == current and m == "hh_total")
    print(f"{len(rows):,} aggregate rows ({len(villages)} villages × {args.months} months × {len(cat.METRICS)} "
          f"metrics, rolled up); county households {county_total:,.0f}; filled in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    user = user_create(actor=None, username="bench_county", password="Bench-Password-2026",
                       role=Role.COUNTY_STAFF, regions=[county])  # fmt: skip
    client = Client()
    client.force_login(user)
    township = Region.objects.filter(parent_id=county).order_by("code").values_list("code", flat=True).first()
    for name, url in (("county dashboard", f"/dashboards/{county}/"),
                      ("county dashboard, a past month", f"/dashboards/{county}/?period={periods[6]}"),
                      ("township dashboard", f"/dashboards/{township}/"),
                      ("county ranking of townships", f"/dashboards/{county}/evaluation/")):  # fmt: skip
        median, worst = _timed(client, url)
        print(f"{name}: median {median:.1f} ms, worst {worst:.1f} ms")

    if args.refresh_households:
        _refresh_bench(args.refresh_households, villages, current)


def _refresh_bench(n: int, villages: list[str], current: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from guardline.dashboards.models import AggregateState, RegionMetric
    from guardline.dashboards.services import aggregates_refresh

    RegionMetric.objects.filter(period=current).delete()
    AggregateState.objects.all().delete()
    rng = random.Random(3)
    t0 = time.perf_counter()
    # An hour ago (before the refresh watermark and its safety margin), as Django stores datetimes in SQLite.
    now = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with connection.cursor() as cur:
        batch = []
        for i in range(n):
            v = villages[i % len(villages)]
            income = None if rng.random() < 0.05 else round(rng.lognormvariate(9.5, 0.5), 2)
            mon = "marginal" if rng.random() < 0.03 else ""
            batch.append((f"{v}{i:07d}", v, rng.choice(["former_poor", "general", "general"]), mon,
                          rng.random() < 0.1, rng.randint(1, 7), 2025 if income else None, income))  # fmt: skip
            if len(batch) == 50000 or i == n - 1:
                cur.executemany(
                    "INSERT INTO registry_household (household_no, village_code, household_type, monitor_category, "
                    "no_labour_household, member_count, latest_income_year, latest_per_capita_income, "
                    "relocation_site, phone, head_name, is_active, created_at, updated_at) VALUES "
                    f"(%s,%s,%s,%s,%s,%s,%s,%s,0,'','张三',1,'{now}','{now}')",
                    batch,
                )
                batch = []
        cur.execute(
            "INSERT INTO screening_householdgrade (household_id, village_code, grade, score, rules, as_of, updated_at)"
            f" SELECT id, village_code, CASE WHEN id % 100 = 0 THEN 'red' WHEN id % 10 = 0 THEN 'yellow' "
            f"ELSE 'green' END, 10, '', date('now'), '{now}' FROM registry_household"
        )
    print(f"{n:,} households inserted in {time.perf_counter() - t0:.1f} s (not timed below)")
    first = aggregates_refresh()
    print(f"full refresh over {n:,} households: {first.seconds:.1f} s, {first.written:,} rows written "
          f"({len(first.periods)} month(s))")  # fmt: skip
    # Pretend the full refresh ran earlier this month (rows inserted above are not "changed since" then).
    from guardline.dashboards.models import AggregateState
    from guardline.registry.models import Household

    AggregateState.objects.update(refreshed_at=timezone.now())
    again = aggregates_refresh()
    print(f"incremental refresh, nothing changed: {again.seconds:.1f} s, {again.written} rows written")
    one = Household.objects.filter(monitor_category="").order_by("pk").first()
    Household.objects.filter(pk=one.pk).update(monitor_category="marginal", updated_at=timezone.now())
    step = aggregates_refresh()
    print(
        f"incremental refresh, one household changed: {step.seconds:.2f} s, {step.written} rows written, "
        f"stock of {step.stock_villages} village(s) recomputed"
    )


if __name__ == "__main__":
    main()
