"""`simulate_county`: run the model for a real county and write every file (see MODEL.md and INTERCHANGE.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from .feeds import build_and_write
from .model import measured, run, streams
from .places import load_county
from .tables import write_income, write_registry, write_truth

Progress = Callable[[int, int, str], None]
STAGES = (
    "villages",
    "population",
    "income",
    "shocks",
    "paths",
    "assistance",
    "truth",
    "registry",
    "income files",
    "feeds",
    "ground truth",
    "quirks",
    "done",
)


def simulate_county(
    *,
    county: str = "520526",
    households: int = 20000,
    seed: int = 1,
    out_dir: Path,
    divisions_dir: Path,
    start: date = date(2024, 1, 1),
    months: int = 24,
    quirks: bool = False,
    progress: Progress | None = None,
    outsiders: bool = False,
) -> dict[str, object]:
    """Write registry.csv, income_<year>.csv, feeds/<key>.csv and truth/*.csv (and with `quirks` the quirk files)
    into `out_dir`; return the counts per file and the rates the run measured. Same arguments ⇒ byte-identical
    files. `outsiders` mixes rows about people outside the rural registry into the feeds (they must stay
    unlinked; off by default because the platform's feed tests expect every valid ID to link)."""
    if households < 1 or months < 1:
        raise ValueError("households and months must be positive")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = len(STAGES) - 1

    def say(stage: str) -> None:
        if progress is not None:
            progress(STAGES.index(stage), total, stage)

    say("villages")
    places = load_county(Path(divisions_dir), county)
    r = run(places, households, seed, start, months, say)
    files: dict[str, int] = {}
    say("registry")
    files["registry.csv"] = write_registry(r, out)
    say("income files")
    files.update(write_income(r, out))
    say("feeds")
    feeds = build_and_write(streams(seed)["feeds"], r, out, outsiders=outsiders)
    feed_files: dict[str, int] = feeds.pop("files")  # type: ignore[assignment]
    files.update({f"feeds/{k}.csv": v for k, v in feed_files.items()})
    feed_rows = sum(feed_files.values())
    say("ground truth")
    write_truth(r, out)
    files.update({"truth/outcomes.csv": households, "truth/events.csv": len(r.events)})
    files["truth/person_links.csv"] = feed_rows
    if quirks:
        say("quirks")
        from .quirks import write_quirk_files

        files.update(write_quirk_files(streams(seed)["quirks"], r, out))
    say("done")
    person_rows = int(feeds["person_rows"])  # type: ignore[call-overload]
    summary = measured(r)
    summary.update(
        {
            "county": places.code,
            "county_name": places.name,
            "villages": places.villages,
            "start": start.isoformat(),
            "months": months,
            "seed": seed,
            "feed_rows": feed_rows,
            "feed_person_rows": person_rows,
            "feed_share_without_id": round(int(feeds["without_id"]) / max(person_rows, 1), 3),  # type: ignore[call-overload]
            "feed_outsider_rows": feeds["outsider_rows"],
            "feed_namesake_rows": feeds["namesake_rows"],
            "feed_typo_rows": feeds["typo_rows"],
            "files": files,
        }
    )
    return summary
