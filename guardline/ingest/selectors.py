"""Reads of import batches and jobs: a user sees the batches they started; county roles see all of their county's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from guardline.accounts.models import Role
from guardline.core.models import Job

from .models import FeedEvent, ImportBatch

_SEE_ALL = {Role.COUNTY_ADMIN, Role.PROVINCE_OFFICER, Role.AUDITOR}


def batch_list(user) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.select_related("created_by")
    if user.role in _SEE_ALL:
        # Batches by the user's colleagues: anyone sharing one of the user's scope regions (or inside them).
        from guardline.accounts.scope import scope_codes

        codes = scope_codes(user)
        from django.db.models import Q

        q = Q(created_by=user)
        for code in codes:
            q |= Q(created_by__scopes__region__code__startswith=code)
        return qs.filter(q).distinct()
    return qs.filter(created_by=user)


def batch_get(user, pk: int) -> ImportBatch:
    batch = batch_list(user).filter(pk=pk).first()
    if batch is None:
        raise Http404("批次不存在")
    return batch


def job_get(user, pk: int) -> Job:
    job = Job.objects.filter(pk=pk, created_by=user).first()
    if job is None:
        raise Http404("任务不存在")
    return job


def review_queue(user) -> QuerySet[FeedEvent]:
    """Events waiting for a clerk's decision whose candidate lives in the user's regions, most likely first."""
    from guardline.accounts.roles import Perm, has_perm
    from guardline.accounts.scope import region_q

    if not has_perm(user, Perm.REVIEW_LINKS):
        return FeedEvent.objects.none()
    return (
        FeedEvent.objects.filter(link_status=FeedEvent.LinkStatus.REVIEW, candidate__isnull=False)
        .filter(region_q(user, "candidate__household__village_code"))
        .select_related("candidate__household", "batch")
        .order_by("-link_score", "id")
    )


def review_get(user, pk: int, *, for_update: bool = False) -> FeedEvent:
    qs = review_queue(user).filter(pk=pk)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    event = qs.first()
    if event is None:
        raise Http404("该待核对记录不存在、已处理或不在您的管辖范围内")
    return event
