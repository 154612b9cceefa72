"""The twelve department feeds: rows from `records*.py`, only what was reported within the window, sorted by report
date, then the noise departments really have (params.py): missing or Excel-damaged IDs, lower-case x, old 15-digit
IDs, homophone typos in names, birth dates off by a day, township instead of village codes. With `outsiders`, rows
about people outside the rural registry (urban residents, other counties) are mixed in: they must stay unlinked.
`truth/person_links.csv` gives every row's true person and household and the noise applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from . import params as P
from . import records as R
from . import records_econ as E
from .idnumbers import excel_damaged, first17, to_15, to_strings
from .model import Run
from .names import draw_given, draw_surnames, typo
from .records import FeedTable
from .writer import Column, array_column, write_csv

PERSON = ["证件号码", "姓名", "出生日期", "性别", "行政区划代码"]
Builder = Callable[[np.random.Generator, Run], FeedTable]
FEEDS: dict[str, tuple[list[str], Builder]] = {
    "medical_settlement": (
        ["结算日期", "医疗机构", "医疗总费用", "基本医保支付", "大病保险支付", "医疗救助支付", "个人自付"],
        R.medical_settlement,
    ),
    "illness_diagnosis": (["确诊日期", "疾病名称", "病种类别"], R.illness_diagnosis),
    "civil_assistance": (["起始日期", "救助类型", "救助金额", "终止日期"], R.civil_assistance),
    "death_registration": (["死亡日期"], R.death_registration),
    "disability_certificate": (["发证日期", "残疾类别", "残疾等级"], R.disability_certificate),
    "school_status": (["报告日期", "学校", "学段", "学籍状态"], R.school_status),
    "housing_appraisal": (["鉴定日期", "鉴定等级", "原因"], E.housing_appraisal),
    "water_incident": (["报告日期", "问题类型", "持续天数"], E.water_incident),
    "disaster_loss": (["灾害日期", "灾种", "直接经济损失"], E.disaster_loss),
    "employment_change": (["变动日期", "变动类型", "月工资"], E.employment_change),
    "accident": (["事故日期", "伤情"], E.accident),
    "microcredit": (["到期日", "逾期天数", "贷款余额"], E.microcredit),
}
VILLAGE_LEVEL = ("water_incident",)
LINK_HEADER = [
    "feed_key",
    "file_row",
    "data_row",
    "id_number",
    "household_no",
    "village_code",
    "in_registry",
    "source",
    "record_date",
    "report_date",
    "noise",
]


def header(key: str) -> list[str]:
    own = FEEDS[key][0]
    return ["行政区划代码", *own] if key in VILLAGE_LEVEL else PERSON + own


@dataclass
class People:
    """Person columns of a feed's rows: registry members and outsiders alike."""

    id_number: np.ndarray
    name: np.ndarray
    birth: np.ndarray
    male: np.ndarray
    village_code: np.ndarray
    household_no: np.ndarray  # "" for outsiders

    def take(self, index: np.ndarray) -> People:
        return People(*(getattr(self, f.name)[index] for f in fields(self)))


def _outsiders(rng: np.random.Generator, r: Run, n: int) -> People:
    """People of the county who are not in the rural registry: mostly urban residents of the town communities."""
    county = r.pop.county
    male = rng.random(n) < 0.5
    age = np.clip(rng.normal(45, 20, n), 0, 95).astype(np.int64)
    birth = np.datetime64(r.pop.start, "D") - (age * 365.25 + rng.integers(1, 365, n)).astype(
        "timedelta64[D]"
    )
    others = np.array(county.same_city)[rng.integers(0, len(county.same_city), n)]
    regions = np.where(rng.random(n) < 0.85, county.code, others)
    ids = to_strings(first17(rng, regions, birth, male, taken=np.sort(r.pop.id17)))
    born = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    name = np.char.add(draw_surnames(rng, n), draw_given(rng, male, born))
    pool = np.flatnonzero(county.community) if county.community.any() else np.arange(county.villages)
    village = np.where(
        rng.random(n) < 0.7, pool[rng.integers(0, len(pool), n)], rng.integers(0, county.villages, n)
    )
    return People(ids, name, birth, male, county.village_codes[village], np.full(n, "", dtype="<U17"))


def _select(t: FeedTable, r: Run) -> FeedTable:
    """What the department exported within the window, in report order."""
    start = np.datetime64(r.tl.month_start(r.tl.first), "D")
    end = np.datetime64(r.tl.month_start(r.tl.end), "D")
    idx = np.flatnonzero((t.report >= start) & (t.report < end) & (t.date < end))
    idx = idx[np.lexsort((t.person[idx], t.date[idx], t.report[idx]))]
    village = None if t.village is None else t.village[idx]
    fields_ = {k: v[idx] for k, v in t.fields.items()}
    return FeedTable(t.person[idx], t.source[idx], t.date[idx], t.report[idx], fields_, village)


