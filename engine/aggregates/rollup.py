"""Roll village figures up the division tree by code prefix and find what changed against the stored rows.

A village code (12 digits) lies in the township of its first 9 digits, the county of 6, the city of 4 and the
province of 2; every base metric is additive, so a region's value is the sum over its villages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

# (prefix length, Region.Level) from the village up to the province.
LEVELS = ((12, 5), (9, 4), (6, 3), (4, 2), (2, 1))
LEVEL_OF_LENGTH = dict(LEVELS)

Key = tuple[str, str, str]  # (region_code, period, metric)


def rollup(village_rows: Iterable[tuple[str, str, str, float]]) -> dict[Key, float]:
    """(village_code, period, metric, value) rows → value per (region_code, period, metric) at every level.

    Village codes that are not 12 digits (a recoded or damaged code) still count in the regions their prefix
    names, and under themselves."""
    out: dict[Key, float] = defaultdict(float)
    for village, period, metric, value in village_rows:
        if not value:
            continue
        for n, _level in LEVELS:
            if len(village) >= n:
                out[(village[:n], period, metric)] += value
    return dict(out)


def level_of(code: str) -> int:
    return LEVEL_OF_LENGTH.get(len(code), 5)


def diff(
    computed: Mapping[Key, float], stored: Mapping[Key, float], tolerance: float = 1e-9
) -> tuple[dict[Key, float], list[Key]]:
    """Rows to write (new or changed beyond a relative tolerance: sums of floats in another order differ in the
    last bits) and keys to delete (stored but no longer computed, i.e. now zero)."""
    upsert = {
        k: v
        for k, v in computed.items()
        if k not in stored or abs(stored[k] - v) > tolerance * max(1.0, abs(v))
    }
    delete = [k for k in stored if k not in computed]
    return upsert, delete
