"""The synthetic county: a calibrated population of a real county, its income, month-by-month shocks, the
department records they leave, and the ground truth — written in the INTERCHANGE formats. See MODEL.md."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from engine import vocab

from .feeds import FEEDS, PERSON, build_feeds
from .income import base_income, for_year
from .population import Population, generate, load_villages
from .shocks import month_start, outcomes, simulate_events

__all__ = ["INCOME_HEADERS", "REGISTRY_HEADERS", "simulate_county"]

REGISTRY_HEADERS = [
    "户编号",
    "行政区划代码",
    "户类型",
    "监测对象类别",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "文化程度",
    "在校生状况",
    "健康状况",
    "残疾等级",
    "劳动技能",
    "务工状况",
    "务工时间(月)",
    "是否参加城乡居民基本医疗保险",
    "联系电话",
]
INCOME_HEADERS = [
    "户编号",
    "年度",
    "工资性收入",
    "生产经营性收入",
    "财产性收入",
    "转移性收入",
    "生产经营性支出",
    "理赔收入",
    "合规自付支出",
    "住房出现安全问题",
    "义务教育阶段失学辍学",
    "饮水出现安全问题",
    "有家庭成员未参加基本医疗保险",
]
Progress = Callable[[int, int, str], None]


def _labels(table: dict[str, str], codes: np.ndarray) -> list[str]:
    return [table.get(c, "") for c in codes.tolist()]


def _write(path: Path, header: list[str], rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _registry_rows(pop: Population, category: np.ndarray):
    hh = pop.hh
    codes = [c for c, _ in pop.villages]
    columns = [
        pop.household_no[hh].tolist(),
        [codes[v] for v in pop.village[hh].tolist()],
        np.where(pop.former_poor[hh], "脱贫户", "一般农户").tolist(),
        category[hh].tolist(),
        pop.name.tolist(),
        pop.id_number.tolist(),
        _labels(vocab.RELATIONS, pop.relation),
        ["男" if m else "女" for m in pop.male.tolist()],
        np.datetime_as_string(pop.birth, unit="D").tolist(),
        _labels(vocab.EDUCATION, pop.education),
        _labels(vocab.STUDENT_STATUSES, pop.student),
        _labels(vocab.HEALTH, pop.health),
        [str(g) if g else "" for g in pop.disability_grade.tolist()],
        _labels(vocab.LABOUR_CAPACITIES, pop.labour),
        _labels(vocab.MIGRANT_WORK, pop.migrant),
        pop.work_months.astype(str).tolist(),
        np.where(pop.insured, "是", "否").tolist(),
        pop.phone[hh].tolist(),
    ]
    return zip(*columns, strict=True)


def simulate_county(
    *,
    county: str = "520526",
    households: int = 20000,
    seed: int = 1,
    out_dir: Path,
    divisions_dir: Path,
    start: date = date(2024, 1, 1),
    months: int = 24,
    quirks: bool = False,
    progress: Progress | None = None,
) -> dict[str, object]:
    """Write registry, income, feeds and ground truth for a synthetic county; returns measured summary figures."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    say = progress or (lambda done, total, stage: None)
    say(0, 6, "villages")
    villages = load_villages(Path(divisions_dir), county)
    say(1, 6, "population")
    pop = generate(rng, villages, households, county, start)
    say(2, 6, "income")
    income = base_income(pop, rng)
    say(3, 6, "shocks")
    events = simulate_events(pop, income, rng, start, months)
    truth = outcomes(pop, income, events, months)
    per_capita = income.net / pop.size
    # A few households are already monitored: below the line, or a recent serious shock.
    category = np.full(pop.households, "", dtype=object)
    monitored = truth["already_below"] & (rng.random(pop.households) < 0.6)
    category[monitored] = np.where(pop.former_poor[monitored], "脱贫不稳定户", "边缘易致贫户")
    say(4, 6, "registry")
    counts: dict[str, int] = {}
    counts["registry.csv"] = _write(out_dir / "registry.csv", REGISTRY_HEADERS, _registry_rows(pop, category))
    years = sorted({start.year - 1, *(month_start(start, m).year for m in range(months))})
    housing_flag = rng.random(pop.households) < 0.004
    water_flag = rng.random(pop.households) < 0.006
    uninsured = np.bincount(pop.hh, weights=(~pop.insured).astype(float), minlength=pop.households) > 0
    for year in years:
        inc = income if year == 2024 else for_year(income, year, rng)
        rows = zip(
            pop.household_no.tolist(),
            [str(year)] * pop.households,
            *(
                np.round(a, 2).tolist()
                for a in (
                    inc.wage,
                    inc.business,
                    inc.property_income,
                    inc.transfer,
                    inc.business_cost,
                    inc.claim,
                    inc.out_of_pocket,
                )
            ),
            np.where(housing_flag, "是", "否").tolist(),
            ["否"] * pop.households,
            np.where(water_flag, "是", "否").tolist(),
            np.where(uninsured, "是", "否").tolist(),
            strict=True,
        )
        counts[f"income_{year}.csv"] = _write(out_dir / f"income_{year}.csv", INCOME_HEADERS, rows)
    say(5, 6, "feeds")
    feeds = build_feeds(pop, events, income.dibao, rng, start, months)
    for key, header in FEEDS.items():
        counts[f"feeds/{key}.csv"] = _write(
            out_dir / "feeds" / f"{key}.csv", PERSON + header, feeds.rows[key]
        )
    _write(
        out_dir / "truth" / "person_links.csv",
        ["feed_key", "file_row", "id_number", "household_no"],
        feeds.truth,
    )
    first = truth["first_month"]
    _write(
        out_dir / "truth" / "outcomes.csv",
        ["household_no", "falls", "first_month", "severe_hardship", "risk_types", "already_below_line"],
        zip(
            pop.household_no.tolist(),
            np.where(truth["falls"], "1", "0").tolist(),
            [month_start(start, int(m)).isoformat()[:7] if m >= 0 else "" for m in first.tolist()],
            np.where(truth["severe"], "1", "0").tolist(),
            truth["drivers"].tolist(),
            np.where(truth["already_below"], "1", "0").tolist(),
            strict=True,
        ),
    )
    if quirks:
        from .quirks import write_quirk_files

        write_quirk_files(out_dir, rng, min(pop.households, 500))
    say(6, 6, "done")
    drivers = truth["drivers"][truth["falls"]]
    share = {
        code: round(float(np.mean([code in d for d in drivers])) if len(drivers) else 0.0, 3)
        for code in ("01", "02", "09")
    }
    names = [f"{v}:{n}" for v, n in zip(pop.village[pop.hh].tolist(), pop.name.tolist(), strict=True)]
    _unique, name_counts = np.unique(names, return_counts=True)
    feed_rows = sum(len(r) for r in feeds.rows.values())
    return {
        "households": pop.households,
        "members": len(pop.hh),
        "mean_household_size": round(float(pop.size.mean()), 2),
        "former_poor_share": round(float(pop.former_poor.mean()), 3),
        "per_capita_net_income_2024": round(float(income.net.sum() / pop.size.sum())),
        "share_below_line_2024": round(float((per_capita < 8700).mean()), 3),
        "events": len(events),
        "share_falling_within_period": round(float(truth["falls"].mean()), 3),
        "driver_share_illness": share["01"],
        "driver_share_disaster": share["02"],
        "driver_share_schooling": share["09"],
        "feed_rows": feed_rows,
        "feed_rows_without_id": sum(1 for r in feeds.rows.values() for row in r if not row[0]),
        "namesake_groups_in_villages": int((name_counts > 1).sum()),
        "files": counts,
    }
