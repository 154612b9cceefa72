"""Reads of the cases app, always scoped to the user's regions (except the public receipt status, which shows
nothing personal)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case as When_
from django.db.models import IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from guardline.accounts.scope import region_q, scope_codes
from guardline.regions.models import Region
from guardline.screening.models import response_clock

from . import procedure
from .models import Case, Clue
from .procedure import Action, State

GRADE_ORDER = When_(
    When(grade="red", then=Value(0)), When(grade="yellow", then=Value(1)), default=Value(2),
    output_field=IntegerField(),
)  # fmt: skip

# Who answers for what (region level: 5 village, 4 township, 3 county, 1 province) and where it escalates to.
ROLE_LEVEL = {"grid_worker": 5, "village_cadre": 5, "township_reviewer": 4, "county_staff": 3, "county_admin": 3,
              "province_officer": 1, "auditor": 1}  # fmt: skip
LEVEL_ABOVE = {5: 4, 4: 3, 3: 1}
LEVEL_NAMES = {5: "村", 4: "乡镇", 3: "县", 1: "省"}
FORWARD = {t.source: t for t in procedure.TRANSITIONS.values() if t.action not in (Action.REJECT,
                                                                                   Action.FAST_TRACK)}  # fmt: skip


def responsible_level(state: str) -> int:
    """The lowest level that may take a state's step forward answers for its clock."""
    t = FORWARD.get(State(state))
    return max(ROLE_LEVEL[r] for r in t.roles) if t else 4


@dataclass
class ClueFilters:
    channel: str = ""
    region: str = ""
    status: str = "new"


def clue_inbox(user, filters: ClueFilters | None = None) -> QuerySet[Clue]:
    """Clues in the user's regions: red warnings first, then by verification deadline."""
    f = filters or ClueFilters()
    qs = Clue.objects.filter(region_q(user)).select_related("household", "case")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.region:
        qs = qs.filter(village_code__startswith=f.region)
    return qs.annotate(grade_rank=GRADE_ORDER).order_by("grade_rank", "verify_due", "id")


def clue_get(user, pk: int) -> Clue:
    clue = Clue.objects.filter(region_q(user), pk=pk).select_related("household", "case", "warning").first()
    if clue is None:
        raise Http404("线索不存在或不在您的管辖范围内")
    return clue


def clue_status_public(receipt_no: str) -> dict | None:
    """What a household may see with its receipt number: the stage only, nothing personal."""
    clue = Clue.objects.filter(receipt_no=receipt_no.strip().upper()[:20]).select_related("case").first()
    if clue is None:
        return None
    root = clue.merged_into or clue
    case = root.case or clue.case
    if case is not None:
        stage = procedure.STATE_LABELS[State(case.state)]
    elif root.status == Clue.Status.DISMISSED:
        stage = "经核实不予受理"
    else:
        stage = "已受理，待乡镇核实"
    return {"receipt_no": clue.receipt_no, "received_at": clue.received_at, "stage": stage}


def case_list(user, state: str = "") -> QuerySet[Case]:
    qs = Case.objects.filter(region_q(user)).select_related("household")
    if state == "open":
        qs = qs.exclude(state__in=procedure.FINAL_STATES)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by("decision_due", "id")


def case_get(user, pk: int) -> Case:
    case = Case.objects.filter(region_q(user), pk=pk).select_related("household").first()
    if case is None:
        raise Http404("案件不存在或不在您的管辖范围内")
    return case


def case_steps(case: Case):
    return case.steps.select_related("actor").prefetch_related("evidence").order_by("at", "id")


def similar_clues(user, clue: Clue) -> QuerySet[Clue]:
    """Other open clues of the same village, to merge a duplicate into by hand."""
    return (
        Clue.objects.filter(region_q(user), village_code=clue.village_code)
        .exclude(pk=clue.pk)
        .exclude(status__in=[Clue.Status.MERGED, Clue.Status.DISMISSED])
        .order_by("-received_at")[:20]
    )


# ------------------------------------------------------------------------------------------- clocks and overdue


