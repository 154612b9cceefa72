"""Composite evaluation (权重赋分 + 综合指数, DOMAIN §10): peers (the counties of a province, the townships of a
county) are scored per period on weighted, normalised indicators.

Normalisation is min-max across the peers of the same period, direction-aware: the best peer scores 100 on an
indicator and the worst 0 (all equal: 100 each). A peer without a value for an indicator (no denominator) scores 0
on it, so missing work never helps. Composite = Σ weight × score ÷ Σ weight over indicators with a positive weight;
ranking is by composite, ties share the better rank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalogue import HIGHER, INDICATOR_BY_CODE, indicator_value


@dataclass
class Part:
    indicator: str
    value: float | None
    score: float
    weight: float

    @property
    def points(self) -> float:
        return self.score * self.weight


@dataclass
class Scored:
    region: str
    composite: float
    rank: int = 0
    parts: list[Part] = field(default_factory=list)


def normalise(values: Mapping[str, float | None], direction: str) -> dict[str, float]:
    present = [v for v in values.values() if v is not None]
    if not present:
        return {r: 0.0 for r in values}
    lo, hi = min(present), max(present)
    out = {}
    for region, v in values.items():
        if v is None:
            out[region] = 0.0
        elif hi == lo:
            out[region] = 100.0
        else:
            share = (v - lo) / (hi - lo)
            out[region] = 100.0 * (share if direction == HIGHER else 1.0 - share)
    return out


def evaluate(peers: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]) -> list[Scored]:
    """peers: region code → base metrics of the period; weights: indicator code → weight. Best first."""
    used = {code: w for code, w in weights.items() if w > 0 and code in INDICATOR_BY_CODE}
    total = sum(used.values())
    scored = {r: Scored(region=r, composite=0.0) for r in peers}
    for code, w in sorted(used.items()):
        values = {r: indicator_value(code, m) for r, m in peers.items()}
        scores = normalise(values, INDICATOR_BY_CODE[code].direction)
        for r, s in scored.items():
            s.parts.append(Part(code, values[r], scores[r], w))
    for s in scored.values():
        s.composite = sum(p.points for p in s.parts) / total if total else 0.0
    ranked = sorted(scored.values(), key=lambda s: (-s.composite, s.region))
    previous: float | None = None
    for i, s in enumerate(ranked, 1):
        s.rank = ranked[i - 2].rank if previous is not None and abs(s.composite - previous) < 1e-9 else i
        previous = s.composite
    return ranked
