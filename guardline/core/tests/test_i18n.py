"""Chinese by default, English one switch away, and no UI string left untranslated."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db


def test_chinese_by_default_english_switchable(client, cadre_a, households):
    assert "登录" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()
    client.login(username="cadre_a", password=PASSWORD)
    listing = client.get("/households/").content.decode()
    assert "Households" in listing and "Household number" in listing
    detail = client.get(f"/households/{households['A'].pk}/").content.decode()
    assert "Members" in detail and "Change history" in detail


def test_every_ui_string_has_an_english_translation():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n_extract.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, "run `make messages` and translate:\n" + result.stdout


def test_compiled_catalogue_is_current():
    po = ROOT / "guardline/locale/en/LC_MESSAGES/django.po"
    mo = ROOT / "guardline/locale/en/LC_MESSAGES/django.mo"
    from django.utils.translation import gettext, override

    entries = [
        line[7:-1] for line in po.read_text(encoding="utf-8").splitlines() if line.startswith('msgid "')
    ]
    assert mo.exists()
    with override("en"):
        assert all(gettext(m) != m for m in entries if m), (
            "django.mo is older than django.po: run `make messages`"
        )
