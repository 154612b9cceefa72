"""Households and members of the county, vectorised (a million households in seconds).

Households are placed in the real villages; each gets a size, a head, and members filled from family templates
(nuclear family; young couple with the head's parents; older head with a married son, daughter-in-law and
grandchildren). Then birth dates, ID numbers, names, school stage, education, health, labour capacity, migrant work,
insurance and the household type. Codes index the vocabularies of `engine.vocab` (see `codes.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from . import params as P
from .codes import EDU, HEALTH, LAB, REL
from .idnumbers import first17, to_strings, ymd
from .names import draw_given, draw_surnames
from .places import RETIRED_UNTIL, County
from .schooling import age_on, school_year_of, stage
from .traits import assign_traits


@dataclass
class Population:
    county: County
    start: date
    # households
    household_no: np.ndarray  # <U17: village code + 5-digit sequence
    village: np.ndarray  # index into the county's villages (households are sorted by village)
    size: np.ndarray
    first: np.ndarray  # index of the head (the household's first member)
    remoteness: np.ndarray
    former_poor: np.ndarray
    relocated: np.ndarray
    phone: np.ndarray
    # members, grouped by household, head first
    hh: np.ndarray
    relation: np.ndarray  # REL codes
    male: np.ndarray
    age: np.ndarray  # completed years at the start date
    birth: np.ndarray  # datetime64[D]
    id17: np.ndarray  # int64: the first 17 digits
    id_number: np.ndarray  # <U18
    surname: np.ndarray
    name: np.ndarray
    education: np.ndarray  # EDU codes
    student: np.ndarray  # STU codes
    health: np.ndarray  # HEALTH codes
    disability_grade: np.ndarray  # 0 = none
    labour: np.ndarray  # LAB codes
    migrant: np.ndarray  # MIG codes
    work_months: np.ndarray
    insured: np.ndarray
    school_u: np.ndarray  # (members, 2): propensities for upper secondary school and college

    @property
    def households(self) -> int:
        return len(self.household_no)

    @property
    def members(self) -> int:
        return len(self.hh)

    @property
    def village_code(self) -> np.ndarray:
        """Village code per household."""
        return self.county.village_codes[self.village]

    def per_household(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.hh, weights=values, minlength=self.households)


def _place(rng: np.random.Generator, county: County, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Village per household (sorted), remoteness of the place the household comes from, and relocation: relocated
    households live in the resettlement communities (居委会) of the towns but come from remote villages."""
    weights = rng.lognormal(0.0, P.VILLAGE_WEIGHT_SIGMA, county.villages)
    relocated = rng.random(n) < (P.RELOCATED if county.community.any() else 0.0)
    weights[county.community] *= P.COMMUNITY_WEIGHT
    remote = rng.beta(2.0, 3.0, county.villages)
    remote[county.community] *= 0.4  # towns: better roads and markets
    village = rng.choice(county.villages, size=n, p=weights / weights.sum())
    if relocated.any():
        w = np.where(county.community, weights, 0.0)
        village[relocated] = rng.choice(county.villages, size=int(relocated.sum()), p=w / w.sum())
    remoteness = np.where(relocated, rng.beta(4.0, 2.0, n), remote[village])
    order = np.argsort(village, kind="stable")
    return village[order], remoteness[order], relocated[order]


def _household_no(county: County, village: np.ndarray) -> np.ndarray:
    starts = np.searchsorted(village, np.arange(county.villages))
    seq = np.arange(len(village)) - starts[village] + 1
    return np.char.add(county.village_codes[village], np.char.zfill(seq.astype("U5"), 5))


def _head_age(rng: np.random.Generator, size: np.ndarray) -> np.ndarray:
    mean = np.select([size == 1, size == 2, size <= 4], [67.0, 63.0, 40.0], 55.0)
    return np.clip(rng.normal(mean, 12.0), 24, 95).astype(np.int64)


