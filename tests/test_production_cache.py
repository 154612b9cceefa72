"""Production shares one cache between server processes (the declaration rate limit counts in it): Django's
database cache, created by `guardline createcachetable`."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

from guardline.core.crypto import generate_key

ROOT = Path(__file__).resolve().parents[1]


def test_production_uses_the_database_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "GUARDLINE_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GUARDLINE_LEDGER_KEY": secrets.token_urlsafe(32),
        "GUARDLINE_DATA_KEYS": "p1:" + generate_key(),
        "GUARDLINE_LOOKUP_KEY": generate_key(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUARDLINE_VAR_DIR": str(tmp_path),
    }
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.core.cache import cache\n"
        "call_command('createcachetable')\n"
        "assert cache.add('declare:1.2.3.4', 1, 60) and cache.incr('declare:1.2.3.4') == 2\n"
        "from django.core.cache import caches; print(type(caches['default']).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "DatabaseCache"
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("select count(*) from guardline_cache").fetchone() == (1,)
