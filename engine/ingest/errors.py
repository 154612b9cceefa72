"""The one exception of the ingest layer."""

from __future__ import annotations


class IngestFileError(Exception):
    """The file as a whole cannot be used (wrong type, unreadable, empty, no header, a required column missing).
    The message is Chinese, names the file, and is meant to be shown to the person who uploaded it."""
