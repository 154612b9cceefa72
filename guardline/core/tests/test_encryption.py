"""Encryption at rest: ID numbers and phones are ciphertext in the database (read with a raw cursor), lookups and
the ID link work through the blind index, old keys still decrypt after a new one is added, `rotate_keys` moves
everything to the current keys (and mode), SM4/SM3 round-trips, and production refuses to start without keys."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from guardline.accounts.models import Role
from guardline.cases.models import Clue
from guardline.cases.services import clue_declare
from guardline.core import crypto
from guardline.core.changelog import reveal
from guardline.core.crypto_services import model_reencrypt
from guardline.core.models import ChangeLog
from guardline.ingest.models import FeedEvent, ImportBatch
from guardline.ingest.services import import_file
from guardline.registry.models import Household, Member
from simulate import simulate_county
from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[3]
NEW_KEY = "k2:" + crypto.generate_key()
NEW_LOOKUP = crypto.generate_key()


def _raw(model, *columns: str) -> list[tuple]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(model._meta.db_table)}")
        return cursor.fetchall()


def _all_raw_text() -> str:
    """Every encrypted column of every table, raw, as one string to search for plaintext."""
    parts = []
    for model, columns in (
        (Member, ("id_number", "id_number_hash", "id_prefix15_hash")),
        (Household, ("phone",)),
        (FeedEvent, ("id_number", "id_prefix15", "id_number_hash", "id_prefix15_hash")),
        (Clue, ("declarant_id_number", "declarant_phone")),
    ):
        parts.extend(str(v) for row in _raw(model, *columns) for v in row)
    return "\n".join(parts)


# --- the cipher and the keyring, without a database -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["aes", "sm"])
def test_round_trip_format_and_tamper_detection(mode):
    ring = crypto.parse_keyring("a1:" + crypto.generate_key(), crypto.generate_key(), mode)
    stored = crypto.encrypt("52052619800101001X", ring)
    assert stored.startswith(f"v1:{mode}:a1:") and "520526" not in stored
    assert crypto.decrypt(stored, ring) == "52052619800101001X"
    assert crypto.encrypt("52052619800101001X", ring) != stored  # a fresh nonce every time
    assert crypto.encrypt("", ring) == "" and crypto.decrypt("", ring) == ""
    assert crypto.decrypt("13800001234", ring) == "13800001234"  # legacy plaintext reads as itself
    digest = crypto.blind_index("52052619800101001X", ring)
    assert len(digest) == 64 and digest == crypto.blind_index("52052619800101001X", ring)
    assert crypto.blind_index("", ring) == ""
    body = stored.rsplit(":", 1)[1]
    tampered = stored[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(tampered, ring)
    other = crypto.parse_keyring("a1:" + crypto.generate_key(), crypto.generate_key(), mode)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(stored, other)  # same key id, another key: the tag does not verify


def test_sm_mode_uses_sm4_and_sm3():
    """国密 mode: SM4-GCM and HMAC-SM3 through the `cryptography` package's OpenSSL (checked against the
    primitives directly, so the mode is really SM4/SM3 and not AES under another name)."""
    import base64
    import hmac as std_hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as crypto_hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, lookup = crypto.generate_key(), crypto.generate_key()
    ring = crypto.parse_keyring("s1:" + key, lookup, "sm")
    stored = crypto.encrypt("13800001234", ring)
    raw = base64.b64decode(stored.split(":", 3)[3])
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.SM4(base64.b64decode(key)[:16]), modes.GCM(nonce, tag)).decryptor()
    assert decryptor.update(body) + decryptor.finalize() == b"13800001234"
    mac = crypto_hmac.HMAC(base64.b64decode(lookup), hashes.SM3())
    mac.update(b"13800001234")
    assert crypto.blind_index("13800001234", ring) == mac.finalize().hex()
    aes = crypto.parse_keyring("s1:" + key, lookup, "aes")
    assert not std_hmac.compare_digest(
        crypto.blind_index("13800001234", aes), crypto.blind_index("13800001234", ring)
    )


def test_malformed_key_settings_are_refused():
    good = crypto.generate_key()
    for data_keys, lookup, mode in (
        ("", good, "aes"),
        ("nokeyid", good, "aes"),
        ("a:" + good + ",a:" + good, good, "aes"),
        ("a:c2hvcnQ=", good, "aes"),  # 5 bytes
        ("a:" + good, "not base64!", "aes"),
        ("a:" + good, good, "des"),
    ):
        with pytest.raises(crypto.CryptoError):
            crypto.parse_keyring(data_keys, lookup, mode)


# --- in the database -------------------------------------------------------------------------------------------


@pytest.fixture
def county(tmp_path, db):
    out = tmp_path / "county"
    simulate_county(households=40, seed=5, out_dir=out, divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"])
    assert import_file("registry", out / "registry.csv").rows_rejected == 0
    batch = import_file("medical_settlement", out / "feeds" / "medical_settlement.csv")
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return out


def test_database_holds_no_plaintext_and_lookups_work(county, villages):
    members = list(Member.objects.all())
    assert members and all(
        m.id_number and len(m.id_number) == 18 for m in members
    )  # plaintext on the Python side
    village = members[0].household.village_code
    clue = clue_declare(
        village_code=village, name=members[0].name, id_number=members[0].id_number, phone="13912345678",
        concern="illness", description="看病花销大", consent=True,
    )  # fmt: skip
    assert clue.household_id == members[0].household_id  # found through the blind index
    raw = _all_raw_text()
    for m in members:
        assert m.id_number not in raw and m.id_number[:15] not in raw
    phones = [p for p in Household.objects.values_list("phone", flat=True) if p]
    assert phones and not any(p in raw for p in phones)
    assert "13912345678" not in raw
    logged = "\n".join(json.dumps([c.before, c.after], ensure_ascii=False) for c in ChangeLog.objects.all())
    assert ChangeLog.objects.filter(entity="member").exists() and '"v1:aes:' in logged
    assert not any(m.id_number in logged for m in members) and not any(p in logged for p in phones)
    create = ChangeLog.objects.filter(entity="member", entity_id=members[0].pk, action="create").get()
    assert reveal(create.after)["id_number"] == members[0].id_number
    for (stored,) in _raw(Member, "id_number"):
        assert stored.startswith("v1:aes:dev:")
    (stored_id, stored_phone), = _raw(Clue, "declarant_id_number", "declarant_phone")  # fmt: skip
    assert stored_id.startswith("v1:aes:") and stored_phone.startswith("v1:aes:")
    assert Clue.objects.get().declarant_phone == "13912345678"
    events = FeedEvent.objects.exclude(id_number_hash="")
    assert events.exists()
    for stored, digest in _raw(FeedEvent, "id_number", "id_number_hash"):
        assert (stored == "") == (digest == "") and (not stored or stored.startswith("v1:aes:"))
    linked = FeedEvent.objects.filter(link_status="linked", link_method="id_exact").select_related("member")
    assert linked.exists()
    for event in linked:  # the exact link joined on hashes of the same plaintext
        assert event.member.id_number == event.id_number
    member = members[3]
    assert Member.objects.get(id_number_hash=crypto.blind_index(member.id_number)) == member
    with pytest.raises(FieldError, match="blind index"):
        Member.objects.filter(id_number=member.id_number).exists()


def test_masked_pages_still_mask(client, make_user, villages, households):
    make_user("cadre_a", Role.VILLAGE_CADRE, villages["A"].code)
    client.login(username="cadre_a", password=PASSWORD)
    h = households["A"]
    full = h.members.get().id_number
    page = client.get(f"/households/{h.pk}/").content.decode()
    assert full not in page and full[:6] in page and "13800001234" not in page
    listing = client.get("/households/").content.decode()
    assert "13800001234" not in listing and "138****1234" in listing


def test_old_key_still_decrypts_and_rotate_keys_reencrypts(county, capsys):
    member = Member.objects.order_by("pk").first()
    plain = member.id_number
    rotated = f"{NEW_KEY},{settings.GUARDLINE_DATA_KEYS}"
    with override_settings(GUARDLINE_DATA_KEYS=rotated):
        assert Member.objects.get(pk=member.pk).id_number == plain  # stored under "dev", still readable
        member.save()  # a write encrypts with the new first key
        assert _raw_member(member.pk).startswith("v1:aes:k2:")
        call_command("rotate_keys", batch=7)
        out = capsys.readouterr().out
        assert "registry.Member" in out and "ingest.FeedEvent" in out and "rewritten" in out
        raw = _all_raw_text()
        assert ":dev:" not in raw and "v1:aes:k2:" in raw
        logged = "\n".join(json.dumps([c.before, c.after]) for c in ChangeLog.objects.all())
        assert ":dev:" not in logged and "v1:aes:k2:" in logged
        call_command("rotate_keys")  # idempotent: nothing left to do
        assert "0 rewritten" in capsys.readouterr().out.splitlines()[-1]
    with override_settings(GUARDLINE_DATA_KEYS=NEW_KEY):  # the old key removed after the rotation
        assert Member.objects.get(pk=member.pk).id_number == plain
        assert {e.id_number for e in FeedEvent.objects.exclude(id_number_hash="")} <= {
            *Member.objects.values_list("id_number", flat=True),
            *{e.id_number for e in FeedEvent.objects.filter(link_status="unlinked")},
        }


def _raw_member(pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('id_number')} FROM {quote(Member._meta.db_table)} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("mode", ["aes", "sm"])
def test_new_lookup_key_or_mode_reindexes_and_links_again(county, mode):
    member = Member.objects.order_by("pk").first()
    with override_settings(GUARDLINE_LOOKUP_KEY=NEW_LOOKUP, GUARDLINE_CRYPTO_MODE=mode):
        assert not Member.objects.filter(id_number_hash=crypto.blind_index(member.id_number)).exists()
        call_command("rotate_keys")
        assert Member.objects.get(id_number_hash=crypto.blind_index(member.id_number)) == member
        for (stored,) in _raw(Member, "id_number"):
            assert stored.startswith(f"v1:{mode}:")
        # A feed imported after the rotation links on the new hashes.
        FeedEvent.objects.all().delete()
        ImportBatch.objects.all().delete()
        batch = import_file("medical_settlement", county / "feeds" / "medical_settlement.csv")
        assert batch.linked > 0
        linked = FeedEvent.objects.filter(link_method="id_exact").select_related("member")
        assert linked.exists() and all(e.member.id_number == e.id_number for e in linked)


def test_legacy_plaintext_rows_are_encrypted_by_the_migration_step(households):
    """What the data migrations run: plaintext rows (as before encryption) become ciphertext and get their hashes;
    the reverse writes the plaintext back."""
    quote = connection.ops.quote_name
    member = households["A"].members.get()
    plain = member.id_number
    table = quote(Member._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quote('id_number')} = %s, {quote('id_number_hash')} = %s WHERE id = %s",
            [plain, f"legacy-{member.pk}", member.pk],
        )
    result = model_reencrypt(Member)
    assert result.rewritten == 1 and result.rows == 3
    assert _raw_member(member.pk).startswith("v1:aes:")
    assert Member.objects.get(id_number_hash=crypto.blind_index(plain)).pk == member.pk
    # The reverse (run after the unique index on the hash is dropped) writes plaintext back.
    model_reencrypt(Household, decrypt_only=True)
    assert {p for (p,) in _raw(Household, "phone")} == {"13800001234"}
    model_reencrypt(Household)
    assert all(p.startswith("v1:aes:") for (p,) in _raw(Household, "phone"))
    assert Household.objects.get(pk=member.household_id).phone == "13800001234"


def test_production_refuses_to_start_without_encryption_keys(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GUARDLINE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env |= {
        "GUARDLINE_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GUARDLINE_LEDGER_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUARDLINE_VAR_DIR": str(tmp_path),
    }

    def check(extra: dict) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "django", "check"],
            cwd=ROOT, env=env | extra, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    result = check({})
    assert result.returncode != 0 and "GUARDLINE_DATA_KEYS" in result.stderr
    result = check({"GUARDLINE_DATA_KEYS": "p1:" + crypto.generate_key()})
    assert result.returncode != 0 and "GUARDLINE_LOOKUP_KEY" in result.stderr
    result = check(
        {"GUARDLINE_DATA_KEYS": crypto.DEV_DATA_KEYS, "GUARDLINE_LOOKUP_KEY": crypto.DEV_LOOKUP_KEY}
    )
    assert result.returncode != 0 and "not for production" in result.stderr
    result = check({"GUARDLINE_DATA_KEYS": "p1:short", "GUARDLINE_LOOKUP_KEY": crypto.generate_key()})
    assert result.returncode != 0 and "base64" in result.stderr
    keys = {
        "GUARDLINE_DATA_KEYS": "p1:" + crypto.generate_key(),
        "GUARDLINE_LOOKUP_KEY": crypto.generate_key(),
    }
    result = check(keys | {"GUARDLINE_CRYPTO_MODE": "sm"})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_change_log_json_text_may_not_carry_personal_values(households):
    from guardline.core.changelog import log_rows

    household = households["A"]
    assert log_rows([("warning", 0, household.pk, "open", None, '{"grade": "red", "run": 1}')]) == 1
    assert ChangeLog.objects.get(entity="warning").after == {"grade": "red", "run": 1}
    with pytest.raises(ValueError, match="personal key"):
        log_rows([("member", 1, household.pk, "update", None, '{"id_number": "110101199003070011"}')])
    # As a mapping, the same value is encrypted like the column it comes from.
    log_rows([("member", 1, household.pk, "update", None, {"id_number": "110101199003070011"})])
    stored = ChangeLog.objects.get(entity="member").after["id_number"]
    assert stored.startswith("v1:aes:") and reveal({"id_number": stored})["id_number"] == "110101199003070011"
