"""GB 11643 citizen ID numbers, vectorised: region code + birth date + sequence (odd for men) + check character.

The check character uses the weights and characters of `engine.ids` (ISO 7064 MOD 11-2), computed for millions of
numbers at once; the tests compare it with `engine.ids.check_char`."""

from __future__ import annotations

import numpy as np

from engine.ids import CHECK_CHARS, WEIGHTS

_CHECK = np.array(list(CHECK_CHARS))
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
STRIDE = 191  # prime, coprime with the 500 sequence slots of one parity


def ymd(days: np.ndarray) -> np.ndarray:
    """datetime64[D] → YYYYMMDD as int64."""
    days = days.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return years * 10000 + months * 100 + dom


def first17(
    rng: np.random.Generator,
    regions: np.ndarray,
    birth: np.ndarray,
    male: np.ndarray,
    taken: np.ndarray | None = None,
) -> np.ndarray:
    """Unique 17-digit prefixes as int64: region (6) + birth date (8) + sequence (3, odd for men).

    People sharing region, birth date and sex get distinct sequence slots: a random first slot per group, then steps
    of a prime stride through the 500 slots of that parity. Numbers in `taken` (a sorted array) are avoided."""
    base = regions.astype(np.int64) * 10**11 + ymd(birth) * 1000
    parity = male.astype(np.int64)
    key = base + parity
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    new_group = np.ones(len(key), bool)
    new_group[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    rank = np.arange(len(key)) - starts[group]
    if len(rank) and rank.max() >= 500:
        raise ValueError("more than 500 people share a region code, birth date and sex")
    offset = rng.integers(0, 500, len(starts))
    slot = np.empty(len(key), np.int64)
    slot[order] = (offset[group] + rank * STRIDE) % 500
    out = base + slot * 2 + parity
    if taken is not None and len(taken):
        for _ in range(100):
            pos = np.clip(np.searchsorted(taken, out), 0, len(taken) - 1)
            clash = taken[pos] == out
            order = np.argsort(out, kind="stable")
            clash[order[1:]] |= out[order][1:] == out[order][:-1]
            idx = np.flatnonzero(clash)
            if not len(idx):
                break
            out[idx] = base[idx] + rng.integers(0, 500, len(idx)) * 2 + parity[idx]
        else:
            raise RuntimeError("could not draw unique ID numbers")
    return out


def check_chars(prefix: np.ndarray) -> np.ndarray:
    """Check character of each 17-digit prefix (int64 array)."""
    total = np.zeros(len(prefix), np.int64)
    rest = prefix.copy()
    for position in range(16, -1, -1):
        total += (rest % 10) * _WEIGHTS[position]
        rest //= 10
    return _CHECK[total % 11]


def to_strings(prefix: np.ndarray) -> np.ndarray:
    """Full 18-character ID numbers."""
    return np.char.add(prefix.astype("U17"), check_chars(prefix))


def to_15(ids: list[str]) -> list[str]:
    """Old 15-digit form (century and check character dropped) — only meaningful for people born in the 1900s."""
    return [i[:6] + i[8:17] for i in ids]


def excel_damaged(ids: list[str]) -> list[str]:
    """What Excel shows after storing an ID as a number: 15 significant digits in scientific notation. (An ID
    ending in X stays text in Excel, so callers only damage all-digit numbers.)"""
    return [f"{float(i):.14E}" for i in ids]
