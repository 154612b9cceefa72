"""Households and members of a rural county in Guizhou, vectorised with numpy (1M+ households in seconds).

Calibration (see MODEL.md): household size mean ≈ 3.7 (Guizhou rural, 7th census ~3.3 registered, larger in Bijie);
head age ~ N(52, 13); chronic illness rising with age; serious illness ~1.5 %; disability ~6 % with grades 1–4;
basic medical insurance ~98 %; former-poor (脱贫户) ~28 % of households in Weining, a formerly deeply poor county.
"""

from __future__ import annotations

import csv
import io
import lzma
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from engine.ids import check_char

from .names import draw_names

SIZE_P = np.array([0.08, 0.17, 0.20, 0.22, 0.17, 0.09, 0.05, 0.02])  # sizes 1..8, mean ≈ 3.7
OTHER_BIJIE = ["520502", "520521", "520523", "520524", "520525", "520527"]
RETIRED_CODES = [
    "522427"
]  # Weining's code before Bijie became a prefecture-level city (2011): still in old IDs
OUTSIDE = ["530381", "510623", "330106"]  # married in from Yunnan, Sichuan, Zhejiang


@dataclass
class Population:
    villages: list[tuple[str, str]]  # (code, name)
    # households
    household_no: np.ndarray
    village: np.ndarray  # index into villages
    size: np.ndarray
    former_poor: np.ndarray
    relocation: np.ndarray
    phone: np.ndarray
    remoteness: np.ndarray  # 0..1 per household (from its village): poorer, more disaster-prone places
    # members (flat, grouped by household, head first)
    hh: np.ndarray
    relation: np.ndarray
    male: np.ndarray
    age: np.ndarray
    birth: np.ndarray  # datetime64[D]
    id_number: np.ndarray
    name: np.ndarray
    education: np.ndarray
    student: np.ndarray
    health: np.ndarray
    disability_grade: np.ndarray  # 0 = none
    labour: np.ndarray
    migrant: np.ndarray
    work_months: np.ndarray
    insured: np.ndarray

    @property
    def households(self) -> int:
        return len(self.household_no)


def load_villages(divisions_dir: Path, county: str) -> list[tuple[str, str]]:
    path = divisions_dir / "villages.csv.xz"
    with lzma.open(path, "rb") as raw:
        rows = [
            (r["code"], r["name"])
            for r in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
            if r["areaCode"] == county
        ]
    if not rows:
        raise ValueError(f"no villages of county {county} in {path}")
    return rows


