"""Settings shared by every environment. Values that differ per site come from the environment.

Environment variables: DJANGO_SECRET_KEY, DATABASE_URL (default: SQLite in WAL mode at var/guardline.sqlite3),
GUARDLINE_CONN_MAX_AGE (seconds a database connection is kept, default 600), GUARDLINE_DIVISIONS_DIR (default:
../shared/data/divisions), GUARDLINE_DEBUG, GUARDLINE_ALLOWED_HOSTS,
GUARDLINE_MEDIA_ROOT, GUARDLINE_TIME_ZONE, GUARDLINE_SCREENING_MODEL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from guardline.core import crypto as _crypto

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GUARDLINE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-insecure-key-change-me-in-production-0123456789abcdef")
# Signs the tamper-evident ledger's checkpoints (HMAC-SHA256); required in production, keep it off the database host.
GUARDLINE_LEDGER_KEY = os.environ.get("GUARDLINE_LEDGER_KEY", "dev-ledger-key-change-me-in-production")
# Encryption at rest of ID numbers and phones (guardline/core/crypto.py): data keys "keyid:base64(32 bytes),…" (the
# first encrypts, all decrypt), the blind-index key, and the mode (aes: AES-256-GCM + HMAC-SHA256; sm: SM4-GCM +
# HMAC-SM3). Without them, fixed development keys are used — NOT FOR PRODUCTION (production refuses to start).
GUARDLINE_DATA_KEYS = os.environ.get("GUARDLINE_DATA_KEYS") or _crypto.DEV_DATA_KEYS
GUARDLINE_LOOKUP_KEY = os.environ.get("GUARDLINE_LOOKUP_KEY") or _crypto.DEV_LOOKUP_KEY
GUARDLINE_CRYPTO_MODE = os.environ.get("GUARDLINE_CRYPTO_MODE", "aes")
_crypto.parse_keyring(
    GUARDLINE_DATA_KEYS, GUARDLINE_LOOKUP_KEY, GUARDLINE_CRYPTO_MODE
)  # malformed: fail at start
DEBUG = os.environ.get("GUARDLINE_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("GUARDLINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # before django_tasks_db: its `db_worker` command is extended (heartbeat, recovery of tasks of dead workers)
    "guardline.core",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "guardline.accounts",
    "guardline.regions",
    "guardline.registry",
    "guardline.ingest",
    "guardline.screening",
    "guardline.cases",
    "guardline.assistance",
    "guardline.ledger",
    "guardline.oversight",
    "guardline.dashboards",
    "guardline.api",
    "guardline.reports",
    "guardline.quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guardline.accounts.middleware.SessionIdleMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "guardline.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "guardline.core.middleware.RequestContextMiddleware",
    # Last, as django-axes requires: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "guardline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "guardline.core.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'guardline.sqlite3'}"
    # Connections are kept between requests (per worker thread): a new SQLite connection re-reads the schema and
    # starts with a cold page cache, which cost ~5 ms per API request — as much as storing the event itself.
    config = dj_database_url.parse(
        url,
        conn_max_age=int(os.environ.get("GUARDLINE_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while an import writes; IMMEDIATE transactions avoid "database is locked"
        # upgrades from read to write locks under concurrency.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
            "transaction_mode": "IMMEDIATE",
        }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # MLPS level 3 asks for complex passwords: at least three of upper case, lower case, digits and symbols.
    {"NAME": "guardline.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed attempts for one user name from one address the
# pair is locked out for the cool-off time; every attempt is kept in the database for the audit.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("GUARDLINE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("GUARDLINE_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "guardline.accounts.views.locked_out"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("GUARDLINE_PROXY_COUNT", "0"))

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "registry:household_list"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "guardline" / "locale"]
TIME_ZONE = os.environ.get("GUARDLINE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(
    exist_ok=True
)  # whitenoise warns on every request when the folder is missing (before collectstatic)
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end libraries come from the npm registry (package.json) and are served by the app itself: no CDN.
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("GUARDLINE_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# Two queues: "live" holds the live path's re-screens (an API event → its household graded within a second),
# "default" everything else (imports, county runs, what-ifs, reports, checks), some of which take minutes. A worker
# reserved for "live" (`guardline db_worker --queue-name live`) keeps the live path prompt while the others work;
# `guardline db_worker` alone takes both.
TASK_QUEUES = ["default", "live"]
TASKS = {
    "default": {
        "BACKEND": os.environ.get("GUARDLINE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}
# Workers write a heartbeat every HEARTBEAT seconds; a task left running by a worker whose process is gone (same
# machine) or whose heartbeat is older than STALE seconds (another machine) is queued again, at most MAX_ATTEMPTS
# runs in all (guardline/core/worker_services.py).
GUARDLINE_WORKER_HEARTBEAT_SECONDS = int(os.environ.get("GUARDLINE_WORKER_HEARTBEAT_SECONDS", "10"))
GUARDLINE_WORKER_STALE_SECONDS = int(os.environ.get("GUARDLINE_WORKER_STALE_SECONDS", "120"))
GUARDLINE_TASK_MAX_ATTEMPTS = int(os.environ.get("GUARDLINE_TASK_MAX_ATTEMPTS", "3"))

# Audit logs (personal-data accesses, change log) are kept this many days before `guardline prune_audit_logs` may
# delete them, after archiving them to GUARDLINE_AUDIT_ARCHIVE_DIR. MLPS level 3 (GB/T 22239-2019 8.1.4.3) asks
# for at least 180 days (the Cybersecurity Law, art. 21: network logs at least six months); the default is a year.
# The hash-chained ledger is never pruned.
GUARDLINE_AUDIT_RETENTION_DAYS = int(os.environ.get("GUARDLINE_AUDIT_RETENTION_DAYS", "365"))
GUARDLINE_AUDIT_ARCHIVE_DIR = Path(os.environ.get("GUARDLINE_AUDIT_ARCHIVE_DIR", VAR_DIR / "audit-archive"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session ends after 30 idle minutes (MLPS: idle timeout) and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("GUARDLINE_SESSION_IDLE_MINUTES", "30")) * 60
# the idle expiry is renewed by guardline.accounts.middleware.SessionIdleMiddleware, at most once a minute
GUARDLINE_SESSION_REFRESH_SECONDS = int(os.environ.get("GUARDLINE_SESSION_REFRESH_SECONDS", "60"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy: everything is served by the platform itself (no CDN), no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
OTP_TOTP_ISSUER = "Guardline 守底线"
# The admin never shows an authenticator's secret or QR code: an operator who could read them could pass anyone's
# second factor (it also refuses before looking the device up, where django-otp's own view failed with a 500 for
# an id that does not exist).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Domain parameters with their defaults (DOMAIN.md); counties can override through region parameters.
GUARDLINE = {
    "DIVISIONS_DIR": Path(
        os.environ.get("GUARDLINE_DIVISIONS_DIR", BASE_DIR.parent / "shared" / "data" / "divisions")
    ),
    "DEMO_COUNTY": "520526",
    "HOUSEHOLD_PAGE_SIZE": 50,
    # Probabilistic linkage of feed rows without a usable ID: automatic link at or above LINK_UPPER (and no rival
    # candidate at LINK_LOWER), clerical review between the two.
    "LINK_UPPER": float(os.environ.get("GUARDLINE_LINK_UPPER", "0.99")),
    "LINK_LOWER": float(os.environ.get("GUARDLINE_LINK_LOWER", "0.5")),
    # An event pushed through the API re-screens its household at once (background task).
    "LIVE_SCREENING": os.environ.get("GUARDLINE_LIVE_SCREENING", "1") == "1",
    "IMPORT_CHUNK_ROWS": int(os.environ.get("GUARDLINE_IMPORT_CHUNK_ROWS", "8000")),
    # PostgreSQL: where full screening passes keep their columnar copy of the inputs (guardline.screening.mirror;
    # personal data, owner-only, rebuilt from the database when lost). Empty: no copy, each pass reads the tables.
    # (SQLite in a file keeps it beside the database.)
    "SCREENING_COPY_DIR": os.environ.get("GUARDLINE_SCREENING_COPY_DIR", str(VAR_DIR / "screening-copy")),
    # Two-factor sign-in (TOTP) for the roles that see or decide for a whole county or province, and for
    # superusers. Always on in production (settings.production); GUARDLINE_2FA=1 turns it on elsewhere.
    "TWO_FACTOR": os.environ.get("GUARDLINE_2FA", "0") == "1",
    "TWO_FACTOR_ROLES": ("province_officer", "county_admin", "county_staff"),
    # Open screening warnings land in the clue inbox after every screening run (cases.services.clues_pull_warnings).
    "WARNINGS_TO_CLUES": os.environ.get("GUARDLINE_WARNINGS_TO_CLUES", "1") == "1",
    # The policy what-if and a rule's trial grade a region twice inside the web request: up to this many households
    # (bench/bench_whatif.py: 1M households took about 20 s and 5 GB in the web worker). Larger regions are asked
    # to narrow down to a county or township.
    "WHATIF_MAX_HOUSEHOLDS": int(os.environ.get("GUARDLINE_WHATIF_MAX_HOUSEHOLDS", "1000000")),
    # Where the printed QR codes point (the public address of the declaration page); default: the request host.
    "PUBLIC_BASE_URL": os.environ.get("GUARDLINE_PUBLIC_BASE_URL", ""),
    # Clocks of the clue inbox and the identification procedure (DOMAIN §4–§7). `working_days` counts with the
    # holiday calendar (cases.Holiday); otherwise calendar days. The red-warning response (2 h on site, 24 h plan)
    # is GUARDLINE_RESPONSE_CLOCK of the screening app, shared by the warning inbox and the clue inbox.
    "CLOCKS": {
        "clue_to_decision": {"days": 15, "working_days": False},
        "notice": {"days": 5, "working_days": False},
        "warning_verification": {"days": 4, "working_days": True},
        "plan_after_identification": {"days": 10, "working_days": False},
    },
    # Follow-up visits by grade (DOMAIN §5: red daily, yellow weekly, green quarterly), in days.
    "VISIT_CADENCE_DAYS": {"red": 1, "yellow": 7, "green": 90},
    # Risk elimination (DOMAIN §8): months after identification before a household may be proposed. The public
    # notice reuses CLOCKS["notice"].
    "ELIMINATION_MIN_MONTHS": 6,
    # Linkage-fund milestones (DOMAIN §9): share of the budget spent by the end of a month of the fund's year,
    # projects started by the end of START_BY_MONTH, COMPLETION (month, percent) done, and the minimum share of
    # a region's yearly funds going to industry (percent).
    "FUND_MILESTONES": {
        "SPENDING": [[3, 25], [6, 50], [9, 75], [12, 100]],
        "START_BY_MONTH": 6,
        "COMPLETION": [9, 70],
        "INDUSTRY_SHARE_MIN": 55,
    },
    # Complaints and requests: days to answer (calendar days) and the completion-rate goal (percent).
    "COMPLAINT_DAYS": 15,
    "COMPLAINT_COMPLETION_GOAL": 98,
    # The public self-declaration page: at most RATE submissions per IP address per WINDOW seconds.
    "DECLARATION_RATE": int(os.environ.get("GUARDLINE_DECLARATION_RATE", "5")),
    "DECLARATION_WINDOW": int(os.environ.get("GUARDLINE_DECLARATION_WINDOW", "3600")),
    # A learned screening model (directory with model.txt + model.json from `guardline train_screening_model`):
    # used only when its held-out comparison says it beats the index; "" = the index alone.
    "SCREENING_MODEL": os.environ.get("GUARDLINE_SCREENING_MODEL", ""),
    # SQLite page cache (MB) of the connection writing a full screening pass, only while it writes.
    "SCREENING_WRITE_CACHE_MB": int(os.environ.get("GUARDLINE_SCREENING_WRITE_CACHE_MB", "512")),
    # Department feed rows stored per transaction (a few large INSERTs; see ingest.feed_services.feed_events_store).
    "FEED_CHUNK_ROWS": int(os.environ.get("GUARDLINE_FEED_CHUNK_ROWS", "50000")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUARDLINE_LOG_LEVEL", "INFO")},
}

_ = _  # gettext_lazy kept importable for settings-level labels
