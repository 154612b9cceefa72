"""A synthetic operational database for the screening benchmarks, built fast.

The real Django schema (`guardline migrate` on a fresh SQLite file), filled in bulk: DuckDB generates the rows
(deterministic hashes, no Python loop per row) and the ADBC SQLite driver ingests the Arrow batches into the
migrated tables. Secondary indexes are dropped before the load and re-created afterwards with their own DDL, so
the finished file has exactly the schema the migrations made. Built files are cached under a directory keyed by the
number of households (and the as-of date), so reruns start at once.

Per household ≈ 3.5 members (1–6), two annual income rows (the two years before `as_of`), and ≈ 12 department
events spread over the 12 months before `as_of` across the twelve feeds (medical settlements most), with amounts
and kinds as the feeds declare them (INTERCHANGE §3); 96 % linked to a member, the rest unlinked or in review, and
water incidents reported per village."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (feed, share of events). With the rules in force these grade about 30 % of households red or yellow, several
# times a real county's rate (the simulated county of bench/quality: 13-15 %); warnings weigh accordingly.
FEED_SHARES = (
    ("school_status", 0.15),
    ("microcredit", 0.10),
    ("employment_change", 0.06),
    ("civil_assistance", 0.01),
    ("illness_diagnosis", 0.01),
    ("housing_appraisal", 0.01),
    ("disaster_loss", 0.01),
    ("accident", 0.005),
    ("disability_certificate", 0.005),
    ("death_registration", 0.002),
    ("water_incident", 0.0003),
    ("medical_settlement", 0.6177),  # the rest: the most frequent feed
)
EVENTS_PER_HOUSEHOLD = 12
TABLES = ("registry_household", "registry_member", "registry_householdyear", "ingest_feedevent")


def django_env(db: Path, var: Path) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{db}",
        GUARDLINE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="config.settings.base",
        GUARDLINE_LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
    )


def _case(u: str, choices: list[tuple[str, float]]) -> str:
    """CASE over cumulative shares of a uniform `u` (the last choice takes the rest)."""
    parts, acc = [], 0.0
    for value, share in choices[:-1]:
        acc += share
        parts.append(f"WHEN {u} < {acc:.6f} THEN {value}")
    return f"CASE {' '.join(parts)} ELSE {choices[-1][0]} END"


def generate(con, households: int, as_of: date) -> None:
    """The four tables as DuckDB tables named like the Django ones (columns as stored by Django on SQLite)."""
    n = int(households)
    y = as_of.year
    ts = f"'{as_of.isoformat()} 08:00:00'"
    con.execute("CREATE OR REPLACE MACRO u(x, s) AS CAST(hash(x, s) % 1000003 AS DOUBLE) / 1000003")
    # a normal(0, 1)-ish value: sum of four uniforms, centred and scaled
    con.execute(
        "CREATE OR REPLACE MACRO nrm(x, s) AS (u(x, s) + u(x, s + 100) + u(x, s + 200) + u(x, s + 300) - 2) * 1.732"
    )
    monitor = _case(
        "u(i, 2)",
        [("'unstable_former_poor'", 0.02), ("'marginal'", 0.015), ("'sudden_hardship'", 0.005), ("''", 1)],
    )
    con.execute(f"""
