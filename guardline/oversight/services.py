"""Writes of the oversight ledgers: each service checks the role and the region, runs in one transaction and logs
its change (`core.changelog`); money movements and asset income are appended to the tamper-evident ledger in
the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from guardline.accounts.roles import Perm, has_perm
from guardline.accounts.scope import require_scope
from guardline.core.changelog import change_entry, log_changes
from guardline.ledger.services import ledger_append
from guardline.regions.models import Region
from guardline.registry.models import Household

from .models import (
    AssetIncome,
    Complaint,
    FundMovement,
    FundProject,
    FundSource,
    ProjectAsset,
    Rectification,
    RectificationProgress,
)


def _log(entity: str, pk: int, action: str, before, after, actor, household_id: int | None = None) -> None:
    log_changes([change_entry(entity=entity, entity_id=pk, household_id=household_id, action=action,
                              before=before, after=after, actor_id=getattr(actor, "pk", None))])  # fmt: skip


def _require(actor, perm: Perm, region_code: str) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied("您的角色无此权限")
    require_scope(actor, region_code)


def _region(code: str) -> str:
    code = (code or "").strip()
    if not Region.objects.filter(code=code).exists():
        raise ValidationError(f"地区代码不存在: {code}")
    return code


def _text(value: str, label: str, limit: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"{label}不能为空")
    return value[:limit]


def _positive(value: Any, label: str, *, allow_negative: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError as exc:
        raise ValidationError(f"{label}不是有效金额") from exc
    if amount == 0 or (amount < 0 and not allow_negative):
        raise ValidationError(f"{label}必须为正数")
    return amount


# ------------------------------------------------------------------------------------------------ rectification
RECT_FIELDS = ("problem", "source", "source_ref", "region_code", "measures", "responsible_unit",
               "responsible_person", "deadline", "status")  # fmt: skip


@transaction.atomic
def rectification_create(
    *,
    actor,
    problem: str,
    source: str,
    region_code: str,
    measures: str,
    responsible_unit: str,
    responsible_person: str,
    deadline: date,
    source_ref: str = "",
    now: datetime | None = None,
) -> Rectification:
    """问题 → 措施 → 责任 → 时限: a problem enters the ledger with its measures, responsible unit and person, and
    deadline."""
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_OVERSIGHT, region_code)
    if source not in Rectification.Source.values:
        raise ValidationError("问题来源无效")
    r = Rectification.objects.create(
        problem=_text(problem, "问题"), source=source, source_ref=source_ref.strip()[:200],
        region_code=_region(region_code), measures=_text(measures, "整改措施"),
        responsible_unit=_text(responsible_unit, "责任单位", 100),
        responsible_person=_text(responsible_person, "责任人", 50), deadline=deadline,
        created_by=actor, created_at=now, updated_at=now,
    )  # fmt: skip
    _log("rectification", r.pk, "create", None, {f: getattr(r, f) for f in RECT_FIELDS}, actor)
    return r


@transaction.atomic
def rectification_progress_add(
    *, actor, rectification: Rectification, note: str, percent: int, now: datetime | None = None
) -> RectificationProgress:
    """A monthly progress note; the first one moves the item from 待整改 to 整改中."""
    now = now or timezone.now()
    r = Rectification.objects.select_for_update().get(pk=rectification.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, r.region_code)
    if r.status == Rectification.Status.CLOSED:
        raise ValidationError("已销号的问题不能再记录进展")
    if not 0 <= int(percent) <= 100:
        raise ValidationError("进度应在 0–100 之间")
    p = RectificationProgress.objects.create(rectification=r, month=f"{timezone.localdate(now):%Y-%m}",
                                             note=_text(note, "进展"), percent=int(percent), author=actor,
                                             at=now)  # fmt: skip
    before = {"status": r.status}
    r.status, r.updated_at = Rectification.Status.IN_PROGRESS, now
    r.save(update_fields=["status", "updated_at"])
    _log("rectification", r.pk, "update", before, {"status": r.status, "progress": p.note[:200],
                                                   "percent": p.percent}, actor)  # fmt: skip
    return p


@transaction.atomic
def rectification_close(
    *, actor, rectification: Rectification, evidence: str, now: datetime | None = None
) -> Rectification:
    """销号: closed with the evidence that the problem is solved (required)."""
    now = now or timezone.now()
    r = Rectification.objects.select_for_update().get(pk=rectification.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, r.region_code)
    if r.status == Rectification.Status.CLOSED:
        raise ValidationError("该问题已销号")
    before = {"status": r.status}
    r.status, r.closed_at, r.closed_by = Rectification.Status.CLOSED, now, actor
    r.closing_evidence, r.updated_at = _text(evidence, "销号依据"), now
    r.save()
    _log("rectification", r.pk, "update", before, {"status": r.status, "closing_evidence": r.closing_evidence},
         actor)  # fmt: skip
    ledger_append(kind="admin", entity="rectification", entity_id=r.pk, actor=actor,
                  payload={"action": "close", "region": r.region_code, "evidence": r.closing_evidence})  # fmt: skip
    return r


# --------------------------------------------------------------------------------------------------- complaints
def _receipt_no(now: datetime) -> str:
    return f"SQ{timezone.localdate(now):%Y%m%d}{secrets.token_hex(3).upper()}"


@transaction.atomic
def complaint_create(
    *,
    actor,
    channel: str,
    region_code: str,
    content: str,
    kind: str = "request",
    complainant: str = "",
    household: Household | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Intake of a call, online message, visit or letter; the deadline defaults to GUARDLINE["COMPLAINT_DAYS"]."""
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_OVERSIGHT, region_code)
    if channel not in Complaint.Channel.values or kind not in Complaint.Kind.values:
        raise ValidationError("渠道或类型无效")
    if household is not None and not household.village_code.startswith(region_code):
        raise ValidationError("该户不在所选地区")
    deadline = deadline or timezone.localdate(now) + timedelta(days=int(settings.GUARDLINE["COMPLAINT_DAYS"]))
    c = Complaint.objects.create(
        receipt_no=_receipt_no(now), channel=channel, kind=kind, region_code=_region(region_code),
        household=household, complainant=complainant.strip()[:50], content=_text(content, "诉求内容"),
        deadline=deadline, received_at=now, received_by=actor,
    )  # fmt: skip
    _log("complaint", c.pk, "create", None, {"channel": channel, "kind": kind, "region_code": region_code,
                                              "deadline": deadline}, actor, c.household_id)  # fmt: skip
    return c


