"""Benchmark: the two what-if pages at county scale — a policy what-if (a different yellow line) and a rule's trial
(a new version of a trigger) over every household of the region, from the operational database — as the web
request runs them (isolated extract, two screenings in the engine, the comparison).

    uv run python bench/bench_whatif.py                        # 1,000,000 households in one county
    uv run python bench/bench_whatif.py --households 100000

Uses the cached database of bench_screening.py (bench/screening_db.py builds it when missing). The regions and the
province officer the pages need are added for the run and removed after it. Prints one JSON line per measurement: seconds, households, and what the comparison found. A web request
killed by gunicorn's worker timeout (30 s by default) would need these under it, or `--timeout` raised.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import screening_db  # noqa: E402

AS_OF = date(2025, 6, 30)
COUNTY = "520526"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "guardline-bench-screening"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = screening_db.database(args.households, AS_OF, cache=args.cache)
    os.environ.update(screening_db.django_env(db, db.parent / "var"))
    import django

    django.setup()
    from django.db import transaction

    from engine.screening import DEFAULT_RULES
    from guardline.accounts.models import Role, User
    from guardline.accounts.services import user_create
    from guardline.regions.models import Region
    from guardline.screening.whatif import policy_whatif, rule_whatif

    def report(what: str, started: float, result) -> None:
        print(json.dumps({
            "what": what, "seconds": round(time.perf_counter() - started, 2), "households": result.households,
            "flagged_now": result.flagged_now, "flagged_then": result.flagged_then,
            "entering": len(result.entering), "leaving": len(result.leaving),
            **({"fires_now": result.fires_now, "fires_then": result.fires_then} if hasattr(result, "fires_now") else {}),
        }, ensure_ascii=False), flush=True)  # fmt: skip

    # Committed, and removed at the end: a what-if inside an open write transaction would make the input copy's
    # sync (a child process) wait for the database's write lock, which a web request never holds.
    made = [
        code for code, name, level, parent in
        (("52", "贵州省", 1, None), ("5205", "毕节市", 2, "52"), (COUNTY, "赫章县", 3, "5205"))
        if Region.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent_id": parent})[1]
    ]  # fmt: skip
    User.objects.filter(username="bench_whatif").delete()
    officer = user_create(
        actor=None, username="bench_whatif", password="Kx9#mPq2-Lw7vRt-2026", role=Role.PROVINCE_OFFICER,
        regions=["52"],
    )  # fmt: skip
    try:
        started = time.perf_counter()
        result = policy_whatif(user=officer, region=COUNTY, changes={"grade_yellow": 20}, as_of=AS_OF)
        report("policy what-if: grade_yellow 25 → 20", started, result)
        medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
        started = time.perf_counter()
        trial = rule_whatif(
            user=officer, region=COUNTY, rule=replace(medical, condition="med_oop_12m > 10000"), as_of=AS_OF
        )
        report("rule trial: medical_annual med_oop_12m > 10000", started, trial)
    finally:
        with transaction.atomic():
            officer.delete()
            Region.objects.filter(code__in=made).order_by("-code").delete()


if __name__ == "__main__":
    main()
