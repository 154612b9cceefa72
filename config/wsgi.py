"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE",
    "config.settings.production"
    if os.environ.get("GUARDLINE_ENV") == "production"
    else "config.settings.base",
)
application = get_wsgi_application()
