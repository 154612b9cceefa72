"""Registry imports: rows of a registry or income file applied one chunk of whole households per transaction, set
based (bulk inserts and updates, change-log entries in bulk), so a crash leaves every household either fully applied
or untouched, and re-running the import finishes the job without duplicating anything."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine import income as income_formula
from guardline.core.bulk import insert_rows, update_rows
from guardline.core.changelog import change_entry, diff, log_changes
from guardline.core.crypto import blind_index_many
from guardline.core.models import ChangeLog

from .models import Household, HouseholdYear, Member
from .services import field_values, refresh_derived

MEMBER_FIELDS = (
    "name",
    "relation",
    "sex",
    "birth_date",
    "education",
    "student_status",
    "health",
    "disability_grade",
    "labour_capacity",
    "migrant_work",
    "work_months",
    "basic_medical_insured",
)
HOUSEHOLD_FIELDS = ("village_code", "household_type", "monitor_category", "phone")
HOUSEHOLD_INSERT = (
    "household_no",
    *HOUSEHOLD_FIELDS,
    "no_labour_household",
    "relocation_site",
    "head_name",
    "member_count",
    "is_active",
    "created_at",
    "updated_at",
)
MEMBER_INSERT = (
    "household",
    "id_number",
    "id_number_hash",
    "id_prefix15_hash",
    "id_status",
    *MEMBER_FIELDS,
    "is_active",
    "created_at",
    "updated_at",
)
_NULLABLE = {"birth_date", "disability_grade", "work_months", "basic_medical_insured"}


@dataclass
class RowIssue:
    """A problem found while applying a row that the file-level validation could not see (e.g. scope)."""

    source_row: int
    column: str
    value: str
    code: str
    message: str
    severity: str = "error"


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    households_created: int = 0
    households_updated: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    def add(self, other: ApplyResult) -> None:
        for name in (
            "created",
            "updated",
            "unchanged",
            "deactivated",
            "households_created",
            "households_updated",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.issues.extend(other.issues)


def _clean(name: str, value: Any) -> Any:
    if value is None and name not in _NULLABLE:
        return ""
    return value


def _household_header(rows: list[dict]) -> dict[str, Any]:
    """Household-level columns repeat on every member row; the head's row wins, then the first non-blank."""
    ordered = sorted(rows, key=lambda r: r.get("relation") != "head")
    return {
        name: _clean(name, next((r.get(name) for r in ordered if r.get(name)), None))
        for name in HOUSEHOLD_FIELDS
    }