@transaction.atomic
def complaint_route(*, actor, complaint: Complaint, to_code: str, unit: str = "",
                    deadline: date | None = None) -> Complaint:  # fmt: skip
    """转办: to a region inside the actor's scope (and a unit there), optionally with a new deadline."""
    c = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, c.region_code)
    require_scope(actor, to_code)
    if c.status == Complaint.Status.COMPLETED:
        raise ValidationError("已办结的诉求不能转办")
    before = {"status": c.status, "routed_to_code": c.routed_to_code, "routed_unit": c.routed_unit,
              "deadline": c.deadline}  # fmt: skip
    c.routed_to_code, c.routed_unit = _region(to_code), unit.strip()[:100]
    c.deadline = deadline or c.deadline
    c.status = Complaint.Status.ROUTED
    c.save()
    after = {k: getattr(c, k) for k in before}
    _log("complaint", c.pk, "update", before, after, actor, c.household_id)
    return c


def _may_answer(actor, c: Complaint) -> None:
    if has_perm(actor, Perm.MANAGE_OVERSIGHT):
        require_scope(actor, c.region_code)
    elif has_perm(actor, Perm.HANDLE_CLUES) and c.routed_to_code:
        require_scope(actor, c.routed_to_code)  # the township or village it was routed to
    else:
        raise PermissionDenied("您的角色无此权限")


@transaction.atomic
def complaint_complete(*, actor, complaint: Complaint, reply: str, now: datetime | None = None) -> Complaint:
    """办结 with the reply given to the caller."""
    now = now or timezone.now()
    c = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _may_answer(actor, c)
    if c.status == Complaint.Status.COMPLETED:
        raise ValidationError("该诉求已办结")
    before = {"status": c.status}
    c.status, c.reply, c.completed_at = Complaint.Status.COMPLETED, _text(reply, "办理结果"), now
    c.save()
    _log(
        "complaint", c.pk, "update", before, {"status": c.status, "completed_at": now}, actor, c.household_id
    )
    return c


@transaction.atomic
def complaint_rate(*, actor, complaint: Complaint, satisfaction: int) -> Complaint:
    """The caller's satisfaction (1–5), asked in the return call (回访) after completion."""
    c = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, c.region_code)
    if c.status != Complaint.Status.COMPLETED:
        raise ValidationError("办结后才能回访评价")
    if int(satisfaction) not in range(1, 6):
        raise ValidationError("满意度应为 1–5")
    before = {"satisfaction": c.satisfaction}
    c.satisfaction = int(satisfaction)
    c.save(update_fields=["satisfaction"])
    _log("complaint", c.pk, "update", before, {"satisfaction": c.satisfaction}, actor, c.household_id)
    return c


