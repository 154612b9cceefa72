"""The screening engine on a small simulated county: every household graded, explanations add up, rules are
validated data, parameters are regional."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from engine.screening import DEFAULT_RULES, INDICATORS, Override, Rule, RuleError, screen
from engine.screening.params import resolve, validate_override
from engine.screening.rules import validate
from simulate import simulate_county
from simulate.screening_inputs import screening_inputs

AS_OF = date(2024, 9, 30)
ROOT = Path(__file__).resolve().parents[3]
DIVISIONS = Path(os.environ.get("GUARDLINE_DIVISIONS_DIR", ROOT.parent / "shared" / "data" / "divisions"))


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    simulate_county(county="520526", households=1500, seed=3, out_dir=out, divisions_dir=DIVISIONS)
    return out


@pytest.fixture(scope="module")
def inputs(county):
    return screening_inputs(county)


@pytest.fixture(scope="module")
def result(inputs):
    return screen(inputs, AS_OF, with_features=True)


def test_every_household_gets_one_grade(inputs, result):
    assert result.grades.num_rows == inputs["households"].num_rows
    assert set(result.grades.column("grade").to_pylist()) <= {"red", "yellow", "green"}
    counts = result.counts()
    assert counts["green"] > counts["yellow"] > 0 and counts["red"] > 0


def test_score_is_the_sum_of_the_points_shown(result):
    rows = result.features.to_pylist()
    for row in rows:
        points = sum(row[f"pt_{i.code}"] for i in INDICATORS)
        assert row["score"] == pytest.approx(points, abs=0.01)
        assert 0 <= row["score"] <= 100
    for w in result.warnings:
        assert sum(p for _, p in w.points) == pytest.approx(w.score, abs=0.05)


def test_grade_follows_triggers_and_thresholds(result):
    severe = {r.code for r in DEFAULT_RULES if r.severity == "severe"}
    for row in result.features.to_pylist():
        fired = set(filter(None, (row["fired_rules"] or "").split(";")))
        if fired & severe or row["score"] >= row["p_grade_red"]:
            assert row["grade"] == "red"
        elif fired or row["score"] >= row["p_grade_yellow"]:
            assert row["grade"] == "yellow"
        else:
            assert row["grade"] == "green"


def test_warnings_explain_themselves(result):
    assert result.warnings
    by_id = {w.household_id: w for w in result.warnings}
    flagged = [g for g in result.grades.to_pylist() if g["grade"] != "green"]
    assert set(by_id) == {g["household_id"] for g in flagged}
    for w in result.warnings:
        assert 1 <= len(w.risk_types) <= 5 and all(len(c) in (2, 4) for c in w.risk_types)
        assert w.reasons and w.reasons[-1].startswith("风险分值")
        assert w.first_signal_date <= AS_OF
        for code in w.rules:
            assert code in {r.code for r in DEFAULT_RULES}
    medical = [w for w in result.warnings if "medical_annual" in w.rules]
    for w in medical:
        assert "01" in w.risk_types and "medical_settlement" in w.sources
        assert any("医疗自付" in r for r in w.reasons)


def test_later_events_are_not_seen(inputs):
    early = screen(inputs, date(2024, 1, 31), with_features=True).features
    late = screen(inputs, date(2025, 6, 30), with_features=True).features
    assert sum(early.column("med_stays_12m").to_pylist()) < sum(late.column("med_stays_12m").to_pylist())


def test_regional_parameters(inputs, result):
    villages = sorted(set(inputs["households"].column("village_code").to_pylist()))
    township = villages[0][:9]
    raised = screen(inputs, AS_OF, overrides=[Override("monitoring_line", township, 20000)])
    before = dict(
        zip(
            result.grades.column("household_id").to_pylist(),
            result.grades.column("grade").to_pylist(),
            strict=False,
        )
    )
    after = raised.grades.to_pylist()
    in_township = [r for r in after if r["village_code"].startswith(township)]
    elsewhere = [r for r in after if not r["village_code"].startswith(township)]
    assert sum(r["grade"] == "red" for r in in_township) > sum(
        before[r["household_id"]] == "red" for r in in_township
    )
    assert all(before[r["household_id"]] == r["grade"] for r in elsewhere)


def test_parameter_resolution_most_specific_wins():
    table = resolve(
        ["520526001001", "520526002001", "530000000000"],
        [
            Override("monitoring_line", "52", 7000),
            Override("monitoring_line", "520526", 8000),
            Override("monitoring_line", "520526002", 9000, year=2024),
            Override("monitoring_line", "520526002", 9500, year=2023),
        ],
        2024,
    ).to_pydict()
    assert table["p_monitoring_line"] == [8000.0, 9000.0, 8700.0]
    with pytest.raises(ValueError, match="超出范围"):
        validate_override(Override("monitoring_line", "52", 10))
    with pytest.raises(ValueError, match="未知参数"):
        validate_override(Override("nonsense", "52", 10))
    weights = {"w_housing": 5.0}
    with pytest.raises(ValueError, match="0 到 1000"):  # a negative weight would make risk lower the score
        validate_override(Override("w_housing", "52", -5), known=weights)
    validate_override(Override("w_housing", "52", 0), known=weights)


def test_resolution_equals_its_definition_and_scales_with_villages_not_overrides():
    """resolve looks each village's prefixes up; the definition scans every override (longest prefix first, then
    year-specific, then first given): the two agree on random overrides. A province sets a monitoring line per
    village (one override each): that must not cost villages × overrides."""
    import random

    def by_definition(code, name, overrides, year, default):
        ranked = sorted(
            (o for o in overrides if o.name == name and (o.year is None or o.year == year)),
            key=lambda o: (len(o.region_prefix), o.year is not None), reverse=True,
        )  # fmt: skip
        return next((o.value for o in ranked if code.startswith(o.region_prefix)), default)

    rng = random.Random(7)
    villages = [f"5205{c:02d}{t:03d}{v:03d}" for c in (26, 27) for t in range(1, 6) for v in range(1, 9)]
    overrides = []
    for _ in range(400):
        v = rng.choice(villages)
        overrides.append(
            Override(rng.choice(["monitoring_line", "grade_red"]), v[: rng.choice([0, 2, 4, 6, 9, 12])],
                     rng.randint(20, 9999), rng.choice([None, None, 2024, 2023]))
        )  # fmt: skip
    table = resolve(villages, overrides, 2024).to_pydict()
    for name, default in (("monitoring_line", 8700.0), ("grade_red", 35.0)):
        want = [by_definition(c, name, overrides, 2024, default) for c in table["param_village"]]
        assert table[f"p_{name}"] == [float(x) for x in want], name

    many = [f"52{i:010d}" for i in range(100_000)]
    lines = [Override("monitoring_line", v, 8700 + i % 7) for i, v in enumerate(many)]
    # (scanning every override for every village, as before, took about 5 s at 10k villages: hours at this size)
    assert resolve(many, lines, 2024).column("p_monitoring_line")[6].as_py() == 8706


def test_weights_are_parameters(inputs, result):
    heavy = screen(inputs, AS_OF, overrides=[Override("w_costly_students", "", 200)], rules=[])
    light = screen(inputs, AS_OF, rules=[])
    students = {
        w.household_id for w in heavy.warnings if any(c == "costly_students" for c, _ in w.points[:1])
    }
    assert students and len(heavy.warnings) != len(light.warnings)


@pytest.mark.parametrize(
    "condition, message",
    [
        ("pc_adj < (SELECT 1)", "不允许"),
        ("secret_column > 1", "未知字段"),
        ("pc_adj <", "无法解析"),
        ("read_csv('/etc/passwd') IS NOT NULL", "不允许"),
        ("households.pc_adj > 1", "未知字段"),
    ],
)
def test_rule_conditions_are_validated(condition, message):
    rule = replace(DEFAULT_RULES[0], condition=condition)
    with pytest.raises(RuleError, match=message) as raised:
        validate(rule)
    assert raised.value.field == "condition"  # an editor shows it under the condition


def test_rule_fields_are_validated():
    base = DEFAULT_RULES[0]
    for change, message in (
        ({"severity": "mild"}, "严重程度"),
        ({"risk_type": "42"}, "风险类型"),
        ({"reason": "{nope}"}, "原因模板"),
        ({"signal_date": "nope_date"}, "信号日期"),
        ({"code": "坏代码"}, "规则代码"),
    ):
        with pytest.raises(RuleError, match=message) as raised:
            validate(replace(base, **change))
        assert raised.value.field == next(iter(change))  # the field an editor shows the message under
    # Only formats that Python and the SQL explanation write alike: plain, or ",", precision and f / %.
    for template in ("{pc_adj:>10}", "{pc_adj!r}", "{pc_adj:,}", "{pc_adj:.1}", "{pc_adj.real}"):
        with pytest.raises(RuleError, match="原因模板") as raised:
            validate(replace(base, reason=template))
        assert raised.value.field == "reason"
    for template in ("{pc_adj}", "{pc_adj:,.2f}", "{income_change:.1%}", "{{字面}} {pc_adj:.0f}"):
        validate(replace(base, reason=template))
    ok = Rule(
        "custom_rule", "自定义", "07", "hard", "job_losses_12m >= 2 AND labour_count <= 2", "", "两人失业"
    )
    assert "job_losses_12m" in validate(ok)


def test_every_column_a_rule_may_name_is_documented():
    """The rule editor's field reference: a step that gains a column gains its entry in engine.screening.fields."""
    from engine.screening.fields import FIELD_DOCS, PARAMETER_DOCS, undocumented
    from engine.screening.rules import allowed_columns

    assert undocumented() == []
    assert allowed_columns() <= set(FIELD_DOCS) | set(PARAMETER_DOCS)
    assert all(d.title_zh and d.title_en and d.unit for d in FIELD_DOCS.values())
    from engine.screening.fields import UNIT_EN

    assert {d.unit for d in (*FIELD_DOCS.values(), *PARAMETER_DOCS.values())} <= set(UNIT_EN)  # English units
    from engine.screening.fields import PARAMETER_TITLES_EN
    from engine.screening.params import PARAM_NAMES

    assert set(PARAMETER_TITLES_EN) == set(PARAM_NAMES)  # every parameter has an English title, and no other
    assert not any("\u4e00" <= ch <= "\u9fff" for t in PARAMETER_TITLES_EN.values() for ch in t)