def _members(rng: np.random.Generator, size: np.ndarray, head_age: np.ndarray) -> dict[str, np.ndarray]:
    """Relation, sex and age for every member slot."""
    n_h = len(size)
    hh = np.repeat(np.arange(n_h), size)
    first = np.cumsum(size) - size
    slot = np.arange(len(hh)) - first[hh]
    h_age = head_age[hh]
    head_male = rng.random(n_h) < P.HEAD_MALE
    spouse_hh = (size >= 2) & (rng.random(n_h) < P.SPOUSE_PRESENT) & (head_age < 85)
    rest = size - 1 - spouse_hh  # slots after head and spouse
    # Family template per household: 0 nuclear, 1 with the head's parents, 2 with a married son's family.
    u = rng.random(n_h)
    template = np.where(
        head_age < 42,
        np.where((rest >= 2) & (u < 0.40), 1, 0),
        np.where(head_age < 55, np.where(u < 0.18, 1, np.where(u < 0.33, 2, 0)), np.where(u < 0.72, 2, 0)),
    )
    template[(rest < 2) & (template == 1)] = 0
    n_parents = np.where(template == 1, np.minimum(rest - 1, np.where(rng.random(n_h) < 0.5, 2, 1)), 0)
    married_child_dil = (template == 2) & (rest >= 3) & (rng.random(n_h) < 0.88)
    son_in_law = (template == 2) & (rng.random(n_h) < 0.08)  # uxorilocal marriage: a daughter and her 女婿

    rel = np.full(len(hh), REL["son"], np.int64)
    male = rng.random(len(hh)) < P.BOY_SHARE
    age = np.zeros(len(hh), np.int64)
    is_head = slot == 0
    rel[is_head] = REL["head"]
    male[is_head] = head_male
    age[is_head] = head_age
    k = slot - 1 - spouse_hh[hh]  # position among the remaining slots
    is_spouse = (slot == 1) & spouse_hh[hh]
    rel[is_spouse] = REL["spouse"]
    male[is_spouse] = ~head_male[hh[is_spouse]]
    shift = np.where(male[is_spouse], 2, -2)
    age[is_spouse] = np.clip(h_age[is_spouse] + shift + rng.integers(-3, 4, int(is_spouse.sum())), 18, 99)
    mother_age = h_age + np.where(head_male[hh] & spouse_hh[hh], -2, 0)
    gap = rng.uniform(1.5, 4.0, n_h)[hh]
    first_child = np.maximum(mother_age - rng.integers(20, 28, len(hh)), 0)

    t = template[hh]
    parent = (t == 1) & (k >= rest[hh] - n_parents[hh]) & (k >= 0)
    lone_father = (n_parents[hh] == 1) & (rng.random(len(hh)) < 0.4)
    father = parent & (((n_parents[hh] == 2) & (k == rest[hh] - 1)) | lone_father)
    rel[parent] = np.where(father[parent], REL["father"], REL["mother"])
    male[parent] = father[parent]
    age[parent] = np.clip(h_age[parent] + rng.integers(22, 33, int(parent.sum())), 45, 99)

    child = (k >= 0) & ((t == 0) | ((t == 1) & ~parent))
    age[child] = np.clip(first_child[child] - (k[child] * gap[child]).astype(np.int64), 0, 80)
    rel[child] = np.where(male[child], REL["son"], REL["daughter"])

    down = (k >= 0) & (t == 2)
    married = down & (k == 0)
    in_law = down & (k == 1) & married_child_dil[hh]
    grand = down & ~married & ~in_law
    married_age = np.clip(h_age - rng.integers(22, 31, len(hh)), 18, 75)
    male[married] = ~son_in_law[hh[married]]
    rel[married] = np.where(male[married], REL["son"], REL["daughter"])
    age[married] = married_age[married]
    male[in_law] = son_in_law[hh[in_law]]
    rel[in_law] = np.where(male[in_law], REL["son_in_law"], REL["daughter_in_law"])
    age[in_law] = np.clip(married_age[in_law] + rng.integers(-3, 3, int(in_law.sum())), 18, 75)
    g = k - 1 - married_child_dil[hh]
    first_grand = np.maximum(married_age - rng.integers(20, 27, len(hh)), 0)
    age[grand] = np.clip(first_grand[grand] - (g[grand] * gap[grand]).astype(np.int64), 0, 50)
    rel[grand] = np.where(male[grand], REL["grandson"], REL["granddaughter"])
    # A few households also keep an unmarried sibling of the head or another relative.
    other = (k >= 0) & (t == 0) & (h_age < 60) & (rng.random(len(hh)) < 0.02)
    rel[other] = np.where(rng.random(int(other.sum())) < 0.75, REL["sibling"], REL["other"])
    age[other] = np.clip(h_age[other] + rng.integers(-10, 8, int(other.sum())), 16, 95)
    return {"hh": hh, "first": first, "relation": rel, "male": male, "age": age}


def _regions(rng: np.random.Generator, county: County, rel: np.ndarray, birth: np.ndarray) -> np.ndarray:
    n = len(rel)
    regions = np.full(n, county.code, dtype="<U6")
    married_in = np.isin(rel, [REL["spouse"], REL["daughter_in_law"], REL["son_in_law"], REL["mother"]])
    elsewhere = np.where(married_in, P.BORN_ELSEWHERE_SPOUSE, P.OTHER_BORN_ELSEWHERE) > rng.random(n)
    where = rng.choice(3, size=n, p=P.ELSEWHERE_SPLIT)
    for i, pool in enumerate((county.same_city, county.same_province, county.neighbours)):
        mask = elsewhere & (where == i)
        regions[mask] = np.array(pool)[rng.integers(0, len(pool), int(mask.sum()))]
    if county.retired:
        born_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        old = ~elsewhere & (born_year <= RETIRED_UNTIL) & (rng.random(n) < P.RETIRED_CODE_SHARE)
        regions[old] = np.array(county.retired)[rng.integers(0, len(county.retired), int(old.sum()))]
    return regions


