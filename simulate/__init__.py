"""The synthetic county: a calibrated rural population placed in the real villages of a county, its income, month
-by-month shocks, the department records they leave (with real-world lags and noise) and the ground truth, written in
the INTERCHANGE formats. The model and its calibration are documented in MODEL.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["simulate_county"]

if TYPE_CHECKING:
    from .county import simulate_county


def __getattr__(name: str) -> Any:
    if name == "simulate_county":
        from .county import simulate_county

        return simulate_county
    raise AttributeError(name)
