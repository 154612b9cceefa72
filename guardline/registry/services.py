"""Manual writes to the registry (member and household edits): atomic, scoped to the editor's regions, checked
against concurrent edits, and logged in the change log with before/after. File imports are in import_services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.core.changelog import change_entry, diff, log_changes
from guardline.core.models import ChangeLog

from .models import Household, Member

LABOUR_ABLE = {"ordinary", "skilled", "weak"}


def field_values(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {n: getattr(obj, n) for n in names}


def refresh_derived(household: Household, members: list[Member]) -> None:
    """Member count, head name and the no-labour flag, from the active members (edits and imports alike)."""
    active = [m for m in members if m.is_active]
    head = next((m for m in active if m.relation == "head"), active[0] if active else None)
    household.member_count = len(active)
    household.head_name = head.name if head else ""
    household.no_labour_household = bool(active) and not any(m.labour_capacity in LABOUR_ABLE for m in active)


MEMBER_EDITABLE = (
    "name",
    "education",
    "student_status",
    "health",
    "disability_grade",
    "labour_capacity",
    "migrant_work",
    "work_months",
    "basic_medical_insured",
)


def _apply_edit(
    *,
    actor,
    obj: Any,
    entity: str,
    household_id: int,
    changes: dict[str, Any],
    editable: Iterable[str],
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """The shared part of a manual edit: only editable fields, validated, saved, and logged with before/after.
    Returns the fields that changed (empty: nothing was written)."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValidationError(f"不可修改的字段: {', '.join(sorted(unknown))}")
    before, after = diff(field_values(obj, changes), changes)
    if not after:
        return after
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=list(exclude))
    obj.save(update_fields=[*after, "updated_at"])
    log_changes(
        [
            change_entry(
                entity=entity,
                entity_id=obj.pk,
                household_id=household_id,
                action="update",
                before=before,
                after=after,
                actor_id=actor.pk,
            )
        ]
    )
    return after


def _require_edit(actor, village_code: str) -> None:
    if not has_perm(actor, Perm.EDIT_REGISTRY):
        raise PermissionDenied("您的角色不能修改台账")
    require_scope(actor, village_code)


class StaleMemberError(ValidationError):
    """The member changed after the edit form was rendered (optimistic locking): nothing was applied."""


def member_version(member: Member) -> str:
    """The member's version token for an edit form: its `updated_at`, which every write (edit, import) moves."""
    return member.updated_at.isoformat() if member.updated_at else ""


def _stale_member_message(member: Member) -> str:
    last = (
        ChangeLog.objects.filter(entity="member", entity_id=member.pk)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    who = str(last.actor) if last is not None and last.actor is not None else _("导入或其他用户")
    return _("该成员信息已被他人更新（%(who)s，%(when)s），请刷新后重试") % {
        "who": who,
        "when": f"{timezone.localtime(member.updated_at):%Y-%m-%d %H:%M}",
    }


@transaction.atomic
def member_update(*, actor, member: Member, expected_version: str | None = None, **changes: Any) -> Member:
    """Edit a member's attributes (not the ID number: a wrong ID is a new person record). Logged.
    `expected_version` is `member_version()` as the edit form was rendered; when the member changed since, raises
    StaleMemberError and applies nothing (the row lock serialises the compare and the write)."""
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    _require_edit(actor, member.household.village_code)
    if expected_version is not None and expected_version != member_version(member):
        raise StaleMemberError(_stale_member_message(member))
    if _apply_edit(
        actor=actor,
        obj=member,
        entity="member",
        household_id=member.household_id,
        changes=changes,
        editable=MEMBER_EDITABLE,
        exclude=("household", "id_number"),
    ):
        household = member.household
        refresh_derived(household, list(household.members.all()))
        household.save(update_fields=["member_count", "head_name", "no_labour_household", "updated_at"])
    return member


HOUSEHOLD_EDITABLE = ("household_type", "relocation_site", "phone", "monitor_category")


@transaction.atomic
def household_update(*, actor, household: Household, **changes: Any) -> Household:
    """Edit household flags (type, relocation, phone). Logged."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_edit(actor, household.village_code)
    _apply_edit(
        actor=actor,
        obj=household,
        entity="household",
        household_id=household.pk,
        changes=changes,
        editable=HOUSEHOLD_EDITABLE,
    )
    return household
