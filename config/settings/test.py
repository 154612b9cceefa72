"""Test settings: fast hashing, tasks run immediately, a throw-away var/ folder per run."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if "GUARDLINE_VAR_DIR" not in os.environ:
    # Made once, by the first process (pytest's workers inherit it), and removed when that process exits.
    _var_dir = tempfile.mkdtemp(prefix="guardline-test-")
    os.environ["GUARDLINE_VAR_DIR"] = _var_dir
    atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)

from .base import *  # noqa: F403
from .base import TASK_QUEUES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": TASK_QUEUES}}
MEDIA_ROOT = Path(VAR_DIR) / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = False  # the test client signs in without a request; lockout has its own tests
