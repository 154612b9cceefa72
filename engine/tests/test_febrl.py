"""The unsupervised Splink model reaches its F1 targets on the Febrl data sets (bench/febrl.py; truth only scores).

Each configuration trains on the data itself (no labelled pairs) and predicts at the fixed threshold febrl.THRESHOLD.
"""

import pytest

from bench.febrl import TARGETS, THRESHOLD, run


@pytest.mark.parametrize(
    ("dataset", "with_ssid"),
    list(TARGETS),
    ids=[f"{d}-{'ssid' if s else 'no-ssid'}" for d, s in TARGETS],
)
def test_febrl_f1_target(dataset, with_ssid):
    result = run(dataset, with_ssid, THRESHOLD)
    assert result["true_pairs"] == {"febrl4": 5000, "febrl3": 6538}[dataset]
    assert result["f1"] >= TARGETS[dataset, with_ssid], result