def registry_apply_rows(
    rows: list[dict],
    *,
    actor_id: int | None,
    allowed: Callable[[str], bool] | None = None,
    keep_absent_members: frozenset[str] = frozenset(),
) -> ApplyResult:
    """Upsert a chunk of registry rows (one per member, whole households only) in one transaction.

    A household present in the file lists all its members: members of that household that the file no longer lists
    are marked inactive (logged), except for households in `keep_absent_members` (those with rejected rows, whose
    missing members may just be the rejected ones).
    """
    result = ApplyResult()
    by_household: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if allowed is not None and not allowed(row["village_code"]):
            result.issues.append(
                RowIssue(
                    row["source_row"],
                    "行政区划代码",
                    row["village_code"],
                    "out_of_scope",
                    "该村不在您的管辖范围内，本行未导入",
                )
            )
            continue
        by_household[row["household_no"]].append(row)
    if not by_household:
        return result

    with transaction.atomic():
        households = {
            h.household_no: h for h in Household.objects.filter(household_no__in=list(by_household))
        }
        ids = [r["id_number"] for rs in by_household.values() for r in rs]
        hashes = blind_index_many(ids)
        by_id = {m.id_number: m for m in Member.objects.filter(id_number_hash__in=list(hashes.values()))}
        members_of: dict[int, dict[int, Member]] = defaultdict(dict)
        for m in Member.objects.filter(household_id__in=[h.pk for h in households.values()]):
            members_of[m.household_id][m.pk] = m
        for m in by_id.values():
            members_of[m.household_id][m.pk] = m
        logs: list[ChangeLog] = []

        new_households = []
        changed_households = []
        for no, hrows in by_household.items():
            header = _household_header(hrows)
            existing = households.get(no)
            if existing is None:
                household = Household(household_no=no, **header)
                # A new household's members are exactly its rows (an existing member moving in is one of them).
                refresh_derived(
                    household,
                    [
                        Member(
                            name=r["name"],
                            relation=r.get("relation") or "",
                            labour_capacity=r.get("labour_capacity") or "",
                        )
                        for r in hrows
                    ],
                )
                new_households.append(household)
                continue
            before, after = diff(field_values(existing, HOUSEHOLD_FIELDS), header)
            if not existing.is_active:
                before["is_active"], after["is_active"] = False, True
                existing.is_active = True
            if after:
                for name, value in header.items():
                    setattr(existing, name, value)
                changed_households.append(existing)
                logs.append(
                    change_entry(
                        entity="household",
                        entity_id=existing.pk,
                        household_id=existing.pk,
                        action="update",
                        before=before,
                        after=after,
                        actor_id=actor_id,
                    )
                )
        if new_households:
            now = timezone.now()
            for h in new_households:
                h.created_at = h.updated_at = now
            insert_rows(Household, new_households, HOUSEHOLD_INSERT)
            new_ids = dict(
                Household.objects.filter(
                    household_no__in=[h.household_no for h in new_households]
                ).values_list("household_no", "id")
            )
            for h in new_households:
                h.pk = new_ids[h.household_no]
        for h in new_households:
            households[h.household_no] = h
            logs.append(
                change_entry(
                    entity="household",
                    entity_id=h.pk,
                    household_id=h.pk,
                    action="create",
                    before=None,
                    after=field_values(h, ("household_no", *HOUSEHOLD_FIELDS)),
                    actor_id=actor_id,
                )
            )
        result.households_created = len(new_households)
        result.households_updated = len(changed_households)

        new_members: list[Member] = []
        changed_members: list[Member] = []
        seen: dict[int, set[str]] = defaultdict(set)
        moved_from: set[int] = set()
        for no, hrows in by_household.items():
            household = households[no]
            for row in hrows:
                seen[household.pk].add(row["id_number"])
                values = {name: _clean(name, row.get(name)) for name in MEMBER_FIELDS}
                values["household_id"] = household.pk
                member = by_id.get(row["id_number"])
                if member is None:
                    member = Member(
                        id_number=row["id_number"], id_status=row.get("id_number_status") or "valid", **values
                    )
                    new_members.append(member)
                    members_of[household.pk][id(member)] = member
                    continue
                values["is_active"] = True
                before, after = diff(field_values(member, values), values)
                if not after:
                    result.unchanged += 1
                    continue
                if member.household_id != household.pk:
                    moved_from.add(member.household_id)
                    members_of[member.household_id].pop(member.pk, None)
                    members_of[household.pk][member.pk] = member
                for name, value in values.items():
                    setattr(member, name, value)
                changed_members.append(member)
                logs.append(
                    change_entry(
                        entity="member",
                        entity_id=member.pk,
                        household_id=household.pk,
                        action="update",
                        before=before,
                        after=after,
                        actor_id=actor_id,
                    )
                )
        for no in by_household:
            household = households[no]
            if no in keep_absent_members:
                continue
            for member in members_of[household.pk].values():
                if member.pk and member.is_active and member.id_number not in seen[household.pk]:
                    member.is_active = False
                    changed_members.append(member)
                    result.deactivated += 1
                    logs.append(
                        change_entry(
                            entity="member",
                            entity_id=member.pk,
                            household_id=household.pk,
                            action="update",
                            before={"is_active": True},
                            after={"is_active": False},
                            actor_id=actor_id,
                        )
                    )
        if new_members:
            now = timezone.now()
            for m in new_members:
                m.created_at = m.updated_at = now
            insert_rows(Member, new_members, MEMBER_INSERT)
            new_ids = dict(
                Member.objects.filter(id_number_hash__in=[m.id_number_hash for m in new_members]).values_list(
                    "id_number_hash", "id"
                )
            )
            for m in new_members:
                m.pk = new_ids[m.id_number_hash]
        for m in new_members:
            logs.append(
                change_entry(
                    entity="member",
                    entity_id=m.pk,
                    household_id=m.household_id,
                    action="create",
                    before=None,
                    after=field_values(m, ("id_number", *MEMBER_FIELDS)),
                    actor_id=actor_id,
                )
            )
        if changed_members:
            update_rows(Member, changed_members, ["is_active", "household", *MEMBER_FIELDS])
        result.created = len(new_members)
        result.updated = len(changed_members) - result.deactivated

        # Derived household figures follow the final member list (new households got theirs before creation).
        new_pks = {h.pk for h in new_households}
        touched = (
            {households[no].pk for no in by_household}
            | {m.household_id for m in changed_members}
            | moved_from
        ) - new_pks
        known = {h.pk: h for h in households.values()}
        extra = Household.objects.filter(pk__in=touched - known.keys())
        derived_fields = ("member_count", "head_name", "no_labour_household")
        to_write = []
        for household in [*(known[pk] for pk in touched if pk in known), *extra]:
            before_values = field_values(household, derived_fields)
            members = [m for m in members_of[household.pk].values() if m.household_id == household.pk]
            if household.pk in moved_from:  # members were written above: the database has the final list
                members = list(Member.objects.filter(household_id=household.pk))
            refresh_derived(household, members)
            if household in changed_households or field_values(household, derived_fields) != before_values:
                to_write.append(household)
        update_rows(Household, to_write, ["is_active", *derived_fields, *HOUSEHOLD_FIELDS])
        log_changes(logs)
    return result


