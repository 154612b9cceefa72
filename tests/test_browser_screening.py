"""The screening pages in Debian's chromium: a province officer opens the warnings inbox of a screened county (red
first, each with its response clock), goes from the catalogue to one trigger, types a bad condition (the page keeps
it and says what is wrong, nothing is saved), fixes it, tries it on the county (nothing saved, the trial shows where
it would fire), saves it with the basis of the change, and finds the version in the rule's history — then the same
page in English."""

from __future__ import annotations

import re

import pytest

from guardline.accounts.models import Role
from guardline.accounts.services import user_create
from guardline.screening.models import RiskWarning, ScreeningRule
from guardline.screening.services import screening_run
from guardline.screening.tests.conftest import screened_county  # noqa: F401  (the fixture)
from tests.support import PASSWORD
from tests.test_browser import browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTY = "520526"


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_inbox_then_edit_try_and_save_a_rule(browser, live_server, villages, screened_county, tmp_path):  # noqa: F811
    # (`villages` first: it loads the county's divisions again if an earlier browser test flushed them)
    screening_run()
    red = RiskWarning.objects.filter(status="open", grade="red").count()
    assert red, "the simulated county should have red warnings"
    user_create(actor=None, username="prov_b", password=PASSWORD, role=Role.PROVINCE_OFFICER, regions=["52"])
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "prov_b")
    page.fill("#id_password", PASSWORD)
    submit(page, "button[type=submit]")

    # The inbox: red first, each with the on-site clock of DOMAIN §5, village names and the departments' names.
    page.goto(f"{live_server.url}/warnings/")
    cards = page.locator(".warning-card")
    assert cards.count() > 0
    grades = [cards.nth(i).locator(".card-header .badge").first.inner_text() for i in range(cards.count())]
    assert all(g.startswith("红色") for g in grades[: min(red, len(grades))]), grades
    first = cards.first.inner_text()
    assert "到户核实期限" in first and "帮扶方案期限" in first
    assert "medical_settlement" not in page.locator("body").inner_text()  # feeds by name, not by key

    # From the catalogue to one trigger: its editor holds the rule as it stands, feeds ticked.
    page.goto(f"{live_server.url}/warnings/catalogue/")
    submit(page, "#rule-table a:has-text('medical_annual')")
    assert page.url.endswith("/warnings/rules/medical_annual/")
    assert page.input_value("#id_condition") == "med_oop_12m > p_med_annual_oop"
    assert page.is_checked("input[name=sources][value=medical_settlement]")
    assert "内置默认版本" in page.locator("#rule-status").inner_text()

    # A bad condition: the page says what is wrong, under the condition, and keeps what was typed.
    page.fill("#id_condition", "med_oop_12m > 2000 AND secret_column > 1")
    page.fill("#id_note", "省局2026年第7号文")
    submit(page, "button[value=save]")
    assert page.input_value("#id_condition") == "med_oop_12m > 2000 AND secret_column > 1"
    assert page.input_value("#id_note") == "省局2026年第7号文"
    error = page.locator("#id_condition ~ .invalid-feedback").inner_text()
    assert "未知字段" in error and "secret_column" in error
    assert not ScreeningRule.objects.exists()

    # Fixed and tried on the county: nothing saved, the trial says where it would fire.
    page.fill("#id_condition", "med_oop_12m > 2000")
    page.fill("#rule-region", COUNTY)
    submit(page, "button[value=try]")
    trial = page.locator("#rule-trial")
    assert trial.is_visible()
    now, then = int(page.inner_text("#fires-now")), int(page.inner_text("#fires-then"))
    assert then > now, (now, then)
    assert (
        "近12个月家庭医疗自付合计" in trial.inner_text()
    )  # the examples' reasons, as the template writes them
    assert page.input_value("#id_condition") == "med_oop_12m > 2000"
    assert not ScreeningRule.objects.exists()
    page.screenshot(path=str(tmp_path / "rule_trial.png"), full_page=True)

    # Saved as version 1, with the basis of the change in its history.
    submit(page, "button[value=save]")
    assert page.url.endswith("/warnings/rules/medical_annual/")
    assert "第 1 版" in page.locator(".alert-success").inner_text()
    row = ScreeningRule.objects.get(code="medical_annual")
    assert (row.version, row.condition, row.sources, row.note) == (
        1, "med_oop_12m > 2000", ["medical_settlement"], "省局2026年第7号文"
    )  # fmt: skip
    history = page.locator("#rule-versions").inner_text()
    assert "省局2026年第7号文" in history and "prov_b" in history and "condition" in history

    # The same page in English.
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    text = page.locator("body").inner_text()
    assert "Version history" in text and "Validate and save as a new version" in text
    assert re.search(r"Try \(nothing is saved\)", text)
    page.click("#field-reference summary")
    reference = page.inner_text("#field-reference")
    assert "Out-of-pocket medical costs, last 12 months" in reference and "yuan" in reference
    page.close()
