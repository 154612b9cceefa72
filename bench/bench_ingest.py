"""Benchmark: engine ingest (read + normalise only, no database writes) of N registry member rows from UTF-8 CSV.

    uv run python bench/bench_ingest.py --rows 1000000

Generates the CSV (not timed; real-looking rows of county 520526 with valid ID numbers and a few quirks), then times
`engine.ingest.load_table` and prints one result line to add to bench/README.md. Goal: well under 60 s for 1M rows
on the reference machine (2 cores).
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from engine.ids import check_char
from engine.ingest import REGISTRY, load_table
from simulate import REGISTRY_HEADERS

HEADER = REGISTRY_HEADERS
# Real village codes of 威宁县 (520526), from the national division table.
VILLAGES = [
    "520526004203",
    "520526101003",
    "520526102216",
    "520526104005",
    "520526105003",
    "520526106213",
    "520526107233",
    "520526109208",
    "520526111208",
    "520526112214",
    "520526113223",
    "520526115217",
    "520526118003",
    "520526120002",
    "520526122209",
    "520526124202",
    "520526127004",
    "520526128221",
    "520526201220",
    "520526211208",
]
SURNAMES = "龙王张李陈杨刘赵黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN = "秀英明华建国德芳玉兰志强海燕桂花春梅文光金平永红小军家福"
RELATIONS = ["户主", "配偶", "之子", "之女", "之父", "之母", "孙子", "孙女"]
EDUCATION = ["小学", "初中", "高中", "文盲或半文盲", "大专及以上", "中专", ""]
HEALTH = ["健康", "健康", "健康", "长期慢性病", "患有大病", "残疾"]
LABOUR = ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]
MIGRANT = ["省外务工", "省内县外务工", "县内务工", "未务工"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write `rows` member rows (about 4 per household) with a title row above the header."""
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["威宁彝族回族苗族自治县防返贫监测台账（家庭成员）"])
        out.writerow(HEADER)
        written, household = 0, 0
        while written < rows:
            household += 1
            village = rnd.choice(VILLAGES)
            phone = f"13{rnd.randrange(10**9):09d}"
            for member in range(min(rnd.randint(1, 7), rows - written)):
                born = date(1940, 1, 1) + timedelta(days=rnd.randrange(28000))
                seq = rnd.randrange(1000)
                first17 = f"{village[:6]}{born:%Y%m%d}{seq:03d}"
                idn = first17 + check_char(first17)
                health = rnd.choice(HEALTH)
                out.writerow(
                    [
                        f"{village}{household:07d}",
                        village,
                        rnd.choice(("脱贫户", "一般农户")),
                        rnd.choice(("", "", "", "脱贫不稳定户", "边缘易致贫户")),
                        rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
                        idn.lower() if rnd.random() < 0.01 else idn,
                        "户主" if member == 0 else rnd.choice(RELATIONS[1:]),
                        "男" if seq % 2 else "女",
                        born.strftime(rnd.choice(("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"))),
                        rnd.choice(EDUCATION),
                        "非在校生",
                        health,
                        str(rnd.randint(1, 4)) if health == "残疾" else "",
                        rnd.choice(LABOUR),
                        rnd.choice(MIGRANT),
                        str(rnd.randint(0, 12)),
                        rnd.choice(("是", "是", "否")),
                        phone,
                    ]
                )
                written += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=None, help="reuse (or create) this CSV")
    args = parser.parse_args()
    path = args.file or Path(tempfile.mkdtemp(prefix="guardline-bench-")) / "registry.csv"
    if not path.exists():
        started = time.monotonic()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows in {time.monotonic() - started:.1f} s: {path}")
    started = time.monotonic()
    result = load_table(path, REGISTRY)
    clean = result.con.execute(f"SELECT count(*) FROM {result.clean}").fetchone()
    elapsed = time.monotonic() - started
    print(
        f"bench_ingest: {result.rows_read:,} registry rows read + normalised in {elapsed:.1f} s "
        f"({result.rows_read / elapsed:,.0f} rows/s); clean {clean[0] if clean else 0:,}, "
        f"rejected {result.rows_rejected:,}"
    )


if __name__ == "__main__":
    main()
