"""Department feeds: ground-truth links point to real registry members, the documented noise is there (about 20 %
of rows without an ID, namesakes, typos, Excel-damaged IDs …), departments report after the event, and rows follow
the shocks of truth/events.csv."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from engine.ids import IdStatus, classify_id_number
from simulate import simulate_county
from simulate.names import HOMOPHONES

from .conftest import DIVISIONS, rows


@pytest.fixture(scope="module")
def feeds(county):
    out, summary = county
    registry = {m["证件号码"]: m for m in rows(out / "registry.csv")}
    links = defaultdict(dict)
    for link in rows(out / "truth" / "person_links.csv"):
        links[link["feed_key"]][int(link["file_row"])] = link
    files = {key: rows(out / "feeds" / f"{key}.csv") for key in links}
    return out, summary, registry, links, files


def test_every_link_points_to_a_real_member_and_matches_the_row(feeds):
    _, summary, registry, links, files = feeds
    assert sum(len(v) for v in links.values()) == summary["feed_rows"]
    for key, data in files.items():
        for line, row in enumerate(data, start=2):
            link = links[key][line]
            assert int(link["data_row"]) == line - 1
            if key == "water_incident":
                assert link["village_code"] == row["行政区划代码"] and link["id_number"] == ""
                continue
            assert link["in_registry"] == "1"
            member = registry[link["id_number"]]
            assert member["户编号"] == link["household_no"]
            assert member["行政区划代码"] == link["village_code"]
            verdict = classify_id_number(row["证件号码"], today=date(2030, 1, 1))
            if verdict.status in (IdStatus.VALID, IdStatus.CONVERTED):
                assert verdict.number == link["id_number"]
            elif verdict.status is IdStatus.EXCEL_DAMAGED:
                # Excel keeps 15 significant digits, rounded: the 15th may be one off.
                assert verdict.prefix15 is not None and "excel_damaged" in link["noise"]
                assert abs(int(verdict.prefix15) - int(link["id_number"][:15])) <= 1
            else:
                assert verdict.status is IdStatus.MISSING and "missing_id" in link["noise"]
            if "name_typo" not in link["noise"]:
                assert row["姓名"] == member["姓名"]
            if "birth_error" not in link["noise"]:
                assert row["出生日期"] == member["出生日期"] and row["性别"] == member["性别"]
            if "township_code" not in link["noise"]:
                assert row["行政区划代码"] == member["行政区划代码"]


def test_noise_rates(feeds):
    _, summary, registry, links, files = feeds
    assert 0.17 <= summary["feed_share_without_id"] <= 0.23
    tags = Counter(t for v in links.values() for link in v.values() for t in link["noise"].split(";") if t)
    person_rows = summary["feed_person_rows"]
    assert 0.17 <= tags["missing_id"] / person_rows <= 0.23
    assert tags["excel_damaged"] >= 5 and tags["name_typo"] >= 20 and tags["namesake"] >= 20
    assert tags["lower_x"] >= 5 and tags["township_code"] >= 20 and tags["birth_error"] >= 2
    damaged = [r["证件号码"] for data in files.values() for r in data if "E+" in r.get("证件号码", "")]
    assert damaged and all(classify_id_number(i).status is IdStatus.EXCEL_DAMAGED for i in damaged)
    for key, data in files.items():
        for line, row in enumerate(data, start=2):
            link = links[key][line]
            if "name_typo" in link["noise"]:
                true = registry[link["id_number"]]["姓名"]
                diff = [(a, b) for a, b in zip(true, row["姓名"], strict=True) if a != b]
                assert len(diff) == 1 and HOMOPHONES[diff[0][0]] == diff[0][1]
            if "birth_error" in link["noise"]:
                true = date.fromisoformat(registry[link["id_number"]]["出生日期"])
                assert abs(date.fromisoformat(row["出生日期"]) - true) == timedelta(days=1)
            if "township_code" in link["noise"]:
                assert row["行政区划代码"].endswith("000") and link["village_code"].startswith(
                    row["行政区划代码"][:9]
                )


def test_namesakes_are_real_registry_namesakes(feeds):
    _, _, registry, links, _ = feeds
    by_name = defaultdict(set)
    for m in registry.values():
        by_name[(m["行政区划代码"], m["姓名"])].add(m["证件号码"])
    namesake_links = [link for v in links.values() for link in v.values() if "namesake" in link["noise"]]
    for link in namesake_links:
        member = registry[link["id_number"]]
        assert len(by_name[(member["行政区划代码"], member["姓名"])]) >= 2


def test_departments_report_after_the_event_in_report_order(feeds):
    _, _, _, links, _ = feeds
    start, end = "2024-01-01", "2026-01-01"
    for key, feed in links.items():
        reports = [link["report_date"] for link in feed.values()]
        assert reports == sorted(reports), key
        for link in feed.values():
            assert start <= link["report_date"] < end
            if link["source"] != "standing":
                assert link["record_date"] <= link["report_date"]
    lags = [
        (date.fromisoformat(link["report_date"]) - date.fromisoformat(link["record_date"])).days
        for link in links["medical_settlement"].values()
    ]
    assert min(lags) >= 5 and max(lags) <= 40


def test_rows_follow_the_shocks(feeds):
    out, _, _, links, files = feeds
    events = rows(out / "truth" / "events.csv")
    by_kind = defaultdict(set)
    for e in events:
        by_kind[e["kind"]].add(e["id_number"])
    died = by_kind["death"] | by_kind["labourer_death"] | by_kind["accident"]
    assert all(link["id_number"] in died for link in links["death_registration"].values())
    disasters = {e["household_no"] for e in events if e["kind"] == "disaster"}
    assert all(link["household_no"] in disasters for link in links["disaster_loss"].values())
    sources = Counter(link["source"] for link in links["medical_settlement"].values())
    assert sources["hospital_stay"] > sources["accident"] > 0
    benefits = Counter(r["救助类型"] for r in files["civil_assistance"])
    assert benefits["低保"] > 0 and benefits["特困"] > 0 and benefits["临时救助"] > 0
    statuses = Counter(r["学籍状态"] for r in files["school_status"])
    assert statuses["在读"] > 0 and statuses["辍学"] > 0
    grades = Counter(r["鉴定等级"] for r in files["housing_appraisal"])
    assert {"A", "B", "C"} <= set(grades)
    assert all(r["行政区划代码"][:6] == "520526" for r in files["water_incident"])


def test_outsiders_stay_outside_the_registry(tmp_path):
    summary = simulate_county(
        households=300, seed=4, out_dir=tmp_path, divisions_dir=DIVISIONS, outsiders=True
    )
    registry = {m["证件号码"] for m in rows(tmp_path / "registry.csv")}
    outside = [link for link in rows(tmp_path / "truth" / "person_links.csv") if link["in_registry"] == "0"]
    assert len(outside) == summary["feed_outsider_rows"] > 0
    for link in outside:
        assert link["household_no"] == "" and link["id_number"] not in registry
        assert classify_id_number(link["id_number"], today=date(2030, 1, 1)).status is IdStatus.VALID