def test_a_regional_rule_fires_only_in_its_region(inputs):
    """A county's (here a township's) own trigger: the same condition, only on the households of its region."""
    villages = inputs["households"].column("village_code").to_pylist()
    township = villages[0][:9]
    everywhere = Rule(
        "local_ill", "本地：有患病成员", "01", "hard", "ill_count >= 1", "", "{ill_count:.0f} 人患病"
    )
    local = replace(everywhere, region=township)
    fired = {}
    for rule in (everywhere, local):
        grades = screen(inputs, AS_OF, rules=[rule], explain_later=True).grades
        fired[rule.region] = {
            v for v, f in zip(grades.column("village_code").to_pylist(), grades.column("fired_rules").to_pylist(),
                              strict=True) if f == "local_ill"
        }  # fmt: skip
    assert fired[township] == {v for v in fired[""] if v.startswith(township)}
    assert fired[township] and fired[""] - fired[township]  # it fires elsewhere without its region
    for bad in ("52052", "abc", "5205260010011"):
        with pytest.raises(RuleError, match="适用地区") as raised:
            validate(replace(local, region=bad))
        assert raised.value.field == "region"


def test_a_custom_rule_changes_grades(inputs, result):
    rule = Rule("all_students", "有在校生", "09", "severe", "students > 0", "", "有在校生 {students:.0f} 人")
    extra = screen(inputs, AS_OF, rules=[*DEFAULT_RULES, rule])
    with_students = [w for w in extra.warnings if "all_students" in w.rules]
    assert with_students and all(w.grade == "red" and "09" in w.risk_types for w in with_students)


