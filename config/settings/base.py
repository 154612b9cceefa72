"""Settings shared by every environment. Values that differ per site come from the environment.

Environment variables: DJANGO_SECRET_KEY, DATABASE_URL (default: SQLite in WAL mode at var/guardline.sqlite3),
GUARDLINE_CONN_MAX_AGE (seconds a database connection is kept, default 600), GUARDLINE_DIVISIONS_DIR (default:
../shared/data/divisions), GUARDLINE_DEBUG, GUARDLINE_ALLOWED_HOSTS,
GUARDLINE_MEDIA_ROOT, GUARDLINE_TIME_ZONE.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GUARDLINE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-insecure-key-change-me-in-production-0123456789abcdef")
DEBUG = os.environ.get("GUARDLINE_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("GUARDLINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "guardline.core",
    "guardline.accounts",
    "guardline.regions",
    "guardline.registry",
    "guardline.ingest",
    "guardline.screening",
    "guardline.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "guardline.core.middleware.RequestContextMiddleware",
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
]

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

TASKS = {
    "default": {
        "BACKEND": os.environ.get("GUARDLINE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"

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
