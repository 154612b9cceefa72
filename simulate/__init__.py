"""The synthetic county: a calibrated rural population placed in the real villages of a county, its income,
month-by-month shocks, the department records they leave (with real-world lags and noise) and the ground truth,
written in the INTERCHANGE formats. The model and its calibration are documented in MODEL.md."""

from __future__ import annotations

from .county import simulate_county
from .feeds import FEEDS, PERSON, header
from .tables import INCOME_HEADERS, REGISTRY_HEADERS

__all__ = ["FEEDS", "INCOME_HEADERS", "PERSON", "REGISTRY_HEADERS", "header", "simulate_county"]
