"""The real places of a county from the national statistical division codes: its villages (with township names, and
whether each is an urban community 居委会), its names, and the region codes of people born elsewhere."""

from __future__ import annotations

import csv
import io
import lzma
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# County codes of Bijie before it became a prefecture-level city (2011): still inside the IDs of people registered
# before the change. Other counties may add theirs here; when none is known, no retired code is used.
RETIRED_CODES: dict[str, tuple[str, ...]] = {
    "520502": ("522401",),
    "520521": ("522422",),
    "520523": ("522424",),
    "520524": ("522425",),
    "520525": ("522426",),
    "520526": ("522427",),
    "520527": ("522428",),
    "520581": ("522423", "520522"),
}
RETIRED_UNTIL = 2011  # people born up to this year may carry the retired code
# Cities of neighbouring provinces people marry in from (Guizhou: Yunnan's Qujing and Zhaotong, Sichuan's Luzhou).
NEIGHBOUR_CITIES: dict[str, tuple[str, ...]] = {"52": ("5303", "5306", "5105")}
ETHNIC = (
    "彝族",
    "回族",
    "苗族",
    "布依族",
    "侗族",
    "土家族",
    "仡佬族",
    "水族",
    "壮族",
    "瑶族",
    "白族",
    "哈尼族",
)


@dataclass
class County:
    code: str
    name: str
    short_name: str  # 威宁彝族回族苗族自治县 → 威宁县
    city_name: str
    province_name: str
    village_codes: np.ndarray  # <U12, sorted
    village_names: np.ndarray
    township_names: np.ndarray  # per village
    community: np.ndarray  # bool per village: 居委会 (001–199 in the last three digits)
    same_city: tuple[str, ...]
    same_province: tuple[str, ...]
    neighbours: tuple[str, ...]
    retired: tuple[str, ...]

    @property
    def villages(self) -> int:
        return len(self.village_codes)


def _rows(path: Path, suffix: str = "") -> list[dict[str, str]]:
    """Rows of a division file; with `suffix`, only the lines ending with it (a fast pre-filter on raw text)."""
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    lines = text.splitlines()
    if suffix:
        lines = [lines[0], *(line for line in lines[1:] if line.endswith(suffix))]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def short_name(name: str) -> str:
    """Everyday name of a county: ethnic designations and 自治 dropped (威宁彝族回族苗族自治县 → 威宁县)."""
    if "自治" not in name:
        return name
    cut = min([name.find(e) for e in ETHNIC if e in name] or [name.find("自治")])
    return name[:cut] + name[-1]


def load_county(divisions_dir: Path, county: str) -> County:
    divisions_dir = Path(divisions_dir)
    villages = [r for r in _rows(divisions_dir / "villages.csv.xz", "," + county) if r["areaCode"] == county]
    if not villages:
        raise ValueError(f"no villages of county {county} in {divisions_dir / 'villages.csv.xz'}")
    villages.sort(key=lambda r: r["code"])
    streets = {
        r["code"]: r["name"] for r in _rows(divisions_dir / "streets.csv.xz") if r["areaCode"] == county
    }
    areas = _rows(divisions_dir / "areas.csv.xz")
    cities = {r["code"]: r["name"] for r in _rows(divisions_dir / "cities.csv.xz")}
    provinces = {r["code"]: r["name"] for r in _rows(divisions_dir / "provinces.csv.xz")}
    me = next((a for a in areas if a["code"] == county), None)
    name = me["name"] if me else county
    city, province = county[:4], county[:2]
    same_city = tuple(a["code"] for a in areas if a["cityCode"] == city and a["code"] != county)
    same_province = tuple(a["code"] for a in areas if a["provinceCode"] == province and a["cityCode"] != city)
    neighbour_cities = NEIGHBOUR_CITIES.get(province, ())
    neighbours = tuple(a["code"] for a in areas if a["cityCode"] in neighbour_cities)
    codes = np.array([r["code"] for r in villages])
    return County(
        code=county,
        name=name,
        short_name=short_name(name),
        city_name=cities.get(city, ""),
        province_name=provinces.get(province, ""),
        village_codes=codes,
        village_names=np.array([r["name"] for r in villages]),
        township_names=np.array([streets.get(r["streetCode"], "") for r in villages]),
        community=np.array([int(c[9:12]) < 200 for c in codes.tolist()]),
        same_city=same_city or (county,),
        same_province=same_province or same_city or (county,),
        neighbours=neighbours or same_province or (county,),
        retired=RETIRED_CODES.get(county, ()),
    )
