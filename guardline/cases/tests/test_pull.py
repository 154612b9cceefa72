"""Open warnings into the clue inbox in bulk: the same clues, merges and change log as one clue at a time, in
batches, once per warning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guardline.cases import clocks, pull_services, services
from guardline.cases.models import Clue
from guardline.core.models import ChangeLog
from guardline.screening.models import RiskWarning
from tests.support import make_household

pytestmark = pytest.mark.django_db


def _warning(household, hours_ago: int, grade: str = "yellow") -> RiskWarning:
    opened = timezone.now() - timedelta(hours=hours_ago)
    return RiskWarning.objects.create(
        household=household, village_code=household.village_code, grade=grade, score=50, risk_types="01;07",
        reasons=["医疗自付超过阈值", "务工收入下降"], first_signal_date=opened.date(), opened_at=opened,
        updated_at=opened, graded_at=opened,
    )  # fmt: skip


def test_warnings_become_clues_in_batches_and_merge_where_the_household_has_one(
    households, people, case, monkeypatch
):
    monkeypatch.setattr(pull_services, "PULL_BATCH", 2)
    # A has an open identification case (the `case` fixture); A2 an open clue from a visit.
    visit = services.clue_report(actor=people["township"], village_code="", household=households["A2"],
                                 concern="job", description="失业")  # fmt: skip
    plain = [households["B"]] + [
        make_household(households["B"].village_code, f"52052600000000001{i}", f"户主{i}") for i in range(4)
    ]
    on_case = _warning(households["A"], 9, "red")
    on_visit = _warning(households["A2"], 8)
    alone = [_warning(h, 7 - i) for i, h in enumerate(plain)]
    clues_before = Clue.objects.count()

    assert pull_services.clues_pull_warnings() == 7
    assert pull_services.clues_pull_warnings() == 0  # idempotent

    assert Clue.objects.count() == clues_before + 7
    assert all(w.clues.count() == 1 for w in RiskWarning.objects.all())
    calendar = clocks.calendar()
    for warning in alone:
        clue = warning.clues.get()
        assert (clue.channel, clue.status, clue.household_id, clue.village_code) == (
            "warning", "new", warning.household_id, warning.village_code
        )  # fmt: skip
        assert (clue.grade, clue.risk_types, clue.received_at) == ("yellow", "01;07", warning.opened_at)
        assert clue.description == "医疗自付超过阈值；务工收入下降"
        assert clue.verify_due == clocks.due("warning_verification", warning.opened_at, calendar)
        assert clue.receipt_no.startswith("SB") and len(clue.receipt_no) == 12
        entry = ChangeLog.objects.get(entity="clue", entity_id=clue.pk, action="create")
        assert entry.household_id == warning.household_id
        assert entry.after == {"channel": "warning", "warning": warning.pk, "grade": "yellow"}
    # Where the household already had somewhere to go, the warning's clue joins it.
    assert on_case.clues.get().case_id == case.pk
    merged = on_visit.clues.get()
    assert merged.status == "merged" and merged.merged_into_id == visit.pk
    assert len(set(Clue.objects.values_list("receipt_no", flat=True))) == Clue.objects.count()


def test_the_live_path_pulls_only_its_households_warnings(households):
    first, second = _warning(households["A"], 2), _warning(households["B"], 1)
    assert pull_services.clues_pull_warnings(household_ids=[households["B"].pk]) == 1
    assert not first.clues.exists() and second.clues.exists()
    assert pull_services.clues_pull_warnings(region_code=households["A"].village_code) == 1
    assert first.clues.exists()
