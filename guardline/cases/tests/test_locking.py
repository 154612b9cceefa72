"""Optimistic locking of cases: two users working on the same case page never lose an update — the second
submission, made from a page rendered before the first one landed, is refused with a clear message."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from guardline.cases import services
from guardline.cases.models import Case, CaseStep
from tests.support import PASSWORD

from .conftest import T0

pytestmark = pytest.mark.django_db


def _version(page: str, form_id: str) -> str:
    form = page.split(f'id="{form_id}"')[1].split("</form>")[0]
    match = re.search(r'name="version" value="(\d+)"', form)
    assert match, form
    return match.group(1)


def test_second_of_two_concurrent_submissions_gets_the_message_and_changes_nothing(case, people):
    first, second = Client(), Client()
    assert first.login(username="town_a", password=PASSWORD)
    assert second.login(username="cadre_a", password=PASSWORD)
    # both load the case page (home check: the township may fast-track, the village cadre may reject)
    page1 = first.get(f"/cases/{case.pk}/").content.decode()
    page2 = second.get(f"/cases/{case.pk}/").content.decode()
    v1, v2 = _version(page1, "form-fast_track"), _version(page2, "form-reject")
    assert v1 == v2 == str(case.version)

    first.post(f"/cases/{case.pk}/act/fast_track/", {"version": v1, "risk_types": "02", "reason": "山体滑坡"})
    response = second.post(f"/cases/{case.pk}/act/reject/", {"version": v2, "reason": "收入高于监测线"},
                           follow=True)  # fmt: skip

    text = response.content.decode()
    assert "该案件已被他人更新" in text and "请刷新后重试" in text
    assert "先帮后认" in text.split("该案件已被他人更新")[1].split("请刷新后重试")[0]  # says what happened
    case.refresh_from_db()
    assert case.fast_track and case.state == "home_check" and not case.reject_reason  # only the first change
    assert case.version == int(v1) + 1
    assert list(CaseStep.objects.filter(case=case).values_list("action", flat=True)) == ["open", "fast_track"]
    # after a reload the second user's form carries the new version and goes through
    fresh = _version(second.get(f"/cases/{case.pk}/").content.decode(), "form-reject")
    second.post(f"/cases/{case.pk}/act/reject/", {"version": fresh, "reason": "收入高于监测线"})
    case.refresh_from_db()
    assert case.state == "rejected" and case.version == int(fresh) + 1


def test_service_refuses_a_stale_version_and_applies_nothing(case, people):
    v = case.version
    case = services.case_transition(actor=people["township"], case=case, action="fast_track", reason="洪灾",
                                    data={"risk_types": ["02"]}, expected_version=v, now=T0 + timedelta(hours=2))  # fmt: skip
    assert case.version == v + 1
    with pytest.raises(services.StaleCaseError) as err:
        services.case_transition(actor=people["village"], case=case, action="reject", reason="不符合",
                                 expected_version=v, now=T0 + timedelta(hours=3))  # fmt: skip
    assert "该案件已被他人更新" in err.value.messages[0]
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, fresh.version, fresh.reject_reason) == ("home_check", v + 1, "")
    assert fresh.steps.count() == 2
    # without an expected version (scripts, other services) the step is serialised and still bumps the version
    services.case_transition(actor=people["village"], case=case, action="reject", reason="不符合",
                             now=T0 + timedelta(hours=3))  # fmt: skip
    assert Case.objects.get(pk=case.pk).version == v + 2


def test_conditional_update_catches_a_write_between_read_and_claim(case):
    stale = Case.objects.get(pk=case.pk)
    services.case_claim_version(Case.objects.get(pk=case.pk))  # someone else writes first
    with pytest.raises(services.StaleCaseError):
        services.case_claim_version(stale)
    assert Case.objects.get(pk=case.pk).version == stale.version + 1


def test_plan_made_bumps_the_version(case):
    v = case.version
    services.case_plan_made(case=case, at=T0)
    assert Case.objects.get(pk=case.pk).version == v + 1