# ------------------------------------------------------------------------------------------------ fund projects
@transaction.atomic
def fund_project_create(
    *,
    actor,
    name: str,
    region_code: str,
    year: int,
    category: str,
    budget: Any,
    sources: Mapping[str, Any],
    industry_amount: Any = 0,
    code: str = "",
    now: datetime | None = None,
) -> FundProject:
    """A project with its budget, the sources that make it up (they must add up to the budget) and the part of
    it that goes to industry."""
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_OVERSIGHT, region_code)
    if category not in FundProject.Category.values:
        raise ValidationError("项目类别无效")
    total = _positive(budget, "预算")
    industry = Decimal(str(industry_amount or 0)).quantize(Decimal("0.01"))
    if not Decimal(0) <= industry <= total:
        raise ValidationError("产业资金应在 0 与预算之间")
    parts = {lvl: _positive(v, "资金来源") for lvl, v in sources.items() if v not in (None, "", 0, "0")}
    if any(lvl not in FundSource.Level.values for lvl in parts):
        raise ValidationError("资金来源级次无效")
    if parts and sum(parts.values()) != total:
        raise ValidationError(f"各级资金合计 {sum(parts.values())} 与预算 {total} 不符")
    p = FundProject.objects.create(name=_text(name, "项目名称", 200), code=code.strip()[:40],
                                   region_code=_region(region_code), year=int(year), category=category,
                                   budget=total, industry_amount=industry, created_by=actor,
                                   created_at=now)  # fmt: skip
    FundSource.objects.bulk_create([FundSource(project=p, level=lvl, amount=a) for lvl, a in parts.items()])
    after = {"name": p.name, "region_code": p.region_code, "year": p.year, "budget": total,
             "industry_amount": industry, "sources": {k: str(v) for k, v in parts.items()}}  # fmt: skip
    _log("fund_project", p.pk, "create", None, after, actor)
    ledger_append(kind="fund", entity="fund_project", entity_id=p.pk, actor=actor,
                  payload={"action": "create", **after})  # fmt: skip
    return p


@transaction.atomic
def fund_project_progress(
    *, actor, project: FundProject, status: str, completion_percent: int, on: date | None = None
) -> FundProject:
    """Start (开工) and completion (完工) of a project, with its completion percentage."""
    p = FundProject.objects.select_for_update().get(pk=project.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, p.region_code)
    on = on or timezone.localdate()
    if status not in FundProject.Status.values or not 0 <= int(completion_percent) <= 100:
        raise ValidationError("状态或完成进度无效")
    before = {"status": p.status, "completion_percent": p.completion_percent}
    p.status, p.completion_percent = status, int(completion_percent)
    if status != FundProject.Status.PLANNED and p.started_on is None:
        p.started_on = on
    if status == FundProject.Status.COMPLETED:
        p.completed_on, p.completion_percent = on, 100
    p.save()
    _log("fund_project", p.pk, "update", before, {"status": p.status, "completion_percent": p.completion_percent},
         actor)  # fmt: skip
    return p


@transaction.atomic
def fund_movement_record(
    *,
    actor,
    project: FundProject,
    kind: str,
    amount: Any,
    on: date,
    voucher_no: str = "",
    note: str = "",
    now: datetime | None = None,
) -> FundMovement:
    """Money allocated to or spent by a project; a correction is a negative movement, never an edit. Spending
    may not exceed what was allocated (or, before any allocation, the budget). Appended to the ledger."""
    now = now or timezone.now()
    p = FundProject.objects.select_for_update().get(pk=project.pk)
    _require(actor, Perm.MANAGE_OVERSIGHT, p.region_code)
    if kind not in FundMovement.Kind.values:
        raise ValidationError("资金变动类型无效")
    value = _positive(amount, "金额", allow_negative=True)
    totals = {
        k: sum((m.amount for m in p.movements.filter(kind=k)), Decimal(0)) for k in FundMovement.Kind.values
    }
    totals[kind] += value
    if totals[kind] < 0:
        raise ValidationError("冲减后金额不能为负")
    ceiling = totals[FundMovement.Kind.ALLOCATION] or p.budget
    if totals[FundMovement.Kind.SPENDING] > ceiling:
        raise ValidationError(f"累计支出 {totals[FundMovement.Kind.SPENDING]} 超过已下达资金 {ceiling}")
    if totals[FundMovement.Kind.ALLOCATION] > p.budget:
        raise ValidationError(f"累计下达 {totals[FundMovement.Kind.ALLOCATION]} 超过预算 {p.budget}")
    m = FundMovement.objects.create(project=p, date=on, kind=kind, amount=value, voucher_no=voucher_no.strip()[:60],
                                    note=note.strip()[:300], recorded_by=actor, recorded_at=now)  # fmt: skip
    after = {"project": p.pk, "kind": kind, "amount": value, "date": on, "voucher_no": m.voucher_no}
    entry = ledger_append(kind="fund", entity="fund_movement", entity_id=m.pk, actor=actor,
                          payload={**after, "region_code": p.region_code, "note": m.note})  # fmt: skip
    m.ledger_seq = entry.seq
    m.save(update_fields=["ledger_seq"])
    _log("fund_movement", m.pk, "create", None, {**after, "ledger_seq": entry.seq}, actor)
    return m


