"""Kill the import mid-way (SIGKILL, no cleanup) and prove nothing was half-written, lost or duplicated after the
import is run again. Runs the real `guardline` command in subprocesses against an SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.files import REGISTRY_HEADERS, registry_rows, write_csv

pytestmark = pytest.mark.slow


def guardline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GUARDLINE_VAR_DIR=str(tmp_path / "var"),
        GUARDLINE_IMPORT_CHUNK_ROWS="300",
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    assert guardline(env, "migrate", "-v0").returncode == 0
    assert guardline(env, "import_divisions", "--county", "520526").returncode == 0
    return env


def test_killed_import_resumes_without_loss_or_duplicates(env, tmp_path):
    db = sqlite3.connect(Path(env["DATABASE_URL"].removeprefix("sqlite:///")))
    villages = [
        r[0] for r in db.execute("SELECT code FROM regions_region WHERE level=5 ORDER BY code LIMIT 20")
    ]
    rows = registry_rows(villages, 600)
    path = write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, rows)

    killed = guardline({**env, "GUARDLINE_FAILPOINT": "import_after_chunk:3"}, "import_registry", str(path))
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    members_by_household = dict(
        db.execute(
            "SELECT h.household_no, count(m.id) FROM registry_household h LEFT JOIN registry_member m "
            "ON m.household_id = h.id GROUP BY h.id"
        )
    )
    assert 0 < len(members_by_household) < 600, "the kill should land mid-way"
    expected = {}
    for r in rows:
        expected[r["户编号"]] = expected.get(r["户编号"], 0) + 1
    # Every household written so far is complete: chunks are whole households in one transaction.
    assert all(members_by_household[no] == expected[no] for no in members_by_household)
    assert db.execute("SELECT status FROM ingest_importbatch").fetchall() == [("running",)]

    again = guardline(env, "import_registry", str(path))
    assert again.returncode == 0, again.stderr
    assert db.execute("SELECT count(*) FROM registry_household").fetchone()[0] == 600
    assert db.execute("SELECT count(*) FROM registry_member").fetchone()[0] == len(rows)
    # One creation entry per member: the households written before the kill were not written twice.
    assert db.execute(
        "SELECT count(*), count(DISTINCT entity_id) FROM core_changelog WHERE entity='member' AND action='create'"
    ).fetchone() == (len(rows), len(rows))
    assert db.execute("SELECT count(*) FROM core_changelog WHERE action='update'").fetchone()[0] == 0
    statuses = [r[0] for r in db.execute("SELECT status FROM ingest_importbatch ORDER BY id")]
    assert statuses == ["failed", "done"]


def test_killed_feed_import_resumes_without_loss_or_duplicates(env, tmp_path):
    """Feeds commit in chunks of rows: a kill keeps the chunks committed before it, and the re-run stores the rest
    once (the natural key makes the rows already written no-ops)."""
    from simulate import simulate_county

    out = tmp_path / "county"
    db_path = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    simulate_county(
        households=120,
        seed=5,
        out_dir=out,
        divisions_dir=Path(__file__).resolve().parents[2] / "shared" / "data" / "divisions",
        outsiders=True,
    )
    assert guardline(env, "import_registry", str(out / "registry.csv")).returncode == 0
    path = out / "feeds" / "medical_settlement.csv"
    small = {**env, "GUARDLINE_FEED_CHUNK_ROWS": "20"}
    killed = guardline(
        {**small, "GUARDLINE_FAILPOINT": "import_after_chunk:2"},
        "import_feed",
        "medical_settlement",
        str(path),
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM ingest_feedevent").fetchone()[0] == 40  # two chunks committed
    again = guardline(small, "import_feed", "medical_settlement", str(path))
    assert again.returncode == 0, again.stderr
    rows = db.execute(
        "SELECT rows_accepted, created, unchanged, linked, review, unlinked FROM ingest_importbatch "
        "WHERE status = 'done' AND kind = 'feed'"
    ).fetchone()
    accepted, created, unchanged, linked, review, unlinked = rows
    assert (created, unchanged) == (accepted - 40, 40)
    total, distinct_rows = db.execute(
        "SELECT count(*), count(DISTINCT source_row) FROM ingest_feedevent"
    ).fetchone()
    assert total == distinct_rows == accepted  # every accepted row stored once
    # The re-run's counts cover its own events; the first run's 40 stay with the failed batch (lineage), and the
    # rows without ID among them were linked by the re-run too.
    assert linked + review + unlinked == created
    assert (
        db.execute(
            "SELECT count(*) FROM ingest_feedevent WHERE id_number = '' AND name <> '' AND link_examined_at IS NULL"
        ).fetchone()[0]
        == 0
    )
    assert [
        r[0] for r in db.execute("SELECT status FROM ingest_importbatch WHERE kind='feed' ORDER BY id")
    ] == [
        "failed",
        "done",
    ]


def test_killed_audit_prune_deletes_nothing_and_the_rerun_archives_again(env, tmp_path):
    """`prune_audit_logs` SIGKILLed after its archive is complete but before the delete: every entry is still in
    the database, and the next run archives them into a new file and deletes them then."""
    import gzip
    import hashlib
    import json

    db = sqlite3.connect(Path(env["DATABASE_URL"].removeprefix("sqlite:///")))
    with db:
        for i in range(50):
            db.execute(
                "INSERT INTO core_personaldataaccess (at, household_id, purpose, request_id, channel, subject, "
                "region_code) VALUES (datetime('now', ?), ?, '入户核实', '', 'page', '', '520526100200')",
                (f"-{400 + i} days", i + 1),
            )
            db.execute(
                "INSERT INTO core_changelog (at, request_id, entity, entity_id, household_id, action, before, "
                "after, reason) VALUES (datetime('now', ?), '', 'member', ?, ?, 'update', '{}', '{}', '')",
                (f"-{400 + i} days", i + 1, i + 1),
            )
        db.execute(
            "INSERT INTO core_personaldataaccess (at, household_id, purpose, request_id, channel, subject, "
            "region_code) VALUES (datetime('now', '-1 days'), 1, '新的', '', 'page', '', '520526100200')"
        )
    archive = tmp_path / "archive"
    env = {**env, "GUARDLINE_AUDIT_ARCHIVE_DIR": str(archive)}

    def counts() -> tuple[int, int]:
        return (
            db.execute("SELECT count(*) FROM core_personaldataaccess").fetchone()[0],
            db.execute("SELECT count(*) FROM core_changelog WHERE entity = 'member'").fetchone()[0],
        )

    killed = guardline({**env, "GUARDLINE_FAILPOINT": "audit_prune_before_delete:1"}, "prune_audit_logs")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert counts() == (51, 50)  # nothing deleted
    (first,) = archive.glob("*.jsonl.gz")  # complete, renamed, with its sidecar
    assert (archive / f"{first.name}.sha256").read_text().split()[0] == hashlib.sha256(
        first.read_bytes()
    ).hexdigest()

    again = guardline(env, "prune_audit_logs")
    assert again.returncode == 0, again.stderr
    assert counts() == (1, 0)  # exactly the old entries
    second = next(p for p in archive.glob("*.jsonl.gz") if p != first)
    with gzip.open(second, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    assert records[-1] == {"kind": "end", "core.personaldataaccess": 50, "core.changelog": 50}
    assert not list(archive.glob("*.part"))
    ledger = db.execute("SELECT entity, payload FROM ledger_ledgerentry ORDER BY seq DESC LIMIT 1").fetchone()
    assert ledger[0] == "audit_archive" and json.loads(ledger[1])["archive"] == second.name
