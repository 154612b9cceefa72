"""`guardline seed_demo` fills the new pages for `make demo`: accounts, clues of the demo village, a case at the
village review, an identified household with its plan; a second run adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from guardline.assistance.models import AssistancePlan
from guardline.cases.models import Case, Clue
from tests.support import make_household

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_clues_cases_and_a_plan(villages):
    a = villages["A"].code
    for n in range(1, 5):
        make_household(a, f"5205260000000001{n:02d}", f"农户{n}", f"5205261980010{n:02d}01")
    out = StringIO()
    call_command("seed_demo", county="520526", stdout=out)
    assert "1 case at the village review" in out.getvalue()
    assert Clue.objects.filter(description__startswith="【演示】").count() == 3
    assert Clue.objects.filter(case__isnull=True, status=Clue.Status.NEW, village_code=a).count() == 1
    assert sorted(Case.objects.values_list("state", flat=True)) == ["identified", "village_review"]
    plan = AssistancePlan.objects.get()
    assert plan.case.state == "identified" and plan.measures.filter(code="100A45").exists()
    call_command("seed_demo", county="520526", stdout=StringIO())
    assert Case.objects.count() == 2 and Clue.objects.filter(description__startswith="【演示】").count() == 3