# ------------------------------------------------------------------------------------------------------- assets
@transaction.atomic
def asset_create(
    *,
    actor,
    project: FundProject,
    name: str,
    asset_type: str,
    region_code: str,
    owner: str,
    custodian: str,
    value: Any,
    formed_on: date,
    now: datetime | None = None,
) -> ProjectAsset:
    """Register an asset formed by a project: type, owner (所有权), custodian (管护), value."""
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_OVERSIGHT, region_code)
    if asset_type not in ProjectAsset.Type.values:
        raise ValidationError("资产类型无效")
    if not region_code.startswith(project.region_code):
        raise ValidationError("资产所在地应在项目地区内")
    a = ProjectAsset.objects.create(project=project, name=_text(name, "资产名称", 200), asset_type=asset_type,
                                    region_code=_region(region_code), owner=_text(owner, "所有权人", 100),
                                    custodian=_text(custodian, "管护主体", 100), value=_positive(value, "资产价值"),
                                    formed_on=formed_on, created_by=actor, created_at=now)  # fmt: skip
    after = {"project": project.pk, "name": a.name, "type": asset_type, "owner": a.owner,
             "custodian": a.custodian, "value": a.value}  # fmt: skip
    _log("project_asset", a.pk, "create", None, after, actor)
    ledger_append(kind="fund", entity="project_asset", entity_id=a.pk, actor=actor, payload=after)
    return a


@transaction.atomic
def asset_income_record(
    *,
    actor,
    asset: ProjectAsset,
    year: int,
    amount: Any,
    distribution: Mapping[str, Any],
    note: str = "",
    now: datetime | None = None,
) -> AssetIncome:
    """Income of an asset in a year and its distribution (shares must add up to the income: 账账相符)."""
    now = now or timezone.now()
    _require(actor, Perm.MANAGE_OVERSIGHT, asset.region_code)
    total = _positive(amount, "收益")
    shares = {
        str(k).strip()[:30]: _positive(v, "分配金额") for k, v in distribution.items() if v not in (None, "")
    }
    if sum(shares.values(), Decimal(0)) != total:
        raise ValidationError(f"分配合计 {sum(shares.values(), Decimal(0))} 与收益 {total} 不符")
    inc = AssetIncome.objects.create(asset=asset, year=int(year), amount=total,
                                     distribution={k: str(v) for k, v in shares.items()}, note=note.strip()[:300],
                                     recorded_by=actor, recorded_at=now)  # fmt: skip
    after = {"asset": asset.pk, "year": inc.year, "amount": total, "distribution": inc.distribution}
    entry = ledger_append(kind="fund", entity="asset_income", entity_id=inc.pk, actor=actor, payload=after)
    inc.ledger_seq = entry.seq
    inc.save(update_fields=["ledger_seq"])
    _log("asset_income", inc.pk, "create", None, after, actor)
    return inc


def parse_distribution(lines: Iterable[str]) -> dict[str, str]:
    """'农户: 6000' lines (full- or half-width colon) into {"农户": "6000"}."""
    out: dict[str, str] = {}
    for line in lines:
        line = line.replace("：", ":").strip()
        if not line:
            continue
        if ":" not in line:
            raise ValidationError(f"分配行格式应为“对象: 金额”: {line}")
        who, _, value = line.partition(":")
        out[who.strip()] = value.strip()
    return out
