"""Encryption at rest of personal data (citizen ID numbers, phones) and the keyed hashes used to look them up.

Values are encrypted with an authenticated cipher under a data key, one fresh random nonce per value, and stored
self-described as ``v1:<mode>:<key id>:<base64(nonce | ciphertext | tag)>``:

- ``aes``: AES-256-GCM (default);
- ``sm``: SM4-GCM (国密, GB/T 32907) with the first 16 bytes of the data key.

Lookups never decrypt: a sibling column holds the *blind index* of the value, a keyed hash under the lookup key
(HMAC-SHA256, or HMAC-SM3 in ``sm`` mode), so ``id_number_hash = blind_index(x)`` finds a member by ID number and
joins stay equality joins. Equal values have equal blind indexes (that is the point), nothing else leaks.

Keys come from settings (which read the environment):

- ``GUARDLINE_DATA_KEYS``: ``keyid:base64(32 bytes),keyid2:…`` — the first key encrypts, every key decrypts, so a
  new key is put first, ``guardline rotate_keys`` re-encrypts, and the old key is removed afterwards;
- ``GUARDLINE_LOOKUP_KEY``: base64 of the HMAC key of the blind index (changing it, or the mode, needs
  ``guardline rotate_keys --reindex``);
- ``GUARDLINE_CRYPTO_MODE``: ``aes`` or ``sm``.

Empty values stay empty (no ciphertext, empty blind index), so "has no ID number" remains a plain comparison. A
stored value without the ``v1:`` prefix is legacy plaintext (before the migration that encrypts existing rows) and
reads as itself. This module holds no models; it reads only ``django.conf.settings``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
MODES = ("aes", "sm")
NONCE_BYTES = 12
TAG_BYTES = 16
# Development and test keys: derived from fixed labels so a development database stays readable between runs.
# NOT FOR PRODUCTION — production settings refuse to start without GUARDLINE_DATA_KEYS and GUARDLINE_LOOKUP_KEY.
DEV_DATA_KEYS = "dev:" + base64.b64encode(hashlib.sha256(b"guardline development data key").digest()).decode()
DEV_LOOKUP_KEY = base64.b64encode(hashlib.sha256(b"guardline development lookup key").digest()).decode()


class CryptoError(ValueError):
    """A key setting is malformed, or a stored value cannot be decrypted (unknown key, tampered)."""


@dataclass(frozen=True)
class Keyring:
    mode: str
    data_keys: tuple[tuple[str, bytes], ...]  # (key id, 32 bytes); the first encrypts
    lookup_key: bytes

    @property
    def current(self) -> tuple[str, bytes]:
        return self.data_keys[0]

    def key(self, key_id: str) -> bytes:
        for kid, key in self.data_keys:
            if kid == key_id:
                return key
        raise CryptoError(f"no data key with id {key_id!r} in GUARDLINE_DATA_KEYS")


def _b64key(text: str, what: str, size: int = 32) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError(f"{what} is not valid base64") from exc
    if len(key) != size:
        raise CryptoError(f"{what} must be {size} bytes (base64 of os.urandom({size})), got {len(key)}")
    return key


def parse_keyring(data_keys: str, lookup_key: str, mode: str = "aes") -> Keyring:
    """Validate the three settings and build the keyring (raises CryptoError with the reason)."""
    mode = (mode or "aes").strip().lower()
    if mode not in MODES:
        raise CryptoError(f"GUARDLINE_CRYPTO_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    parsed: list[tuple[str, bytes]] = []
    for item in (data_keys or "").split(","):
        if not item.strip():
            continue
        kid, sep, text = item.strip().partition(":")
        if not sep or not kid or not kid.isalnum():
            raise CryptoError("GUARDLINE_DATA_KEYS entries are keyid:base64key with an alphanumeric key id")
        if any(kid == k for k, _ in parsed):
            raise CryptoError(f"GUARDLINE_DATA_KEYS repeats the key id {kid!r}")
        parsed.append((kid, _b64key(text, f"data key {kid!r}")))
    if not parsed:
        raise CryptoError("GUARDLINE_DATA_KEYS holds no key")
    return Keyring(
        mode=mode, data_keys=tuple(parsed), lookup_key=_b64key(lookup_key or "", "GUARDLINE_LOOKUP_KEY")
    )


@lru_cache(maxsize=8)
def _cached_keyring(data_keys: str, lookup_key: str, mode: str) -> Keyring:
    return parse_keyring(data_keys, lookup_key, mode)


def keyring() -> Keyring:
    """The keyring of the current settings (parsed once per distinct setting values)."""
    from django.conf import settings

    return _cached_keyring(
        getattr(settings, "GUARDLINE_DATA_KEYS", ""),
        getattr(settings, "GUARDLINE_LOOKUP_KEY", ""),
        getattr(settings, "GUARDLINE_CRYPTO_MODE", "aes"),
    )


def generate_key() -> str:
    """A fresh random key in the settings' format (base64 of 32 bytes)."""
    return base64.b64encode(os.urandom(32)).decode()


