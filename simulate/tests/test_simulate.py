"""The synthetic county: valid and unique IDs, real villages, exact headers, determinism, calibration."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from engine.ids import IdStatus, classify_id_number
from simulate import REGISTRY_HEADERS, simulate_county
from simulate.feeds import FEEDS, PERSON
from simulate.population import load_villages

DIVISIONS = settings.GUARDLINE["DIVISIONS_DIR"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    summary = simulate_county(households=2000, seed=5, out_dir=out, divisions_dir=DIVISIONS, quirks=True)
    return out, summary


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_registry_ids_villages_and_headers(county):
    out, summary = county
    with open(out / "registry.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == REGISTRY_HEADERS
    members = rows(out / "registry.csv")
    assert len(members) == summary["members"]
    ids = [m["证件号码"] for m in members]
    assert len(set(ids)) == len(ids)
    villages = {code for code, _ in load_villages(DIVISIONS, "520526")}
    for m in members:
        verdict = classify_id_number(m["证件号码"])
        assert verdict.status is IdStatus.VALID
        assert verdict.birth_date.isoformat() == m["出生日期"]
        assert verdict.sex == m["性别"]
        assert m["行政区划代码"] in villages
    heads = Counter(m["户编号"] for m in members if m["与户主关系"] == "户主")
    assert len(heads) == 2000 and set(heads.values()) == {1}
    regions = Counter(m["证件号码"][:6] for m in members)
    assert regions["522427"] > 0  # retired code present


def test_calibration(county):
    _, s = county
    assert 3.4 <= s["mean_household_size"] <= 4.2
    assert 13000 <= s["per_capita_net_income_2024"] <= 18500
    assert 0.01 <= s["share_below_line_2024"] <= 0.15
    assert 0.15 <= s["former_poor_share"] <= 0.40
    assert 0.30 <= s["driver_share_illness"] <= 0.60
    assert 0.08 <= s["driver_share_schooling"] <= 0.35


def test_feeds_noise_and_truth(county):
    out, s = county
    by_id = {m["证件号码"]: m for m in rows(out / "registry.csv")}
    for key, own in FEEDS.items():
        with open(out / "feeds" / f"{key}.csv", encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == PERSON + own
    truth = rows(out / "truth" / "person_links.csv")
    assert len(truth) == s["feed_rows"]
    person_rows = [t for t in truth if t["id_number"]]
    for t in person_rows:
        assert by_id[t["id_number"]]["户编号"] == t["household_no"]
    missing = s["feed_rows_without_id"] / s["feed_rows"]
    assert 0.15 <= missing <= 0.25
    settlements = rows(out / "feeds" / "medical_settlement.csv")
    damaged = [r for r in settlements if "E+" in r["证件号码"]]
    assert damaged and all(
        classify_id_number(r["证件号码"]).status is IdStatus.EXCEL_DAMAGED for r in damaged
    )
    assert s["namesake_groups_in_villages"] > 0
    outcomes = rows(out / "truth" / "outcomes.csv")
    assert len(outcomes) == 2000 and any(o["falls"] == "1" for o in outcomes)


def test_same_seed_same_files(tmp_path):
    a = simulate_county(households=300, seed=9, out_dir=tmp_path / "a", divisions_dir=DIVISIONS)
    b = simulate_county(households=300, seed=9, out_dir=tmp_path / "b", divisions_dir=DIVISIONS)
    assert a == b
    for name in ["registry.csv", "income_2024.csv", "feeds/medical_settlement.csv", "truth/outcomes.csv"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_quirk_files_import_with_only_damaged_ids_rejected(county):
    from engine.ingest import INCOME, REGISTRY, load_table

    out, _ = county
    registry = load_table(out / "registry_quirks.xlsx", REGISTRY)
    codes = {r[0] for r in registry.con.execute(f"SELECT DISTINCT code FROM {registry.errors}").fetchall()}
    assert codes == {"id_excel_damaged"}
    assert registry.header_row == 3
    income = load_table(out / "income_quirks.xlsx", INCOME)
    assert income.rows_rejected == 0 and income.rows_read == 500
    for name in ("registry_gb18030.csv", "registry_bom.csv"):
        assert load_table(out / name, REGISTRY).rows_rejected == 0