CREATE OR REPLACE TABLE registry_household AS
SELECT i AS id,
  printf('52052600%012d', i) AS household_no,
  '520526' || printf('%03d', ((i - 1) // 10000) % 1000 + 1) || printf('%03d', ((i - 1) // 100) % 100 + 1)
    AS village_code,
  CASE WHEN u(i, 1) < 0.25 THEN 'former_poor' ELSE 'general' END AS household_type,
  {monitor} AS monitor_category,
  CAST(u(i, 3) < 0.01 AS INTEGER) AS no_labour_household,
  CAST(u(i, 4) < 0.05 AS INTEGER) AS relocation_site,
  '' AS phone, '户主' || i AS head_name,
  CAST(1 + floor(u(i, 5) * 6) AS INTEGER) AS member_count,
  1 AS is_active, {ts} AS created_at, {ts} AS updated_at
FROM range(1, {n} + 1) AS t(i)
""")
    labour = _case(
        "u(mid, 25)", [("'ordinary'", 0.6), ("'skilled'", 0.2), ("'weak'", 0.14), ("'lost'", 0.06)]
    )
    old_labour = _case("u(mid, 25)", [("'weak'", 0.5), ("'lost'", 0.3), ("'none'", 0.2)])
    health = _case(
        "u(mid, 23)", [("'healthy'", 0.86), ("'chronic'", 0.09), ("'serious'", 0.025), ("'disabled'", 0.025)]
    )
    edu = _case(
        "u(mid, 26)",
        [
            ("'illiterate'", 0.1),
            ("'primary'", 0.3),
            ("'junior'", 0.4),
            ("'senior'", 0.12),
            ("'college'", 0.08),
        ],
    )
    migrant = _case(
        "u(mid, 27)",
        [("'out_of_province'", 0.3), ("'in_province'", 0.2), ("'in_county'", 0.2), ("'none'", 0.3)],
    )
    con.execute(f"""
CREATE OR REPLACE TABLE registry_member AS
WITH hh AS (
  SELECT id, member_count, CAST(SUM(member_count) OVER (ORDER BY id) - member_count AS BIGINT) AS offset_
  FROM registry_household
), m AS (
  SELECT hh.id AS household_id, k, hh.offset_ + k + 1 AS mid
  FROM hh, range(hh.member_count) AS r(k)
), a AS (
  SELECT *,
    CASE WHEN k = 0 THEN 30 + u(mid, 21) * 45
         WHEN k = 1 THEN 28 + u(mid, 21) * 45
         WHEN u(mid, 22) < 0.8 THEN u(mid, 21) * 25
         ELSE 60 + u(mid, 21) * 30 END AS age,
    {health} AS health
  FROM m
)
SELECT mid AS id,
  '成员' || mid AS name,
  printf('52052619%010d', mid) AS id_number,
  -- placeholders, not the platform's ciphertext and keyed hashes: screening never reads ID numbers
  sha256(printf('52052619%010d', mid)) AS id_number_hash,
  sha256(substr(printf('52052619%010d', mid), 1, 15)) AS id_prefix15_hash,
  'valid' AS id_status,
  CASE WHEN k = 0 THEN 'head' WHEN k = 1 THEN 'spouse' WHEN age < 30 AND u(mid, 24) < 0.5 THEN 'son'
       WHEN age < 30 THEN 'daughter' WHEN u(mid, 24) < 0.5 THEN 'father' ELSE 'mother' END AS relation,
  CASE WHEN (k = 1) OR (k > 1 AND u(mid, 24) >= 0.5) THEN 'female' ELSE 'male' END AS sex,
  strftime(DATE '{as_of.isoformat()}' - CAST(floor(age * 365.25) AS INTEGER), '%Y-%m-%d') AS birth_date,
  CASE WHEN age < 6 THEN 'preschool' ELSE {edu} END AS education,
  CASE WHEN age < 6 THEN 'preschool' WHEN age < 12 THEN 'primary' WHEN age < 15 THEN 'junior'
       WHEN age < 18 THEN 'senior' WHEN age < 21 AND u(mid, 28) < 0.3 THEN 'college'
       ELSE 'not_student' END AS student_status,
  health,
  CASE WHEN health = 'disabled' THEN CAST(1 + floor(u(mid, 29) * 4) AS INTEGER) END AS disability_grade,
  CASE WHEN age < 16 THEN 'none' WHEN age >= 60 THEN {old_labour} ELSE {labour} END AS labour_capacity,
  CASE WHEN age >= 16 AND age < 60 THEN {migrant} ELSE 'none' END AS migrant_work,
  CASE WHEN age >= 16 AND age < 60 THEN CAST(floor(u(mid, 30) * 13) AS INTEGER) END AS work_months,
  CASE WHEN u(mid, 31) < 0.985 THEN 1 WHEN u(mid, 31) < 0.995 THEN 0 END AS basic_medical_insured,
  1 AS is_active, {ts} AS created_at, {ts} AS updated_at,
  household_id
FROM a
ORDER BY mid
""")
    con.execute(f"""
CREATE OR REPLACE TABLE registry_householdyear AS
WITH y AS (
  SELECT h.id AS household_id, yr AS year, h.member_count AS size,
    exp(ln(18000) + 0.36 * nrm(h.id, 40) + 0.08 * nrm(h.id * 7 + yr, 60)) * h.member_count AS gross
  FROM registry_household AS h, (VALUES ({y - 2}), ({y - 1})) AS v(yr)
)
SELECT year, 'annual' AS snapshot_kind,
  round(gross * 0.62, 2) AS wage_income, round(gross * 0.18, 2) AS business_income,
  round(gross * 0.03, 2) AS property_income, round(gross * 0.17, 2) AS transfer_income,
  round(gross * 0.05, 2) AS business_cost,
  CASE WHEN u(household_id * 7 + year, 50) < 0.05 THEN round(u(household_id, 51) * 3000, 2) ELSE 0 END
    AS claim_income,
  CASE WHEN u(household_id * 7 + year, 52) < 0.1 THEN round(u(household_id, 53) * 8000, 2) ELSE 0 END
    AS compliant_out_of_pocket,
  CAST(u(household_id * 7 + year, 54) < 0.01 AS INTEGER) AS housing_unsafe,
  CAST(u(household_id * 7 + year, 55) < 0.002 AS INTEGER) AS dropout,
  CAST(u(household_id * 7 + year, 56) < 0.01 AS INTEGER) AS water_unsafe,
  CAST(u(household_id * 7 + year, 57) < 0.01 AS INTEGER) AS uninsured_member,
  size AS household_size, NULL::DOUBLE AS net_income, NULL::DOUBLE AS per_capita_net_income,
  NULL::DOUBLE AS adjusted_income, NULL::DOUBLE AS per_capita_adjusted_income,
  'v1' AS formula_version, {ts} AS updated_at, household_id
FROM y
ORDER BY household_id, year
""")
    members = con.execute("SELECT count(*) FROM registry_member").fetchone()[0]
    e = n * EVENTS_PER_HOUSEHOLD
    feed = _case("u(r, 11)", [(f"'{f}'", s) for f, s in FEED_SHARES])
    kinds = {
        "illness_diagnosis": [("'慢性病'", 0.85), ("'大病'", 0.15)],
        "civil_assistance": [
            ("'低保'", 0.2), ("'临时救助'", 0.1), ("'特困'", 0.02), ("'医疗救助'", 0.35), ("'教育救助'", 0.33),
        ],
        "disability_certificate": [("'肢体'", 0.5), ("'视力'", 0.2), ("'听力'", 0.2), ("'智力'", 0.1)],
        "school_status": [("'在读'", 0.97), ("'辍学'", 0.01), ("'毕业'", 0.02)],
        "housing_appraisal": [("'A'", 0.55), ("'B'", 0.4), ("'C'", 0.04), ("'D'", 0.01)],
        "water_incident": [("'停水'", 0.6), ("'水质不达标'", 0.25), ("'取水距离远'", 0.15)],
        "disaster_loss": [("'洪涝灾害'", 0.4), ("'干旱灾害'", 0.3), ("'风雹灾害'", 0.2), ("'地质灾害'", 0.1)],
        "employment_change": [("'就业'", 0.94), ("'失业登记'", 0.03), ("'返乡'", 0.03)],
        "accident": [("'轻伤'", 0.85), ("'重伤'", 0.12), ("'死亡'", 0.03)],
    }  # fmt: skip
    kind = "CASE feed " + " ".join(f"WHEN '{f}' THEN {_case('u(r, 15)', c)}" for f, c in kinds.items())
    kind += " ELSE '' END"
    amount = """CASE feed
    WHEN 'medical_settlement' THEN round(CASE WHEN u(r, 16) < 0.98 THEN 30 + u(r, 17) * 600
                                              ELSE 600 + pow(u(r, 17), 4) * 30000 END, 2)
    WHEN 'civil_assistance' THEN round(300 + u(r, 16) * 3000, 2)
    WHEN 'disability_certificate' THEN CAST(1 + floor(u(r, 16) * 4) AS INTEGER)
    WHEN 'water_incident' THEN CAST(1 + floor(u(r, 16) * 30) AS INTEGER)
    WHEN 'disaster_loss' THEN round(500 + pow(u(r, 16), 2) * 20000, 2)
    WHEN 'employment_change' THEN round(2000 + u(r, 16) * 4000, 2)
    WHEN 'microcredit' THEN CASE WHEN u(r, 16) < 0.98 THEN 0 ELSE CAST(1 + floor(u(r, 17) * 180) AS INTEGER) END
    END"""
    link = _case("u(r, 18)", [("'linked'", 0.96), ("'unlinked'", 0.03), ("'review'", 0.01)])
    # The events as a table macro over a range of event numbers, so that a province's tens of millions of them
    # are generated and loaded a slice at a time (`event_slices`) instead of held in memory at once.
    con.execute(f"""
CREATE OR REPLACE MACRO feed_events(lo, hi) AS TABLE
WITH r AS (
  SELECT r, {feed} AS feed, 1 + hash(r, 12) % {members} AS mid,
    DATE '{as_of.isoformat()}' - CAST(floor(u(r, 13) * 365) AS INTEGER) AS event_date,
    CAST(floor(pow(u(r, 14), 3) * 30) AS INTEGER) AS lag
  FROM range(lo, hi) AS t(r)
), x AS (
  SELECT r.*, CASE WHEN feed = 'water_incident' THEN 'village' ELSE {link} END AS link_status,
    {kind} AS kind, {amount} AS amount
  FROM r
)
SELECT x.feed, printf('%032x', x.r) AS key_hash, CAST(NULL AS INTEGER) AS source_row,
  strftime(x.event_date, '%Y-%m-%d') AS event_date,
  CASE WHEN x.link_status = 'village' THEN '' ELSE m.id_number END AS id_number,
  CASE WHEN x.link_status = 'village' THEN '' ELSE 'valid' END AS id_status,
  CASE WHEN x.link_status = 'village' THEN '' ELSE substr(m.id_number, 1, 15) END AS id_prefix15,
  CASE WHEN x.link_status = 'village' THEN '' ELSE sha256(m.id_number) END AS id_number_hash,
  CASE WHEN x.link_status = 'village' THEN '' ELSE sha256(substr(m.id_number, 1, 15)) END AS id_prefix15_hash,
  CASE WHEN x.link_status = 'village' THEN '' ELSE m.name END AS name,
  CASE WHEN x.link_status = 'village' THEN NULL ELSE m.birth_date END AS birth_date,
  h.village_code, '{{}}' AS payload, x.link_status,
  CASE WHEN x.link_status = 'linked' THEN 'id_exact' ELSE '' END AS link_method, '' AS link_note,
  strftime(x.event_date + x.lag, '%Y-%m-%d') || ' 08:00:00' AS created_at,
  CAST(NULL AS BIGINT) AS batch_id,
  CASE WHEN x.link_status = 'linked' THEN m.household_id END AS household_id,
  CASE WHEN x.link_status = 'linked' THEN m.id END AS member_id,
  CASE WHEN x.link_status = 'review' THEN m.id END AS candidate_id,
  CASE WHEN x.link_status = 'review' THEN 0.7 END AS link_score,
  CASE WHEN x.link_status IN ('review', 'unlinked') THEN {ts} END AS link_examined_at,
  CAST(NULL AS VARCHAR) AS reviewed_at, CAST(NULL AS BIGINT) AS reviewed_by_id,
  CASE WHEN x.link_status = 'village' THEN '' ELSE m.sex END AS sex,
  x.amount, x.kind
FROM x JOIN registry_member AS m ON m.id = x.mid JOIN registry_household AS h ON h.id = m.household_id
ORDER BY x.r
""")
    con.execute(f"CREATE OR REPLACE VIEW ingest_feedevent AS SELECT * FROM feed_events(0, {e})")
    con.execute(f"CREATE OR REPLACE MACRO event_count() AS {e}")


EVENT_SLICE = 4_000_000


def event_slices(con) -> list[str]:
    """The events' FROM clauses, slice by slice in event order (a slice is at most EVENT_SLICE events)."""
    ((total,),) = con.execute("SELECT event_count()").fetchall()
    return [f"feed_events({lo}, {min(lo + EVENT_SLICE, total)})" for lo in range(0, total, EVENT_SLICE)]


def migrate(path: Path) -> list[str]:
    """`guardline migrate` on the file (in place, in a child process); the migrations it applied."""
    done = subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", "migrate", "-v1", "--no-input"],
        env=django_env(path, path.parent / "var"),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return [
        line.split()[1].rstrip(".") for line in done.stdout.splitlines() if line.startswith("  Applying ")
    ]


def _schema_objects(lite: sqlite3.Connection, kind: str) -> list[tuple[str, str]]:
    """(name, sql) of the `kind` objects ('index', 'trigger') on TABLES that their own DDL made."""
    return lite.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' * len(TABLES))})",
        (kind, *TABLES),
    ).fetchall()


def build(path: Path, households: int, as_of: date, say=print) -> None:
    import adbc_driver_sqlite.dbapi as adbc
    import duckdb

    work = path.parent
    work.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    migrate(tmp)
    with closing(sqlite3.connect(tmp)) as lite, lite:
        lite.execute("PRAGMA journal_mode=DELETE")
        # Secondary indexes, and the input copy's change triggers (guardline.screening.mirror), which would log
        # every loaded row: dropped for the load, made again after it (the first pass builds the copy in full).
        dropped = {kind: _schema_objects(lite, kind) for kind in ("index", "trigger")}
        for kind, objects in dropped.items():
            for name, _ in objects:
                lite.execute(f'DROP {kind.upper()} "{name}"')
        indexes, triggers = dropped["index"], dropped["trigger"]
    say(
        f"  migrated in {time.perf_counter() - t0:.1f}s; {len(indexes)} secondary indexes and {len(triggers)} "
        "triggers dropped for the load"
    )
    duck = duckdb.connect()
    duck.execute("SET preserve_insertion_order = true")
    duck.execute("SET enable_progress_bar = false")
    t = time.perf_counter()
    generate(duck, households, as_of)
    say(f"  generated in DuckDB in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    with adbc.connect(str(tmp), autocommit=True) as con:
        with con.cursor() as cur:
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY"):
                cur.execute(f"PRAGMA {pragma}")
                cur.fetchall()
        for table in TABLES:
            columns = duck.execute(f"DESCRIBE {table}").fetchall()
            select = ", ".join(
                f'CAST("{c}" AS DOUBLE) AS "{c}"' if t.startswith("DECIMAL") else f'"{c}"'
                for c, t, *_ in columns
            )
            rows = 0
            for source in event_slices(duck) if table == "ingest_feedevent" else [table]:
                reader = duck.sql(f"SELECT {select} FROM {source}").to_arrow_reader(500_000)
                with con.cursor() as cur:
                    rows += cur.adbc_ingest(table, reader, mode="append")
            say(f"    {table}: {rows:,} rows ({time.perf_counter() - t:.1f}s)")
    duck.close()
    say(f"  loaded through ADBC in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    with closing(sqlite3.connect(tmp)) as lite, lite:
        lite.execute("PRAGMA cache_size=-2000000")
        lite.execute("PRAGMA temp_store=MEMORY")
        for _, sql in indexes + triggers:
            lite.execute(sql)
        lite.execute("ANALYZE")
        lite.execute("PRAGMA journal_mode=WAL")
    say(f"  {len(indexes)} indexes re-created and analysed in {time.perf_counter() - t:.1f}s")
    tmp.rename(path)
    say(f"  built {path} ({path.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - t0:.1f}s")


def database(households: int, as_of: date, *, cache: Path, say=print) -> Path:
    """The cached database for `households` (built when missing)."""
    path = cache / f"ops-{households}-{as_of.isoformat()}.sqlite3"
    marker = path.with_suffix(".json")
    wanted = {
        "households": households,
        "as_of": as_of.isoformat(),
        "events_per_household": EVENTS_PER_HOUSEHOLD,
    }
    if path.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        # The schema may have moved on since the file was built (a new index, say): migrate it in place rather
        # than rebuild it.
        t = time.perf_counter()
        applied = migrate(path)
        if applied:
            # statistics for the new indexes, as a fresh build has them
            with closing(sqlite3.connect(path)) as lite, lite:
                for (name,) in lite.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)"
                ).fetchall():
                    lite.execute(f'ANALYZE "{name}"')
            say(f"  cached database migrated in {time.perf_counter() - t:.1f}s: {', '.join(applied)}")
        county_line_add(path, as_of)
        return path
    path.unlink(missing_ok=True)
    say(f"building the operational database of {households:,} households (cached in {cache})")
    build(path, households, as_of, say=say)
    county_line_add(path, as_of)
    marker.write_text(json.dumps(wanted))
    return path


# The bench county's divisions (its households' village codes start with 520526).
COUNTY_REGIONS = (
    ("52", "贵州省", 1, None),
    ("5205", "毕节市", 2, "52"),
    ("520526", "威宁彝族回族苗族自治县", 3, "5205"),
)


def county_line_add(path: Path, as_of: date) -> None:
    """The monitoring line (with its 低保 standard) that a real county sets on the 监测线 page: the engine then
    resolves a line per village, a cost a screening of a real county pays. Its amounts are the parameters'
    defaults, so the grades are the same as without it. Idempotent (also run on a cached database)."""
    from engine.screening.params import PARAMETERS

    default = {p.name: p.default for p in PARAMETERS}
    with closing(sqlite3.connect(path)) as lite, lite:
        lite.executemany(
            "INSERT OR IGNORE INTO regions_region (code, name, level, parent_id) VALUES (?, ?, ?, ?)",
            COUNTY_REGIONS,
        )
        if not lite.execute("SELECT 1 FROM regions_monitoringline WHERE region_id = '520526'").fetchone():
            lite.execute(
                "INSERT INTO regions_monitoringline (year, effective_from, basis, amount, dibao_monthly, multiple, "
                "note, created_at, created_by_id, region_id) VALUES (?, ?, 'fixed', ?, ?, NULL, ?, ?, NULL, '520526')",
                (as_of.year, date(as_of.year, 1, 1).isoformat(), default["monitoring_line"],
                 default["dibao_standard"] / 12, "bench: the county's line", f"{as_of.isoformat()} 00:00:00"),
            )  # fmt: skip


def reset_outputs(path: Path) -> None:
    """Empty the screening outputs (grades, warnings, runs, their change-log rows) so a run starts like the first,
    and remove a next day's events that an interrupted run left."""
    day_of_events_remove(path)
    with closing(sqlite3.connect(path)) as lite, lite:
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("DELETE FROM screening_householdgrade")
        lite.execute("DELETE FROM screening_riskwarning")
        lite.execute("DELETE FROM core_changelog WHERE entity IN ('warning', 'screening_run')")
        lite.execute("DELETE FROM screening_rulefiring")
        lite.execute("DELETE FROM screening_screeningrun")
        lite.commit()
        lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# The key of the events `day_of_events_add` writes, so that they can be found and removed again.
DAY_KEY = "bench-next-day:"


def day_of_events_add(path: Path, day: date, per_year: int) -> int:
    """A day's worth of new department events (per_year / 365), dated and received on `day`: a random sample of
    the linked events already there — so the same mix of feeds, kinds, amounts and households — copied to that
    date, as a day's imports would bring them. Returns how many were written (`day_of_events_remove` undoes it)."""
    day_of_events_remove(path)
    count = max(1, per_year // 365)
    made = {"id": "NULL", "key_hash": f"'{DAY_KEY}' || id", "event_date": f"'{day.isoformat()}'",
            "created_at": f"'{day.isoformat()} 09:00:00'", "batch_id": "NULL"}  # fmt: skip
    with closing(sqlite3.connect(path)) as lite, lite:
        columns = [c[1] for c in lite.execute("PRAGMA table_info(ingest_feedevent)").fetchall()]
        select = ", ".join(made.get(c, c) for c in columns)
        lite.execute(
            f"INSERT INTO ingest_feedevent ({', '.join(columns)}) SELECT {select} FROM ingest_feedevent "
            f"WHERE link_status = 'linked' AND id IN (SELECT id FROM ingest_feedevent ORDER BY random() "
            f"LIMIT {count * 2}) LIMIT {count}"
        )
        (written,) = lite.execute(
            f"SELECT count(*) FROM ingest_feedevent WHERE event_date = ? AND key_hash LIKE '{DAY_KEY}%'",
            (day.isoformat(),),
        ).fetchone()
    return int(written)


def day_of_events_remove(path: Path) -> None:
    """Remove the events `day_of_events_add` wrote: all dated after the database's as-of date (its marker's)."""
    marker = path.with_suffix(".json")
    if not marker.exists():
        return
    as_of = json.loads(marker.read_text())["as_of"]
    with closing(sqlite3.connect(path)) as lite, lite:
        lite.execute(
            f"DELETE FROM ingest_feedevent WHERE event_date > ? AND key_hash LIKE '{DAY_KEY}%'", (as_of,)
        )


def copy(path: Path, to: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{to}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path, to)
    return to
