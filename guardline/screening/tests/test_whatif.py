"""Policy what-if: the counts it predicts equal what a real re-screen with the adopted parameter gives."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from guardline.accounts.models import Role
from guardline.accounts.services import user_create
from guardline.screening.models import HouseholdGrade
from guardline.screening.services import screening_parameter_set, screening_run
from guardline.screening.whatif import policy_whatif
from tests.support import PASSWORD

COUNTY = "520526"


@pytest.fixture
def county_admin(screened_county):
    return user_create(
        actor=None, username="wi_admin", password=PASSWORD, role=Role.COUNTY_ADMIN, regions=[COUNTY]
    )


def _flagged() -> set[int]:
    return set(
        HouseholdGrade.objects.filter(grade__in=("red", "yellow")).values_list("household_id", flat=True)
    )


@pytest.mark.parametrize(("name", "value"), [("grade_yellow", 15), ("monitoring_line", 12000)])
def test_whatif_equals_a_real_rescreen_with_the_changed_parameter(county_admin, name, value):
    screening_run()
    before = _flagged()
    result = policy_whatif(user=county_admin, region=COUNTY, changes={name: value})
    assert result.flagged_now == len(before)
    assert result.entering or result.leaving, "the change should move some households"

    screening_parameter_set(actor=county_admin, name=name, region_code=COUNTY, value=value)
    if (
        name == "monitoring_line"
    ):  # the line in force per village comes from the regions app, most specific wins
        from guardline.regions.models import MonitoringLine

        assert not MonitoringLine.objects.exists(), "this fixture has no stored lines; the parameter applies"
    screening_run()
    after = _flagged()
    assert result.flagged_then == len(after)
    assert set(result.entering) == after - before
    assert set(result.leaving) == before - after
    assert sum(v["entering"] for v in result.by_village) == len(result.entering)
    assert sum(v["leaving"] for v in result.by_village) == len(result.leaving)
    assert all(r["name"] for r in result.by_risk)


def test_whatif_grades_with_the_learned_model_where_a_real_run_would(county_admin, tmp_path, settings):
    from guardline.screening.tests.test_screening_run import _tiny_model

    settings.GUARDLINE = {
        **settings.GUARDLINE,
        "SCREENING_MODEL": str(_tiny_model(tmp_path / "m", beats=True)),
    }
    assert screening_run().scorer == "model"
    before = _flagged()
    result = policy_whatif(user=county_admin, region=COUNTY, changes={"monitoring_line": 12000})
    assert result.scorer == "model" and result.flagged_now == len(before)
    screening_parameter_set(actor=county_admin, name="monitoring_line", region_code=COUNTY, value=12000)
    screening_run()
    after = _flagged()
    assert (result.flagged_then, set(result.entering), set(result.leaving)) == (
        len(after),
        after - before,
        before - after,
    )
    assert result.entering, "the higher line should bring households in"


def test_whatif_is_scoped_and_validated(county_admin, make_user, villages):
    from django.core.exceptions import ValidationError

    with pytest.raises(PermissionDenied):
        policy_whatif(user=county_admin, region="520525", changes={"grade_yellow": 20})
    with pytest.raises(ValidationError):
        policy_whatif(user=county_admin, region=COUNTY, changes={"grade_yellow": 1000})
    with pytest.raises(ValidationError):
        policy_whatif(user=county_admin, region=COUNTY, changes={"no_such_parameter": 1})
    cadre = make_user("wi_cadre", Role.VILLAGE_CADRE, villages["A"].code)
    with pytest.raises(PermissionDenied):
        policy_whatif(user=cadre, region=villages["A"].code, changes={"grade_yellow": 20})


def test_whatif_page(client, county_admin):
    client.force_login(county_admin)
    assert client.get("/warnings/whatif/").status_code == 200
    page = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "15"})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="whatif-result"' in body, body[:2000]
    bad = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "abc"})
    assert "不是数字" in bad.content.decode()


def _firing(code: str) -> set[int]:
    return {
        g.household_id
        for g in HouseholdGrade.objects.filter(rules__contains=code)
        if code in g.rules.split(";")
    }


@pytest.fixture
def province_officer(screened_county):
    return user_create(
        actor=None, username="wi_prov", password=PASSWORD, role=Role.PROVINCE_OFFICER, regions=["52"]
    )


@pytest.mark.parametrize("change", ["edited", "added", "switched_off"])
def test_a_rules_trial_equals_a_real_rescreen_after_saving_it(province_officer, change):
    from dataclasses import replace

    from engine.screening import DEFAULT_RULES, Rule
    from guardline.screening.services import screening_rule_save
    from guardline.screening.whatif import rule_whatif

    medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    rule, active = {
        "edited": (replace(medical, condition="med_oop_12m > 2000"), True),
        "added": (
            Rule("two_ill", "两人以上患病", "01", "severe", "ill_count >= 2", "", "{ill_count:.0f} 人患病"),
            True,
        ),
        "switched_off": (medical, False),
    }[change]
    screening_run()
    if change == "switched_off":  # the trigger that most often fires alone here, so that its absence shows
        from collections import Counter

        alone = Counter(
            r for r in HouseholdGrade.objects.values_list("rules", flat=True) if r and ";" not in r
        )
        rule = next(r for r in DEFAULT_RULES if r.code == alone.most_common(1)[0][0])
    before, fired_before = _flagged(), _firing(rule.code)
    trial = rule_whatif(user=province_officer, region=COUNTY, rule=rule, is_active=active)
    assert trial.fires_now == len(fired_before) and trial.flagged_now == len(before)
    assert trial.entering or trial.leaving or trial.moves, "the change should move some households"

    screening_rule_save(actor=province_officer, rule=rule, is_active=active, note="试算后保存")
    screening_run()
    after = _flagged()
    assert trial.fires_then == len(_firing(rule.code))
    assert (set(trial.entering), set(trial.leaving)) == (after - before, before - after)
    grades = dict(HouseholdGrade.objects.values_list("household_id", "grade"))
    for example in trial.examples:  # households it newly fires on, with the reason its template writes
        assert (
            example["household_id"] in _firing(rule.code)
            and example["grade"] == grades[example["household_id"]]
        )
        assert example["reason"] and "{" not in example["reason"]
    if change == "added":
        assert trial.examples and all("人患病" in x["reason"] for x in trial.examples)


def _trial_form(rule) -> dict:
    """The rule page's form, `rule` edited to a lower threshold, to try on the county."""
    return {"title": rule.title_zh, "risk_type": rule.risk_type, "severity": rule.severity,
            "condition": "med_oop_12m > 2000", "signal_date": rule.signal_date, "reason": rule.reason,
            "sources": list(rule.sources), "is_active": "on", "region": COUNTY, "action": "try"}  # fmt: skip


