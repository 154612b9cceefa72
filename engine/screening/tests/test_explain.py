"""The set-based explanation (engine.screening.explain, in SQL) against Python itself: reason templates must read exactly
as str.format would write them, points must round as Python's round does, and the lists keep their order."""

from __future__ import annotations

import math
import random
from datetime import date

import pyarrow as pa
import pytest

from engine.screening import explain
from engine.screening.catalogue import INDICATORS
from engine.screening.rules import DEFAULT_RULES, RISK_CODES, Rule

AS_OF = date(2025, 6, 30)


def explain_table(details, rules, as_of, contributions=None):
    """The set-based path, however few the rows (the Python path answers for a handful: see test_screening)."""
    return explain.explain_table(details, rules, as_of, contributions, small=0)


class _Values(dict):
    """What the Python explanation formatted with: a missing or NULL value reads as 0."""

    def __missing__(self, key):
        return 0

    def __getitem__(self, key):
        value = dict.get(self, key)
        return 0 if value is None else value


def _details(rows: list[dict]) -> pa.Table:
    base = {"household_no": "H", "village_code": "520526100001", "grade": "yellow", "score": 30.0,
            "index_score": 30.0, "fired_rules": None}  # fmt: skip
    return pa.Table.from_pylist([{**base, "household_id": n + 1, **row} for n, row in enumerate(rows)])


def _template_fields(rule: Rule) -> list[str]:
    from string import Formatter

    return [name for _, name, _, _ in Formatter().parse(rule.reason) if name]


def test_every_default_reason_reads_as_python_formats_it():
    rng = random.Random(7)
    fields = sorted(
        {f for r in DEFAULT_RULES for f in _template_fields(r)} - {"risk_name", "assistance_kind"}
    )
    rows = []
    for _ in range(300):
        row = {f: rng.choice([None, 0.0, rng.uniform(-2, 2), rng.uniform(0, 1e6), float(rng.randint(0, 9))])
               for f in fields}  # fmt: skip
        row["disaster_risk_type"] = rng.choice([None, "", "0201", "0206"])
        row["assistance_kind"] = rng.choice([None, "", "低保"])
        row["fired_rules"] = ";".join(r.code for r in DEFAULT_RULES if rng.random() < 0.2) or None
        rows.append(row)
    got = explain_table(_details(rows), list(DEFAULT_RULES), AS_OF)
    by_code = {r.code: r for r in DEFAULT_RULES}
    for row, reasons, codes in zip(rows, got.column("reasons").to_pylist(), got.column("rules").to_pylist(),
                                   strict=True):  # fmt: skip
        fired = sorted((c for c in (row["fired_rules"] or "").split(";") if c),
                       key=lambda c: (by_code[c].severity != "severe", c))  # fmt: skip
        assert codes == fired
        values = _Values(row)
        values["risk_name"] = RISK_CODES.get(row["disaster_risk_type"] or "0299", "灾害")
        values["assistance_kind"] = row["assistance_kind"] or "社会救助"
        assert reasons[: len(fired)] == [by_code[c].reason.format_map(values) for c in fired]


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{pc_adj:,.0f} 元", 1234567.5, "1,234,568 元"),
        ("{pc_adj:.1f}", 2.25, "2.2"),
        ("{income_change:.0%}", -0.256, "-26%"),
        ("{pc_adj}", 3.0, "3.0"),
        ("{pc_adj}", None, "0"),
        ("{pc_adj:.0f}", None, "0"),
        ("{p_water_cut_days} / {p_water_cut_days:.1f}", 1.0, "0 / 0.0"),  # not among the details: 0
        ("{{literal}} {pc_adj:.0f}", 4.0, "{literal} 4"),
        ("{pc_adj:>10}", 1.0, "标题"),  # a spec this cannot format: the rule's title, as a failed format was
        ("{pc_adj!r}", 1.0, "标题"),
    ],
)
def test_reason_templates(template, value, expected):
    rule = Rule("custom", "标题", "99", "hard", "pc_adj < 1", "", template)
    got = explain_table(
        _details([{"pc_adj": value, "income_change": value, "fired_rules": "custom"}]), [rule], AS_OF
    )
    if expected != "标题" and template != "{pc_adj}":
        assert expected == template.format_map(_Values({"pc_adj": value, "income_change": value}))
    assert got.column("reasons").to_pylist()[0][0] == expected


def test_points_round_like_python_and_sort_largest_first():
    codes = [i.code for i in INDICATORS[:6]]
    values = [0.175, 0.125, 2.675, 2.675, 0.0, math.nan]  # two ties at 2.675: the code breaks them
    row = {f"pt_{c}": v for c, v in zip(codes, values, strict=True)}
    got = explain_table(_details([row]), [], AS_OF).column("points").to_pylist()[0]
    want = sorted(((c, v) for c, v in zip(codes, values, strict=True) if v > 0), key=lambda p: (-p[1], p[0]))
    assert [(p["code"], p["points"]) for p in got] == [(c, round(v, 2)) for c, v in want]
    assert round(0.175, 2) == 0.17 and [p["points"] for p in got if p["code"] == codes[0]] == [0.17]


def test_risk_types_first_signal_and_sources():
    medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    disaster = next(r for r in DEFAULT_RULES if r.code == "disaster_loss")
    rows = [
        {"fired_rules": "disaster_loss;medical_annual", "disaster_risk_type": "0201",
         "med_first_date": date(2025, 3, 1), "disaster_first_date": date(2025, 1, 5), "housing_first_date":
         date(2024, 1, 1), "n_medical_settlement": 2, "n_disaster_loss": 0, "n_microcredit": 1},
        {"fired_rules": None, "housing_first_date": date(2024, 1, 1)},
        {"fired_rules": None},
    ]  # fmt: skip
    got = explain_table(_details(rows), [medical, disaster], AS_OF).to_pylist()
    assert got[0]["risk_types"] == ["0201", "01"]  # both hard: in code order
    assert got[0]["first_signal_date"] == date(
        2025, 1, 5
    )  # the fired rules' dates, not the older housing one
    assert got[0]["sources"] == ["medical_settlement", "microcredit"]
    assert got[1]["first_signal_date"] == date(2024, 1, 1) and got[1]["risk_types"] == ["99"]
    assert got[2]["first_signal_date"] == AS_OF
    assert got[2]["reasons"] == ["风险分值 30.0"]
