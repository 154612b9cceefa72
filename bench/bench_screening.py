"""Benchmark: full screening from the operational database — extract, engine, write-back — against its floor and a
naive per-household implementation.

    uv run python bench/bench_screening.py                          # 1,000,000 households (+ the 10k naive run)
    uv run python bench/bench_screening.py --households 100000 --naive 2000
    uv run python bench/bench_screening.py --scaling 100000,1000000,3000000 --naive 0
    scripts/with_postgres.sh uv run python bench/bench_screening.py --naive 0   # the same on PostgreSQL

Set-up (not timed, cached): a synthetic operational SQLite database in the real Django schema, N households with
≈ 3.5 members, 2 income years and ≈ 12 department events each over the 12 months before the as-of date
(bench/screening_db.py; cached under --cache keyed by N, so reruns start at once).

On PostgreSQL (DATABASE_URL names a server, as scripts/with_postgres.sh sets it): the cached SQLite file's rows are
copied into a fresh database on that server (bench/screening_pg.py; not timed) and the runs read and write there.
The naive run stays on SQLite.

Timed, in one fresh process per database (so peak RSS is this run's own, VmHWM):
  first run   `services.screening_run` (= `guardline screen`) on a database without grades or warnings: every
              household's grade is inserted and every red/yellow household gets a new warning, with its
              change-log entry. Stages: extract (ADBC → Arrow), engine (DuckDB), write-back (grades, warnings,
              change log), from the run's own progress marks.
  re-run      the same again, unchanged data: grades compared and not rewritten, every warning found again as it
              was (RiskWarning.digest: the engine does not explain it again) and left alone.
  next day    a day's new events (the events' yearly count / 365, a random sample of the linked ones copied to
              the next day) and the screening a day later: the daily case, in which some warnings change.
  floor       one DuckDB join + group-by of the feed events onto members and households, on the same Arrow
              tables the run extracted (no extract, no write-back): the least any screening over these rows costs.
Then, in another process, the naive implementation (`--naive` households, default 10,000, its own database): a
per-household loop over the ORM — members, income years, events and village events queried per household,
twenty-odd features and a dozen indicators and triggers computed in Python, the grade and warning written with
update_or_create — and its cost per household against the set-based run's.

Goals (issue 4): 1M households in < 30 s, peak < 6 GiB, ≤ 5× the floor; cost linear in N. Prints one JSON line per
database and a table; exit 1 when the 1M goal is measured and missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import screening_db  # noqa: E402
import screening_pg  # noqa: E402

AS_OF = date(2025, 6, 30)


def vm_hwm_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _django(db: Path, url: str = "") -> None:
    os.environ.update(screening_db.django_env(db, db.parent / "var"))
    if url:
        os.environ["DATABASE_URL"] = url
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------- set-based run
def measure(db: Path, as_of: date, url: str = "") -> dict:
    """In this (fresh) process: the first run, the re-run and the floor (on PostgreSQL at `url` if given)."""
    _django(db, url)
    from django.db import connection

    from guardline.screening import extract, services

    def one_run(day: date = as_of) -> dict:
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        run = services.screening_run(
            as_of=day, progress=lambda s, d, t: marks.append((s, time.perf_counter()))
        )
        total = time.perf_counter() - t0
        at = dict(marks)
        connection.close()
        return {
            "total_s": round(total, 2),
            "extract_s": round(at["计算指标与等级"] - at["读取数据"], 2),
            "engine_s": round(at["写入预警"] - at["计算指标与等级"], 2),
            "write_s": round(at["完成"] - at["写入预警"], 2),
            "other_s": round(total - (at["完成"] - at["读取数据"]), 2),
            "engine_timings": run.timings,
            "households": run.households,
            "red": run.red,
            "yellow": run.yellow,
            "green": run.green,
            "opened": run.opened,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "closed": run.closed,
        }

    out: dict = {"load_average_before": load_average()}
    # The columnar copy of the events (guardline.screening.mirror) is kept in step by every write; on a database
    # built in bulk, or after an upgrade, it is (re)built once, here, and reported on its own. A pass then applies
    # only the changes logged since (the next day's new events, below).
    from guardline.screening import mirror

    synced = mirror.refresh()
    if synced is not None:
        out["events_copy"] = {
            "seconds": round(synced.seconds, 2), "rebuilt": synced.rebuilt, "reason": synced.reason,
            "rows": synced.rows, "replaced": synced.replaced,
        }  # fmt: skip
    first = one_run()
    out["first"] = first
    out["peak_rss_gib_first"] = round(vm_hwm_gib(), 2)
    # The floor reads the same tables again, after the run: a copy kept from the run itself would add a
    # province's inputs to the run's peak memory (the run frees them as soon as the engine is done with them).
    inputs = extract.screening_inputs(as_of=as_of)
    out["rows"] = {k: v.num_rows for k, v in inputs.items()}
    out["floor_s"] = floor(inputs)
    del inputs
    out["rerun"] = one_run()
    # The next day: a day's new department events, and the screening date a day later (look-back windows move,
    # birthdays pass) — the daily case, in which some warnings change and most do not.
    day = as_of + timedelta(days=1)
    out["next_day_events"] = (
        screening_pg.day_of_events_add(url, day, out["rows"]["events"])
        if url
        else screening_db.day_of_events_add(db, day, out["rows"]["events"])
    )
    try:
        out["next_day"] = one_run(day)
    finally:
        screening_pg.day_of_events_remove(url) if url else screening_db.day_of_events_remove(db)
    out["peak_rss_gib"] = round(vm_hwm_gib(), 2)
    out["load_average_after"] = load_average()
    return out


def floor(inputs: dict, repeat: int = 3) -> float:
    """One DuckDB join + group-by of the events onto members and households (best of `repeat`)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{os.environ.get('GUARDLINE_DUCKDB_MEMORY', '4GB')}'")
    con.execute("SET preserve_insertion_order = false")
    for name in ("households", "members", "events"):
        con.register(name, inputs[name])
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        con.sql(
            "SELECT h.household_id, COUNT(*) AS events, SUM(e.amount) AS amount, MAX(e.event_date) AS latest "
            "FROM events AS e JOIN members AS m ON m.member_id = e.member_id "
            "JOIN households AS h ON h.household_id = m.household_id GROUP BY h.household_id"
        ).to_arrow_table()
        best = min(best, time.perf_counter() - t)
    con.close()
    return round(best, 3)