def test_explaining_in_sql_and_in_python_agree(inputs, monkeypatch):
    """A few warnings are explained in Python (the live path), many in one DuckDB query: the same warnings."""
    from engine.screening import explain, run

    details: list[pa.Table] = []
    real = explain.explain_table

    def keep(table, *args, **kwargs):
        details.append(table)
        return real(table, *args, **kwargs)

    monkeypatch.setattr(run, "explain_table", keep)
    screen(inputs, AS_OF)
    table = details[0]
    assert table.num_rows > 100
    rules = list(DEFAULT_RULES)
    in_sql = explain.explain_table(table, rules, AS_OF, small=0)
    in_python = explain.explain_table(table, rules, AS_OF, small=table.num_rows)
    assert in_sql.to_pylist() == in_python.to_pylist()
    # With a model's contributions too (made up here: the explanation only names them).
    codes = [i.code for i in INDICATORS]
    contributions = [
        [(codes[n % len(codes)], 0.5), (codes[(n * 7) % len(codes)], 0.25)] for n in range(table.num_rows)
    ]
    with_model = [
        explain.explain_table(table, rules, AS_OF, contributions, small=small).to_pylist()
        for small in (0, table.num_rows)
    ]
    assert with_model[0] == with_model[1] and any("模型预测" in r for r in with_model[0][0]["reasons"])