def _with_outsiders(
    rng: np.random.Generator, key: str, t: FeedTable, share: float
) -> tuple[FeedTable, np.ndarray]:
    """Add rows about outsiders (a copy of a random row's own fields), in report order; returns the outsider mask."""
    extra = round(len(t) * share / (1 - share)) if len(t) and share else 0
    if not extra:
        return t, np.zeros(len(t), bool)
    src = rng.integers(0, len(t), extra)
    order = np.lexsort((np.concatenate([t.date, t.date[src]]), np.concatenate([t.report, t.report[src]])))

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[order]

    mixed = FeedTable(
        person=mix(t.person, np.full(extra, -1)),
        source=mix(t.source, np.full(extra, "outsider", dtype=object)),
        date=mix(t.date, t.date[src]),
        report=mix(t.report, t.report[src]),
        fields={k: mix(v, v[src]) for k, v in t.fields.items()},
    )
    return mixed, mix(np.zeros(len(t), bool), np.ones(extra, bool))


def _noise(rng: np.random.Generator, key: str, p: People, namesake: np.ndarray) -> tuple[People, np.ndarray]:
    n = len(p.id_number)
    ids = p.id_number.astype(object)
    digit_end = ~np.char.endswith(p.id_number, "X")
    missing = rng.random(n) < P.MISSING_ID
    damaged = ~missing & digit_end & (rng.random(n) < P.EXCEL_DAMAGED)
    born = p.birth.astype("datetime64[Y]").astype(np.int64) + 1970
    old = np.zeros(n, bool)
    if key in ("civil_assistance", "death_registration"):
        old = ~missing & ~damaged & (born < 2000) & (born >= 1900) & (rng.random(n) < P.ID15)
    lower = ~missing & ~damaged & ~old & ~digit_end & (rng.random(n) < P.LOWER_X)
    ids[missing] = ""
    ids[damaged] = np.array(excel_damaged(p.id_number[damaged].tolist()), dtype=object)
    ids[old] = np.array(to_15(p.id_number[old].tolist()), dtype=object)
    ids[lower] = np.char.lower(p.id_number[lower]).astype(object)
    names = p.name.astype(object)
    changed = np.zeros(n, bool)
    for i in np.flatnonzero(rng.random(n) < P.NAME_TYPO).tolist():
        new = typo(str(names[i]), rng)
        changed[i] = new != names[i]
        names[i] = new
    birth = p.birth.copy()
    wrong = rng.random(n) < P.BIRTH_ERROR
    birth[wrong] += np.where(rng.random(int(wrong.sum())) < 0.5, -1, 1).astype("timedelta64[D]")
    codes = p.village_code.astype(object)
    township = rng.random(n) < P.TOWNSHIP_CODE
    codes[township] = [c[:9] + "000" for c in p.village_code[township].tolist()]
    tags = np.full(n, "", dtype=object)
    for mask, tag in (
        (missing, "missing_id"),
        (damaged, "excel_damaged"),
        (old, "id15"),
        (lower, "lower_x"),
        (changed, "name_typo"),
        (wrong, "birth_error"),
        (township, "township_code"),
        (namesake, "namesake"),
    ):
        tags[mask] = tags[mask] + (tag + ";")
    tags = np.array([t[:-1] for t in tags.tolist()], dtype=object)
    return People(ids, names, birth, p.male, codes, p.household_no), tags