# ------------------------------------------------------------------------------------------- naive per household
def naive(db: Path, as_of: date, limit: int) -> dict:
    """A straightforward per-household screening over the ORM (see the module docstring)."""
    _django(db)
    from django.db import transaction
    from django.utils import timezone

    from guardline.core.changelog import change_entry, log_changes
    from guardline.ingest.models import FeedEvent
    from guardline.registry.models import Household
    from guardline.screening.models import HouseholdGrade, RiskWarning

    line, red_at, yellow_at = 8700.0, 60.0, 35.0
    m12, m6, m24 = as_of - timedelta(days=365), as_of - timedelta(days=183), as_of - timedelta(days=730)
    able = {"ordinary", "skilled", "weak"}

    def share(value, zero_at, full_at):
        if value is None:
            return 0.0
        return max(0.0, min(1.0, (value - zero_at) / (full_at - zero_at)))

    def age(birth, at):
        return (at - birth).days / 365.25 if birth else 40.0

    t0 = time.perf_counter()
    counts = {"red": 0, "yellow": 0, "green": 0}
    now = timezone.now()
    with transaction.atomic():
        for h in Household.objects.filter(is_active=True).order_by("pk")[:limit]:
            members = list(h.members.filter(is_active=True))
            years = [y for y in h.years.order_by("-year") if y.year <= as_of.year - 1]
            events = [
                e
                for e in FeedEvent.objects.filter(
                    household=h, link_status="linked", event_date__lte=as_of, event_date__gt=m24
                ).select_related("member")
                if e.created_at.date() <= as_of
            ]
            water = list(
                FeedEvent.objects.filter(
                    village_code=h.village_code,
                    link_status="village",
                    feed="water_incident",
                    event_date__lte=as_of,
                    event_date__gt=m12,
                )
            )
            size = max(len(members), 1)
            f: dict[str, float] = {}
            f["labour"] = sum(m.labour_capacity in ("ordinary", "skilled") for m in members)
            f["able"] = sum(m.labour_capacity in able for m in members)
            f["dependants"] = sum(not 16 <= age(m.birth_date, as_of) < 65 for m in members)
            f["ill"] = sum(m.health in ("chronic", "serious") for m in members)
            f["serious"] = sum(m.health == "serious" for m in members)
            f["disabled"] = sum(m.health == "disabled" or m.disability_grade is not None for m in members)
            f["uninsured"] = sum(m.basic_medical_insured is False for m in members)
            cur = years[0] if years else None
            prev = next((y for y in years if cur and y.year == cur.year - 1), None)

            def net(y):
                parts = (y.wage_income, y.business_income, y.property_income, y.transfer_income)
                return float(sum(v or 0 for v in parts) - (y.business_cost or 0))

            pc_adj = pc_net = change = None
            if cur is not None:
                ysize = cur.household_size or size
                adj = net(cur) + float(cur.claim_income or 0) - float(cur.compliant_out_of_pocket or 0)
                pc_net, pc_adj = net(cur) / ysize, adj / ysize
                if prev is not None and net(prev) > 0:
                    prev_pc = net(prev) / (prev.household_size or size)
                    change = (pc_net - prev_pc) / prev_pc
            recent = [e for e in events if e.event_date > m12]
            med = [e.amount or 0 for e in recent if e.feed == "medical_settlement"]
            f["med_oop"] = sum(med)
            f["serious_new"] = sum(e.feed == "illness_diagnosis" and e.kind == "大病" for e in recent)
            f["disab_new"] = sum(e.feed == "disability_certificate" for e in recent)
            f["labour_deaths"] = sum(
                e.feed == "death_registration" and e.member and e.member.labour_capacity in able
                for e in recent
            )
            f["accidents"] = sum(e.feed == "accident" and e.kind in ("重伤", "死亡") for e in recent)
            latest: dict[int, tuple] = {}
            for e in sorted(events, key=lambda e: e.event_date):
                if e.feed == "employment_change" and e.member_id:
                    latest[e.member_id] = (e.kind, e.event_date)
            f["job_losses"] = sum(k in ("失业登记", "返乡") and d > m12 for k, d in latest.values())
            f["dropouts"] = sum(
                e.feed == "school_status" and e.kind == "辍学" and e.member and 6 <= age(e.member.birth_date, e.event_date) < 16
                for e in recent
            )  # fmt: skip
            f["housing"] = max(
                (
                    2 if e.kind == "D" else 1
                    for e in events
                    if e.feed == "housing_appraisal" and e.kind in "CD"
                ),
                default=0,
            )
            f["disaster"] = sum(e.amount or 0 for e in recent if e.feed == "disaster_loss")
            f["credit"] = max((e.amount or 0 for e in recent if e.feed == "microcredit"), default=0)
            f["assistance"] = sum(
                e.feed == "civil_assistance"
                and e.kind in ("低保", "特困", "临时救助", "低保边缘", "刚性支出困难")
                for e in recent
            )
            f["shocks6"] = sum(
                e.event_date > m6 and e.feed in ("illness_diagnosis", "accident", "death_registration")
                for e in recent
            )
            f["water"] = max((e.amount or 0 for e in water), default=0)
            projected = None
            if cur is not None and pc_adj is not None:
                projected = (
                    pc_adj * size + float(cur.compliant_out_of_pocket or 0) - f["med_oop"] - f["disaster"]
                )
                projected = projected / size / line
            indicators = [  # (share, weight) in the catalogue's spirit
                (share(pc_adj / line if pc_adj is not None else None, 2.0, 1.0), 12),
                (share(projected, 1.6, 1.0), 16),
                (share(change, 0.0, -0.3), 4),
                (share(f["med_oop"] / size / line, 0.0, 0.5), 8),
                (share(f["serious_new"] + f["serious"], 0, 2), 6),
                (share(f["disab_new"] + f["disabled"], 0, 2), 4),
                (share(f["dependants"] / size, 0.4, 0.9), 4),
                (share(1 - f["able"] / size, 0.5, 1.0), 5),
                (share(f["labour_deaths"] + f["accidents"], 0, 1), 8),
                (share(f["job_losses"], 0, 1), 5),
                (share(f["dropouts"], 0, 1), 4),
                (share(f["housing"], 0, 2), 5),
                (share(f["disaster"] / size / line, 0, 0.5), 5),
                (share(f["credit"], 0, 90), 3),
                (share(f["assistance"], 0, 1), 4),
                (share(f["water"], 0, 30), 3),
                (share(f["uninsured"], 0, 1), 2),
                (share(f["shocks6"], 0, 2), 2),
            ]
            total_w = sum(w for _, w in indicators)
            score = round(sum(100 * s * w / total_w for s, w in indicators), 2)
            rules = []
            if pc_adj is not None and pc_adj < line:
                rules.append("income_below_line")
            if f["med_oop"] > 20000:
                rules.append("medical_burden")
            if f["labour_deaths"]:
                rules.append("labour_death")
            if f["housing"] == 2:
                rules.append("housing_unsafe")
            if f["dropouts"]:
                rules.append("dropout")
            severe = bool({"income_below_line", "labour_death", "housing_unsafe"} & set(rules))
            grade = (
                "red" if severe or score >= red_at else "yellow" if rules or score >= yellow_at else "green"
            )
            counts[grade] += 1
            HouseholdGrade.objects.update_or_create(
                household=h,
                defaults={
                    "village_code": h.village_code,
                    "grade": grade,
                    "score": score,
                    "rules": ";".join(rules),
                    "as_of": as_of,
                    "updated_at": now,
                },
            )
            if grade != "green":
                w, created = RiskWarning.objects.update_or_create(
                    household=h,
                    status="open",
                    defaults={
                        "village_code": h.village_code,
                        "grade": grade,
                        "score": score,
                        "risk_types": "99",
                        "reasons": [f"风险分值 {score:.1f}"],
                        "sources": sorted({e.feed for e in recent}),
                        "rules": ";".join(rules),
                        "points": [],
                        "first_signal_date": min((e.event_date for e in recent), default=as_of),
                        "updated_at": now,
                        "graded_at": now,
                        "opened_at": now,
                    },
                )
                if created:
                    log_changes(
                        [
                            change_entry(
                                entity="warning",
                                entity_id=w.pk,
                                household_id=h.pk,
                                action="open",
                                before=None,
                                after={"grade": grade, "score": score},
                                actor_id=None,
                            )
                        ]
                    )
    seconds = time.perf_counter() - t0
    n = sum(counts.values())
    return {
        "households": n,
        "seconds": round(seconds, 2),
        "ms_per_household": round(seconds * 1000 / n, 3),
        **counts,
        "peak_rss_gib": round(vm_hwm_gib(), 2),
    }


