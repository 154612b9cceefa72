"""Root conftest: the shared fixtures of tests/support.py apply to every app's tests too."""

from tests.support import *  # noqa: F403
