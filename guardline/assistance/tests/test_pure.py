"""The pure parts, rule by rule: the catalogue, the recommender, eligibility and the premature-elimination flag."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from guardline.assistance import catalogue, eligibility, recommend
from guardline.assistance.recommend import Household


def test_catalogue_has_the_seventeen_national_codes():
    assert list(catalogue.CATALOGUE) == [f"100A{n}" for n in range(39, 56)]
    assert {"100A39", "100A40"} == catalogue.DEVELOPMENT_CODES
    assert {"100A48"} == catalogue.SAFETY_NET_CODES
    assert catalogue.CATALOGUE["100A51"].name == "饮水安全保障"
    offered = {code for code, _ in catalogue.choices()}
    assert "100A43" not in offered and len(offered) == 14


def _rule(checks, rule):
    return [c for c in checks if c.rule == rule]


def test_r1_labour_capable_gets_a_development_measure():
    rec = recommend.recommend(Household(risk_types=("01",), labour_capable=True))
    assert "100A45" in rec.codes and "100A40" in rec.codes
    assert _rule(rec.checks, "R1")[0].ok
    failing = recommend.check_plan(Household(labour_capable=True), ["100A45"])
    assert not _rule(failing, "R1")[0].ok and _rule(failing, "R1")[0].blocking


def test_r1_business_failure_prefers_industry_and_existing_measures_count():
    rec = recommend.recommend(Household(risk_types=("06",), labour_capable=True))
    assert rec.codes == ["100A39"]
    rec = recommend.recommend(
        Household(risk_types=("07",), labour_capable=True, received=frozenset({"100A40"}))
    )
    assert rec.codes == [] and _rule(rec.checks, "R1")[0].ok


def test_r2_no_labour_no_stable_income_considers_the_safety_net():
    rec = recommend.recommend(Household(risk_types=("01",), labour_capable=False, stable_income=False))
    assert "100A48" in rec.codes and _rule(rec.checks, "R2")[0].ok
    assert not _rule(recommend.check_plan(Household(stable_income=False), ["100A45"]), "R2")[0].ok
    # with a stable income the rule does not apply, and the safety net is not proposed for a disability risk
    rec = recommend.recommend(Household(risk_types=("03",), labour_capable=False, stable_income=True))
    assert not _rule(rec.checks, "R2") and "100A48" not in rec.codes


def test_r3_single_risk_single_measure_is_a_preference():
    rec = recommend.recommend(Household(risk_types=("07",), labour_capable=True))
    assert rec.codes == ["100A40"] and _rule(rec.checks, "R3")[0].ok
    checks = recommend.check_plan(Household(risk_types=("01",)), ["100A45", "100A52"])
    r3 = _rule(checks, "R3")[0]
    assert not r3.ok and not r3.blocking
    # complex risks get combined measures (up to two per risk) and no R3 check
    rec = recommend.recommend(Household(risk_types=("01", "0201"), labour_capable=False))
    assert {"100A45", "100A54", "100A50"} <= set(rec.codes) and not _rule(rec.checks, "R3")


def test_r4_what_is_missing_is_given():
    rec = recommend.recommend(
        Household(risk_types=("01",), conditions=frozenset({"water_unsafe", "dropout"}))
    )
    assert {"100A51", "100A46"} <= set(rec.codes)
    assert all(c.ok for c in _rule(rec.checks, "R4"))
    assert not _rule(recommend.check_plan(Household(conditions=frozenset({"housing_unsafe"})), []), "R4")[
        0
    ].ok


def test_recommender_never_proposes_what_is_received():
    h = Household(risk_types=("01", "07"), labour_capable=True, received=frozenset({"100A45", "100A40"}))
    assert not set(recommend.recommend(h).codes) & h.received


GOOD = dict(
    today=date(2026, 10, 3), identified_on=date(2026, 3, 8), delivered_measures=1, income_year=2026,
    per_capita_income=Decimal("9000"), per_capita_adjusted_income=Decimal("8800"), monitoring_line=Decimal("7000"),
    net_income=Decimal("9000"), rigid_expenditure=Decimal("200"),
    conditions={"housing_unsafe": False, "dropout": False, "uninsured_member": False, "water_unsafe": False},
)  # fmt: skip


def _check(**changes):
    return eligibility.check(eligibility.Snapshot(**{**GOOD, **changes}))


def _failed(result):
    return {r.key for r in result.rules if not r.ok}


def test_eligible_when_every_rule_holds():
    result = _check()
    assert result.eligible and result.reasons == []


def test_six_months_since_identification():
    assert _failed(_check(today=date(2026, 9, 7))) == {"months"}
    assert _check(today=date(2026, 9, 8)).eligible
    assert "2026-09-08" in _check(today=date(2026, 9, 7)).reasons[0]
    assert _check(today=date(2026, 4, 8), min_months=1).eligible


def test_a_measure_must_be_delivered():
    assert _failed(_check(delivered_measures=0)) == {"measures"}


def test_income_stably_above_this_years_line():
    assert _failed(_check(per_capita_income=Decimal("6999"))) == {"income"}
    assert _failed(_check(per_capita_adjusted_income=Decimal("6500"))) == {"income"}  # after out-of-pocket
    assert _failed(_check(per_capita_income=None)) == {"income"}
    assert _failed(_check(monitoring_line=None)) == {"income"}
    assert _failed(_check(income_year=2024)) == {"income"}
    assert _check(per_capita_adjusted_income=None).eligible


def test_rigid_expenditure_resolved():
    assert _failed(_check(rigid_expenditure=Decimal("12000"))) == {"rigid"}
    assert _check(rigid_expenditure=None).eligible


def test_three_guarantees_and_water_secure():
    for key in eligibility.CONDITION_LABELS:
        assert _failed(_check(conditions={**GOOD["conditions"], key: True})) == {key}
        assert _failed(_check(conditions={**GOOD["conditions"], key: None})) == {key}  # not verified


def test_no_new_risk():
    result = _check(open_warning_risks=("07",))
    assert _failed(result) == {"risk"} and "07" in result.reasons[0]


def test_no_labour_household_on_the_safety_net_is_not_eliminated():
    assert _failed(_check(no_labour_household=True, on_safety_net=True)) == {"safety_net"}
    assert _check(no_labour_household=True, on_safety_net=False).eligible
    assert _check(no_labour_household=False, on_safety_net=True).eligible


def test_premature_flag_same_or_next_month():
    assert eligibility.premature(date(2026, 3, 8), date(2026, 3, 30))
    assert eligibility.premature(date(2026, 3, 8), date(2026, 4, 30))
    assert not eligibility.premature(date(2026, 3, 8), date(2026, 5, 1))
    assert eligibility.premature(date(2025, 12, 20), date(2026, 1, 5))


def test_add_months_clamps_to_month_end():
    assert eligibility.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert eligibility.add_months(date(2026, 3, 8), 6) == date(2026, 9, 8)
