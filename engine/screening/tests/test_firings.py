"""A run's firing counts per county and trigger, from its grades."""

import pyarrow as pa

from engine.screening.firings import FIRINGS_SCHEMA, firing_counts


def test_each_trigger_is_counted_per_county_beside_the_households_graded():
    grades = pa.table(
        {
            "village_code": ["520526100001", "520526100002", "520526200003", "520527100001", None],
            "fired_rules": ["medical_burden;job_loss", "", "job_loss", None, "job_loss"],
        }
    )
    counts = firing_counts(grades)
    assert counts.schema == FIRINGS_SCHEMA
    assert counts.to_pylist() == [
        {"county_code": "", "rule_code": "", "households": 1},
        {"county_code": "", "rule_code": "job_loss", "households": 1},
        {"county_code": "520526", "rule_code": "", "households": 3},
        {"county_code": "520526", "rule_code": "job_loss", "households": 2},
        {"county_code": "520526", "rule_code": "medical_burden", "households": 1},
        {"county_code": "520527", "rule_code": "", "households": 1},
    ]


def test_no_grades_no_counts():
    empty = pa.table({"village_code": pa.array([], pa.string()), "fired_rules": pa.array([], pa.string())})
    assert firing_counts(empty).num_rows == 0