def _ids(rng: np.random.Generator, regions: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Unique, valid GB 11643 numbers: region + birth date + sequence (odd for men) + check character."""
    n = len(regions)
    ymd = np.datetime_as_string(birth, unit="D")
    ymd = np.char.replace(ymd, "-", "")
    seq = rng.integers(0, 100, n) * 10 + rng.integers(0, 5, n) * 2 + male.astype(int)
    first17 = np.char.add(np.char.add(regions, ymd), np.char.zfill(seq.astype(str), 3))
    for _ in range(50):
        _, first_index, _counts = np.unique(first17, return_index=True, return_counts=True)
        dup_mask = np.ones(n, bool)
        dup_mask[first_index] = False
        if not dup_mask.any():
            break
        k = int(dup_mask.sum())
        seq_new = rng.integers(0, 100, k) * 10 + rng.integers(0, 5, k) * 2 + male[dup_mask].astype(int)
        first17[dup_mask] = np.char.add(
            np.char.add(regions[dup_mask], ymd[dup_mask]), np.char.zfill(seq_new.astype(str), 3)
        )
    checks = np.array([check_char(s) for s in first17.tolist()])
    return np.char.add(first17, checks)


def generate(
    rng: np.random.Generator, villages: list[tuple[str, str]], households: int, county: str, ref: date
) -> Population:
    v = len(villages)
    weights = rng.lognormal(0, 0.5, v)
    village = np.sort(rng.choice(v, size=households, p=weights / weights.sum()))
    village_remote = rng.beta(2, 3, v)
    remoteness = village_remote[village]
    seq_in_village = np.zeros(households, int)
    starts = np.searchsorted(village, np.arange(v))
    seq_in_village = np.arange(households) - starts[village]
    codes = np.array([c for c, _ in villages])
    household_no = np.char.add(codes[village], np.char.zfill((seq_in_village + 1).astype(str), 5))
    size = rng.choice(np.arange(1, 9), size=households, p=SIZE_P)
    former_poor = rng.random(households) < (0.12 + 0.35 * remoteness)
    relocation = former_poor & (rng.random(households) < 0.12)
    phone = np.char.add("1", rng.choice(["39", "38", "52", "58", "87", "89", "77", "98"], households))
    phone = np.char.add(phone, np.char.zfill(rng.integers(0, 10**8, households).astype(str), 8))

    head_age = np.clip(rng.normal(52, 13, households), 22, 88).astype(int)
    hh = np.repeat(np.arange(households), size)
    n = len(hh)
    slot = np.arange(n) - np.repeat(np.cumsum(size) - size, size)
    h_age = head_age[hh]
    r = rng.random(n)
    relation = np.full(n, "head", dtype=object)
    age = h_age.copy()
    male = np.ones(n, bool)
    head = slot == 0
    male[head] = rng.random(int(head.sum())) < 0.85
    spouse = (slot == 1) & (r < 0.85)
    relation[spouse] = "spouse"
    male[spouse] = ~male[np.where(spouse)[0] - 1]
    age[spouse] = np.clip(h_age[spouse] + rng.integers(-4, 4, int(spouse.sum())), 20, 95)
    rest = ~head & ~spouse
    young_head = h_age < 45
    # Young head: children, sometimes a parent of the head in the last slot.
    last = slot == (size[hh] - 1)
    parent = rest & young_head & last & (size[hh] >= 4) & (r < 0.9)
    relation[parent] = np.where(rng.random(int(parent.sum())) < 0.5, "father", "mother")
    male[parent] = relation[parent] == "father"
    age[parent] = np.clip(h_age[parent] + 26 + rng.integers(-3, 6, int(parent.sum())), 45, 99)
    child = rest & ~parent & (young_head | (slot <= 3))
    male[child] = rng.random(int(child.sum())) < 0.52
    relation[child] = np.where(male[child], "son", "daughter")
    age[child] = np.where(
        young_head[child],
        rng.integers(0, np.maximum(h_age[child] - 19, 1)),
        np.clip(h_age[child] - 26 + rng.integers(-5, 5, int(child.sum())), 0, 70),
    )
    # Older head: grandchildren after the children; an adult son's wife sometimes lives in.
    grand = rest & ~parent & ~child
    in_law = grand & (r < 0.25)
    relation[in_law] = "daughter_in_law"
    male[in_law] = False
    age[in_law] = np.clip(h_age[in_law] - 27 + rng.integers(-4, 4, int(in_law.sum())), 18, 70)
    grandkid = grand & ~in_law
    male[grandkid] = rng.random(int(grandkid.sum())) < 0.52
    relation[grandkid] = np.where(male[grandkid], "grandson", "granddaughter")
    age[grandkid] = rng.integers(0, 16, int(grandkid.sum()))

    ref64 = np.datetime64(ref)
    birth = ref64 - (age * 365.25).astype("timedelta64[D]") - rng.integers(1, 365, n).astype("timedelta64[D]")
    region_draw = rng.random(n)
    regions = np.full(n, county, dtype="<U6")
    regions[region_draw < 0.10] = rng.choice(OTHER_BIJIE, int((region_draw < 0.10).sum()))
    old = (region_draw >= 0.10) & (region_draw < 0.14) & (age >= 15)
    regions[old] = RETIRED_CODES[0]
    outside = (
        (region_draw >= 0.14)
        & (region_draw < 0.15)
        & ((relation == "spouse") | (relation == "daughter_in_law"))
    )
    regions[outside] = rng.choice(OUTSIDE, int(outside.sum()))
    id_number = _ids(rng, regions, birth, male)
    name = draw_names(rng, male)
    # Children share the head's surname.
    head_index = np.cumsum(size) - size
    kin = np.isin(relation, ["son", "daughter", "grandson", "granddaughter"])
    head_surname = np.array([s[0] for s in name[head_index[hh[kin]]]])
    name[kin] = np.char.add(head_surname, np.array([s[1:] for s in name[kin]]))

    education = np.full(n, "", dtype=object)
    e = rng.random(n)
    old_cohort, mid, young = age >= 60, (age >= 35) & (age < 60), (age >= 18) & (age < 35)
    education[old_cohort] = np.where(
        e[old_cohort] < 0.45, "illiterate", np.where(e[old_cohort] < 0.85, "primary", "junior")
    )
    education[mid] = np.where(
        e[mid] < 0.1,
        "illiterate",
        np.where(e[mid] < 0.45, "primary", np.where(e[mid] < 0.85, "junior", "senior")),
    )
    education[young] = np.where(
        e[young] < 0.1,
        "primary",
        np.where(
            e[young] < 0.55,
            "junior",
            np.where(e[young] < 0.75, "senior", np.where(e[young] < 0.85, "vocational", "college")),
        ),
    )
    school_age = age < 18
    education[school_age & (age < 6)] = "preschool"
    education[school_age & (age >= 6) & (age < 12)] = "primary"
    education[school_age & (age >= 12)] = "junior"

    student = np.full(n, "not_student", dtype=object)
    student[(age >= 3) & (age < 6)] = "preschool"
    student[(age >= 6) & (age < 12)] = "primary"
    student[(age >= 12) & (age < 15)] = "junior"
    upper = (age >= 15) & (age < 18)
    student[upper] = np.where(
        e[upper] < 0.55, "senior", np.where(e[upper] < 0.85, "vocational", "not_student")
    )
    uni = (age >= 18) & (age < 22) & (e < 0.3)
    student[uni] = "college"

    h = rng.random(n)
    chronic_p = np.where(age < 40, 0.04, np.where(age < 60, 0.13, 0.30))
    health = np.full(n, "healthy", dtype=object)
    health[h < chronic_p] = "chronic"
    serious = rng.random(n) < 0.015
    health[serious] = "serious"
    disabled = rng.random(n) < np.where(age >= 60, 0.10, 0.045)
    health[disabled] = "disabled"
    disability_grade = np.where(disabled, rng.choice([1, 2, 3, 4], n, p=[0.1, 0.2, 0.3, 0.4]), 0)

    labour = np.full(n, "none", dtype=object)
    working_age = (age >= 16) & (age <= 60) & (student == "not_student")
    labour[working_age] = np.where(rng.random(int(working_age.sum())) < 0.15, "skilled", "ordinary")
    labour[(age > 60) & (age <= 70)] = "weak"
    labour[working_age & (health == "chronic") & (h < chronic_p * 0.3)] = "weak"
    labour[(age > 70)] = "lost"
    labour[(health == "serious") | ((health == "disabled") & (disability_grade <= 2))] = "lost"
    labour[age < 16] = "none"

    able = np.isin(labour, ["ordinary", "skilled"])
    m = rng.random(n)
    migrant = np.full(n, "none", dtype=object)
    migrant[able & (m < 0.30)] = "out_of_province"
    migrant[able & (m >= 0.30) & (m < 0.38)] = "in_province"
    migrant[able & (m >= 0.38) & (m < 0.50)] = "in_county"
    work_months = np.zeros(n, int)
    away = migrant != "none"
    work_months[away] = np.clip(rng.normal(8, 2.5, int(away.sum())), 1, 12).astype(int)
    insured = rng.random(n) < 0.98

    return Population(
        villages=villages,
        household_no=household_no,
        village=village,
        size=size,
        former_poor=former_poor,
        relocation=relocation,
        phone=phone,
        remoteness=remoteness,
        hh=hh,
        relation=relation,
        male=male,
        age=age,
        birth=birth,
        id_number=id_number,
        name=name,
        education=education,
        student=student,
        health=health,
        disability_grade=disability_grade,
        labour=labour,
        migrant=migrant,
        work_months=work_months,
        insured=insured,
    )
