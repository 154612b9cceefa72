"""Fault injection for the crash tests: `GUARDLINE_FAILPOINT=name:n` kills the process (SIGKILL, no cleanup) the
n-th time the named point is reached. Unset in normal operation, where `hit` is a dictionary lookup."""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def hit(name: str) -> None:
    spec = os.environ.get("GUARDLINE_FAILPOINT")
    if not spec:
        return
    point, _, times = spec.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(times or 1):
        os.kill(os.getpid(), signal.SIGKILL)
