"""Pieces of the model: settlements add up, the ledger spreads money over months, school stages by age, the base
year of the income files agrees with the ground truth, the calendar of a run."""

from __future__ import annotations

from datetime import date

import numpy as np

from simulate.codes import STU
from simulate.medical import settle
from simulate.schooling import stage
from simulate.timeline import OOP, Ledger, Timeline

from .conftest import rows


def test_settlement_parts_add_up():
    rng = np.random.default_rng(1)
    n = 1000
    total = rng.lognormal(9, 1, n)
    flags = rng.random((3, n)) < 0.3
    s = settle(
        rng,
        np.arange(n),
        np.arange(n),
        np.zeros(n, "datetime64[D]"),
        total,
        rng.integers(0, 4, n),
        *flags,
        1,
        np.ones(4),
    )
    assert np.allclose(s.fund + s.critical + s.assistance + s.personal, s.total, atol=0.05)
    assert (s.compliant <= s.personal + 0.01).all() and (s.compliant >= -0.01).all()
    assert (s.assistance[~flags[1] & ~flags[2]] == 0).all()  # medical assistance only for 低保 / 特困


def test_ledger_spreads_within_the_timeline():
    ledger = Ledger(12)
    ledger.spread(np.array([0, 1]), np.array([10, 3]), np.array([5, 2]), np.array([100.0, 7.0]), OOP, 1)
    h, month, comp, amount, risk = ledger.arrays()
    assert sorted(zip(h.tolist(), month.tolist(), strict=True)) == [(0, 10), (0, 11), (1, 3), (1, 4)]
    assert (comp == OOP).all() and (risk == 1).all() and amount.sum() == 214.0


def test_school_stage_by_age():
    ages = np.array([2, 4, 6, 11, 12, 14, 15, 17, 18, 21, 22])
    low = stage(ages, np.zeros(len(ages)), np.zeros(len(ages)))
    assert [STU[s] for s in ("not_student", "preschool", "primary", "primary", "junior", "junior")] == list(
        low[:6]
    )
    assert list(low[6:]) == [STU["senior"], STU["senior"], STU["college"], STU["college"], STU["not_student"]]
    high = stage(ages, np.ones(len(ages)), np.ones(len(ages)))
    assert high[6] == STU["not_student"] and high[8] == STU["not_student"]


def test_timeline():
    tl = Timeline.of(date(2024, 7, 1), 18)
    assert tl.base_year == 2023 and tl.month_start(tl.first) == date(2024, 7, 1)
    assert tl.month_start(tl.end) == date(2026, 1, 1) and tl.years == [2023, 2024, 2025]
    assert tl.month_of(np.array(["2024-07-15"], dtype="datetime64[D]")).tolist() == [tl.first]


def test_base_year_income_file_agrees_with_the_truth(county):
    """Income 2023 is the 12 months before the start: its adjusted per-capita income is the truth's start value."""
    out, _ = county
    truth = {t["household_no"]: t for t in rows(out / "truth" / "outcomes.csv")}
    for r in rows(out / "income_2023.csv")[:500]:
        money = [float(r[c] or 0) for c in ("工资性收入", "生产经营性收入", "财产性收入", "转移性收入")]
        cost, claim, oop = (float(r[c] or 0) for c in ("生产经营性支出", "理赔收入", "合规自付支出"))
        t = truth[r["户编号"]]
        adjusted = (sum(money) - cost + claim - oop) / int(t["size"])
        assert abs(adjusted - float(t["start_per_capita"])) < 1.0
        assert (adjusted < 8700) == (t["already_below_line"] == "1")


def test_outcomes_table(county):
    out, summary = county
    outcomes = rows(out / "truth" / "outcomes.csv")
    assert len(outcomes) == summary["households"]
    falls = [o for o in outcomes if o["falls"] == "1"]
    assert falls and all("2024-01" <= o["first_month"] <= "2025-12" and o["risk_types"] for o in falls)
    codes = {c for o in falls for c in o["risk_types"].split(";")}
    assert codes <= {
        "01",
        "0201",
        "0202",
        "0203",
        "0204",
        "0205",
        "0206",
        "0299",
        "03",
        "04",
        "05",
        "06",
        "07",
        "09",
        "99",
    }
    monitored = [o for o in outcomes if o["monitored_at_start"]]
    assert monitored and {o["monitored_at_start"] for o in monitored} <= {
        "脱贫不稳定户",
        "边缘易致贫户",
        "突发严重困难户",
    }
