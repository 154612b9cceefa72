"""Small registry and income files in INTERCHANGE formats (Chinese headers), built for tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from engine.ids import check_char
from simulate import (  # the INTERCHANGE §1/§2 headers, as the simulator writes them
    INCOME_HEADERS,
    REGISTRY_HEADERS,
)

__all__ = ["INCOME_HEADERS", "REGISTRY_HEADERS", "income_rows", "registry_rows", "write_csv"]

SURNAMES = "张王李刘陈杨赵黄周吴禄安马龙陶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def person_id(region: str, year: int, month: int, day: int, seq: int) -> str:
    first17 = f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}"
    return first17 + check_char(first17)


def registry_rows(villages: list[str], households: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    seq = 0
    for i in range(households):
        village = villages[i % len(villages)]
        no = f"{village}{i:06d}"
        size = rng.randint(1, 5)
        phone = f"13{rng.randint(100000000, 999999999)}"
        for j in range(size):
            seq += 1
            relation = "户主" if j == 0 else ("配偶" if j == 1 else rng.choice(["之子", "之女"]))
            born = 1950 + rng.randint(0, 50) if j < 2 else 1990 + rng.randint(0, 25)
            sex_seq = seq * 2 + (1 if relation in ("户主", "之子") else 0)
            idn = person_id("520526", born, rng.randint(1, 12), rng.randint(1, 28), sex_seq % 1000)
            rows.append(
                {
                    "户编号": no,
                    "行政区划代码": village,
                    "户类型": rng.choice(["脱贫户", "一般农户"]),
                    "监测对象类别": "",
                    "姓名": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "证件号码": idn,
                    "与户主关系": relation,
                    "性别": "",
                    "出生日期": "",
                    "文化程度": rng.choice(["小学", "初中", "高中"]),
                    "在校生状况": "非在校生",
                    "健康状况": rng.choice(["健康", "健康", "长期慢性病"]),
                    "残疾等级": "",
                    "劳动技能": rng.choice(["普通劳动力", "丧失劳动力"]),
                    "务工状况": rng.choice(["省外务工", "未务工"]),
                    "务工时间(月)": str(rng.randint(0, 12)),
                    "是否参加城乡居民基本医疗保险": "是",
                    "联系电话": phone,
                }
            )
    # The ID sequence above can repeat across the 1000-wrap: make IDs unique deterministically.
    seen: set[str] = set()
    for row in rows:
        while row["证件号码"] in seen:
            first17 = str(int(row["证件号码"][:17]) + 2)
            row["证件号码"] = first17 + check_char(first17)
        seen.add(row["证件号码"])
    return rows


def income_rows(household_nos: list[str], year: int = 2024, seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [
        {
            "户编号": no,
            "年度": str(year),
            "工资性收入": f"{rng.randint(0, 40000)}",
            "生产经营性收入": f"{rng.randint(0, 9000)}",
            "财产性收入": "0",
            "转移性收入": f"{rng.randint(0, 5000)}",
            "生产经营性支出": f"{rng.randint(0, 3000)}",
            "理赔收入": "",
            "合规自付支出": f"{rng.randint(0, 2000)}",
            "住房出现安全问题": "否",
            "义务教育阶段失学辍学": "否",
            "饮水出现安全问题": "否",
            "有家庭成员未参加基本医疗保险": "否",
        }
        for no in household_nos
    ]


def write_csv(path: Path, headers: list[str], rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        writer.writerows(rows)
    return path
