"""Who is acting, and in which request or background job: read by services when they write the change log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionContext:
    request_id: str = ""
    job_id: int | None = None
    reason: str = ""


_current: ContextVar[ActionContext] = ContextVar("guardline_action", default=ActionContext())  # noqa: B039 (frozen)


def current() -> ActionContext:
    return _current.get()


@contextmanager
def acting(
    *, request_id: str | None = None, job_id: int | None = None, reason: str = ""
) -> Iterator[ActionContext]:
    """Run a block as part of one request or job, so every change it writes can be traced back to it."""
    ctx = ActionContext(request_id=request_id or uuid.uuid4().hex, job_id=job_id, reason=reason)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