def _names(
    rng: np.random.Generator, m: dict[str, np.ndarray], birth_year: np.ndarray, village: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    hh, rel, male = m["hh"], m["relation"], m["male"]
    n = len(hh)
    own = draw_surnames(rng, n)
    # The family surname is the male head's, or the husband's when the head is a woman.
    is_head, is_spouse = rel == REL["head"], rel == REL["spouse"]
    family = own[m["first"]].copy()
    husband = is_spouse & male
    family[hh[husband]] = own[husband]
    kin = ("son", "daughter", "grandson", "granddaughter", "father", "sibling")
    inherits = np.isin(rel, [REL[r] for r in kin]) | (is_head & male)
    surname = np.where(inherits | husband, family[hh], own)
    given = draw_given(rng, male, birth_year)
    # Namesakes beyond chance: a few people share the full name of an unrelated same-sex villager of the same
    # surname (another household, another birth date) — the case that defeats name-only matching.
    v = village[hh]
    order = np.lexsort((rng.random(n), male, surname, v))
    prev, cur = order[:-1], order[1:]
    same = (v[prev] == v[cur]) & (surname[prev] == surname[cur]) & (male[prev] == male[cur])
    same &= hh[prev] != hh[cur]
    pick = same & (rng.random(n - 1) < 0.02)
    given[cur[pick]] = given[prev[pick]]
    return surname, np.char.add(surname, given)


def ages_at(birth: np.ndarray, day: date) -> np.ndarray:
    """Completed years at `day` for datetime64[D] birth dates."""
    return (day.year * 10000 + day.month * 100 + day.day - ymd(birth)) // 10000


def _household_type(
    rng: np.random.Generator,
    remoteness: np.ndarray,
    relocated: np.ndarray,
    hh: np.ndarray,
    traits: dict[str, np.ndarray],
    first: np.ndarray,
    size: np.ndarray,
) -> np.ndarray:
    """脱贫户 (formerly registered poor): the poorest by a score of remoteness, the head's education, disability or
    serious illness, few labourers, a large family and relocation — exactly FORMER_POOR_TARGET of households."""
    n_h = len(size)
    low_edu = np.isin(traits["education"][first], [EDU["illiterate"], EDU["primary"]])
    sick_member = np.isin(traits["health"], [HEALTH["disabled"], HEALTH["serious"]])
    sick = np.bincount(hh, weights=sick_member, minlength=n_h) > 0
    able_member = np.isin(traits["labour"], [LAB["ordinary"], LAB["skilled"]])
    able = np.bincount(hh, weights=able_member, minlength=n_h)
    score = 2.5 * remoteness + 0.7 * low_edu + 0.6 * sick + 0.3 * (size >= 6) - 0.25 * able + 3.0 * relocated
    score += rng.logistic(0.0, 0.35, n_h)
    return score > np.quantile(score, 1.0 - P.FORMER_POOR_TARGET)


def generate(rng: np.random.Generator, county: County, households: int, start: date) -> Population:
    village, remoteness, relocated = _place(rng, county, households)
    size = rng.choice(np.arange(1, 9), size=households, p=np.array(P.SIZE_P) / sum(P.SIZE_P))
    m = _members(rng, size, _head_age(rng, size))
    hh, first = m["hh"], m["first"]
    days = (m["age"] * 365.25).astype(np.int64) + rng.integers(1, 365, len(hh))
    birth = np.datetime64(start, "D") - days.astype("timedelta64[D]")
    age = ages_at(birth, start)
    born_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    regions = _regions(rng, county, m["relation"], birth)
    id17 = first17(rng, regions, birth, m["male"])
    surname, name = _names(rng, m, born_year, village)
    school_u = rng.random((len(hh), 2))
    student = stage(age_on(birth, date(school_year_of(start), 9, 1)), school_u[:, 0], school_u[:, 1])
    traits = assign_traits(rng, hh, age, m["male"], student)
    former_poor = _household_type(rng, remoteness, relocated, hh, traits, first, size)
    prefixes = np.array(["139", "138", "152", "158", "187", "189", "177", "198", "135", "182"])
    phone = np.char.add(
        prefixes[rng.integers(0, len(prefixes), households)],
        np.char.zfill(rng.integers(0, 10**8, households).astype("U8"), 8),
    )
    return Population(
        county=county,
        start=start,
        household_no=_household_no(county, village),
        village=village,
        size=size,
        first=first,
        remoteness=remoteness,
        former_poor=former_poor,
        relocated=relocated,
        phone=phone,
        hh=hh,
        relation=m["relation"],
        male=m["male"],
        age=age,
        birth=birth,
        id17=id17,
        id_number=to_strings(id17),
        surname=surname,
        name=name,
        education=traits["education"],
        student=student,
        health=traits["health"],
        disability_grade=traits["grade"],
        labour=traits["labour"],
        migrant=traits["migrant"],
        work_months=traits["months"],
        insured=traits["insured"],
        school_u=school_u,
    )
