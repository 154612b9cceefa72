"""Calibration: the rates the model produces are the documented ones (MODEL.md, params.py). Statistical checks use
an in-memory run of 12,000 households (no files: about a second); the small county of the other tests would be
too noisy for shares of a few per cent."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from simulate import params as P
from simulate.income import target_per_capita
from simulate.model import Run, measured, run
from simulate.places import load_county
from simulate.timeline import KIND

from .conftest import COUNTY, DIVISIONS


@pytest.fixture(scope="module")
def big() -> tuple[Run, dict]:
    r = run(load_county(DIVISIONS, COUNTY), 12000, 2, date(2024, 1, 1), 24)
    return r, measured(r)


def test_population_rates(big):
    _, m = big
    assert 3.6 <= m["mean_household_size"] <= 4.0
    assert 0.25 <= m["former_poor_share"] <= 0.30
    assert 0.10 <= m["share_chronic"] <= 0.15
    assert 0.01 <= m["share_serious_illness"] <= 0.02
    assert 0.05 <= m["share_disabled"] <= 0.07
    assert 0.97 <= m["share_insured"] <= 0.99
    assert 0.02 <= m["monitored_share"] <= 0.045


def test_income_calibrated_to_guizhou(big):
    _, m = big
    per_capita = m["per_capita_net_income"]
    assert abs(per_capita["2023"] / target_per_capita(2023) - 1) < 0.03  # 13,707 × 1.07 ≈ 14,667
    assert (
        1.04 < per_capita["2024"] / per_capita["2023"] < 1.09
        and 1.04 < per_capita["2025"] / per_capita["2024"] < 1.09
    )
    assert (
        0.85 < m["former_poor_per_capita_base_year"] / m["general_per_capita_base_year"] < 1.0
    )  # a bit lower
    assert (
        0.8 < m["wage_level_calibration"] < 1.25
    )  # the raw wage and farm parameters are close to the target
    assert 0.01 <= m["share_below_line_at_start"] <= 0.15
    assert 0.04 <= m["dibao_share"] <= 0.10


def test_shocks_follow_the_documented_hazards(big):
    r, _ = big
    pop, ev, months = r.pop, r.events, r.tl.months
    migrants = int((pop.work_months > 0).sum())
    expected = migrants * (1 - (1 - P.JOB_LOSS) ** months)
    assert abs((ev.kind == KIND["job_loss"]).sum() / expected - 1) < 0.12
    expected = pop.members * (1 - (1 - P.NEW_DISABILITY) ** months) * (1 - (pop.disability_grade > 0).mean())
    assert abs((ev.kind == KIND["disability"]).sum() / expected - 1) < 0.25
    owners = int((r.inc.livestock > 0).sum())
    expected = owners * (1 - (1 - P.BUSINESS_FAILURE) ** months)
    assert abs((ev.kind == KIND["business_failure"]).sum() / expected - 1) < 0.25
    # Disasters: most households live through at least one hazard season; a few per cent are hit each year.
    hit = len(np.unique(ev.household[ev.kind == KIND["disaster"]])) / pop.households
    assert 0.03 < hit < 0.25
    assert (ev.kind == KIND["schooling"]).sum() > 0 and (ev.kind == KIND["dropout"]).sum() > 0


def test_falls_and_their_drivers_match_the_seed_figures(big):
    r, m = big
    assert 0.01 <= m["share_falling_in_window"] <= 0.08
    # DOMAIN seed figures among households at risk: ≈ 42 % illness, 19 % disaster or market, 12–28 % schooling.
    assert 0.35 <= m["driver_share_illness"] <= 0.65
    assert 0.10 <= m["driver_share_disaster_or_market"] <= 0.30
    assert 0.08 <= m["driver_share_schooling"] <= 0.28
    truth = r.truth
    falls = truth.falls
    assert all(d for d in truth.drivers[falls].tolist()) and not any(truth.drivers[~falls].tolist())
    assert (truth.falls_month[falls] >= r.tl.first).all() and (truth.falls_month[falls] < r.tl.end).all()
    assert not (falls & (truth.already_below | truth.already_hardship)).any()
