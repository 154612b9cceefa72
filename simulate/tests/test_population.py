"""The registry: valid and unique GB 11643 IDs consistent with sex and birth date, real villages of the county,
household numbers, household structure, names with namesakes, member attributes in the vocabularies."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import numpy as np

from engine import vocab
from engine.ids import IdStatus, check_char, classify_id_number
from simulate.idnumbers import check_chars, first17, to_strings
from simulate.places import load_county

from .conftest import COUNTY, DIVISIONS, rows


def test_ids_valid_unique_and_consistent_with_sex_and_birth(county):
    out, summary = county
    members = rows(out / "registry.csv")
    assert len(members) == summary["members"]
    ids = [m["证件号码"] for m in members]
    assert len(set(ids)) == len(ids)
    for m in members:
        verdict = classify_id_number(m["证件号码"], today=date(2030, 1, 1))
        assert verdict.status is IdStatus.VALID, m["证件号码"]
        assert verdict.birth_date is not None and verdict.birth_date.isoformat() == m["出生日期"]
        assert verdict.sex == m["性别"]
        assert int(m["证件号码"][16]) % 2 == (1 if m["性别"] == "男" else 0)
        assert m["证件号码"][14:17].isdigit()


def test_region_codes_mostly_the_county_with_other_real_and_retired_codes(county):
    out, _ = county
    regions = Counter(m["证件号码"][:6] for m in rows(out / "registry.csv"))
    total = sum(regions.values())
    assert regions[COUNTY] / total > 0.85
    assert (
        regions["522427"] > 0
    )  # Weining's code before 2011: an unknown region code, a warning, not an error
    assert any(code.startswith("5205") and code != COUNTY for code in regions)  # other Bijie counties
    assert any(not code.startswith("52") for code in regions)  # married in from Yunnan or Sichuan


def test_every_village_is_real_and_in_the_county(county):
    out, _ = county
    places = load_county(DIVISIONS, COUNTY)
    assert places.villages == 623
    real = set(places.village_codes.tolist())
    members = rows(out / "registry.csv")
    used = {m["行政区划代码"] for m in members}
    assert used <= real and len(used) > 300  # households spread over most villages
    for m in members:
        assert len(m["户编号"]) == 17 and m["户编号"].startswith(m["行政区划代码"])
    sizes = Counter(m["行政区划代码"] for m in members if m["与户主关系"] == "户主")
    assert max(sizes.values()) > 3 * np.median(list(sizes.values()))  # village sizes vary


def test_household_structure(county):
    out, summary = county
    households: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in rows(out / "registry.csv"):
        households[m["户编号"]].append(m)
    assert len(households) == summary["households"] == 2000
    sizes = [len(v) for v in households.values()]
    assert 3.5 <= np.mean(sizes) <= 4.1 and min(sizes) == 1 and max(sizes) >= 7
    for members in households.values():
        relations = [m["与户主关系"] for m in members]
        assert relations[0] == "户主" and relations.count("户主") == 1
        assert relations.count("配偶") <= 1
        assert len({m["联系电话"] for m in members}) == 1  # phone per household
        assert len({m["户类型"] for m in members}) == 1
        head_birth = members[0]["出生日期"]
        for m in members:
            if m["与户主关系"] in ("之父", "之母"):
                assert m["出生日期"] < head_birth
            if m["与户主关系"] in ("孙子", "孙女"):
                assert m["出生日期"] > head_birth
    relations = Counter(m["与户主关系"] for v in households.values() for m in v)
    assert {"户主", "配偶", "之子", "之女", "孙子", "孙女", "儿媳", "之母"} <= set(relations)


def test_member_attributes_use_the_vocabularies(county):
    out, _ = county
    members = rows(out / "registry.csv")
    checks = {
        "与户主关系": vocab.RELATIONS,
        "文化程度": vocab.EDUCATION,
        "在校生状况": vocab.STUDENT_STATUSES,
        "健康状况": vocab.HEALTH,
        "劳动技能": vocab.LABOUR_CAPACITIES,
        "务工状况": vocab.MIGRANT_WORK,
        "户类型": vocab.HOUSEHOLD_TYPES,
    }
    for column, table in checks.items():
        assert {m[column] for m in members} <= set(table.values()), column
    assert {m["监测对象类别"] for m in members} <= {"", *vocab.MONITOR_CATEGORIES.values()}
    for m in members:
        disabled = m["健康状况"] == "残疾"
        assert (m["残疾等级"] in {"1", "2", "3", "4"}) == disabled
        months = int(m["务工时间(月)"])
        assert (months > 0) == (m["务工状况"] != "未务工") and 0 <= months <= 12
        age = 2024 - int(m["出生日期"][:4])
        if age <= 10:
            assert m["劳动技能"] == "无劳动力" and m["务工状况"] == "未务工"
        if 8 <= age <= 12:
            assert m["在校生状况"] in ("小学", "初中")


def test_names_are_chinese_with_namesakes_in_villages(county):
    out, _ = county
    members = rows(out / "registry.csv")
    assert all(2 <= len(m["姓名"]) <= 3 for m in members)
    surnames = Counter(m["姓名"][0] for m in members)
    assert {"王", "李", "张", "杨", "马", "禄", "安", "陶", "龙"} <= set(surnames)
    same: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in members:
        same[(m["行政区划代码"], m["姓名"])].add(m["出生日期"])
    assert sum(len(births) > 1 for births in same.values()) >= 20  # namesakes: same village, other birth date


def test_vectorised_check_characters_and_unique_sequences():
    rng = np.random.default_rng(3)
    n = 1800
    birth = np.full(n, np.datetime64("1990-01-01"))  # 1,800 people born the same day in two counties
    regions = np.where(np.arange(n) % 2 == 0, "520526", "522427")
    male = rng.random(n) < 0.5
    prefix = first17(rng, regions, birth, male)
    assert len(np.unique(prefix)) == n
    ids = to_strings(prefix).tolist()
    assert all(check_char(i[:17]) == i[17] for i in ids)
    assert all(int(i[16]) % 2 == int(m) for i, m in zip(ids, male.tolist(), strict=True))
    sample = rng.integers(0, 10**17, 5000, dtype=np.int64)
    expected = [check_char(str(s).zfill(17)) for s in sample.tolist()]
    assert check_chars(sample).tolist() == expected