def _namesake_index(r: Run) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys (village × name) of registry names shared by two or more people of a village, and the names."""
    names, name_id = np.unique(r.pop.name, return_inverse=True)
    key = r.pop.village[r.pop.hh].astype(np.int64) * len(names) + name_id
    uniq, counts = np.unique(key, return_counts=True)
    return uniq[counts > 1], names


def _is_namesake(r: Run, index: tuple[np.ndarray, np.ndarray], people: People) -> np.ndarray:
    shared, names = index
    village = np.searchsorted(r.pop.county.village_codes, people.village_code)
    pos = np.clip(np.searchsorted(names, people.name), 0, len(names) - 1)
    key = village.astype(np.int64) * len(names) + pos
    return (names[pos] == people.name) & np.isin(key, shared)


def _people(r: Run, t: FeedTable, outsider: np.ndarray, guests: People) -> People:
    pop = r.pop
    person = np.where(outsider, 0, t.person)
    h = pop.hh[person]
    people = People(
        id_number=pop.id_number[person],
        name=pop.name[person],
        birth=pop.birth[person],
        male=pop.male[person],
        village_code=pop.county.village_codes[pop.village[h]],
        household_no=pop.household_no[h],
    )
    for f in fields(People):
        values = getattr(people, f.name)
        values[outsider] = getattr(guests, f.name)
    return people


def build_and_write(
    rng: np.random.Generator, r: Run, out: Path, outsiders: bool = False
) -> dict[str, object]:
    """Write feeds/<key>.csv and truth/person_links.csv; returns rows per feed and the noise measured."""
    tables = {key: _select(builder(rng, r), r) for key, (_own, builder) in FEEDS.items()}
    mixed = {
        key: _with_outsiders(rng, key, t, P.OUTSIDERS.get(key, 0.0) if outsiders else 0.0)
        for key, t in tables.items()
        if key not in VILLAGE_LEVEL
    }
    needed = sum(int(mask.sum()) for _t, mask in mixed.values())
    pool = (
        _outsiders(rng, r, max(1, needed // 2)) if needed else None
    )  # an outsider often shows up in several feeds
    index = _namesake_index(r)
    counts: dict[str, int] = {}
    tally = {"person_rows": 0, "without_id": 0, "outsider_rows": 0, "namesake_rows": 0, "typo_rows": 0}
    links: list[tuple[str, list[Column], int]] = []
    for key, (own, _builder) in FEEDS.items():
        if key in VILLAGE_LEVEL:
            t = tables[key]
            assert t.village is not None
            codes = r.pop.county.village_codes[t.village]
            n = len(t)
            cols = [array_column(codes)] + [array_column(t.fields[h]) for h in own]
            counts[key] = write_csv(out / "feeds" / f"{key}.csv", header(key), cols, n)
            blank = np.full(n, "", dtype=object)
            truth = [
                blank,
                blank,
                codes,
                blank,
                t.source,
                t.date,
                t.report,
                np.full(n, "village", dtype=object),
            ]
            links.append((key, [array_column(c) for c in truth], n))
            continue
        t, outsider = mixed[key]
        n = len(t)
        guests = pool.take(rng.integers(0, len(pool.id_number), int(outsider.sum()))) if pool else _none()
        people = _people(r, t, outsider, guests)
        namesake = _is_namesake(r, index, people)
        noisy, tags = _noise(rng, key, people, namesake)
        sex = np.where(noisy.male, "男", "女").astype(object)
        values = [noisy.id_number, noisy.name, noisy.birth, sex, noisy.village_code]
        values += [t.fields[h] for h in own]
        counts[key] = write_csv(
            out / "feeds" / f"{key}.csv", header(key), [array_column(v) for v in values], n
        )
        in_registry = np.where(outsider, "0", "1").astype(object)
        truth = [people.id_number, people.household_no, people.village_code, in_registry, t.source, t.date]
        truth += [t.report, tags]
        links.append((key, [array_column(c) for c in truth], n))
        tally["person_rows"] += n
        tally["without_id"] += int((noisy.id_number == "").sum())
        tally["outsider_rows"] += int(outsider.sum())
        tally["namesake_rows"] += int(namesake.sum())
        tally["typo_rows"] += sum("name_typo" in x for x in tags.tolist())
    _write_links(out, links)
    return {"files": counts, **tally}


def _none() -> People:
    empty = np.zeros(0, "<U18")
    return People(empty, empty, np.zeros(0, "datetime64[D]"), np.zeros(0, bool), empty, empty)


def _write_links(out: Path, links: list[tuple[str, list[Column], int]]) -> None:
    """truth/person_links.csv: file_row is the line in the feed file (header = line 1), data_row counts from 1."""
    total = sum(n for _k, _c, n in links)
    starts = np.cumsum([0] + [n for _k, _c, n in links])
    key = np.repeat(np.arange(len(links)), [n for _k, _c, n in links])
    data_row = np.arange(total) - starts[key] + 1
    names = np.array([k for k, _c, _n in links], dtype=object)

    def merged(j: int) -> Column:
        def cells(part: slice) -> np.ndarray:
            chunks = []
            for i, (_k, cols, n) in enumerate(links):
                lo, hi = max(part.start, starts[i]), min(part.stop, starts[i] + n)
                if lo < hi:
                    chunks.append(np.asarray(cols[j](slice(lo - starts[i], hi - starts[i]))))
            return np.concatenate(chunks) if chunks else np.zeros(0, dtype=object)

        return cells

    columns = [array_column(names[key]), array_column(data_row + 1), array_column(data_row)]
    columns += [merged(j) for j in range(8)]
    write_csv(out / "truth" / "person_links.csv", LINK_HEADER, columns, total)