# --- cipher -------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


def _seal(mode: str, key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    if mode == "aes":
        return _aesgcm(key).encrypt(nonce, plaintext, None)
    encryptor = Cipher(algorithms.SM4(key[:16]), modes.GCM(nonce)).encryptor()
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _open(mode: str, key: bytes, nonce: bytes, sealed: bytes) -> bytes:
    if mode == "aes":
        return _aesgcm(key).decrypt(nonce, sealed, None)
    if mode == "sm":
        decryptor = Cipher(algorithms.SM4(key[:16]), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
        return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
    raise CryptoError(f"unknown cipher mode {mode!r}")


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def encrypt(value: str | None, ring: Keyring | None = None) -> str:
    """The stored form of `value` under the current data key ("" stays "")."""
    if not value:
        return ""
    ring = ring or keyring()
    kid, key = ring.current
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(ring.mode, key, nonce, str(value).encode())
    return f"{PREFIX}{ring.mode}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str | None, ring: Keyring | None = None) -> str:
    """The plaintext of a stored value; legacy plaintext (no ``v1:`` prefix) reads as itself."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored
    ring = ring or keyring()
    try:
        _, mode, kid, body = stored.split(":", 3)
        raw = base64.b64decode(body, validate=True)
        return _open(mode, ring.key(kid), raw[:NONCE_BYTES], raw[NONCE_BYTES:]).decode()
    except CryptoError:
        raise
    except Exception as exc:  # InvalidTag, bad base64, truncated value
        raise CryptoError("a stored value cannot be decrypted (wrong key or altered data)") from exc


def key_id_of(stored: str | None) -> str | None:
    """The key id a stored value was encrypted with (None for empty or legacy plaintext)."""
    if not is_encrypted(stored):
        return None
    return str(stored).split(":", 3)[2]


def needs_reencryption(stored: str | None, ring: Keyring | None = None) -> bool:
    """Whether a stored value is plaintext, or encrypted under another key or mode than the current ones."""
    if not stored:
        return False
    ring = ring or keyring()
    if not is_encrypted(stored):
        return True
    _, mode, kid, _ = stored.split(":", 3)
    return kid != ring.current[0] or mode != ring.mode


# --- blind index --------------------------------------------------------------------------------------------------


def blind_index(value: str | None, ring: Keyring | None = None) -> str:
    """The keyed hash stored next to an encrypted value for equality lookups (hex, 64 characters; "" for "")."""
    if not value:
        return ""
    ring = ring or keyring()
    data = str(value).encode()
    if ring.mode == "aes":
        return hmac.new(ring.lookup_key, data, hashlib.sha256).hexdigest()
    mac = crypto_hmac.HMAC(ring.lookup_key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def blind_index_many(values: Iterable[str | None], ring: Keyring | None = None) -> dict[str, str]:
    """value → blind index for the distinct non-empty `values` (one keyring look-up for the lot)."""
    ring = ring or keyring()
    return {v: blind_index(v, ring) for v in {v for v in values if v}}


def prefix15(id_number: str | None) -> str:
    """The first 15 characters of an ID number: what survives when Excel turns an ID into a number (the
    probabilistic linkage blocks on it)."""
    return (id_number or "")[:15]
