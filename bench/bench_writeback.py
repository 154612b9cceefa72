"""Benchmark: the write-back of a full screening pass alone — grades, warnings and their change log written into
the operational database — repeated on the same engine result, each time in a transaction that is rolled back.

    uv run python bench/bench_writeback.py                       # 1,000,000 households, 2 repeats
    uv run python bench/bench_writeback.py --households 100000 --repeat 3

Uses the cached database of bench_screening.py (bench/screening_db.py builds it when missing). Its screening
outputs are emptied first, so each write is a first run's: every grade inserted, every red or yellow household's
warning opened and logged. Extract and engine run once and are not part of the figure. Prints one JSON line per
repeat: the whole write-back and its stages (write_grades, write_prepare, write_warnings, write_log).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import screening_db  # noqa: E402

AS_OF = date(2025, 6, 30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "guardline-bench-screening"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = screening_db.database(args.households, AS_OF, cache=args.cache)
    screening_db.reset_outputs(db)
    os.environ.update(screening_db.django_env(db, db.parent / "var"))
    import django

    django.setup()
    from django.db import transaction

    from engine.screening.run import screen
    from guardline.screening import extract, services, writeback_services
    from guardline.screening.models import ScreeningRun

    inputs = extract.screening_inputs(as_of=AS_OF)
    villages = set(inputs["households"].column("village_code").to_pylist())
    result = screen(
        inputs,
        AS_OF,
        overrides=services.overrides_in_force(villages, AS_OF),
        rules=services.rules_in_force(),
        consume=True,
    )
    del inputs
    current = writeback_services.current_grades(None)
    run = ScreeningRun.objects.create(as_of=AS_OF)
    try:
        for attempt in range(1, args.repeat + 1):
            timings: dict[str, float] = {}
            with writeback_services.page_cache_for_bulk_write(), transaction.atomic():
                t = time.perf_counter()
                stored = lambda: writeback_services.warnings_stored(result.warning_table, run.pk)  # noqa: E731
                opened = writeback_services.results_write(run, result.grades, current, stored, None, timings)[
                    0
                ]
                total = time.perf_counter() - t
                transaction.set_rollback(True)
            print(
                json.dumps(
                    {
                        "repeat": attempt,
                        "households": result.grades.num_rows,
                        "warnings_opened": opened,
                        "write_s": round(total, 2),
                        **timings,
                    }
                ),
                flush=True,
            )
    finally:
        run.delete()


if __name__ == "__main__":
    main()
