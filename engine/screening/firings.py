"""How many households each trigger fired on, per county, from one run's grades: a trigger's history, kept per run
(the platform stores it), shows what its current count cannot — the step when a rule or a threshold was edited,
and the fall to nothing when a department's feed stopped arriving.

Counted per county (the first six digits of the village code): the level at which rules and thresholds are kept,
and few enough rows to keep for every run of a province (about a hundred counties × the triggers)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

COUNTY_DIGITS = 6

# rule_code "" holds the county's households graded by the run: the base of a share, and the sign that the run
# covered the county (a trigger absent beside it fired on no household there).
FIRINGS_SCHEMA = pa.schema(
    [("county_code", pa.string()), ("rule_code", pa.string()), ("households", pa.int64())]
)


def firing_counts(grades: pa.Table) -> pa.Table:
    """Per county and trigger, the households whose `fired_rules` (';'-separated codes) hold it, and per county
    the households graded (rule_code ""), as FIRINGS_SCHEMA sorted by county and rule."""
    county = pc.utf8_slice_codeunits(pc.fill_null(grades.column("village_code"), ""), 0, COUNTY_DIGITS)
    totals = pa.table({"county_code": county, "rule_code": pa.array([""] * len(county), pa.string())})
    fired = pc.fill_null(grades.column("fired_rules"), "")
    lists = pc.split_pattern(fired, ";")
    codes = pc.list_flatten(lists)
    per_code = pa.table(
        {"county_code": pc.take(county, pc.list_parent_indices(lists)), "rule_code": codes}
    ).filter(pc.not_equal(codes, ""))
    counted = (
        pa.concat_tables([totals, per_code])
        .group_by(["county_code", "rule_code"], use_threads=False)
        .aggregate([([], "count_all")])
        .rename_columns(["county_code", "rule_code", "households"])
    )
    return counted.sort_by([("county_code", "ascending"), ("rule_code", "ascending")]).cast(FIRINGS_SCHEMA)