@dataclass
class Item:
    """One thing with a deadline: a clue to verify, a case step, a plan to draw up, a red warning to answer."""

    kind: str  # clue_verify | red_on_site | red_plan | decision | notice | plan
    label: str
    village_code: str
    due: datetime
    url_name: str
    pk: int
    level: int  # the level that answers for it
    overdue: bool = False
    escalated: bool = False  # overdue: shown to the level above
    state: str = ""

    @property
    def township(self) -> str:
        return self.village_code[:9]


def _items(user, now: datetime) -> list[Item]:
    items: list[Item] = []
    clues = Clue.objects.filter(region_q(user), status=Clue.Status.NEW).select_related("warning")
    for c in clues.order_by("verify_due")[:2000]:
        if c.verify_due:
            items.append(Item("clue_verify", f"核实线索 {c.receipt_no}", c.village_code, c.verify_due,
                              "cases:clue_detail", c.pk, 4))  # fmt: skip
        if c.grade == "red" and c.warning is not None:
            clock = response_clock("red")
            graded = c.warning.graded_at
            items.append(Item("red_on_site", f"红色预警到户 {c.receipt_no}", c.village_code,
                              graded + timedelta(hours=clock["on_site_hours"]), "cases:clue_detail", c.pk, 3))  # fmt: skip
            items.append(Item("red_plan", f"红色预警帮扶方案 {c.receipt_no}", c.village_code,
                              graded + timedelta(hours=clock["plan_hours"]), "cases:clue_detail", c.pk, 3))  # fmt: skip
    cases = Case.objects.filter(region_q(user)).select_related("household")
    for case in cases.exclude(state__in=procedure.FINAL_STATES).order_by("decision_due")[:2000]:
        label = f"{procedure.STATE_LABELS[State(case.state)]} · {case.household.household_no}"
        items.append(Item("decision", label, case.village_code, case.decision_due, "cases:case_detail", case.pk,
                          responsible_level(case.state), state=case.state))  # fmt: skip
    plans = cases.filter(state=State.IDENTIFIED, plan_made_at__isnull=True, plan_due__isnull=False)
    for case in plans[:2000]:
        items.append(Item("plan", f"制定帮扶计划 · {case.household.household_no}", case.village_code,
                          case.plan_due, "cases:case_detail", case.pk, 4))  # type: ignore[arg-type]  # fmt: skip
    for item in items:
        item.overdue = item.due < now
        item.escalated = item.overdue
    return items


def overdue(user, now: datetime | None = None, region: str = "") -> list[Item]:
    """Everything past its deadline in the user's regions, the longest overdue first."""
    now = now or timezone.now()
    items = [i for i in _items(user, now) if i.overdue and i.village_code.startswith(region)]
    return sorted(items, key=lambda i: i.due)


def overdue_by_region(items: list[Item]) -> list[tuple[Region | None, str, int]]:
    """Counts of overdue items per township."""
    counts = Counter(i.township for i in items)
    names = Region.objects.in_bulk(list(counts))
    return [(names.get(code), code, n) for code, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def my_tasks(user, now: datetime | None = None) -> dict[str, list[Item]]:
    """What waits for this user: steps their role takes next in their regions, and, for the level above, what is
    overdue below (escalated)."""
    now = now or timezone.now()
    role = getattr(user, "role", "")
    level = ROLE_LEVEL.get(role)
    if level is None or not scope_codes(user):
        return {"todo": [], "escalated": []}
    todo, escalated = [], []
    for item in _items(user, now):
        if item.kind == "decision":
            # The level that answers for the step does it; a higher level that could also act sees it when
            # it is overdue (escalated).
            mine = level == item.level and any(
                t.action not in (Action.REJECT, Action.FAST_TRACK)
                for t in procedure.actions_for(item.state, role)
            )
        elif item.kind == "clue_verify":
            mine = role in ("village_cadre", "township_reviewer", "grid_worker")
        else:
            mine = level == item.level or (item.kind == "plan" and role == "township_reviewer")
        if mine:
            todo.append(item)
        elif item.overdue and LEVEL_ABOVE.get(item.level) == level:
            escalated.append(item)
    return {"todo": sorted(todo, key=lambda i: i.due), "escalated": sorted(escalated, key=lambda i: i.due)}
