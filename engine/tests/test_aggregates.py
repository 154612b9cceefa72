"""The engine's aggregate helpers: roll-up by code prefix, change detection, indicators and the composite score."""

from __future__ import annotations

import pytest

from engine.aggregates import catalogue as cat
from engine.aggregates.composite import evaluate, normalise
from engine.aggregates.rollup import diff, rollup


def test_rollup_sums_every_enclosing_region():
    rows = [("520526001001", "2026-03", "hh_total", 3), ("520526001002", "2026-03", "hh_total", 2),
            ("520526002001", "2026-03", "hh_total", 5), ("520526002001", "2026-03", "hh_monitored", 0)]  # fmt: skip
    out = rollup(rows)
    assert out[("520526001", "2026-03", "hh_total")] == 5
    assert out[("520526", "2026-03", "hh_total")] == 10
    assert out[("5205", "2026-03", "hh_total")] == 10 and out[("52", "2026-03", "hh_total")] == 10
    assert ("520526002001", "2026-03", "hh_monitored") not in out  # zero is no row


def test_diff_writes_only_changes():
    k1, k2, k3 = ("52", "2026-03", "a"), ("52", "2026-03", "b"), ("52", "2026-03", "c")
    upsert, delete = diff({k1: 1.0, k2: 2.0}, {k1: 1.0, k2: 3.0, k3: 4.0})
    assert upsert == {k2: 2.0} and delete == [k3]


def test_catalogue_is_consistent():
    codes = set(cat.METRIC_BY_CODE)
    for i in cat.INDICATORS:
        assert set(i.numerator) <= codes and set(i.denominator or ()) <= codes, i.code
        assert i.direction in (cat.HIGHER, cat.LOWER) and i.unit and i.formula and i.title_en
    assert len(codes) == len(cat.METRICS) and len(cat.INDICATOR_BY_CODE) == len(cat.INDICATORS)
    assert cat.indicator_value("decision_on_time", {"id_identified": 4, "id_late": 1}) == 75.0
    assert cat.indicator_value("measure_coverage", {"hh_monitored": 0}) is None


def test_normalise_is_direction_aware():
    assert normalise({"a": 10, "b": 20, "c": 15}, cat.HIGHER) == {"a": 0.0, "b": 100.0, "c": 50.0}
    assert normalise({"a": 10, "b": 20, "c": None}, cat.LOWER) == {"a": 100.0, "b": 0.0, "c": 0.0}
    assert normalise({"a": 5, "b": 5}, cat.LOWER) == {"a": 100.0, "b": 100.0}


def test_composite_score_ranking_and_breakdown():
    peers = {
        "520526": {
            "hh_monitored": 10,
            "mon_with_measure": 10,
            "id_identified": 2,
            "id_days_sum": 20,
        },  # 100 %, 10 d
        "520527": {
            "hh_monitored": 10,
            "mon_with_measure": 5,
            "id_identified": 2,
            "id_days_sum": 10,
        },  # 50 %, 5 d
        "520528": {"hh_monitored": 10, "mon_with_measure": 0},  # 0 %, no decisions
    }
    ranked = evaluate(peers, {"measure_coverage": 3, "decision_days": 1, "return_rate": 0})
    by = {s.region: s for s in ranked}
    # coverage: 100 / 50 / 0; decision days (lower is better): 0 / 100 / missing → 0.
    assert by["520526"].composite == pytest.approx((3 * 100 + 1 * 0) / 4)
    assert by["520527"].composite == pytest.approx((3 * 50 + 1 * 100) / 4)
    assert by["520528"].composite == 0
    assert [s.region for s in ranked] == ["520526", "520527", "520528"] and [s.rank for s in ranked] == [
        1,
        2,
        3,
    ]
    parts = {p.indicator: p for p in by["520527"].parts}
    assert set(parts) == {"measure_coverage", "decision_days"}  # weight 0: not evaluated
    assert parts["decision_days"].value == 5 and parts["decision_days"].points == 100


def test_ties_share_the_rank():
    ranked = evaluate({"a": {"hh_monitored": 1, "mon_with_measure": 1}, "b": {"hh_monitored": 2, "mon_with_measure": 2}},
                      {"measure_coverage": 1})  # fmt: skip
    assert [s.rank for s in ranked] == [1, 1]
