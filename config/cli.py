"""The `guardline` console script: Django's management commands under the project's name.

`GUARDLINE_ENV=production` selects config.settings.production; otherwise base (development) settings are used.
"""

import os
import sys


def main() -> None:
    env = os.environ.get("GUARDLINE_ENV", "development")
    default = "config.settings.production" if env == "production" else "config.settings.base"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guardline", *sys.argv[1:]])
