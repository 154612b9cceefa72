"""The national measure catalogue (帮扶措施代码表 100A39–100A55, DOMAIN §7) and the kind of each measure. Pure data.

Codes 100A43, 100A44 and 100A49 belong to the national range but their names are not in DOMAIN.md: they are kept as
reserved (shown if imported, never offered) until the county's code table supplies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    DEVELOPMENT = "development"  # 开发式: industry, employment
    FINANCE = "finance"  # 金融: microcredit, anti-poverty insurance
    POST = "post"  # 公益岗位: jobs for weak labour
    SAFETY_NET = "safety_net"  # 兜底: 低保, 特困, disability allowances, 临时救助
    GUARANTEE = "guarantee"  # 三保障 + 饮水: health, education, housing, water
    SOCIAL = "social"  # 社会帮扶
    CONDITIONS = "conditions"  # relocation, living conditions, infrastructure
    RESERVED = "reserved"


KIND_LABELS = {
    Kind.DEVELOPMENT: "开发式帮扶",
    Kind.FINANCE: "金融帮扶",
    Kind.POST: "公益岗位",
    Kind.SAFETY_NET: "兜底保障",
    Kind.GUARANTEE: "三保障和饮水",
    Kind.SOCIAL: "社会帮扶",
    Kind.CONDITIONS: "条件改善",
    Kind.RESERVED: "代码表预留",
}


@dataclass(frozen=True)
class MeasureType:
    code: str
    name: str
    kind: Kind

    @property
    def offered(self) -> bool:
        return self.kind != Kind.RESERVED


_ROWS = (
    ("100A39", "产业帮扶", Kind.DEVELOPMENT),
    ("100A40", "就业帮扶", Kind.DEVELOPMENT),
    ("100A41", "金融帮扶（小额信贷、防贫保险）", Kind.FINANCE),
    ("100A42", "公益岗位帮扶", Kind.POST),
    ("100A43", "（代码表预留）", Kind.RESERVED),
    ("100A44", "（代码表预留）", Kind.RESERVED),
    ("100A45", "健康帮扶", Kind.GUARANTEE),
    ("100A46", "义务教育保障", Kind.GUARANTEE),
    ("100A47", "其他教育帮扶", Kind.GUARANTEE),
    ("100A48", "综合保障（低保、特困、残疾人补贴、临时救助）", Kind.SAFETY_NET),
    ("100A49", "（代码表预留）", Kind.RESERVED),
    ("100A50", "住房安全保障", Kind.GUARANTEE),
    ("100A51", "饮水安全保障", Kind.GUARANTEE),
    ("100A52", "社会帮扶（结对帮扶）", Kind.SOCIAL),
    ("100A53", "易地搬迁", Kind.CONDITIONS),
    ("100A54", "生产生活条件改善", Kind.CONDITIONS),
    ("100A55", "基础设施建设", Kind.CONDITIONS),
)
CATALOGUE: dict[str, MeasureType] = {code: MeasureType(code, name, kind) for code, name, kind in _ROWS}
DEVELOPMENT_CODES = frozenset(c for c, m in CATALOGUE.items() if m.kind == Kind.DEVELOPMENT)
SAFETY_NET_CODES = frozenset(c for c, m in CATALOGUE.items() if m.kind == Kind.SAFETY_NET)
OFFERED = tuple(m for m in CATALOGUE.values() if m.offered)


def choices() -> list[tuple[str, str]]:
    return [(m.code, f"{m.code} {m.name}") for m in OFFERED]


def name(code: str) -> str:
    m = CATALOGUE.get(code)
    return m.name if m else code
