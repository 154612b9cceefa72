"""Background refresh of the aggregate table (after screening runs, imports and from a scheduler)."""

from __future__ import annotations

from django_tasks import task

from .services import aggregates_refresh


@task()
def aggregates_refresh_task(regions: list[str] | None = None) -> dict:
    result = aggregates_refresh(regions=regions)
    return {"periods": result.periods, "written": result.written, "deleted": result.deleted}
