"""Linkage accuracy and speed on the simulated county (engine only, no database).

    uv run python bench/bench_linkage.py --households 20000
    uv run python bench/bench_linkage.py --households 263000 --idless-rows 200000     # 1M members × 200k rows
    uv run python bench/bench_linkage.py --households 1320000 --idless-rows 1000000   # 5M members × 1M rows

Simulates a county (registry + twelve feeds, with IDs missing from 20 % of person rows, Excel-damaged IDs, name
typos, namesakes, township-only codes and rows about people outside the registry), normalises every file with the
engine, links exactly on ID numbers and probabilistically (engine.linkage) the rest, and scores both against the
simulator's truth (truth/person_links.csv). Prints one JSON line.

Measures
- valid-ID rows: share linked to the right person (goal 100 %);
- ID-less rows about registry people: precision of automatic links (goal ≥ 99.9 %), share linked automatically,
  recall after the review band = (correct automatic links + review items whose candidate is right) / rows
  (goal ≥ 99.75 %);
- rows about people outside the registry that were linked anyway (false links);
- seconds for the probabilistic stage, and rows/second.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.ingest import SPECS, load_table  # noqa: E402
from engine.ingest.feeds import FEED_KEYS  # noqa: E402
from engine.linkage import Candidate, decide, link_tables, person_table  # noqa: E402
from simulate import simulate_county  # noqa: E402

SEX = {"男": "male", "女": "female"}


def _members(out: Path):
    result = load_table(out / "registry.csv", SPECS["registry"])
    rows = result.con.execute(
        f"SELECT id_number, name, birth_date, sex, village_code FROM {result.clean}"
    ).fetchall()
    members = [
        (i, name, birth, sex, village, idn[:15]) for i, (idn, name, birth, sex, village) in enumerate(rows)
    ]
    by_id = {idn: i for i, (idn, *_rest) in enumerate(rows)}
    return members, by_id, [r[0] for r in rows]


def _feed_rows(out: Path):
    """(feed, source_row, id_number, status, prefix15, name, birth, sex, village) of every person feed row."""
    rows = []
    for key in FEED_KEYS:
        spec = SPECS[key]
        if spec.require_one_of == ("village_code",):
            continue
        result = load_table(out / "feeds" / f"{key}.csv", spec)
        cols = {d[0] for d in result.con.execute(f"SELECT * FROM {result.clean} LIMIT 0").description}
        status = "id_number_status" if "id_number_status" in cols else "NULL"
        prefix = "id_number_prefix15" if "id_number_prefix15" in cols else "NULL"
        rows += [
            (key, *r)
            for r in result.con.execute(
                f"SELECT source_row, id_number, {status}, {prefix}, name, birth_date, sex_text, village_code "
                f"FROM {result.clean}"
            ).fetchall()
        ]
    return rows


def _truth(out: Path) -> dict[tuple[str, int], tuple[str, bool, str]]:
    import csv

    with open(out / "truth" / "person_links.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return {
            (r["feed_key"], int(r["file_row"])): (r["id_number"], r["in_registry"] == "1", r["noise"])
            for r in reader
            if r["in_registry"] in ("0", "1")
        }


def link_only(folder: Path) -> None:
    """The child process: link the saved rows against the saved registry, save the candidates, report."""
    started = time.perf_counter()
    rows = pq.read_table(folder / "link_rows.parquet")
    members = pq.read_table(folder / "link_members.parquet")
    found = link_tables(rows, members)
    pq.write_table(
        pa.table(
            {
                "row": [c.row_id for c in found],
                "member": [c.member_id for c in found],
                "p": [c.probability for c in found],
                "second": [c.second_probability for c in found],
            }
        ),
        folder / "link_candidates.parquet",
    )
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_gib": peak_rss_gib(),
            }
        )
    )


def peak_rss_gib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 2**20, 2)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--link-only":
        link_only(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--county", default="520526")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--upper", type=float, default=0.99)
    parser.add_argument("--lower", type=float, default=0.5)
    parser.add_argument("--keep", type=Path, help="simulate into this folder (reused if it exists)")
    parser.add_argument(
        "--idless-rows",
        type=int,
        default=0,
        help="for timing: repeat the ID-less rows (as re-sent records) until there are this many; accuracy is "
        "scored on the original rows only",
    )
    args = parser.parse_args()

    out = args.keep or Path(tempfile.mkdtemp(prefix="guardline-linkage-"))
    t0 = time.perf_counter()
    if not (out / "registry.csv").exists():
        simulate_county(
            county=args.county,
            households=args.households,
            seed=args.seed,
            out_dir=out,
            divisions_dir=ROOT.parent / "shared" / "data" / "divisions",
            outsiders=True,
        )
    t_sim = time.perf_counter() - t0
    members, by_id, member_ids = _members(out)
    feed_rows = _feed_rows(out)
    truth = _truth(out)
    t_read = time.perf_counter() - t0 - t_sim

    exact_right = exact_wrong = exact_rows = 0
    pending = []
    for n, (key, row, idn, status, prefix, name, birth, sex, village) in enumerate(feed_rows):
        true_id, in_registry, _noise = truth[(key, row)]
        if idn:
            member = by_id.get(idn)
            if member is not None:
                exact_rows += 1
                if member_ids[member] == true_id:
                    exact_right += 1
                else:
                    exact_wrong += 1
        elif name:
            pending.append(
                (n, name, birth, SEX.get(sex or ""), village, prefix if status == "excel_damaged" else None)
            )

    timed = list(pending)
    while len(timed) < args.idless_rows:
        timed += [(len(feed_rows) * (1 + len(timed) // len(pending)) + n, *rest) for n, *rest in pending]
    timed = timed[: max(args.idless_rows, len(pending))]
    # The probabilistic stage runs in a process of its own, so its time and peak memory are its alone.
    pq.write_table(person_table(timed), out / "link_rows.parquet")
    pq.write_table(person_table(members), out / "link_members.parquet")
    n_timed, n_members = len(timed), len(members)
    del timed, members
    child = subprocess.run(
        [sys.executable, __file__, "--link-only", str(out)], check=True, capture_output=True, text=True
    )
    link = json.loads(child.stdout.strip().splitlines()[-1])
    found = pq.read_table(out / "link_candidates.parquet").to_pydict()
    candidates = {
        r: Candidate(r, m, p, s)
        for r, m, p, s in zip(found["row"], found["member"], found["p"], found["second"], strict=True)
    }

    stats = dict.fromkeys(
        ("rows", "auto", "auto_right", "review", "review_right", "none", "outsiders", "outsider_auto"), 0
    )
    by_noise: dict[str, dict[str, int]] = {}
    for n, *_rest in pending:
        key, row = feed_rows[n][0], feed_rows[n][1]
        true_id, in_registry, noise = truth[(key, row)]
        c = candidates.get(n)
        verdict = decide(c, upper=args.upper, lower=args.lower) if c else "none"
        right = c is not None and member_ids[c.member_id] == true_id
        if not in_registry:
            stats["outsiders"] += 1
            stats["outsider_auto"] += verdict == "link"
            continue
        stats["rows"] += 1
        stats[{"link": "auto", "review": "review", "none": "none"}[verdict]] += 1
        stats["auto_right"] += verdict == "link" and right
        stats["review_right"] += verdict == "review" and right
        for tag in [t for t in noise.split(";") if t and t != "missing_id"] or ["clean"]:
            s = by_noise.setdefault(tag, {"rows": 0, "auto_right": 0, "auto_wrong": 0, "review_right": 0})
            s["rows"] += 1
            s["auto_right"] += verdict == "link" and right
            s["auto_wrong"] += verdict == "link" and not right
            s["review_right"] += verdict == "review" and right

    auto = stats["auto"] + stats["outsider_auto"]
    print(
        json.dumps(
            {
                "households": args.households,
                "members": n_members,
                "feed_rows": len(feed_rows),
                "valid_id_rows": exact_rows,
                "valid_id_correct": round(exact_right / max(exact_rows, 1), 6),
                "idless_rows": len(pending),
                "idless_rows_timed": n_timed,
                "idless_in_registry": stats["rows"],
                "auto_links": auto,
                "auto_precision": round(stats["auto_right"] / max(auto, 1), 6),
                "auto_share": round(stats["auto"] / max(stats["rows"], 1), 4),
                "review_items": stats["review"],
                "recall_after_review": round(
                    (stats["auto_right"] + stats["review_right"]) / max(stats["rows"], 1), 6
                ),
                "unlinked": stats["none"],
                "outsider_rows": stats["outsiders"],
                "outsiders_auto_linked": stats["outsider_auto"],
                "by_noise": by_noise,
                "seconds": {
                    "simulate": round(t_sim, 1),
                    "read": round(t_read, 1),
                    "probabilistic": link["seconds"],
                },
                "probabilistic_peak_rss_gib": link["peak_rss_gib"],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
