"""Screening runs against the database: every household graded, warnings opened once and updated in place,
closed with a reason when they no longer hold, rules and parameters as stored data, the §4 export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import openpyxl
import pytest
from django.core.management import call_command

from engine.screening import Rule, RuleError
from guardline.core.models import ChangeLog
from guardline.regions.models import MonitoringLine, Region
from guardline.registry.models import Household
from guardline.screening.models import HouseholdGrade, RiskWarning, ScreeningRun
from guardline.screening.services import (
    rules_in_force,
    screening_parameter_set,
    screening_rule_save,
    screening_run,
)

pytestmark = pytest.mark.django_db


def test_run_update_rescreen_and_export(write_path, screened_county, tmp_path):
    """One county imported once (the fixture is the slow part): the whole life of a run."""
    run = screening_run()
    _check_first_run(run)
    _check_second_run(run)
    _check_live_rescreen()
    for suffix in ("csv", "xlsx"):
        _check_export(tmp_path, suffix)


def _check_first_run(run):
    assert run.status == ScreeningRun.Status.DONE
    households = Household.objects.filter(is_active=True).count()
    assert run.households == households == HouseholdGrade.objects.count()
    assert run.red + run.yellow + run.green == households
    open_ = RiskWarning.objects.filter(status="open")
    assert open_.count() == run.red + run.yellow == run.opened > 0
    for w in open_:
        assert w.reasons and w.risk_types and w.first_signal_date <= run.as_of
        assert w.grade == HouseholdGrade.objects.get(household=w.household).grade
    with_feeds = [w for w in open_ if w.sources]
    assert with_feeds, "some warnings rest on department data"
    assert ChangeLog.objects.filter(entity="warning", action="open").count() == run.opened
    entries = {e.household_id: e for e in ChangeLog.objects.filter(entity="warning", action="open")}
    for w in open_:
        entry = entries[w.household_id]
        assert entry.entity_id == w.pk and entry.before is None
        assert entry.after == {"grade": w.grade, "score": w.score, "risk_types": w.risk_types, "run": run.pk}


def _check_second_run(first):
    stored = list(RiskWarning.objects.order_by("pk").values())
    second = screening_run()
    assert second.opened == 0 and second.closed == 0
    # The same data: every warning is found again exactly as it was, and no row is rewritten.
    assert (second.updated, second.unchanged) == (0, first.opened)
    assert list(RiskWarning.objects.order_by("pk").values()) == stored
    assert set(RiskWarning.objects.values_list("last_run", flat=True)) == {first.pk}
    assert all(len(w["digest"]) == 16 for w in stored)


def test_a_warning_that_no_longer_holds_is_closed_with_the_reason(write_path, screened_county):
    everyone = Rule("everyone", "全体测试", "99", "severe", "size > 0", "", "测试规则")
    screening_rule_save(actor=None, rule=everyone)
    first = screening_run()
    assert first.red == first.households and first.green == 0
    screening_rule_save(actor=None, rule=everyone, is_active=False)
    second = screening_run()
    assert second.closed == first.households - (second.red + second.yellow) > 0
    closed = RiskWarning.objects.filter(status="closed")
    assert closed.count() == second.closed
    assert all("复筛未再发现风险" in w.close_reason and w.closed_at for w in closed)
    assert not RiskWarning.objects.filter(status="open", rules__contains="everyone").exists()
    assert ChangeLog.objects.filter(entity="warning", action="close").count() == second.closed


def test_a_rerun_rewrites_only_the_warnings_whose_content_changed(write_path, screened_county):
    first = screening_run()
    # A row written before warnings had a digest is brought up to date once.
    old = RiskWarning.objects.filter(status="open").first()
    RiskWarning.objects.filter(pk=old.pk).update(digest=None)
    second = screening_run()
    assert (second.opened, second.closed, second.updated) == (0, 0, 1)
    assert second.unchanged == first.opened - 1
    assert RiskWarning.objects.get(pk=old.pk).last_run_id == second.pk
    # A higher monitoring line: the warnings whose score or reasons depend on it change, the others do not.
    line = MonitoringLine.objects.create(
        region=Region.objects.get(code="520526"),
        year=first.as_of.year,
        effective_from=first.as_of,
        amount=12000,
    )
    third = screening_run()
    changed = RiskWarning.objects.filter(status="open", last_run=third)
    assert third.updated > 0 and changed.count() == third.updated + third.opened
    assert third.updated + third.unchanged + third.closed == first.opened
    assert all(w.updated_at >= third.started_at for w in changed)
    line.delete()
    # Reworded reasons: the engine explains every warning again (their digests cover the explanation itself), and
    # those of the rule read the new words.
    fired = (
        RiskWarning.objects.filter(status="open").exclude(rules="").values_list("rules", flat=True).first()
    )
    rule = next(r for r in rules_in_force() if r.code == fired.split(";")[0])
    screening_rule_save(actor=None, rule=replace(rule, reason=rule.reason + "（复核）"))
    fourth = screening_run()
    assert fourth.unchanged == 0 and fourth.updated + fourth.opened == fourth.red + fourth.yellow
    worded = [w for w in RiskWarning.objects.filter(status="open") if rule.code in w.rules.split(";")]
    assert worded and all(any(r.endswith("（复核）") for r in w.reasons) for w in worded)


def test_grades_are_updated_in_place_also_when_a_concurrent_run_wrote_them_first(
    write_path, screened_county, monkeypatch
):
    from guardline.screening import writeback_services

    screening_run()
    graded = dict(HouseholdGrade.objects.values_list("household_id", "score"))
    ids = set(HouseholdGrade.objects.values_list("pk", flat=True))
    # A stale stored grade is rewritten by an UPDATE of that row.
    HouseholdGrade.objects.filter(pk__in=list(ids)[:5]).update(score=-1, grade="green")
    screening_run()
    assert dict(HouseholdGrade.objects.values_list("household_id", "score")) == graded
    # Rows that appear after the run read the stored grades (another run got there first): the bulk insert skips
    # them, and they are upserted instead of failing or doubling.
    HouseholdGrade.objects.update(score=-1)
    empty = writeback_services.current_grades([])
    monkeypatch.setattr(writeback_services, "current_grades", lambda household_ids: empty)
    screening_run()
    assert dict(HouseholdGrade.objects.values_list("household_id", "score")) == graded
    assert set(HouseholdGrade.objects.values_list("pk", flat=True)) == ids


def test_rules_are_validated_before_they_are_stored(db):
    with pytest.raises(RuleError, match="未知字段"):
        screening_rule_save(actor=None, rule=Rule("bad", "坏规则", "99", "hard", "password > 1", "", "x"))
    with pytest.raises(ValueError, match="超出范围"):
        screening_parameter_set(actor=None, name="monitoring_line", region_code="520526", value=-5)
    with pytest.raises(ValueError, match="未知参数"):
        screening_parameter_set(actor=None, name="nope", region_code="520526", value=1)


def test_the_regional_monitoring_line_is_used(screened_county):
    base = screening_run()
    MonitoringLine.objects.create(
        region=Region.objects.get(code="520526"),
        year=base.as_of.year,
        effective_from=base.as_of,
        amount=30000,
    )
    raised = screening_run()
    assert raised.red > base.red
    screening_parameter_set(actor=None, name="monitoring_line", region_code="52", value=1000)
    still = screening_run()  # the county's line is more specific than the province parameter
    assert still.red == raised.red


def _check_live_rescreen():
    w = RiskWarning.objects.filter(status="open").first()
    run = screening_run(household_ids=[w.household_id])
    assert run.households == 1 and run.opened == 0 and run.closed == 0
    assert (run.updated, run.unchanged) == (0, 1)  # the same data: found again as it was
    # households outside the scope keep their warnings
    assert RiskWarning.objects.filter(status="open").exclude(household_id=w.household_id).exists()


def _check_export(tmp_path, suffix):
    run = ScreeningRun.objects.filter(scope="").first()
    path = tmp_path / f"warnings.{suffix}"
    call_command("export_warnings", str(path))
    if suffix == "csv":
        with open(path, encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    else:
        rows = [
            [("" if c is None else str(c)) for c in r]
            for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)
        ]
    assert rows[0] == [
        "户编号",
        "行政区划代码",
        "预警等级",
        "风险分值",
        "风险类型",
        "预警原因",
        "数据来源",
        "首次信号日期",
        "生成时间",
    ]
    assert len(rows) - 1 == RiskWarning.objects.filter(status="open").count() == run.red + run.yellow
    for row in rows[1:]:
        assert row[2] in ("红", "黄")
        assert 0 <= float(row[3]) <= 100
        assert all(re.fullmatch(r"\d{2}|\d{4}", c) for c in row[4].split(";"))
    text = path.read_bytes() if suffix == "xlsx" else path.read_text(encoding="utf-8-sig")
    if suffix == "csv":
        assert not re.search(r"\b\d{17}[\dXx]\b", text), "no ID numbers in the export"
    with pytest.raises(Exception, match="只支持"):
        call_command("export_warnings", str(tmp_path / "warnings.pdf"))


def _tiny_model(directory, beats: bool):
    import numpy as np

    from engine.screening.model import FEATURES, ScreeningModel, train

    rng = np.random.default_rng(0)
    x = rng.random((400, len(FEATURES)))
    booster = train(x, (x[:, 0] > 0.8).astype(int), rounds=5)
    meta = {
        "format": 1,
        "name": "tiny",
        "features": list(FEATURES),
        "beats_index": beats,
        "cutoffs": {"red": 0.9, "yellow": 0.5},
        "held_out": {"workload": 0.05, "model": {"auc": 0.9}, "index": {"auc": 0.8}},
    }
    return ScreeningModel(booster, meta).save(directory)


def test_the_run_records_which_scorer_graded(screened_county, tmp_path):
    missing = screening_run(model_dir=tmp_path / "nothing")
    assert missing.scorer == "index" and "未找到筛查模型" in missing.message
    weaker = screening_run(model_dir=_tiny_model(tmp_path / "weaker", beats=False))
    assert weaker.scorer == "index" and "未优于指数" in weaker.message and weaker.model_name
    better = screening_run(model_dir=_tiny_model(tmp_path / "better", beats=True))
    assert better.scorer == "model" and "使用学习模型" in better.message
    assert better.households == weaker.households
    w = RiskWarning.objects.filter(status=RiskWarning.Status.OPEN).first()
    assert w is not None and any(r.startswith("模型预测") for r in w.reasons)


def test_the_command_puts_the_warnings_into_the_clue_inbox(screened_county):
    """As the background task does: a county that screens from cron finds its warnings in the inbox."""
    out = io.StringIO()
    call_command("screen", stdout=out, stderr=io.StringIO())
    open_ = RiskWarning.objects.filter(status="open")
    assert open_.exists() and all(w.clues.count() == 1 for w in open_)
    assert f"{open_.count()} 条预警转入线索库" in out.getvalue()
    again = io.StringIO()
    call_command("screen", stdout=again, stderr=io.StringIO())
    assert "转入线索库" not in again.getvalue()
