"""The learned screening model on two small simulated counties: trained out of time and out of county, saved and
loaded as LightGBM text + JSON sidecar, used only when its held-out comparison beats the index, and explained only
for red and yellow households."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from engine.screening import INDICATORS, screen
from engine.screening.model import FEATURES, ScreeningModel, auc, recall_at
from simulate import simulate_county
from simulate.screening_inputs import screening_inputs
from simulate.screening_labels import frames, monthly, train_model

ROOT = Path(__file__).resolve().parents[3]
DIVISIONS = Path(os.environ.get("GUARDLINE_DIVISIONS_DIR", ROOT.parent / "shared" / "data" / "divisions"))
TRAIN_DATES = monthly("2024-03", "2024-06")
TEST_DATES = monthly("2024-12", "2025-03")
AS_OF = date(2025, 3, 31)


@pytest.fixture(scope="module")
def counties(tmp_path_factory):
    out = []
    for seed in (5, 6):
        d = tmp_path_factory.mktemp(f"county{seed}")
        simulate_county(county="520526", households=2000, seed=seed, out_dir=d, divisions_dir=DIVISIONS)
        out.append(d)
    return out


@pytest.fixture(scope="module")
def trained(counties):
    train_dir, test_dir = counties
    model = train_model(train_dir, test_dir, TRAIN_DATES, TEST_DATES, name="test", rounds=60)
    return model


@pytest.fixture(scope="module")
def inputs(counties):
    return screening_inputs(counties[1])


def forced(model: ScreeningModel, beats: bool) -> ScreeningModel:
    return ScreeningModel(model.booster, {**model.meta, "beats_index": beats})


def test_the_model_carries_its_held_out_comparison(trained):
    meta = trained.meta
    assert meta["features"] == list(FEATURES) == [f"v_{i.code}" for i in INDICATORS]
    assert meta["training"]["dates"] == [str(TRAIN_DATES[0]), str(TRAIN_DATES[-1])]
    assert meta["held_out"]["dates"] == [str(TEST_DATES[0]), str(TEST_DATES[-1])]
    assert meta["training"]["positives"] > 0 and meta["held_out"]["positives"] > 0
    for scorer in ("model", "index"):
        assert 0.5 < meta["held_out"][scorer]["auc"] < 1.0
        assert 0.0 <= meta["held_out"][scorer]["recall_at_workload"] <= 1.0
    assert isinstance(meta["beats_index"], bool)
    assert meta["beats_index"] == (
        meta["held_out"]["model"]["auc"] >= meta["held_out"]["index"]["auc"] + 0.005
        and meta["held_out"]["model"]["recall_at_workload"] >= meta["held_out"]["index"]["recall_at_workload"]
    )
    assert 0 < meta["cutoffs"]["yellow"] < meta["cutoffs"]["red"] < 1


def test_the_split_must_be_out_of_time(counties):
    with pytest.raises(ValueError, match="out of time"):
        train_model(counties[0], counties[1], TRAIN_DATES, monthly("2024-09", "2024-10"), rounds=5)


def test_save_load_round_trip(trained, counties, tmp_path):
    directory = trained.save(tmp_path / "model")
    assert (directory / "model.txt").read_text().startswith("tree")
    sidecar = json.loads((directory / "model.json").read_text())
    assert sidecar["beats_index"] == trained.beats_index and sidecar["format"] == 1
    loaded = ScreeningModel.load(directory)
    frame = frames(counties[1], [AS_OF])[0]
    assert np.allclose(loaded.predict(frame.scored), trained.predict(frame.scored))
    assert loaded.meta == json.loads(json.dumps(trained.meta, default=str))


def test_a_model_that_does_not_beat_the_index_is_not_used(trained, inputs):
    plain = screen(inputs, AS_OF)
    result = screen(inputs, AS_OF, model=forced(trained, False))
    assert result.scorer == "index" and "未优于指数" in result.scorer_note
    assert result.grades.column("grade").to_pylist() == plain.grades.column("grade").to_pylist()
    assert result.grades.column("score").to_pylist() == plain.grades.column("score").to_pylist()
    assert all(not w.contributions for w in result.warnings)


def test_model_grades_and_contributions_only_for_red_and_yellow(trained, inputs, monkeypatch):
    model = forced(trained, True)
    explained: list[int] = []
    original = ScreeningModel.contributions

    def counting(self, table, top=3):
        explained.append(table.num_rows)
        return original(self, table, top)

    monkeypatch.setattr(ScreeningModel, "contributions", counting)
    result = screen(inputs, AS_OF, model=model, with_features=True)
    assert result.scorer == "model" and "使用学习模型" in result.scorer_note
    grades = result.grades.column("grade").to_pylist()
    flagged = sum(g != "green" for g in grades)
    assert explained == [flagged] and len(result.warnings) == flagged < len(grades)
    # Scores are the model's probability in per cent; the index stays alongside for the reasons.
    assert result.features is not None
    prob = model.predict(result.features)
    assert np.allclose(result.grades.column("score").to_numpy(), np.round(100 * prob, 2))
    assert result.grades.column("index_score").to_pylist() == result.features.column("score").to_pylist()
    titles = {i.title_zh for i in INDICATORS}
    for w in result.warnings:
        assert w.grade in ("red", "yellow")
        assert all(c in {i.code for i in INDICATORS} and v > 0 for c, v in w.contributions)
        model_line = next(r for r in w.reasons if r.startswith("模型预测"))
        assert all(t in titles for t in model_line.split("主要因素：")[-1].split("；")) or not w.contributions
        assert sum(p for _, p in w.points) == pytest.approx(w.index_score, abs=0.05)
    # Triggers keep their force under the model: a severe trigger is red, any trigger at least yellow.
    fired = result.grades.column("fired_rules").to_pylist()
    assert all(g != "green" for g, f in zip(grades, fired, strict=True) if f)


def test_variants_grade_with_the_model_as_screen_does(trained, inputs):
    """The what-if and rule trials grade each variant as a real run would: with the model where it beats the index."""
    from engine.screening import DEFAULT_RULES, Override
    from engine.screening.run import grade_variants

    variants = [([], DEFAULT_RULES), ([Override("monitoring_line", "", 9000)], DEFAULT_RULES[1:])]
    scores = {}
    for beats in (True, False):
        model = forced(trained, beats)
        graded = grade_variants(inputs, AS_OF, variants, model=model)
        for (overrides, rules), got in zip(variants, graded, strict=True):
            alone = screen(inputs, AS_OF, overrides=overrides, rules=rules, model=model, explain_later=True)
            assert got.equals(alone.grades)
        scores[beats] = graded[0].column("score")
    assert scores[True] != scores[False]  # the model scored where it beats the index, the index where not


def test_metrics():
    y = np.array([0, 0, 1, 1])
    assert auc(np.array([0.1, 0.2, 0.3, 0.4]), y) == 1.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), y) == 0.5
    assert recall_at(np.array([0.1, 0.9, 0.8, 0.2]), y, ["d"] * 4, 0.5) == 0.5
