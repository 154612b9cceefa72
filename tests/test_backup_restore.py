"""`guardline backup` / `guardline restore` on an SQLite file, through the real command in subprocesses: the
restored rows and uploaded files equal the backed-up ones, and a damaged archive is refused without any change."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.files import REGISTRY_HEADERS, registry_rows, write_csv

pytestmark = pytest.mark.slow  # ~60 s on 2 busy cores: a dozen Django start-ups in subprocesses


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
        GUARDLINE_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    assert guardline(env, "migrate", "-v0").returncode == 0
    assert guardline(env, "import_divisions", "--county", "520526").returncode == 0
    return env


def snapshot(env) -> tuple[list[str], dict[str, bytes]]:
    db = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        rows = list(db.iterdump())
    finally:
        db.close()
    media = Path(env["GUARDLINE_MEDIA_ROOT"])
    files = {p.relative_to(media).as_posix(): p.read_bytes() for p in media.rglob("*") if p.is_file()}
    return rows, files


def test_backup_then_restore_gives_back_rows_and_files(env, tmp_path):
    db_path = env["DATABASE_URL"].removeprefix("sqlite:///")
    db = sqlite3.connect(db_path)
    villages = [
        r[0] for r in db.execute("SELECT code FROM regions_region WHERE level=5 ORDER BY code LIMIT 5")
    ]
    csv = write_csv(tmp_path / "台账.csv", REGISTRY_HEADERS, registry_rows(villages, 40))
    assert guardline(env, "import_registry", str(csv)).returncode == 0
    media = Path(env["GUARDLINE_MEDIA_ROOT"])
    (media / "evidence" / "2025").mkdir(parents=True)
    (media / "evidence" / "2025" / "走访照片.jpg").write_bytes(os.urandom(50_000))
    (media / "note.txt").write_text("入户核查记录", encoding="utf-8")
    before = snapshot(env)
    assert db.execute("SELECT count(*) FROM registry_household").fetchone()[0] == 40

    archive = tmp_path / "backups" / "guardline.tar.gz"
    done = guardline(env, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert archive.exists() and not archive.with_name(archive.name + ".part").exists()
    assert guardline(env, "backup", str(archive)).returncode != 0  # never overwrites

    # Damage after the backup: rows deleted and altered, a file changed, another added.
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute(
        "DELETE FROM registry_member WHERE household_id IN (SELECT id FROM registry_household LIMIT 10)"
    )
    db.execute("UPDATE registry_household SET household_no = household_no || 'X'")
    db.commit()
    db.close()
    (media / "note.txt").write_text("改过了", encoding="utf-8")
    (media / "stray.bin").write_bytes(b"x")
    altered = snapshot(env)
    assert altered != before

    refused = guardline(env, "restore", str(archive))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert snapshot(env) == altered

    restored = guardline(env, "restore", "--force", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert snapshot(env) == before
    assert not list(tmp_path.glob(".guardline-restore-*")) and not list(tmp_path.glob(".media-old-*"))

    # A fresh installation (empty database after migrate) takes the backup without --force.
    fresh = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
             "GUARDLINE_MEDIA_ROOT": str(tmp_path / "fresh-media")}  # fmt: skip
    assert guardline(fresh, "migrate", "-v0").returncode == 0
    done = guardline(fresh, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert snapshot(fresh) == before


def test_damaged_archive_is_refused_and_nothing_changes(env, tmp_path):
    media = Path(env["GUARDLINE_MEDIA_ROOT"])
    media.mkdir(parents=True, exist_ok=True)
    (media / "a.txt").write_text("原件", encoding="utf-8")
    archive = tmp_path / "b.tar.gz"
    assert guardline(env, "backup", str(archive)).returncode == 0
    (media / "a.txt").write_text("现在", encoding="utf-8")
    current = snapshot(env)

    # 1. A media file swapped inside an otherwise well-formed archive: the manifest hash catches it.
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(tampered, "w:gz") as out:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == "media/a.txt":
                data = "伪造".encode()
                m.size = len(data)
            out.addfile(m, io.BytesIO(data))
    got = guardline(env, "restore", "--force", str(tampered))
    assert got.returncode != 0 and "media/a.txt is damaged" in got.stderr, got.stderr
    assert snapshot(env) == current

    # 2. Bytes flipped in the compressed stream; 3. a truncated archive.
    raw = bytearray(archive.read_bytes())
    for i in range(len(raw) // 2, len(raw) // 2 + 16):
        raw[i] ^= 0xFF
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(bytes(raw))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: len(raw) // 3])
    for bad in (flipped, truncated):
        got = guardline(env, "restore", "--force", str(bad))
        assert got.returncode != 0 and "damaged" in got.stderr, got.stderr
        assert snapshot(env) == current
    assert not list(tmp_path.glob(".guardline-restore-*"))
