"""Vectorised ID-number validation speed (engine.ingest.sqlkinds.sql_id_fast on DuckDB).

    uv run python bench/bench_ids.py --ids 10000000

Generates ID numbers (valid ones from real county codes and birth dates, plus a share with a wrong check character,
an impossible birth date or a lower-case x), validates them all in one set-based pass the way the importers do, and
checks the verdicts against the per-value reference (engine.ids.classify_id_number) on a sample. Prints one JSON
line with IDs per second. Goal: ≥ 3M IDs/s on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.ids import CHECK_CHARS, WEIGHTS, IdStatus, classify_id_number, valid_18_mask  # noqa: E402
from engine.ingest.sqlkinds import sql_id_fast  # noqa: E402


def make_ids(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    counties = np.array(["520526", "520502", "530102", "110101", "440305"])
    born = np.datetime64("1930-01-01") + rng.integers(0, 34000, n).astype("timedelta64[D]")
    digits = np.char.add(
        np.char.add(counties[rng.integers(0, len(counties), n)], np.char.replace(born.astype(str), "-", "")),
        np.char.zfill(rng.integers(0, 1000, n).astype(str), 3),
    )
    d = np.frombuffer("".join(digits.tolist()).encode(), dtype=np.uint8).reshape(n, 17) - 48
    check = np.array(list(CHECK_CHARS))[(d * np.array(WEIGHTS)).sum(axis=1) % 11]
    ids = np.char.add(digits, check)
    bad = rng.random(n)
    ids = np.where(bad < 0.02, np.char.add(digits, "0"), ids)  # wrong check character (mostly)
    ids = np.where(
        (bad >= 0.02) & (bad < 0.03), np.char.add(np.char.add(counties[0], "20991399"), "0011"), ids
    )
    ids = np.where((bad >= 0.03) & (bad < 0.04), np.char.lower(ids), ids)
    return ids.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ids", type=int, default=10_000_000)
    args = parser.parse_args()
    ids = make_ids(args.ids)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("ids_arrow", pa.table({"raw": pa.array(ids, pa.string())}))
    con.execute("CREATE TABLE ids AS SELECT * FROM ids_arrow")
    today = date(2026, 11, 23)
    started = time.perf_counter()
    con.execute(f"CREATE TABLE verdicts AS SELECT raw, {sql_id_fast('raw', today)} AS valid FROM ids")
    seconds = time.perf_counter() - started
    valid = con.execute("SELECT count(*) FILTER (WHERE valid) FROM verdicts").fetchall()[0][0]
    sample = con.execute("SELECT raw, valid FROM verdicts USING SAMPLE 20000 ROWS (reservoir, 7)").fetchall()
    arrow = pa.array(ids, pa.string())
    runs = []
    for _ in range(5):  # median of five: the first touches fresh memory
        started = time.perf_counter()
        mask = valid_18_mask(arrow, today)
        runs.append(time.perf_counter() - started)
    numpy_seconds = sorted(runs)[2]
    fast = dict(con.execute("SELECT raw, valid FROM verdicts").fetchall()) if args.ids <= 2_000_000 else {}
    mismatched = sum(bool(fast[r]) != bool(m) for r, m in zip(ids, mask, strict=True)) if fast else None
    disagree = [
        raw for raw, fast in sample if bool(fast) != (classify_id_number(raw, today).status is IdStatus.VALID)
    ]
    print(
        json.dumps(
            {
                "ids": args.ids,
                "valid": valid,
                "numpy_seconds": round(numpy_seconds, 2),
                "numpy_ids_per_second": round(args.ids / numpy_seconds),
                "numpy_valid": int(mask.sum()),
                "numpy_vs_sql_mismatches": mismatched,
                "sql_seconds": round(seconds, 2),
                "sql_ids_per_second": round(args.ids / seconds),
                "sample_checked": len(sample),
                "sample_disagreements": len(disagree),
            }
        )
    )


if __name__ == "__main__":
    main()
