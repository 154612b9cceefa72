"""Fault injection for the crash tests: `GUARDLINE_FAILPOINT=name:n` kills the process (SIGKILL, no cleanup) the
n-th time the named point is reached; `GUARDLINE_PAUSEPOINT=name:seconds` sleeps there instead (so a test can kill
a worker from outside while it is surely mid-task). Unset in normal operation, where `hit` is a dictionary lookup."""

from __future__ import annotations

import os
import signal
import time

_counts: dict[str, int] = {}


def hit(name: str) -> None:
    pause = os.environ.get("GUARDLINE_PAUSEPOINT")
    if pause and pause.partition(":")[0] == name:
        time.sleep(float(pause.partition(":")[2] or 1))
    spec = os.environ.get("GUARDLINE_FAILPOINT")
    if not spec:
        return
    point, _, times = spec.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(times or 1):
        os.kill(os.getpid(), signal.SIGKILL)
