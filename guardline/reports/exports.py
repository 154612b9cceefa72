"""Exports of the list pages: the same selector and the same filters as the page (taken from the query string),
so the file holds exactly the filtered list the user sees, across all pages. ID numbers and phones are masked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import QueryDict

from engine import vocab
from engine.ids import mask_id_number, mask_phone
from engine.screening.rules import RISK_CODES
from guardline.accounts.roles import Perm
from guardline.regions.models import Region


def _risks(s: str) -> str:
    return "、".join(RISK_CODES.get(c, c) for c in s.split(";") if c)


def max_rows() -> int:
    return int(settings.GUARDLINE.get("EXPORT_MAX_ROWS", 100_000))


class _Names:
    """Village names looked up once per export."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, code: str) -> str:
        if code not in self.names:
            region = Region.objects.filter(code=code).first()
            self.names[code] = region.name if region else code
        return self.names[code]


def households(user, q: QueryDict) -> tuple[list[str], Iterator[list[Any]]]:
    from guardline.registry import selectors

    f = selectors.HouseholdFilters(region=q.get("region", "").strip(), household_type=q.get("household_type", ""),
                                   monitor_category=q.get("monitor_category", ""),
                                   income_band=q.get("income_band", ""), q=q.get("q", "").strip())  # fmt: skip
    name = _Names()
    rows = (
        [
            h.household_no,
            h.head_name,
            name(h.village_code),
            vocab.HOUSEHOLD_TYPES.get(h.household_type, ""),
            vocab.MONITOR_CATEGORIES.get(h.monitor_category, ""),
            h.member_count,
            h.latest_per_capita_income,
            h.latest_income_year,
            "是" if h.no_labour_household else "否",
            mask_phone(h.phone),
        ]
        for h in selectors.household_list(user, f)[: max_rows()].iterator(chunk_size=2000)
    )
    cols = ["户编号", "户主", "村", "户类型", "监测对象类别", "人口数", "人均纯收入", "收入年度", "整户无劳动能力",
            "联系电话"]  # fmt: skip
    return cols, rows


def warnings(user, q: QueryDict) -> tuple[list[str], Iterator[list[Any]]]:
    from guardline.screening import selectors

    f = selectors.InboxFilters(grade=q.get("grade", ""), region=q.get("region", ""),
                               risk_type=q.get("risk_type", ""), status=q.get("status", "open"))  # fmt: skip
    name = _Names()
    rows = (
        [
            w.household.household_no,
            w.household.head_name,
            name(w.village_code),
            w.get_grade_display(),
            round(w.score, 1),
            _risks(w.risk_types),
            "；".join(str(r) for r in w.reasons),
            w.first_signal_date,
            w.opened_at,
            w.get_status_display(),
        ]
        for w in selectors.warning_inbox(user, f)[: max_rows()]
    )
    cols = [
        "户编号",
        "户主",
        "村",
        "预警等级",
        "风险分值",
        "风险类型",
        "预警原因",
        "首次信号日期",
        "生成时间",
        "状态",
    ]
    return cols, rows


def clues(user, q: QueryDict) -> tuple[list[str], Iterator[list[Any]]]:
    from guardline.cases import selectors

    f = selectors.ClueFilters(channel=q.get("channel", ""), region=q.get("region", ""),
                              status=q.get("status", "new"))  # fmt: skip
    name = _Names()
    rows = (
        [
            c.receipt_no,
            c.get_channel_display(),
            c.get_status_display(),
            name(c.village_code),
            c.household.household_no if c.household else "",
            c.household.head_name if c.household else c.declarant_name,
            mask_id_number(c.declarant_id_number),
            c.get_concern_display(),
            _risks(c.risk_types),
            c.grade,
            c.received_at,
            c.verify_due,
        ]
        for c in selectors.clue_inbox(user, f)[: max_rows()]
    )
    cols = ["受理编号", "来源渠道", "状态", "村", "户编号", "户主/申报人", "申报人身份证号", "困难类型", "风险类型",
            "预警等级", "接收时间", "核实时限"]  # fmt: skip
    return cols, rows


def cases(user, q: QueryDict) -> tuple[list[str], Iterator[list[Any]]]:
    from guardline.cases import selectors

    name = _Names()
    rows = (
        [
            c.pk,
            c.get_kind_display(),
            c.household.household_no,
            c.household.head_name,
            name(c.village_code),
            c.get_state_display(),
            vocab.MONITOR_CATEGORIES.get(c.category, ""),
            _risks(c.risk_types),
            c.clue_received_at,
            c.decision_due,
            c.decided_at,
        ]
        for c in selectors.case_list(user, q.get("state", "open"))[: max_rows()]
    )
    cols = ["案件编号", "程序", "户编号", "户主", "村", "环节", "监测对象类别", "风险类型", "线索接收时间",
            "认定时限", "认定时间"]  # fmt: skip
    return cols, rows


@dataclass(frozen=True)
class ListExport:
    title: str
    perm: Perm
    build: Callable[[Any, QueryDict], tuple[list[str], Iterator[list[Any]]]]


LISTS = {
    "households": ListExport("农户台账", Perm.VIEW_REGISTRY, households),
    "warnings": ListExport("风险预警", Perm.VIEW_REGISTRY, warnings),
    "clues": ListExport("线索", Perm.HANDLE_CLUES, clues),
    "cases": ListExport("认定案件", Perm.HANDLE_CLUES, cases),
}