def test_known_warnings_are_not_explained_again(inputs, result):
    """A re-run that is told the stored digests explains only the warnings whose inputs changed; the rest are
    listed as kept, and a changed reason template changes every digest."""
    table = result.warning_table
    assert table.num_rows > 100 and table.column("digest").null_count == 0
    assert all(len(d) == 16 for d in table.column("digest").to_pylist())
    assert result.kept.num_rows == 0  # nothing was known
    known = table.select(["household_id", "digest"])
    again = screen(inputs, AS_OF, known=known)
    assert again.warning_table.num_rows == 0
    assert sorted(again.kept.column("household_id").to_pylist()) == sorted(
        known.column("household_id").to_pylist()
    )
    assert again.kept.column("digest").to_pylist() == known.column("digest").to_pylist()

    # One stored digest differs (a warning written before, or by other inputs): that one alone is explained, and
    # exactly as a run without `known` explains it.
    digests = known.column("digest").to_pylist()
    digests[3] = "0" * 16
    stale = known.set_column(1, "digest", pa.array(digests, pa.string()))
    once = screen(inputs, AS_OF, known=stale)
    assert once.warning_table.to_pylist() == table.slice(3, 1).to_pylist()
    assert once.kept.num_rows == table.num_rows - 1

    # The same inputs explained with another reason template: every digest changes.
    reworded = [
        replace(r, reason=r.reason + "。") if r.code == DEFAULT_RULES[0].code else r for r in DEFAULT_RULES
    ]
    other = screen(inputs, AS_OF, rules=reworded, known=known)
    assert other.kept.num_rows == 0 and other.warning_table.num_rows == table.num_rows


def test_results_do_not_depend_on_the_order_rows_arrive_in(inputs):
    """The database hands rows over in no fixed order, and threads add them up in none: every sum of money is
    exact, so grades, scores and explanations — and the digests that let a re-run skip unchanged warnings — are
    the same whatever the order. (0.1 + 0.2 + 0.3 in doubles depends on the order of the additions.)"""
    import numpy as np

    household = inputs["households"].column("household_id")[0].as_py()
    events = inputs["events"]
    costs = pa.table(
        {
            "feed": ["medical_settlement"] * 3,
            "household_id": [household] * 3,
            "member_id": [None] * 3,
            "village_code": [None] * 3,
            "event_date": [date(2024, 9, 1)] * 3,
            "received_date": [None] * 3,
            "amount": [0.1, 0.2, 0.3],
            "kind": [""] * 3,
        }
    ).cast(events.select([f.name for f in events.schema]).schema)
    with_costs = dict(inputs, events=pa.concat_tables([events.select(costs.column_names), costs]))
    rng = np.random.default_rng(7)
    shuffled = {name: t.take(pa.array(rng.permutation(t.num_rows))) for name, t in with_costs.items()}
    shuffled["events"] = with_costs["events"].take(pa.array(np.arange(with_costs["events"].num_rows)[::-1]))
    first, again = (screen(tables, AS_OF, with_features=True) for tables in (with_costs, shuffled))
    assert first.features is not None and again.features is not None
    assert again.features.to_pylist() == first.features.to_pylist()
    assert again.grades.to_pylist() == first.grades.to_pylist()
    assert again.warning_table.to_pylist() == first.warning_table.to_pylist()


def test_variants_grade_as_separate_screenings_do(inputs):
    """grade_variants (what-if, rule trials) computes the features once and grades each variant as `screen` would."""
    from engine.screening.run import grade_variants

    extra = Rule("two_ill", "两人患病", "01", "severe", "ill_count >= 2", "", "{ill_count:.0f} 人患病")
    variants = [
        ([], DEFAULT_RULES),
        ([Override("grade_yellow", "", 15), Override("monitoring_line", "520526", 9500)], DEFAULT_RULES),
        ([], [*DEFAULT_RULES[1:], extra]),
    ]
    graded = grade_variants(inputs, AS_OF, variants)
    columns = ["household_id", "household_no", "village_code", "score", "grade", "fired_rules"]
    for (overrides, rules), got in zip(variants, graded, strict=True):
        alone = screen(inputs, AS_OF, overrides=overrides, rules=rules, explain_later=True).grades
        assert got.select(columns).equals(alone.select(columns))
    assert not graded[0].column("grade").equals(graded[1].column("grade"))  # the variants differ
    assert any("two_ill" in (r or "") for r in graded[2].column("fired_rules").to_pylist())
