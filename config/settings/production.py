"""Production: every secret from the environment, secure cookies, DEBUG off."""

import os

from .base import *  # noqa: F403
from .base import GUARDLINE, _crypto

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
GUARDLINE_LEDGER_KEY = os.environ["GUARDLINE_LEDGER_KEY"]
# Encryption at rest: never the development keys (README, "Encryption at rest").
GUARDLINE_DATA_KEYS = os.environ["GUARDLINE_DATA_KEYS"]
GUARDLINE_LOOKUP_KEY = os.environ["GUARDLINE_LOOKUP_KEY"]
if GUARDLINE_DATA_KEYS == _crypto.DEV_DATA_KEYS or GUARDLINE_LOOKUP_KEY == _crypto.DEV_LOOKUP_KEY:
    raise RuntimeError(
        "GUARDLINE_DATA_KEYS / GUARDLINE_LOOKUP_KEY: the development keys are not for production"
    )
if not os.environ.get("DATABASE_URL"):
    raise RuntimeError("DATABASE_URL must be set in production (e.g. postgres://user:pass@host/guardline)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("GUARDLINE_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_PRELOAD = True
# One cache for every server process (the declaration page's rate limit counts in it): `guardline createcachetable`.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "guardline_cache"}
}
GUARDLINE["TWO_FACTOR"] = os.environ.get("GUARDLINE_2FA", "1") == "1"
