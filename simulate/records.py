"""The rows each department keeps (INTERCHANGE §3), built from the run: records that follow the shocks, with the
department's own lag between event and report, plus routine records unrelated to any shock. Person columns and
noise are added in `feeds.py`; houses, water, disasters, jobs, accidents and loans are in `records_econ.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from . import params as P
from .assistance import BENEFITS
from .codes import HEALTH, STU
from .model import Run
from .schooling import age_on, stage
from .shocks import DISABILITY_CATEGORIES, DISABILITY_CATEGORY_P
from .timeline import KIND, RISK

SERIOUS_DISEASES = tuple(
    [
        "恶性肿瘤",
        "尿毒症",
        "脑梗死",
        "白血病",
        "急性心肌梗死",
        "重性精神病",
        "耐多药肺结核",
        "儿童先天性心脏病",
    ]
)
CHRONIC_DISEASES = tuple(
    [
        "高血压",
        "2型糖尿病",
        "慢性阻塞性肺疾病",
        "类风湿关节炎",
        "冠心病",
        "肺结核",
        "慢性乙型肝炎",
        "脑卒中后遗症",
        "帕金森病",
    ]
)
INJURIES = ("轻伤", "重伤", "死亡")
STAGE_NAMES = {STU["preschool"]: "学前", STU["primary"]: "小学", STU["junior"]: "初中", STU["senior"]: "高中"}
STAGE_NAMES.update({STU["vocational"]: "中职", STU["college"]: "大专及以上"})
COLLEGES = tuple(
    [
        "贵州大学",
        "贵州师范大学",
        "贵州医科大学",
        "毕节医学高等专科学校",
        "贵州工程应用技术学院",
        "六盘水师范学院",
    ]
)


@dataclass
class FeedTable:
    person: np.ndarray  # member index
    source: np.ndarray  # object: the event kind behind the row, or the routine record type
    date: np.ndarray  # datetime64[D]: the record's own date
    report: np.ndarray  # datetime64[D]: when the department's export first contains the row
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    village: np.ndarray | None = None  # village-level rows (water incidents)

    def __len__(self) -> int:
        return len(self.date)


def days(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    return rng.integers(lo, hi, n).astype("timedelta64[D]")


def table(
    rng: np.random.Generator,
    person: np.ndarray,
    source: object,
    day: np.ndarray,
    lag: tuple[int, int],
    **columns: np.ndarray,
) -> FeedTable:
    n = len(person)
    return FeedTable(
        person=np.asarray(person, np.int64),
        source=np.broadcast_to(np.asarray(source, dtype=object), (n,)).copy(),
        date=day,
        report=day + days(rng, lag[0], lag[1], n),
        fields=dict(columns),
    )


def concat(parts: list[FeedTable]) -> FeedTable:
    keys = list(parts[0].fields)
    return FeedTable(
        person=np.concatenate([p.person for p in parts]),
        source=np.concatenate([p.source for p in parts]),
        date=np.concatenate([p.date for p in parts]),
        report=np.concatenate([p.report for p in parts]),
        fields={k: np.concatenate([p.fields[k] for p in parts]) for k in keys},
    )


def of_kind(r: Run, name: str) -> np.ndarray:
    return np.flatnonzero(r.events.kind == KIND[name])


def random_days(rng: np.random.Generator, r: Run, n: int) -> np.ndarray:
    return r.tl.random_days(rng, rng.integers(r.tl.first, r.tl.end, n))


def constant(value: str, n: int) -> np.ndarray:
    return np.full(n, value, dtype=object)


def medical_settlement(rng: np.random.Generator, r: Run) -> FeedTable:
    s = r.settlements
    township = r.pop.county.township_names[r.pop.village[s.household]].astype(object)
    hospital = np.empty(len(s), dtype=object)
    for level, names in enumerate(r.hospital_names):
        mask = s.level == level
        pool = np.array(names, dtype=object)
        hospital[mask] = pool[np.minimum(s.hospital[mask], len(pool) - 1)]
    hospital[s.level == 0] = township[s.level == 0] + "卫生院"
    source = np.where(s.risk == RISK["05"], "accident", "hospital_stay").astype(object)
    return table(
        rng,
        s.person,
        source,
        s.day,
        (5, 40),
        结算日期=s.day,
        医疗机构=hospital,
        医疗总费用=s.total,
        基本医保支付=s.fund,
        大病保险支付=s.critical,
        医疗救助支付=s.assistance,
        个人自付=s.personal,
    )


def illness_diagnosis(rng: np.random.Generator, r: Run) -> FeedTable:
    ev, pop = r.events, r.pop
    parts = []
    for kind, names, label in (
        ("serious_illness", SERIOUS_DISEASES, "大病"),
        ("chronic_illness", CHRONIC_DISEASES, "慢病"),
    ):
        i = of_kind(r, kind)
        day = ev.day[i] + days(rng, 0, 20, len(i))
        disease = np.array(names, dtype=object)[ev.detail[i] % len(names)]
        parts.append(
            table(
                rng,
                ev.person[i],
                kind,
                day,
                (3, 30),
                确诊日期=day,
                疾病名称=disease,
                病种类别=constant(label, len(i)),
            )
        )
    known = np.flatnonzero(np.isin(pop.health, [HEALTH["chronic"], HEALTH["serious"]]))
    person = np.repeat(known, rng.poisson(P.BACKGROUND["chronic_followup"] * r.tl.months / 12, len(known)))
    serious = pop.health[person] == HEALTH["serious"]
    disease = np.where(
        serious,
        np.array(SERIOUS_DISEASES, dtype=object)[rng.integers(0, len(SERIOUS_DISEASES), len(person))],
        np.array(CHRONIC_DISEASES, dtype=object)[rng.integers(0, len(CHRONIC_DISEASES), len(person))],
    )
    day = random_days(rng, r, len(person))
    severity = np.where(serious, "大病", "慢病").astype(object)
    parts.append(
        table(rng, person, "followup", day, (3, 30), 确诊日期=day, 疾病名称=disease, 病种类别=severity)
    )
    return concat(parts)


def civil_assistance(rng: np.random.Generator, r: Run) -> FeedTable:
    g = r.grants
    start = np.datetime64(r.tl.month_start(r.tl.first), "D")
    benefit = np.array(BENEFITS, dtype=object)[g.benefit]
    t = table(
        rng,
        g.person,
        benefit,
        g.day,
        (0, 1),
        起始日期=g.day,
        救助类型=benefit,
        救助金额=g.amount,
        终止日期=g.end,
    )
    t.report = np.maximum(g.day, start) + days(rng, 5, 30, len(g))  # standing recipients: the first list sent
    t.source = np.where(g.day < start, "standing", t.source)
    return t


def death_registration(rng: np.random.Generator, r: Run) -> FeedTable:
    ev = r.events
    died = np.isin(ev.kind, [KIND["death"], KIND["labourer_death"]])
    died |= (ev.kind == KIND["accident"]) & (ev.detail == 2)
    i = np.flatnonzero(died)
    kinds = np.array(list(KIND), dtype=object)[ev.kind[i]]
    return table(rng, ev.person[i], kinds, ev.day[i], (0, 30), 死亡日期=ev.day[i])


def disability_certificate(rng: np.random.Generator, r: Run) -> FeedTable:
    ev, pop = r.events, r.pop
    i = of_kind(r, "disability")
    day = ev.day[i] + days(rng, 30, 120, len(i))
    cats = np.array(DISABILITY_CATEGORIES, dtype=object)
    category = cats[ev.extra[i].astype(np.int64)]
    new = table(
        rng, ev.person[i], "disability", day, (5, 30), 发证日期=day, 残疾类别=category, 残疾等级=ev.detail[i]
    )
    known = np.flatnonzero(pop.disability_grade > 0)
    renew = known[rng.random(len(known)) < P.BACKGROUND["certificate_renewal"] * r.tl.months / 12]
    day = random_days(rng, r, len(renew))
    category = cats[rng.choice(len(cats), size=len(renew), p=DISABILITY_CATEGORY_P)]
    grade = pop.disability_grade[renew]
    old = table(rng, renew, "renewal", day, (5, 30), 发证日期=day, 残疾类别=category, 残疾等级=grade)
    return concat([new, old])


def school_names(rng: np.random.Generator, r: Run, person: np.ndarray, st: np.ndarray) -> np.ndarray:
    pop = r.pop
    short = pop.county.short_name
    township = pop.county.township_names[pop.village[pop.hh[person]]].astype(object)
    name = township + "中心小学"
    name[st == STU["preschool"]] = township[st == STU["preschool"]] + "中心幼儿园"
    name[st == STU["junior"]] = township[st == STU["junior"]] + "中学"
    seniors = np.array([f"{short}第一中学", f"{short}第二中学", f"{short}民族中学"], dtype=object)
    name[st == STU["senior"]] = seniors[rng.integers(0, 3, int((st == STU["senior"]).sum()))]
    name[st == STU["vocational"]] = f"{short}中等职业学校"
    colleges = np.array(COLLEGES, dtype=object)
    name[st == STU["college"]] = colleges[rng.integers(0, len(colleges), int((st == STU["college"]).sum()))]
    return name


def _school_rows(
    rng: np.random.Generator,
    r: Run,
    person: np.ndarray,
    st: np.ndarray,
    source: str,
    day: np.ndarray,
    status: str,
) -> FeedTable:
    stage_name = np.array([STAGE_NAMES.get(i, "") for i in range(len(STU))], dtype=object)
    return table(
        rng,
        person,
        source,
        day,
        (0, 10),
        报告日期=day,
        学校=school_names(rng, r, person, st),
        学段=stage_name[st],
        学籍状态=constant(status, len(person)),
    )


def school_status(rng: np.random.Generator, r: Run) -> FeedTable:
    """Dropouts (辍学) and returns (在读), pupils off school for a serious illness (休学), and every autumn the
    student-aid list: all enrolled students of former-poor households."""
    ev, pop, tl = r.events, r.pop, r.tl
    i = of_kind(r, "dropout")
    parts = [
        _school_rows(
            rng, r, ev.person[i], ev.detail[i], "dropout", ev.day[i] + days(rng, 15, 60, len(i)), "辍学"
        )
    ]
    back = i[ev.extra[i] > 0]
    day = ev.day[back] + (ev.extra[back] * 30).astype("timedelta64[D]") + days(rng, 0, 20, len(back))
    parts.append(_school_rows(rng, r, ev.person[back], ev.detail[back], "dropout_return", day, "在读"))
    ill = of_kind(r, "serious_illness")
    pupils = ill[pop.student[ev.person[ill]] != STU["not_student"]]
    day = ev.day[pupils] + days(rng, 10, 40, len(pupils))
    parts.append(
        _school_rows(
            rng, r, ev.person[pupils], pop.student[ev.person[pupils]], "serious_illness", day, "休学"
        )
    )
    autumns = sorted(
        {tl.month_start(m).year for m in range(tl.first, tl.end) if tl.month_start(m).month == 10}
    )
    for year in autumns:
        st = stage(age_on(pop.birth, date(year, 9, 1)), pop.school_u[:, 0], pop.school_u[:, 1])
        listed = np.flatnonzero(
            (st != STU["not_student"]) & (st != STU["preschool"]) & pop.former_poor[pop.hh]
        )
        day = np.datetime64(date(year, 10, 15), "D") + days(rng, 0, 20, len(listed))
        parts.append(_school_rows(rng, r, listed, st[listed], "student_aid", day, "在读"))
    return concat(parts)