def test_a_county_admin_tries_a_rule_in_the_county_but_cannot_save_it(client, county_admin):
    from engine.screening import DEFAULT_RULES
    from guardline.screening.models import ScreeningRule

    medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    form = _trial_form(medical)
    client.force_login(county_admin)
    url = "/warnings/rules/medical_annual/"
    page = client.post(url, form).content.decode()
    assert 'id="rule-trial"' in page and 'id="fires-then"' in page, page[:3000]
    assert "med_oop_12m &gt; 2000" in page  # the edit stays in the form
    outside = client.post(url, {**form, "region": "520525"}).content.decode()
    assert "不在您的管辖范围内" in outside and 'id="rule-trial"' not in outside
    assert client.post(url, {**form, "action": "save"}).status_code == 403
    assert not ScreeningRule.objects.exists()


def _small_page_limit():
    from django.conf import settings

    return override_settings(GUARDLINE={**settings.GUARDLINE, "WHATIF_MAX_HOUSEHOLDS": 100})


def test_a_region_too_large_for_the_page_is_tried_in_the_background(client, county_admin, make_user):
    """Above GUARDLINE_WHATIF_MAX_HOUSEHOLDS the page queues a job (run at once by the tests' task backend) and
    sends the user to its page, which shows the same counts as the page would have; the job is its creator's."""
    from guardline.core.models import Job

    inline = policy_whatif(user=county_admin, region=COUNTY, changes={"grade_yellow": 15})
    client.force_login(county_admin)
    with _small_page_limit():
        bad = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "1000"})
        assert bad.status_code == 200 and not Job.objects.exists()  # refused before anything is queued
        page = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "15"})
    job = Job.objects.get(kind="whatif")
    assert page.status_code == 302 and page["Location"] == f"/warnings/whatif/jobs/{job.pk}/"
    assert job.status == Job.Status.DONE and job.percent == 100 and not job.error
    summary = inline.summary()
    assert {k: job.result[k] for k in summary if k != "seconds"} == {
        k: v for k, v in summary.items() if k != "seconds"
    }
    assert job.result["entering_count"] == len(inline.entering) and "entering" not in job.result
    body = client.get(page["Location"]).content.decode()
    assert 'id="whatif-result"' in body and f'<span id="entering">{len(inline.entering)}</span>' in body
    assert 'data-status="done"' in body and "hx-trigger" not in body  # finished: no more polling
    listed = client.get("/warnings/whatif/").content.decode()  # found again from the what-if page
    assert 'id="whatif-jobs"' in listed and page["Location"] in listed
    other = make_user("wi_other", Role.COUNTY_ADMIN, COUNTY)
    client.force_login(other)
    assert client.get(page["Location"]).status_code == 404
    assert page["Location"] not in client.get("/warnings/whatif/").content.decode()


