"""Screening: indicators, the vulnerability index, triggers and red/yellow/green grades for every household in one
set-based pass (DuckDB by default, Spark for scale). Framework-free: the platform hands in Arrow tables."""

from .catalogue import INDICATORS, Indicator
from .params import PARAMETERS, Override, Param
from .rules import DEFAULT_RULES, Rule, RuleError
from .run import ScreenResult, WarningOut, screen

__all__ = [
    "DEFAULT_RULES",
    "INDICATORS",
    "PARAMETERS",
    "Indicator",
    "Override",
    "Param",
    "Rule",
    "RuleError",
    "ScreenResult",
    "WarningOut",
    "screen",
]