# ---------------------------------------------------------------------------------------------------------- driver
def child(mode: str, db: Path, as_of: date, limit: int = 0, url: str = "") -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--db", str(db), "--as-of", as_of.isoformat()]
    cmd += ["--naive", str(limit), "--database-url", url]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{mode} run failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--scaling", default="", help="comma-separated household counts (one run each)")
    parser.add_argument("--naive", type=int, default=10_000, help="households of the naive run (0: skip)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "guardline-bench-screening"
    )
    parser.add_argument("--child", choices=["measure", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (
            measure(args.db, args.as_of, args.database_url)
            if args.child == "measure"
            else naive(args.db, args.as_of, args.naive)
        )
        print(json.dumps(result, ensure_ascii=False))
        return

    sizes = [int(s) for s in args.scaling.split(",") if s.strip()] or [args.households]
    server = os.environ.get("DATABASE_URL", "")
    results = []
    for n in sizes:
        db = screening_db.database(n, args.as_of, cache=args.cache, say=say)
        screening_db.reset_outputs(db)
        url = ""
        if screening_pg.on_postgres(server):
            url = screening_pg.database(db, server, say=say)
            screening_pg.reset_outputs(url)
        say(f"measuring {n:,} households (load average {load_average()})")
        r = child("measure", db, args.as_of, url=url)
        r["households"] = n
        r["database"] = screening_pg.marker(url) if url else {"database": "sqlite"}
        r["ratio_to_floor"] = round(r["first"]["total_s"] / r["floor_s"], 2)
        r["rerun_ratio_to_floor"] = round(r["rerun"]["total_s"] / r["floor_s"], 2)
        r["next_day_ratio_to_floor"] = round(r["next_day"]["total_s"] / r["floor_s"], 2)
        r["us_per_household"] = round(r["first"]["total_s"] * 1e6 / n, 2)
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)
        f, rr, nd = r["first"], r["rerun"], r["next_day"]
        say(
            f"{n:,} households, {r['rows']['members']:,} members, {r['rows']['events']:,} events: "
            f"first run {f['total_s']} s (extract {f['extract_s']}, engine {f['engine_s']}, write {f['write_s']}, "
            f"other {f['other_s']}), re-run {rr['total_s']} s (write {rr['write_s']}), next day {nd['total_s']} s "
            f"({r['next_day_events']:,} new events; warnings opened {nd['opened']:,}, updated {nd['updated']:,}, "
            f"unchanged {nd['unchanged']:,}, closed {nd['closed']:,}); peak {r['peak_rss_gib']} GiB; "
            f"floor {r['floor_s']} s → {r['ratio_to_floor']}× (re-run {r['rerun_ratio_to_floor']}×)"
        )
    if args.naive:
        db = screening_db.database(args.naive, args.as_of, cache=args.cache, say=say)
        screening_db.reset_outputs(db)
        say(f"naive per-household ORM screening of {args.naive:,} households (load average {load_average()})")
        nv = child("naive", db, args.as_of, args.naive)
        screening_db.reset_outputs(db)
        same = child("measure", db, args.as_of)
        nv["set_based_first_s_same_db"] = same["first"]["total_s"]
        nv["ratio_per_household_same_db"] = round(nv["seconds"] / same["first"]["total_s"], 1)
        for r in results:
            nv[f"ratio_per_household_vs_{r['households']}"] = round(
                nv["ms_per_household"] / (r["us_per_household"] / 1000), 1
            )
        print(json.dumps({"naive": nv}, ensure_ascii=False), flush=True)
        say(
            f"naive: {nv['households']:,} households in {nv['seconds']} s ({nv['ms_per_household']} ms each); "
            f"set-based on the same database {same['first']['total_s']} s → {nv['ratio_per_household_same_db']}×"
        )
    if len(results) > 1:
        say(
            "| households | members | events | first run s | µs / household | re-run s | next day s | floor s "
            "| × floor | peak GiB |"
        )
        for r in results:
            say(
                f"| {r['households']:,} | {r['rows']['members']:,} | {r['rows']['events']:,} | {r['first']['total_s']} "
                f"| {r['us_per_household']} | {r['rerun']['total_s']} | {r['next_day']['total_s']} | {r['floor_s']} "
                f"| {r['ratio_to_floor']} | {r['peak_rss_gib']} |"
            )
    goal = [r for r in results if r["households"] == 1_000_000]
    if goal and not all(
        r["first"]["total_s"] < 30 and r["peak_rss_gib"] < 6 and r["ratio_to_floor"] <= 5 for r in goal
    ):
        sys.exit(1)


if __name__ == "__main__":
    main()
