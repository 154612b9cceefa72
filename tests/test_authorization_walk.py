"""Issue 7: the authorization walk. Every URL pattern of the root URLconf (the django-ninja routes included, and
cross-checked against the OpenAPI schema) is classified in `TABLE` below; a pattern missing from the table fails
the test, so a new view has to say who may open it. Each pattern is then requested — GET and POST, POST with an
empty or minimal body — by every role, an anonymous visitor, a department's API token and a superuser, with its
path parameters filled from three sets of objects made through the apps' services:

- "A": village A of the demo county 520526 (every signed-in principal's own region),
- "B": a village of another township of the same county (inside the county and province roles' scope only),
- "X": a village of another province, 530102 (outside every principal's scope).

What is expected (decided from the existing behaviour):

- anonymous: public pages answer; any other page redirects to the login page (the admin to its own login page),
  the API answers 401; a department token is anonymous everywhere except the push endpoint;
- a signed-in role without the permission: 403 (404 where the object lookup comes first: both are refusals);
- an object (or region code) outside the principal's regions: 404 (403 where the view checks the region code
  itself, e.g. dashboards), never a 2xx or a redirect into the object;
- the superuser is an operator of the Django admin only: it opens every admin page (objects of all regions), and
  in the platform's pages it is an ordinary user of its role with no region (sees nothing);
- a method a view does not take: 405;
- anything allowed must really be reachable (not refused, not 405) so the walk uses real URLs;
- never a 500. A 2xx page for a principal who cannot see a set must not contain that set's household numbers,
  names, receipts or project texts (list pages leak through content, not status).

Refusals must come before validation: a POST that is refused answers 403/404 whatever its body, and writes
nothing (neither the change log nor the ledger grows). Every list page a principal may open is also asked to filter
by another region's township code and household number (`?region=…&q=…`): never a crash, never that region's rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.utils import timezone

import config.urls
from guardline.accounts.models import Role, User
from guardline.accounts.roles import ROLE_PERMS, Perm
from guardline.api.services import DEPARTMENT_FEEDS
from guardline.reports.exports import LISTS
from tests.support import COUNTY, PASSWORD, make_household

# ------------------------------------------------------------------------------------------ the expectation table

PUBLIC = "public"  # anyone, signed in or not
LOGIN = "login"  # any signed-in user (object parameters may still restrict: see Rule.scoped)
NONE = "none"  # the view does not take this method: 405
TOKEN = "token"  # a department API token (the push endpoint)
GONE = "gone"  # a pattern that answers 404 to everyone


@dataclass(frozen=True)
class Rule:
    """Who may make one request: PUBLIC, LOGIN, NONE, TOKEN, a permission, any of several permissions, or a
    predicate on the principal. `scoped`: the object parameters must also be visible to the principal."""

    who: Any
    scoped: bool = True


def perms(*ps: Perm) -> Rule:
    return Rule(frozenset(ps))


def unscoped(*ps: Perm) -> Rule:
    return Rule(frozenset(ps), scoped=False)


@dataclass(frozen=True)
class Lit:
    """A literal path parameter (an op name, a file format)."""

    value: str


@dataclass
class Entry:
    """One URL pattern: its path parameters (a slot of the object set, or a literal), the GET and POST rules,
    and the POST body."""

    get: Rule
    post: Rule
    params: dict[str, str | Lit] = field(default_factory=dict)
    data: dict | Callable[[Principal], dict] | None = None


def same(rule: Rule, **params: str | Lit) -> Entry:
    """A view that treats GET and POST alike (a page whose POST is its form, or that ignores the method)."""
    return Entry(rule, rule, params)


def post_only(rule: Rule, data: dict | None = None, **params: str | Lit) -> Entry:
    return Entry(Rule(NONE), rule, params, data)


V = Perm.VIEW_REGISTRY
HANDLE = Perm.HANDLE_CLUES
MANAGE_A = Perm.MANAGE_ASSISTANCE
VIEW_O = Perm.VIEW_OVERSIGHT
MANAGE_O = Perm.MANAGE_OVERSIGHT


def _province_manager(p: Principal) -> bool:
    """screening:rule_* saves — triggers hold for a whole province: MANAGE_SCREENING with a province-level scope."""
    return Perm.MANAGE_SCREENING in p.perms and any(len(c) <= 2 for c in p.scopes)


def _rule_keeper(p: Principal) -> bool:
    """screening:rule_new saves — a new trigger is for the province (a province manager) or for one of the keeper's
    regions (a county's own trigger): MANAGE_SCREENING with any scope."""
    return Perm.MANAGE_SCREENING in p.perms and bool(p.scopes)


def _has_home(p: Principal) -> bool:
    """dashboards:home — redirects to the user's top region; a user without any region is refused."""
    return V in p.perms and bool(p.scopes)


TABLE: dict[str, Entry] = {
    # root: a redirect to the household list (which then asks for a login)
    "": same(Rule(PUBLIC)),
    # accounts
    "accounts:login": same(Rule(PUBLIC)),
    "accounts:logout": Entry(Rule(NONE), Rule(PUBLIC)),
    "accounts:two_factor": same(Rule(LOGIN)),
    "accounts:password_change": same(Rule(LOGIN)),
    "accounts:password_done": Entry(Rule(LOGIN), Rule(NONE)),
    # registry
    "registry:household_list": same(perms(V)),
    "registry:household_detail": same(perms(V), pk="household"),
    "registry:household_reveal": post_only(perms(Perm.VIEW_PERSONAL_DATA), pk="household"),
    "registry:member_edit": same(perms(Perm.EDIT_REGISTRY), pk="member"),
    # regions
    "regions:line_list": Entry(perms(V, Perm.MANAGE_LINES), perms(Perm.MANAGE_LINES)),
    "regions:grid_list": Entry(perms(V), perms(Perm.MANAGE_GRIDS)),
    # ingest: batches and jobs belong to whoever started them (county roles see their county's batches)
    "ingest:batch_list": same(perms(Perm.IMPORT_REGISTRY, Perm.UPLOAD_FEEDS)),
    "ingest:job_detail": same(Rule(LOGIN), pk="import_job"),
    "ingest:batch_detail": same(Rule(LOGIN), pk="batch"),
    "ingest:batch_report": same(Rule(LOGIN), pk="batch"),
    "ingest:batch_feedback": same(Rule(LOGIN), pk="batch"),
    "ingest:review_list": same(perms(Perm.REVIEW_LINKS)),
    # GET is a 400 ("use the buttons") for any reviewer, whatever the id: it reveals nothing
    "ingest:review_decide": Entry(
        unscoped(Perm.REVIEW_LINKS), perms(Perm.REVIEW_LINKS), {"pk": "review_event"}, {"decision": "reject"}
    ),
    # screening
    "screening:inbox": same(perms(V)),
    "screening:run_start": same(perms(Perm.RUN_SCREENING)),
    "screening:catalogue": same(perms(V)),
    "screening:parameter_set": Entry(
        perms(V),
        perms(Perm.MANAGE_SCREENING),
        data=lambda p: {"region_code": p.scopes[0] if p.scopes else "", "name": "x", "value": "not-a-number"},
    ),
    # a rule is read by anyone who sees the registry; a province-wide one saved (the POST's default action) by a
    # province manager; a new one by any manager (for the province, or for a region of theirs)
    "screening:rule_new": Entry(perms(V), Rule(_rule_keeper)),
    "screening:rule_detail": Entry(perms(V), Rule(_province_manager), {"code": Lit("medical_annual")}),
    "screening:rule_restore": post_only(
        Rule(_province_manager), {"version": "0"}, code=Lit("medical_annual")
    ),
    "screening:whatif": same(perms(Perm.RUN_SCREENING)),
    # a background what-if's page: its creator's alone, like an import's job
    "screening:whatif_job": same(Rule(LOGIN), pk="whatif_job"),
    "screening:whatif_job_cancel": post_only(Rule(LOGIN), pk="whatif_job"),
    # cases
    "cases:inbox": same(perms(HANDLE)),
    "cases:pull_warnings": post_only(perms(HANDLE)),
    "cases:report": same(perms(Perm.REPORT_VISIT)),
    "cases:clue_detail": same(perms(HANDLE), pk="clue"),
    "cases:clue_action": post_only(perms(HANDLE), pk="open_clue", op=Lit("dismiss")),
    "cases:case_list": same(perms(HANDLE)),
    "cases:case_detail": same(perms(HANDLE), pk="case"),
    "cases:case_act": post_only(perms(HANDLE), pk="case", action=Lit("home_check")),
    "cases:notice_print": same(perms(HANDLE), pk="case"),
    "cases:evidence_file": same(perms(HANDLE), pk="case_evidence"),
    "cases:overdue": same(perms(V)),
    "cases:tasks": same(perms(V)),
    "cases:holidays": Entry(perms(V), perms(Perm.MANAGE_CALENDAR)),
    "cases:qr_svg": same(perms(V), code="village"),
    "cases:qr_sheet": same(perms(V), code="township"),
    # assistance
    "assistance:plan_list": same(perms(V)),
    "assistance:case_home": same(perms(V), case_pk="case_without_plan"),
    "assistance:plan_create": post_only(perms(MANAGE_A), case_pk="case"),
    "assistance:plan_detail": same(perms(V), pk="plan"),
    "assistance:measure_add": post_only(perms(MANAGE_A), pk="plan"),
    "assistance:measure_act": post_only(perms(MANAGE_A), pk="planned_measure", op=Lit("start")),
    "assistance:measure_evidence": same(perms(V), pk="delivered_measure"),
    "assistance:cadre_pair": post_only(perms(MANAGE_A), household_pk="household"),
    "assistance:cadre_unpair": post_only(perms(MANAGE_A), pk="pairing"),
    "assistance:visits_due": same(perms(Perm.REPORT_VISIT)),
    "assistance:visit_new": same(perms(Perm.REPORT_VISIT), household_pk="household"),
    "assistance:elimination_list": same(perms(V)),
    "assistance:elimination_start": post_only(perms(MANAGE_A), case_pk="case"),
    "assistance:elimination_detail": same(perms(V), pk="elimination"),
    "assistance:elimination_act": post_only(
        perms(MANAGE_A, Perm.DECIDE_ELIMINATION), pk="elimination", action=Lit("village_review")
    ),
    "assistance:elimination_reidentify": post_only(perms(MANAGE_A), pk="elimination"),
    # reports: a report job is its creator's only; list exports are expanded per list below
    "reports:index": same(perms(V)),
    "reports:job_detail": same(Rule(LOGIN), pk="report_job"),
    "reports:job_download": same(Rule(LOGIN), pk="report_job"),
    "reports:list_export": same(perms(V), name=Lit("households"), fmt=Lit("csv")),  # see _variants
    # quality
    "quality:index": same(perms(V)),
    "quality:finding_list": same(perms(V)),
    "quality:run": post_only(perms(Perm.RUN_SCREENING)),
    # oversight
    "oversight:index": same(perms(VIEW_O)),
    "oversight:rectification_list": same(perms(VIEW_O)),
    "oversight:rectification_new": same(perms(MANAGE_O)),
    "oversight:rectification_detail": same(perms(VIEW_O), pk="rectification"),
    "oversight:rectification_act": post_only(perms(MANAGE_O), pk="rectification", op=Lit("progress")),
    "oversight:complaint_list": same(perms(VIEW_O)),
    "oversight:complaint_new": same(perms(MANAGE_O)),
    "oversight:complaint_detail": same(perms(VIEW_O), pk="complaint"),
    "oversight:complaint_act": post_only(perms(MANAGE_O), pk="complaint", op=Lit("route")),
    "oversight:project_list": same(perms(VIEW_O)),
    "oversight:project_new": same(perms(MANAGE_O)),
    "oversight:project_detail": same(perms(VIEW_O), pk="project"),
    "oversight:movement_add": post_only(perms(MANAGE_O), pk="project"),
    "oversight:project_progress": post_only(perms(MANAGE_O), pk="project"),
    "oversight:asset_new": same(perms(MANAGE_O), project_pk="project"),
    "oversight:asset_list": same(perms(VIEW_O)),
    "oversight:asset_detail": same(perms(VIEW_O), pk="asset"),
    "oversight:income_add": post_only(perms(MANAGE_O), pk="asset"),
    # the tamper-evident ledger: one chain for the whole platform (see the README of the audit roles)
    "ledger:index": same(perms(Perm.VIEW_AUDIT)),
    # the audit-log export (accesses and changes of the principal's regions; an empty form goes back to the page)
    "ledger:audit_export": post_only(perms(Perm.VIEW_AUDIT)),
    # dashboards
    "dashboards:home": same(Rule(_has_home)),
    "dashboards:catalogue": same(perms(V)),
    "dashboards:weights": same(perms(Perm.MANAGE_EVALUATION), province="province"),
    "dashboards:dashboard": same(perms(V), code="village"),
    "dashboards:evaluation": same(perms(V), code="county"),
    # the public self-declaration pages (reached by the village's QR code), and language switching
    "declare:declare_status_lookup": same(Rule(PUBLIC)),
    "declare:declare_status": same(Rule(PUBLIC), receipt="receipt"),
    "declare:declare": same(Rule(PUBLIC), village_code="village"),
    "set_language": same(Rule(PUBLIC)),
    # the API: its schema and docs are public; the registry endpoints take a session, the push a token
    "api:openapi-json": same(Rule(PUBLIC)),
    "api:openapi-view": same(Rule(PUBLIC)),
    "api:api-root": same(Rule(GONE)),  # ninja's root: no operation there
    "api:list_households": Entry(perms(V), Rule(NONE)),
    "api:get_household": Entry(perms(V), Rule(NONE), {"household_id": "household"}),
    "api:push_events": Entry(Rule(NONE), Rule(TOKEN), {"feed": "feed"}, {"events": [{"name": "张三"}]}),
}

# Every admin page goes through AdminSite.admin_view: staff only (the superuser), others to the admin login.
ADMIN = "admin:"
ADMIN_OPEN = {"admin:login"}  # the admin's login form itself

# ---------------------------------------------------------------------------------------------------- principals


@dataclass
class Principal:
    key: str
    user: User | None = None
    role: str = ""
    scopes: list[str] = field(default_factory=list)
    token: str = ""
    token_feeds: tuple[str, ...] = ()

    @property
    def perms(self) -> frozenset[Perm]:
        return ROLE_PERMS.get(self.role, frozenset()) if self.user is not None else frozenset()

    def covers(self, code: str) -> bool:
        return any(code.startswith(s) for s in self.scopes)


PRINCIPALS = ["anonymous", "department_token", "superuser", *[r.value for r in Role]]

# ------------------------------------------------------------------------------------------------------ the world

SET_KEYS = ("A", "B", "X")
FOREIGN = {  # another province, made by hand: 53 → 5301 → 530102 → 530102001 → 530102001001
    "53": (1, "外省"),
    "5301": (2, "外市"),
    "530102": (3, "外县"),
    "530102001": (4, "外乡"),
    "530102001001": (5, "外村"),
}
_SEE_ALL_BATCHES = {Role.COUNTY_ADMIN, Role.PROVINCE_OFFICER, Role.AUDITOR}  # ingest.selectors._SEE_ALL


@dataclass
class Slot:
    """One path parameter value of an object set, and who may see it."""

    value: str
    visible: Callable[[Principal], bool]


def _regional(code: str) -> Callable[[Principal], bool]:
    return lambda p: p.covers(code)


def _owner(user: User) -> Callable[[Principal], bool]:
    return lambda p: p.user is not None and p.user.pk == user.pk


def _batch_visible(creator: User, creator_scope: str) -> Callable[[Principal], bool]:
    return lambda p: (
        p.user is not None
        and (p.user.pk == creator.pk or (p.role in _SEE_ALL_BATCHES and p.covers(creator_scope)))
    )


def _pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def _xlsx() -> bytes:
    """An error report as the importer writes it: file, row, column, value, problem, level."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["文件", "行号", "列", "原值", "问题", "级别"])
    book.active.append(["feed.xlsx", 2, "证件号码", "x", "格式不对", "拒绝"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _user(username: str, role: str, *regions: str, **extra) -> User:
    from guardline.accounts.services import user_create

    return user_create(
        actor=None, username=username, password=PASSWORD, role=role, regions=list(regions), **extra
    )


def _villages() -> dict[str, str]:
    from guardline.regions.models import Region
    from guardline.regions.services import regions_import_divisions

    first = (
        Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE).order_by("code").first()
    )
    if first is None:  # a transactional (browser) test in this worker flushed every table
        regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=COUNTY)
        first = Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE).order_by("code")[0]
    other = (
        Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE)
        .exclude(parent=first.parent)
        .order_by("code")
        .first()
    )
    assert other is not None
    parent = None
    for code, (level, name) in FOREIGN.items():
        parent = Region.objects.create(code=code, level=level, name=name, parent=parent)
    return {"A": first.code, "B": other.code, "X": "530102001001"}


def _object_set(key: str, village: str, people: dict[str, User], n: int) -> tuple[dict[str, Slot], list[str]]:
    """Everything of one region a URL can point at, made through the services; returns the slots and the markers
    (texts that only this set's objects carry)."""
    from guardline.assistance import services as assistance
    from guardline.assistance.tests.conftest import identify
    from guardline.cases import services as cases
    from guardline.cases.models import Evidence
    from guardline.core.models import Job
    from guardline.ingest.models import FeedEvent, ImportBatch
    from guardline.oversight import services as oversight
    from guardline.reports.services import report_output_dir

    township, county = village[:9], village[:6]
    start = timezone.now() - timedelta(days=60)
    head = f"户主{key}甲"
    household_no = f"{village[:6]}99{n:010d}"
    household = make_household(village, household_no, head, f"{village[:6]}1980010{n}{n:02d}1"[:17])
    second = make_household(
        village, f"{village[:6]}98{n:010d}", f"户主{key}乙", f"{village[:6]}1981020{n}{n:02d}3"
    )
    case = identify(household, people, start=start)
    bare_case = identify(second, people, start=start)  # identified, no plan yet: the case home page
    open_clue = cases.clue_report(actor=people["village"], village_code=village, concern="illness",
                                  description=f"线索{key}", now=timezone.now())  # fmt: skip
    plan = assistance.plan_create(actor=people["village"], case=case)
    delivered = assistance.measure_add(actor=people["village"], plan=plan, code="100A45", amount="3000")
    assistance.measure_complete(actor=people["village"], measure=delivered, evidence=_pdf())
    planned = assistance.measure_add(actor=people["village"], plan=plan, code="100A40")
    pairing = assistance.cadre_pair(actor=people["township"], household=household, cadre=people["village"])
    elim = assistance.elimination_start(actor=people["village"], case=case, mode="assisted")
    evidence = Evidence.objects.filter(step__case=case).first()
    assert evidence is not None and case.notice_started_at is not None
    staff = people["county"]
    rect = oversight.rectification_create(
        actor=staff, problem=f"整改问题{key}", source="audit", region_code=township, measures="逐户核查",
        responsible_unit="乡村振兴局", responsible_person="王科长", deadline=date(2026, 12, 31),
    )  # fmt: skip
    complaint = oversight.complaint_create(actor=staff, channel="hotline", region_code=village,
                                           content=f"诉求{key}", household=household)  # fmt: skip
    project = oversight.fund_project_create(
        actor=staff, name=f"项目{key}", region_code=township, year=2026, category="industry", budget="1000000",
        industry_amount="800000", sources={"central": "600000", "county": "400000"},
    )  # fmt: skip
    asset = oversight.asset_create(actor=staff, project=project, name=f"资产{key}", asset_type="operating",
                                   region_code=village, owner="村集体经济组织", custodian="村委会",
                                   value="900000", formed_on=date(2026, 9, 1))  # fmt: skip
    # an import: the department officer's feed batch, with its job, an error report and a row in review
    creator, creator_scope = people["importer"], people["importer_scope"]
    import_job = Job.objects.create(kind="import_feed", created_by=creator, status=Job.Status.DONE)
    batch = ImportBatch.objects.create(kind="feed", file_name=f"feed-{key}.xlsx", sha256=f"{n:064d}",
                                       status="done", created_by=creator, job=import_job,
                                       feed="illness_diagnosis")  # fmt: skip
    batch.error_report.save(f"report-{key}.xlsx", ContentFile(_xlsx()), save=True)
    import_job.result = {"batch_id": batch.pk}
    import_job.save(update_fields=["result"])
    member = household.members.get()
    event = FeedEvent.objects.create(
        feed="illness_diagnosis", key_hash=f"walk-{key}", source_row=2, event_date=date(2026, 3, 1),
        name=member.name, birth_date=date(1980, 1, 2), sex="male", village_code=village, batch=batch,
        payload={"disease": "脑梗死"}, link_status=FeedEvent.LinkStatus.REVIEW, link_score=0.93, candidate=member,
        link_examined_at=timezone.now(),
    )  # fmt: skip
    # a finished report of the set's report owner
    owner = people["reporter"]
    report_job = Job.objects.create(kind="report_monthly_xlsx", created_by=owner, status=Job.Status.DONE)
    folder = report_output_dir(report_job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.xlsx").write_bytes(b"PK\x03\x04")
    report_job.result = {"path": str(folder / "report.xlsx"), "filename": f"report-{key}.xlsx"}
    report_job.save(update_fields=["result"])
    whatif_job = Job.objects.create(
        kind="whatif", created_by=owner, status=Job.Status.DONE,
        params={"region": county, "changes": {"grade_yellow": 15}},
        result={"region": county, "households": 2, "entering_count": 1, "leaving_count": 0, "moves": []},
    )  # fmt: skip
    here = _regional(village)
    slots = {
        "household": Slot(str(household.pk), here),
        "member": Slot(str(member.pk), here),
        "case": Slot(str(case.pk), here),
        "case_without_plan": Slot(str(bare_case.pk), here),
        "clue": Slot(str(case.clues.first().pk), here),
        "open_clue": Slot(str(open_clue.pk), here),
        "case_evidence": Slot(str(evidence.pk), here),
        "plan": Slot(str(plan.pk), here),
        "planned_measure": Slot(str(planned.pk), here),
        "delivered_measure": Slot(str(delivered.pk), here),
        "pairing": Slot(str(pairing.pk), here),
        "elimination": Slot(str(elim.pk), here),
        "rectification": Slot(str(rect.pk), _regional(township)),
        "complaint": Slot(str(complaint.pk), here),
        "project": Slot(str(project.pk), _regional(township)),
        "asset": Slot(str(asset.pk), here),
        "import_job": Slot(str(import_job.pk), _owner(creator)),
        "batch": Slot(str(batch.pk), _batch_visible(creator, creator_scope)),
        "review_event": Slot(str(event.pk), here),
        "report_job": Slot(str(report_job.pk), _owner(owner)),
        "whatif_job": Slot(str(whatif_job.pk), _owner(owner)),
        "village": Slot(village, here),
        "township": Slot(township, _regional(township)),
        "county": Slot(county, _regional(county)),
        "province": Slot(village[:2], _regional(village[:2])),
        "receipt": Slot(open_clue.receipt_no, here),
    }
    markers = [household_no, head, f"户主{key}乙", f"整改问题{key}", f"诉求{key}", f"项目{key}", f"资产{key}",
               f"线索{key}", open_clue.receipt_no, complaint.receipt_no]  # fmt: skip
    return slots, markers


@dataclass
class World:
    principals: dict[str, Principal]
    slots: dict[str, dict[str, Slot]]
    markers: dict[str, list[str]]
    marker_visible: dict[str, Callable[[Principal], bool]]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The principals and the three object sets, made once for the module inside a transaction that is rolled
    back at the end (each test runs in a savepoint of it, so what one principal's POSTs change is undone)."""
    from guardline.api.services import department_token_create
    from guardline.regions.models import Region

    with django_db_blocker.unblock(), transaction.atomic():
        villages = _villages()
        a, b, x = villages["A"], villages["B"], villages["X"]
        scopes = {
            Role.PROVINCE_OFFICER: a[:2],
            Role.COUNTY_ADMIN: a[:6],
            Role.COUNTY_STAFF: a[:6],
            Role.TOWNSHIP_REVIEWER: a[:9],
            Role.VILLAGE_CADRE: a,
            Role.GRID_WORKER: a,
            Role.DEPARTMENT_OFFICER: a[:6],
            Role.AUDITOR: a[:6],
        }
        principals = {"anonymous": Principal("anonymous")}
        for role, scope in scopes.items():
            user = _user(f"walk_{role.value}", role, scope, department="health")
            principals[role.value] = Principal(role.value, user, role.value, [scope])
        su = User.objects.create_superuser("walk_root", password=PASSWORD)
        principals["superuser"] = Principal("superuser", su, su.role, [])
        _, raw = department_token_create(actor=principals["county_admin"].user, name="卫健系统",
                                         department="health", region=Region.objects.get(code=a[:6]))  # fmt: skip
        principals["department_token"] = Principal("department_token", token=raw,
                                                   token_feeds=DEPARTMENT_FEEDS["health"])  # fmt: skip
        us = {k: p.user for k, p in principals.items() if p.user is not None}
        people = {
            "A": {"village": us["village_cadre"], "township": us["township_reviewer"],
                  "county": us["county_staff"], "importer": us["department_officer"], "importer_scope": a[:6],
                  "reporter": us["county_admin"]},
            "B": {"village": _user("walk_cadre_b", Role.VILLAGE_CADRE, b),
                  "township": _user("walk_town_b", Role.TOWNSHIP_REVIEWER, b[:9]), "county": us["county_staff"],
                  "importer": _user("walk_dept_b", Role.DEPARTMENT_OFFICER, b[:6]), "importer_scope": b[:6],
                  "reporter": _user("walk_staff_b", Role.COUNTY_STAFF, b[:6])},
            "X": {"village": _user("walk_cadre_x", Role.VILLAGE_CADRE, x),
                  "township": _user("walk_town_x", Role.TOWNSHIP_REVIEWER, x[:9]),
                  "county": _user("walk_staff_x", Role.COUNTY_STAFF, x[:6]),
                  "importer": _user("walk_dept_x", Role.DEPARTMENT_OFFICER, x[:6]), "importer_scope": x[:6],
                  "reporter": _user("walk_admin_x", Role.COUNTY_ADMIN, x[:6])},
        }  # fmt: skip
        slots, markers = {}, {}
        for n, key in enumerate(SET_KEYS, start=1):
            slots[key], markers[key] = _object_set(key, villages[key], people[key], n)
            feeds = DEPARTMENT_FEEDS["health"] if key == "A" else DEPARTMENT_FEEDS["water"]
            slots[key]["feed"] = Slot(feeds[0], lambda p, f=feeds[0]: f in p.token_feeds)
        yield World(
            principals=principals,
            slots=slots,
            markers=markers,
            marker_visible={k: _regional(v) for k, v in villages.items()},
        )
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------------ the URL walk


@dataclass(frozen=True)
class Pattern:
    key: str  # the namespaced URL name (the route for an unnamed pattern)
    route: str  # the full route, e.g. "households/<int:pk>/reveal/"


def url_patterns() -> list[Pattern]:
    """Every URL pattern of the root URLconf, walked recursively through the includes (the API's too)."""
    found: list[Pattern] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = namespace + (f"{p.namespace}:" if p.namespace else "")
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                key = namespace + p.name if p.name else (namespace or route)
                found.append(Pattern(key, route))

    walk(get_resolver().url_patterns, "", "")
    return found


_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?P<body>[^)]*)\)")


def _fill(route: str, values: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group("name") or m.group("rname")
        return values[name]

    return "/" + _PARAM.sub(sub, route).replace("^", "").replace("$", "")


def _admin_values(route: str, world: World) -> dict[str, str]:
    """Admin pages: the object id of a household of set A (the superuser sees every region there)."""
    values = {}
    for m in _PARAM.finditer(route):
        name = m.group("name") or m.group("rname")
        if m.group("rname") and "|" in (m.group("body") or ""):
            values[name] = m.group("body").split("|")[0]  # (?P<app_label>auth|…): the first app
        elif name == "url":
            values[name] = "no-such-page/"
        elif name == "content_type_id":
            values[name] = "1"
        else:
            values[name] = world.slots["A"]["household"].value
    return values


@dataclass
class Request:
    pattern: str
    method: str
    url: str
    rule: Rule
    visible: bool
    api: bool
    data: dict
    set_key: str


def _variants(entry: Entry, pattern: Pattern) -> list[tuple[Entry, dict[str, str | Lit]]]:
    if pattern.key == "reports:list_export":
        return [
            (same(perms(spec.perm)), {"name": Lit(name), "fmt": Lit(fmt)})
            for name, spec in LISTS.items()
            for fmt in ("csv", "xlsx")
        ]
    return [(entry, entry.params)]


def requests_for(pattern: Pattern, principal: Principal, world: World) -> list[Request]:
    api = pattern.route.startswith("api/")
    if pattern.key.startswith(ADMIN):
        url = _fill(pattern.route, _admin_values(pattern.route, world))
        staff = Rule(PUBLIC) if pattern.key in ADMIN_OPEN else Rule(lambda p: p.key == "superuser")
        return [Request(pattern.key, m, url, staff, True, False, {}, "A") for m in ("get", "post")]
    out: list[Request] = []
    entry = TABLE[pattern.key]
    for variant, params in _variants(entry, pattern):
        set_keys = SET_KEYS if any(not isinstance(v, Lit) for v in params.values()) else ("A",)
        seen: set[tuple[str, str]] = set()
        for set_key in set_keys:
            slots = world.slots[set_key]
            values = {k: v.value if isinstance(v, Lit) else slots[v].value for k, v in params.items()}
            visible = all(slots[v].visible(principal) for v in params.values() if not isinstance(v, Lit))
            url = _fill(pattern.route, values)
            for method, rule in (("get", variant.get), ("post", variant.post)):
                if (method, url) in seen:  # e.g. the county code of sets A and B
                    continue
                seen.add((method, url))
                data = entry.data(principal) if callable(entry.data) else dict(entry.data or {})
                out.append(Request(pattern.key, method, url, rule, visible, api, data, set_key))
    return out


# ---------------------------------------------------------------------------------------------- the verdicts


def _allowed(rule: Rule, principal: Principal, visible: bool) -> bool:
    who = rule.who
    if who == PUBLIC:
        return True
    if who == TOKEN:
        return bool(principal.token) and visible
    if principal.user is None or who == NONE:
        return False
    if who == LOGIN:
        ok = True
    elif isinstance(who, frozenset):
        ok = bool(who & principal.perms)
    else:
        ok = who(principal)
    return ok and (visible or not rule.scoped)


def _login_redirect(response, admin: bool) -> bool:
    target = "/admin/login/" if admin else resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].startswith(target)


def verdict(req: Request, principal: Principal, response) -> str | None:
    """None if the answer is what the table expects, else why not."""
    status = response.status_code
    if status >= 500:
        return "server error"
    admin = req.pattern.startswith(ADMIN)
    refused_login = status == 401 if req.api else _login_redirect(response, admin)
    if admin and req.pattern not in ADMIN_OPEN:
        if principal.key == "superuser":
            return None  # the operator: any admin answer but a crash
        # AdminSite.admin_view sends non-staff from the logout URL to the index (and that to the login)
        if req.pattern == "admin:logout" and status == 302 and response["Location"] == "/admin/":
            return None
        return None if refused_login else "admin page not refused"
    if req.rule.who == GONE:
        return None if status == 404 else "expected 404"
    if req.rule.who == PUBLIC:
        return None if status not in (401, 403, 404, 405) else "expected access"
    if req.rule.who == NONE:
        if status == 405 or (principal.user is None and refused_login):
            return None
        return "expected 405"
    if _allowed(req.rule, principal, req.visible):
        if status in (401, 403, 404, 405) or refused_login:
            return "expected access"
        return None
    if principal.user is None and req.rule.who != TOKEN:
        return None if refused_login else "expected the login page / 401"
    if req.rule.who == TOKEN:
        return None if status in (401, 403, 404) else "expected a refused token"
    if status in (403, 404):
        return None
    return "expected 403/404"


def leaked_markers(req: Request, principal: Principal, response, world: World) -> list[str]:
    """Texts of object sets the principal cannot see, found in a page or API answer it was given."""
    if req.rule.who == PUBLIC or req.pattern.startswith(ADMIN) or not 200 <= response.status_code < 300:
        return []
    if response.get("Content-Type", "").split(";")[0] not in ("text/html", "application/json", "text/csv"):
        return []
    body = response.content.decode("utf-8", "replace")
    return [
        marker
        for key, markers in world.markers.items()
        if not world.marker_visible[key](principal)
        for marker in markers
        if marker in body
    ]


def _client(principal: Principal) -> Client:
    headers = {"Authorization": f"Bearer {principal.token}"} if principal.token else {}
    client = Client(raise_request_exception=False, headers=headers)
    if principal.user is not None:
        client.force_login(principal.user)
    return client


def _writes() -> tuple[int, int]:
    """Every service write is in the change log, every decision and money movement in the ledger."""
    from guardline.core.models import ChangeLog
    from guardline.ledger.models import LedgerEntry

    return ChangeLog.objects.count(), LedgerEntry.objects.count()


def _send(client: Client, req: Request):
    if req.method == "get":
        return client.get(req.url)
    if req.api:
        return client.post(req.url, json.dumps(req.data), content_type="application/json")
    return client.post(req.url, req.data)


def probes(world: World) -> list[tuple[str, str]]:
    """Query strings list pages filter by, naming another region and one of its households (the query string is
    echoed in links of the page, so the household number itself is not a marker there)."""
    out = []
    for key in ("B", "X"):
        number = world.markers[key][0]
        out.append((f"region={world.slots[key]['township'].value}&q={number}", number))
    return out


def walk(principal: Principal, world: World) -> tuple[int, list[str]]:
    client = _client(principal)
    failures: list[str] = []
    count = 0
    for pattern in url_patterns():
        for req in requests_for(pattern, principal, world):
            refused_post = (
                req.method == "post"
                and req.rule.who not in (PUBLIC, NONE, GONE)
                and not _allowed(req.rule, principal, req.visible)
            )
            before = _writes() if refused_post else None
            response = _send(client, req)
            count += 1
            problem = verdict(req, principal, response)
            if problem:
                where = response.get("Location", "")
                failures.append(f"{req.method.upper()} {req.url} [{req.pattern}, set {req.set_key}] → "
                                f"{response.status_code} {where}: {problem}")  # fmt: skip
            if before is not None and _writes() != before:
                failures.append(
                    f"POST {req.url} [{req.pattern}] was refused but wrote {before} → {_writes()}"
                )
            leaks = leaked_markers(req, principal, response, world)
            if leaks:
                failures.append(f"{req.method.upper()} {req.url} [{req.pattern}] shows {leaks}")
            if principal.user is not None and pattern.key in ("accounts:logout", "admin:logout"):
                client.force_login(principal.user)  # the walk goes on signed in
            # a page the principal may open, asked to filter by another region: never a crash nor its rows
            listing = pattern.key in TABLE and all(
                isinstance(v, Lit) for v in TABLE[pattern.key].params.values()
            )
            if not listing or req.method != "get" or req.rule.who in (PUBLIC, NONE, GONE):
                continue
            if _allowed(req.rule, principal, req.visible):
                for query, echoed in probes(world):
                    probe = Request(
                        req.pattern, "get", f"{req.url}?{query}", req.rule, True, req.api, {}, "A"
                    )
                    response = _send(client, probe)
                    count += 1
                    if response.status_code >= 500:
                        failures.append(f"GET {probe.url} [{req.pattern}] → {response.status_code}")
                    leaks = [m for m in leaked_markers(probe, principal, response, world) if m != echoed]
                    if leaks:
                        failures.append(f"GET {probe.url} [{req.pattern}] shows {leaks}")
    return count, failures


# ------------------------------------------------------------------------------------------------------ the tests


def classification_problems() -> list[str]:
    """URL patterns missing from TABLE, TABLE entries without a pattern, and entries whose parameters differ from
    their route's."""
    patterns = url_patterns()
    keys = {p.key for p in patterns}
    problems = [f"not in the table: {k}" for k in sorted(keys) if k not in TABLE and not k.startswith(ADMIN)]
    problems += [f"no such URL pattern: {k}" for k in sorted(TABLE) if k not in keys]
    for p in patterns:
        if p.key in TABLE:
            names = {m.group("name") or m.group("rname") for m in _PARAM.finditer(p.route)}
            if names != set(TABLE[p.key].params):
                problems.append(
                    f"parameters of {p.key}: route {sorted(names)}, table {sorted(TABLE[p.key].params)}"
                )
    return problems


def test_every_url_pattern_is_classified():
    """A new view (or API endpoint) must be added to TABLE; a removed one must leave it."""
    assert classification_problems() == []


def _new_view(request):  # pragma: no cover - never requested
    raise AssertionError


urlpatterns = [  # the root URLconf plus a view nobody classified (used by the next test)
    *config.urls.urlpatterns,
    path("brand-new/<int:pk>/", _new_view, name="brand_new"),
]


def test_a_new_pattern_fails_the_classification():
    with override_settings(ROOT_URLCONF=__name__):
        assert classification_problems() == ["not in the table: brand_new"]


def test_api_routes_match_the_openapi_schema(client):
    """Every operation of the OpenAPI schema is a URL pattern classified for its method, and every API pattern
    (but the schema, docs and root) is in the schema: a new endpoint cannot slip past the walk."""
    schema = client.get("/api/v1/openapi.json").json()
    routes = {p.route: p.key for p in url_patterns() if p.route.startswith("api/v1/")}
    documented = set()
    for api_path, operations in schema["paths"].items():
        route = re.sub(r"\{(\w+)\}", r"<\1>", api_path).lstrip("/")
        assert route in routes, f"{api_path} of the schema has no URL pattern"
        documented.add(route)
        entry = TABLE[routes[route]]
        for method in operations:
            rule = {"get": entry.get, "post": entry.post}.get(method)
            assert rule is not None and rule.who != NONE, f"{method.upper()} {api_path} is not classified"
        for method, rule in (("get", entry.get), ("post", entry.post)):
            if rule.who != NONE:
                assert method in operations, f"{method.upper()} {api_path} classified but not in the schema"
    undocumented = {
        r for r, k in routes.items() if k not in ("api:openapi-json", "api:openapi-view", "api:api-root")
    }
    assert undocumented == documented


@pytest.mark.django_db
@pytest.mark.parametrize("who", PRINCIPALS)
def test_walk_every_url(world, who):
    principal = world.principals[who]
    count, failures = walk(principal, world)
    print(f"authorization walk as {who}: {count} requests")  # shown with -s
    assert count > 300
    assert not failures, f"{len(failures)} of {count} requests as {who}:\n" + "\n".join(failures)
