"""Sign-in security: lockout after repeated failures, the second factor for county and province roles, password
complexity, security headers, and Django's deployment check under the production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from guardline.accounts.models import Role
from guardline.core.crypto import generate_key
from guardline.core.models import ChangeLog
from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[3]


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_out_even_with_the_right_password(client, make_user, villages):
    make_user("clerk", Role.COUNTY_STAFF, "520526")
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "clerk", "password": "wrong-Password-1"})
        assert response.status_code in (200, 429)
    response = client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 429
    assert "账户已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_success_before_the_limit_resets_the_count(client, make_user, villages):
    make_user("clerk", Role.COUNTY_STAFF, "520526")
    for _ in range(2):
        client.post("/accounts/login/", {"username": "clerk", "password": "wrong-Password-1"})
    assert client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}).status_code == 302


def _two_factor_on(settings):
    settings.GUARDLINE = {**settings.GUARDLINE, "TWO_FACTOR": True}


def test_county_roles_must_enrol_and_confirm_a_code(client, make_user, villages, settings):
    _two_factor_on(settings)
    user = make_user("clerk", Role.COUNTY_STAFF, "520526")
    response = client.post(
        "/accounts/login/", {"username": "clerk", "password": PASSWORD, "next": "/warnings/"}
    )
    assert response.status_code == 302
    # Signed in with the password only: every page leads to the second factor.
    response = client.get("/warnings/")
    assert response.status_code == 302 and response.url.startswith("/accounts/2fa/")
    page = client.get(response.url)
    assert page.status_code == 200 and "<svg" in page.content.decode() and page.context["enrolling"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    bad = client.post("/accounts/2fa/", {"token": "000000", "next": "/warnings/"})
    assert "动态验证码不正确" in bad.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    device.throttling_failure_count = (
        0  # django-otp backs off after a failure; the right code follows at once
    )
    device.throttling_failure_timestamp = None
    device.save()
    ok = client.post("/accounts/2fa/", {"token": _code(device), "next": "/warnings/"})
    assert ok.status_code == 302 and ok.url == "/warnings/"
    assert client.get("/warnings/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert ChangeLog.objects.filter(entity="user", entity_id=user.pk, action="2fa_enrol").exists()

    # Next sign-in: a code is asked for again, and the enrolled authenticator is used (no new QR code).
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    page = client.get("/accounts/2fa/")
    assert not page.context["enrolling"] and "<svg" not in page.content.decode()
    assert client.get("/warnings/").status_code == 302
    ok = client.post("/accounts/2fa/", {"token": _code(device, drift=1), "next": "/warnings/"})
    assert ok.status_code == 302 and client.get("/warnings/").status_code == 200


def test_village_roles_and_the_api_do_not_ask_for_a_second_factor(client, make_user, villages, settings):
    _two_factor_on(settings)
    make_user("cadre", Role.VILLAGE_CADRE, villages["A"].code)
    client.post("/accounts/login/", {"username": "cadre", "password": PASSWORD})
    assert client.get("/households/").status_code == 200


def test_an_unsafe_next_url_is_ignored(client, make_user, villages, settings):
    _two_factor_on(settings)
    user = make_user("clerk", Role.COUNTY_STAFF, "520526")
    client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    client.get("/accounts/2fa/")
    device = TOTPDevice.objects.get(user=user)
    ok = client.post("/accounts/2fa/", {"token": _code(device), "next": "https://evil.example/"})
    assert ok.status_code == 302 and ok.url == "/"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Guardline-2026", True),
        ("guardline-2026", True),
        ("guardlinepass2026", False),
        ("GUARDLINEPASSWORD", False),
    ],
)
def test_passwords_need_three_character_classes(password, ok, db):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    body = response.content.decode()
    assert "<style" not in body and " style=" not in body and "onchange=" not in body


def test_no_template_has_inline_script_style_or_handlers():
    """The CSP forbids them, so a template that uses one is broken in the browser."""
    offenders = []
    for path in (ROOT / "guardline").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for needle in ("<style", " style=", " onclick=", " onchange=", " onsubmit=", " onload=", "<script>"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle.strip()}")
    assert offenders == []


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        **{
            k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"
        },  # set by the browser tests
        "GUARDLINE_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GUARDLINE_LEDGER_KEY": secrets.token_urlsafe(32),
        "GUARDLINE_DATA_KEYS": "p1:" + generate_key(),
        "GUARDLINE_LOOKUP_KEY": generate_key(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUARDLINE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DATABASE_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production", "GUARDLINE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_reset_two_factor_command_removes_the_authenticator(make_user, villages):
    from django.core.management import call_command

    user = make_user("clerk", Role.COUNTY_STAFF, "520526")
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    call_command("reset_two_factor", "clerk")
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert ChangeLog.objects.filter(entity="user", entity_id=user.pk, action="2fa_reset").exists()