INCOME_INPUTS = HouseholdYear.INPUTS


def income_apply_rows(
    rows: list[dict], *, actor_id: int | None, allowed: Callable[[str], bool] | None = None
) -> ApplyResult:
    """Upsert yearly income and conditions (annual snapshots) for a chunk of rows, computing the derived figures
    with the current income formula."""
    result = ApplyResult()
    with transaction.atomic():
        households = {
            h.household_no: h
            for h in Household.objects.filter(household_no__in={r["household_no"] for r in rows})
        }
        existing = {
            (y.household_id, y.year): y
            for y in HouseholdYear.objects.filter(
                household__in=list(households.values()), snapshot_kind="annual"
            )
        }
        logs: list[ChangeLog] = []
        new_rows: list[HouseholdYear] = []
        changed: list[HouseholdYear] = []
        latest: dict[int, HouseholdYear] = {}
        for row in rows:
            household = households.get(row["household_no"])
            if household is None:
                result.issues.append(
                    RowIssue(
                        row["source_row"],
                        "户编号",
                        row["household_no"],
                        "unknown_household",
                        "户编号在台账中不存在，请先导入户籍台账",
                    )
                )
                continue
            if allowed is not None and not allowed(household.village_code):
                result.issues.append(
                    RowIssue(
                        row["source_row"],
                        "户编号",
                        row["household_no"],
                        "out_of_scope",
                        "该户不在您的管辖范围内，本行未导入",
                    )
                )
                continue
            values = {name: row.get(name) for name in INCOME_INPUTS}
            figures = income_formula.compute(values, household.member_count)
            values.update(household_size=household.member_count, **figures.__dict__)
            current = existing.get((household.pk, row["year"]))
            if current is None:
                current = HouseholdYear(
                    household=household, year=row["year"], snapshot_kind="annual", **values
                )
                new_rows.append(current)
            else:
                before, after = diff(field_values(current, values), values)
                if not after:
                    result.unchanged += 1
                    continue
                for name, value in values.items():
                    setattr(current, name, value)
                changed.append(current)
                logs.append(
                    change_entry(
                        entity="household_year",
                        entity_id=current.pk,
                        household_id=household.pk,
                        action="update",
                        before=before,
                        after=after,
                        actor_id=actor_id,
                    )
                )
            best = latest.get(household.pk)
            if best is None or current.year >= best.year:
                latest[household.pk] = current
        if new_rows:
            now = timezone.now()
            for y in new_rows:
                y.updated_at = now
            insert_rows(
                HouseholdYear,
                new_rows,
                ("household", "year", "snapshot_kind", *INCOME_INPUTS, *HouseholdYear.DERIVED, "updated_at"),
            )
            ids = {
                (hid, year): pk
                for hid, year, pk in HouseholdYear.objects.filter(
                    household_id__in={y.household_id for y in new_rows},
                    snapshot_kind="annual",
                    year__in={y.year for y in new_rows},
                ).values_list("household_id", "year", "id")
            }
            for y in new_rows:
                y.pk = ids[(y.household_id, y.year)]
        for y in new_rows:
            logs.append(
                change_entry(
                    entity="household_year",
                    entity_id=y.pk,
                    household_id=y.household_id,
                    action="create",
                    before=None,
                    after={"year": y.year, **field_values(y, INCOME_INPUTS + HouseholdYear.DERIVED)},
                    actor_id=actor_id,
                )
            )
        if changed:
            update_rows(HouseholdYear, changed, [*INCOME_INPUTS, *HouseholdYear.DERIVED])
        updated_households = []
        by_pk = {h.pk: h for h in households.values()}
        for household_id, year_row in latest.items():
            household = by_pk[household_id]
            newer = household.latest_income_year is None or year_row.year >= household.latest_income_year
            if newer and (household.latest_income_year, household.latest_per_capita_income) != (
                year_row.year,
                year_row.per_capita_net_income,
            ):
                household.latest_income_year = year_row.year
                household.latest_per_capita_income = year_row.per_capita_net_income
                updated_households.append(household)
        update_rows(Household, updated_households, ["latest_income_year", "latest_per_capita_income"])
        log_changes(logs)
        result.created, result.updated = len(new_rows), len(changed)
    return result