def test_a_rule_trial_on_a_large_region_runs_in_the_background(client, province_officer):
    from engine.screening import DEFAULT_RULES
    from guardline.core.models import Job
    from guardline.screening.whatif import rule_whatif

    medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    form = _trial_form(medical)
    client.force_login(province_officer)
    with _small_page_limit():
        page = client.post("/warnings/rules/medical_annual/", form)
    job = Job.objects.get(kind="rule_trial")
    assert page.status_code == 302 and page["Location"] == f"/warnings/whatif/jobs/{job.pk}/", page
    from dataclasses import replace

    inline = rule_whatif(
        user=province_officer, region=COUNTY, rule=replace(medical, condition="med_oop_12m > 2000")
    )
    assert job.status == Job.Status.DONE, job.error
    assert (job.result["fires_now"], job.result["fires_then"], job.result["entering_count"]) == (
        inline.fires_now,
        inline.fires_then,
        len(inline.entering),
    )
    assert job.result["examples"] == inline.examples
    body = client.get(page["Location"]).content.decode()
    assert 'id="rule-trial"' in body and "med_oop_12m &gt; 2000" in body


def test_a_background_trial_whose_user_lost_the_region_fails_with_the_reason(county_admin):
    from guardline.core.models import Job
    from guardline.core.services import job_create
    from guardline.screening.tasks import whatif_task

    job = job_create(
        kind="whatif", user=county_admin,
        params={"user_id": county_admin.pk, "region": "520525", "changes": {"grade_yellow": 15}},
    )  # fmt: skip
    whatif_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "不在您的管辖范围内" in job.error


def test_a_background_trial_is_cancelled_by_its_user_before_or_while_it_runs(
    client, county_admin, make_user, monkeypatch
):
    from guardline.core.models import Job
    from guardline.core.services import job_create
    from guardline.screening import whatif
    from guardline.screening.tasks import whatif_task

    def queued() -> Job:  # as the page queues it, before a worker takes it
        params = {"user_id": county_admin.pk, "region": COUNTY, "changes": {"grade_yellow": 15}}
        return job_create(kind="whatif", user=county_admin, params=params)

    job = queued()
    other = make_user("wi_canceller", Role.COUNTY_ADMIN, COUNTY)
    client.force_login(other)
    assert client.post(f"/warnings/whatif/jobs/{job.pk}/cancel/").status_code == 404  # not theirs
    client.force_login(county_admin)
    assert 'id="whatif-cancel"' in client.get(f"/warnings/whatif/jobs/{job.pk}/").content.decode()
    assert client.post(f"/warnings/whatif/jobs/{job.pk}/cancel/").status_code == 302
    whatif_task.call(job.pk)  # the worker takes it later: it does not start
    job.refresh_from_db()
    assert (job.status, job.error, job.result, job.started_at) == ("failed", whatif.CANCELLED, {}, None)

    running = queued()
    reading = whatif._region_inputs

    def cancelled_meanwhile(region, as_of):  # the user cancels while the worker reads the registry
        whatif.whatif_job_cancel(user=county_admin, job=running)
        return reading(region, as_of)

    monkeypatch.setattr(whatif, "_region_inputs", cancelled_meanwhile)
    whatif_task.call(running.pk)
    running.refresh_from_db()
    assert (running.status, running.error, running.result) == ("failed", whatif.CANCELLED, {})
    assert running.stage == "读取台账"  # stopped at the next stage
    monkeypatch.undo()

    done = queued()
    whatif_task.call(done.pk)
    assert not whatif.whatif_job_cancel(user=county_admin, job=done)  # finished: nothing to cancel
    done.refresh_from_db()
    assert done.status == "done" and done.result["households"] > 0
