"""The screening engine's input tables built straight from a simulated county's files (no database): the same
normalisation as the platform's imports (engine.ingest), feed rows attached to people through the ground truth
(so that screening quality is measured apart from linkage quality), and each row's report date as the date the
platform received it. Used by the engine tests and bench/bench_quality.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from engine.ingest import INCOME, REGISTRY, SPECS, load_table
from engine.screening.steps import FEEDS


def _clean(path: Path, spec) -> pa.Table:
    result = load_table(path, spec)
    return result.con.sql(f"SELECT * FROM {result.clean}").to_arrow_table()


def screening_inputs(out_dir: Path | str) -> dict[str, pa.Table]:
    out = Path(out_dir)
    con = duckdb.connect()
    con.register("registry", _clean(out / "registry.csv", REGISTRY))
    con.execute("""
        CREATE TABLE hh AS
        SELECT ROW_NUMBER() OVER (ORDER BY household_no) AS household_id, * FROM (
          SELECT household_no, ANY_VALUE(village_code) AS village_code, ANY_VALUE(household_type) AS household_type,
                 COALESCE(ANY_VALUE(monitor_category), '') AS monitor_category
          FROM registry GROUP BY household_no)
    """)
    con.execute("""
        CREATE TABLE mem AS
        SELECT ROW_NUMBER() OVER (ORDER BY r.id_number) AS member_id, h.household_id, r.*
        FROM registry AS r JOIN hh AS h USING (household_no)
    """)
    years = [_clean(p, INCOME) for p in sorted(out.glob("income_*.csv"))]
    con.register("income", pa.concat_tables([y.select(years[0].column_names) for y in years]))
    tables = {
        "households": con.sql(
            "SELECT household_id, household_no, village_code, household_type, monitor_category, "
            "FALSE AS no_labour_household, FALSE AS relocation_site FROM hh"
        ).to_arrow_table(),
        "members": con.sql(
            "SELECT member_id, household_id, TRUE AS is_active, birth_date, education, student_status, health, "
            "disability_grade, labour_capacity, work_months, basic_medical_insured FROM mem"
        ).to_arrow_table(),
        "household_years": con.sql("""
            SELECT h.household_id, i.year, i.wage_income, i.business_income, i.property_income, i.transfer_income,
                   i.business_cost, i.claim_income, i.compliant_out_of_pocket, i.housing_unsafe, i.dropout,
                   i.water_unsafe, i.uninsured_member, CAST(COUNT(m.member_id) AS INTEGER) AS household_size
            FROM income AS i JOIN hh AS h USING (household_no)
            LEFT JOIN mem AS m ON m.household_id = h.household_id
            GROUP BY ALL
        """).to_arrow_table(),
    }
    con.execute(
        f"CREATE TABLE links AS SELECT * FROM read_csv('{out / 'truth' / 'person_links.csv'}', all_varchar=true)"
    )
    parts = []
    for feed in FEEDS:
        spec = SPECS[feed]
        path = out / "feeds" / f"{feed}.csv"
        if not path.exists():
            continue
        con.register("f", _clean(path, spec))
        amount = f"CAST(f.{spec.screen_amount} AS DOUBLE)" if spec.screen_amount else "CAST(NULL AS DOUBLE)"
        kind = f"CAST(f.{spec.screen_kind} AS VARCHAR)" if spec.screen_kind else "CAST(NULL AS VARCHAR)"
        parts.append(
            con.sql(f"""
            SELECT '{feed}' AS feed, m.household_id, m.member_id, f.village_code,
                   f.{spec.event_date} AS event_date, CAST(l.report_date AS DATE) AS received_date,
                   {amount} AS amount, {kind} AS kind
            FROM f JOIN links AS l ON l.feed_key = '{feed}' AND CAST(l.data_row AS INTEGER) = f.source_row - 1
            LEFT JOIN mem AS m ON m.id_number = l.id_number
            WHERE m.member_id IS NOT NULL OR '{feed}' = 'water_incident'
            """).to_arrow_table()
        )
        con.unregister("f")
    tables["events"] = pa.concat_tables(parts)
    con.close()
    return tables
