"""A small simulated county whose 24-month window ends this month, imported through the real import services
(registry, income years, all twelve feeds), ready to be screened as of today."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone

from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.services import import_file
from simulate import simulate_county


def window_start(today: date) -> date:
    month = today.month + 1
    return date(today.year - 2 + (month > 12), (month - 1) % 12 + 1, 1)


@pytest.fixture
def screened_county(db, tmp_path):
    out = tmp_path / "county"
    simulate_county(
        households=150,
        seed=21,
        out_dir=out,
        divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"],
        start=window_start(timezone.localdate()),
    )
    assert import_file("registry", out / "registry.csv").rows_rejected == 0
    for path in sorted(out.glob("income_*.csv")):
        assert import_file("income", path).rows_rejected == 0
    for key in FEED_KEYS:
        import_file(key, out / "feeds" / f"{key}.csv")
    return out
