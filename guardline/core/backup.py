"""Backup and restore of one Guardline installation: the database and the uploaded files (MEDIA_ROOT) in one
tar.gz archive with a manifest (format version, creation time, database vendor, every file with its SHA-256).

- SQLite is copied with SQLite's online backup API, so the copy is consistent while the application runs and
  writes; PostgreSQL with `pg_dump -Fc` (the client tools must be on PATH).
- The archive is written to `DEST.part` and renamed at the end: a crash never leaves a truncated `DEST`.
- Restore checks every hash before it touches anything, refuses a non-empty database without `force`, swaps the
  media directory in with renames and writes the database in one transaction (SQLite backup API into the live
  file, WAL-safe; `pg_restore --single-transaction --clean` on PostgreSQL). Stop the web and task processes first.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = 1
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "database/db.sqlite3", "postgresql": "database/db.pgdump"}
# Tables `migrate` fills on its own: rows there do not make a database "non-empty".
_SCHEMA_TABLES = {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why (nothing was changed)."""


@dataclass
class Target:
    vendor: str
    settings: dict[str, Any]
    media_root: Path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class _Hashing(io.RawIOBase):
    """Reads through a file while hashing what was read (a media file is read once, straight into the archive)."""

    def __init__(self, f: IO[bytes]):
        self.f = f
        self.h = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.h.update(data)
        return data


def _pg_env(s: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if s.get(key):
            args += [flag, str(s[key])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise BackupError(
            f"{tool} not found on PATH: PostgreSQL backups need the PostgreSQL client tools "
            f"(e.g. apt-get install postgresql-client, matching the server's major version)"
        )
    return path


def _dump_database(target: Target, out: Path) -> None:
    s = target.settings
    if target.vendor == "sqlite":
        name = str(s["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise BackupError("an in-memory SQLite database cannot be backed up")
        src = sqlite3.connect(name, timeout=60)
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)  # online backup: a consistent snapshot even while others write
        finally:
            dst.close()
            src.close()
    elif target.vendor == "postgresql":
        args, env = _pg_env(s)
        cmd = [_need("pg_dump"), "-Fc", "--no-owner", "-f", str(out), *args, str(s["NAME"])]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    else:
        raise BackupError(
            f"backups of {target.vendor} databases are not supported (SQLite and PostgreSQL are)"
        )


def backup(target: Target, dest: Path, log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Write the archive to `dest` (via `dest.part`); returns the manifest."""
    dest = Path(dest)
    if dest.exists():
        raise BackupError(f"{dest} exists: choose a new file name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    files: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".guardline-backup-") as tmp:
        db_file = Path(tmp) / "db"
        log("database")
        _dump_database(target, db_file)
        try:
            with tarfile.open(part, "w:gz") as tar:
                member = DB_MEMBER[target.vendor]
                tar.add(db_file, arcname=member, recursive=False)
                files.append({"path": member, "size": db_file.stat().st_size, "sha256": _sha256(db_file)})
                root = target.media_root
                if root.is_dir():
                    log("media")
                    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
                        arcname = "media/" + path.relative_to(root).as_posix()
                        info = tar.gettarinfo(path, arcname=arcname)
                        with path.open("rb") as f:
                            reader = _Hashing(f)
                            tar.addfile(info, reader)  # type: ignore[arg-type]
                        files.append({"path": arcname, "size": info.size, "sha256": reader.h.hexdigest()})
                manifest = {
                    "format": FORMAT,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database_vendor": target.vendor,
                    "files": files,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
            with part.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(part, dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    return manifest


def _safe(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and p.parts[:1] in (("database",), ("media",))


def _extract_verified(src: Path, into: Path) -> dict[str, Any]:
    """Unpack the archive into `into` and check it against its manifest; raise BackupError on any damage."""
    try:
        with tarfile.open(src, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members:
                raise BackupError(f"{src}: no {MANIFEST}, not a Guardline backup")
            raw = tar.extractfile(members[MANIFEST])
            assert raw is not None
            manifest = json.loads(raw.read())
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{src}: backup format {manifest.get('format')!r}, expected {FORMAT}")
            listed = {f["path"]: f for f in manifest["files"]}
            extra = set(members) - set(listed) - {MANIFEST}
            if extra:
                raise BackupError(f"{src}: files not in the manifest: {', '.join(sorted(extra)[:5])}")
            for name, entry in listed.items():
                member = members.get(name)
                if member is None:
                    raise BackupError(f"{src}: {name} is listed in the manifest but missing")
                if not member.isfile() or not _safe(name):
                    raise BackupError(f"{src}: unsafe entry {name!r}")
                out = into / name
                out.parent.mkdir(parents=True, exist_ok=True)
                f = tar.extractfile(member)
                assert f is not None
                h = hashlib.sha256()
                with out.open("wb") as w:
                    while chunk := f.read(_CHUNK):
                        h.update(chunk)
                        w.write(chunk)
                if h.hexdigest() != entry["sha256"]:
                    raise BackupError(f"{src}: {name} is damaged (SHA-256 does not match the manifest)")
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src}: damaged or unreadable archive ({type(exc).__name__}: {exc})") from None
    return manifest


def database_has_data(connection) -> bool:
    """True if any table beyond those `migrate` fills on its own holds a row."""
    tables = set(connection.introspection.table_names()) - _SCHEMA_TABLES
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone():
                return True
    return False


def _restore_database(target: Target, dump: Path) -> None:
    s = target.settings
    if target.vendor == "sqlite":
        src = sqlite3.connect(dump)
        dst = sqlite3.connect(str(s["NAME"]), timeout=60)
        try:
            # One write transaction on the live file: readers see the old or the new database, never a mix.
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        args, env = _pg_env(s)
        cmd = [_need("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
               "-d", str(s["NAME"]), *args, str(dump)]  # fmt: skip
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_restore failed (database unchanged): {done.stderr.strip()}")


def restore(
    target: Target, src: Path, *, force: bool, has_data: Callable[[], bool], log: Callable[[str], None]
) -> dict[str, Any]:
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"{src}: no such file")
    media = target.media_root
    media.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=media.parent, prefix=".guardline-restore-"))
    try:
        log("verifying")
        manifest = _extract_verified(src, staging)
        if manifest["database_vendor"] != target.vendor:
            raise BackupError(
                f"the backup holds a {manifest['database_vendor']} database, this installation uses {target.vendor}"
            )
        if target.vendor not in DB_MEMBER:
            raise BackupError(f"restoring into {target.vendor} is not supported")
        if not force and has_data():
            raise BackupError("the database is not empty: pass --force to replace it with the backup")
        if target.vendor == "postgresql":
            _need("pg_restore")
        # Media first, by renames (the old directory is kept until the database is in), then the database.
        new_media = staging / "media"
        new_media.mkdir(exist_ok=True)
        old_media = media.with_name(f".{media.name}-old-{uuid.uuid4().hex[:8]}")
        had_media = media.exists()
        if had_media:
            os.replace(media, old_media)
        os.replace(new_media, media)
        log("database")
        try:
            _restore_database(target, staging / DB_MEMBER[target.vendor])
        except BaseException:
            shutil.rmtree(media, ignore_errors=True)
            if had_media:
                os.replace(old_media, media)
            raise
        if had_media:
            shutil.rmtree(old_media, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
