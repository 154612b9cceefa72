"""A real browser (Debian's chromium driven by Playwright): log in, find a household, open its page."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between page actions are
# still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is required (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def test_login_and_open_household_page(browser, live_server, households, cadre_a, tmp_path):
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "cadre_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/households/")
    assert page.locator("h1").inner_text().startswith("农户台账")
    own = households["A"]
    assert page.get_by_text(own.household_no).count() == 1
    assert page.get_by_text(households["B"].household_no).count() == 0
    page.click(f"text={own.household_no}")
    page.wait_for_url(f"**/households/{own.pk}/")
    members = page.locator("#members").inner_text()
    assert "张三" in members
    member_id = own.members.first().id_number
    assert member_id not in members  # masked in the page
    assert member_id[:6] + "********" + member_id[-4:] in members
    page.screenshot(path=str(tmp_path / "household.png"), full_page=True)
    # English is one click away.
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Members" in page.locator("body").inner_text()
    page.close()
