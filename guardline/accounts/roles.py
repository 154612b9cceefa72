"""What each role may do. One table, read by views, services and the API; regions are checked separately."""

from __future__ import annotations

from enum import StrEnum

from .models import Role


class Perm(StrEnum):
    VIEW_REGISTRY = "view_registry"
    EDIT_REGISTRY = "edit_registry"
    IMPORT_REGISTRY = "import_registry"
    VIEW_PERSONAL_DATA = "view_personal_data"  # unmasked ID numbers and phones (access is logged)
    MANAGE_LINES = "manage_lines"
    MANAGE_GRIDS = "manage_grids"
    MANAGE_USERS = "manage_users"
    UPLOAD_FEEDS = "upload_feeds"
    REVIEW_LINKS = "review_links"  # accept or reject uncertain links of department rows to people
    VIEW_AUDIT = "view_audit"
    RUN_SCREENING = "run_screening"  # start a screening pass over the user's regions
    MANAGE_SCREENING = (
        "manage_screening"  # edit screening parameters (own regions) and, at province level, rules
    )
    HANDLE_CLUES = (
        "handle_clues"  # work the clue inbox and cases (which step a role may take: cases.procedure)
    )
    REPORT_VISIT = "report_visit"  # report a clue from a household visit
    MANAGE_CALENDAR = "manage_calendar"  # edit the holiday calendar the working-day clocks count with
    MANAGE_ASSISTANCE = "manage_assistance"  # plans, measures, cadre pairing, proposing eliminations
    DECIDE_ELIMINATION = "decide_elimination"  # the county decision on (and reversal of) a risk elimination
    VIEW_OVERSIGHT = "view_oversight"  # rectification, complaints, linkage-fund projects and assets (read)
    MANAGE_OVERSIGHT = "manage_oversight"  # write those ledgers (money movements are also in the ledger)
    MANAGE_EVALUATION = "manage_evaluation"  # the province's indicator weights of the composite evaluation


_ALL_READ = {Perm.VIEW_REGISTRY}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.PROVINCE_OFFICER: frozenset(
        {
            *_ALL_READ,
            Perm.MANAGE_LINES,
            Perm.VIEW_AUDIT,
            Perm.RUN_SCREENING,
            Perm.MANAGE_SCREENING,
            Perm.MANAGE_CALENDAR,
            Perm.VIEW_OVERSIGHT,
            Perm.MANAGE_EVALUATION,
        }
    ),
    Role.COUNTY_ADMIN: frozenset(
        {
            *_ALL_READ,
            Perm.EDIT_REGISTRY,
            Perm.IMPORT_REGISTRY,
            Perm.VIEW_PERSONAL_DATA,
            Perm.MANAGE_LINES,
            Perm.MANAGE_GRIDS,
            Perm.MANAGE_USERS,
            Perm.VIEW_AUDIT,
            Perm.REVIEW_LINKS,
            Perm.RUN_SCREENING,
            Perm.MANAGE_SCREENING,
            Perm.HANDLE_CLUES,
            Perm.REPORT_VISIT,
            Perm.MANAGE_CALENDAR,
            Perm.MANAGE_ASSISTANCE,
            Perm.DECIDE_ELIMINATION,
            Perm.VIEW_OVERSIGHT,
            Perm.MANAGE_OVERSIGHT,
        }
    ),
    Role.COUNTY_STAFF: frozenset(
        {
            *_ALL_READ,
            Perm.EDIT_REGISTRY,
            Perm.IMPORT_REGISTRY,
            Perm.VIEW_PERSONAL_DATA,
            Perm.REVIEW_LINKS,
            Perm.RUN_SCREENING,
            Perm.HANDLE_CLUES,
            Perm.REPORT_VISIT,
            Perm.MANAGE_ASSISTANCE,
            Perm.DECIDE_ELIMINATION,
            Perm.VIEW_OVERSIGHT,
            Perm.MANAGE_OVERSIGHT,
        }
    ),
    Role.TOWNSHIP_REVIEWER: frozenset(
        {
            *_ALL_READ,
            Perm.EDIT_REGISTRY,
            Perm.VIEW_PERSONAL_DATA,
            Perm.HANDLE_CLUES,
            Perm.REPORT_VISIT,
            Perm.MANAGE_ASSISTANCE,
            Perm.VIEW_OVERSIGHT,
        }
    ),
    Role.VILLAGE_CADRE: frozenset(
        {
            *_ALL_READ,
            Perm.EDIT_REGISTRY,
            Perm.VIEW_PERSONAL_DATA,
            Perm.MANAGE_GRIDS,
            Perm.HANDLE_CLUES,
            Perm.REPORT_VISIT,
            Perm.MANAGE_ASSISTANCE,
        }
    ),
    Role.GRID_WORKER: frozenset({*_ALL_READ, Perm.HANDLE_CLUES, Perm.REPORT_VISIT}),
    Role.DEPARTMENT_OFFICER: frozenset({Perm.UPLOAD_FEEDS}),
    Role.AUDITOR: frozenset({*_ALL_READ, Perm.VIEW_AUDIT, Perm.VIEW_OVERSIGHT}),
}


def has_perm(user, perm: Perm) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return perm in ROLE_PERMS.get(user.role, frozenset())
