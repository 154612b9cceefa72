"""Test settings: fast hashing, tasks run immediately, a throw-away var/ folder per run."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("GUARDLINE_VAR_DIR", tempfile.mkdtemp(prefix="guardline-test-"))

from .base import *  # noqa: F403
from .base import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(VAR_DIR) / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = False  # the test client signs in without a request; lockout has its own tests
