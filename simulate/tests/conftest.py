"""A small county written once per test session (2,000 households, quirk files on), and the helpers to read it."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest

from simulate import simulate_county

ROOT = Path(__file__).resolve().parents[2]
DIVISIONS = Path(os.environ.get("GUARDLINE_DIVISIONS_DIR", ROOT.parent / "shared" / "data" / "divisions"))
COUNTY = "520526"


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("county")
    summary = simulate_county(
        county=COUNTY, households=2000, seed=5, out_dir=out, divisions_dir=DIVISIONS, quirks=True
    )
    return out, summary


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def header(path: Path, encoding: str = "utf-8") -> list[str]:
    with open(path, encoding=encoding, newline="") as fh:
        return next(csv.reader(fh))
