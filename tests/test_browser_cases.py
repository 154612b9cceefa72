"""The identification flow in Debian's chromium on a phone viewport: a household declares through the public page,
the township finds it in its inbox and opens a case, the village cadre checks at home (signature drawn on the
screen), the township compares, the village reviews and posts the notice (which cannot close early), the township
approves and the county identifies; a cadre of another village is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.ids import check_char
from guardline.accounts.models import Role
from guardline.cases.models import Case, Clue
from tests.support import PASSWORD
from tests.test_browser import browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


def login(browser, url, username):  # noqa: F811
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    submit(page, "button[type=submit]")
    return page


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_declaration_to_county_identification(browser, live_server, households, villages, make_user, cadre_a):  # noqa: F811
    a = villages["A"].code
    make_user("town_a", Role.TOWNSHIP_REVIEWER, a[:9])
    make_user("county_s", Role.COUNTY_STAFF, a[:6])
    make_user("cadre_b", Role.VILLAGE_CADRE, villages["B"].code)
    url = live_server.url

    # 1. The household declares on its phone (no login).
    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{url}/declare/{a}/")
    public.fill("#id_name", "张三")
    public.fill("#id_id_number", "52052619800101001" + check_char("52052619800101001"))
    public.fill("#id_description", "户主住院，花了三万多")
    public.check("#id_consent")
    public.click("button[type=submit]")
    public.wait_for_url("**/declare/status/**")
    receipt = public.locator("#receipt").inner_text().strip()
    assert receipt.startswith("SB") and "待乡镇核实" in public.locator("#stage").inner_text()

    # 2. The township finds it in its inbox and opens a case.
    town = login(browser, url, "town_a")
    town.goto(f"{url}/cases/")
    town.click(f"text={receipt}")
    town.click("text=立案，启动识别认定")
    town.wait_for_url("**/cases/*/")
    case = Case.objects.get()
    assert Clue.objects.get(receipt_no=receipt).case == case

    # 3. The village cadre checks at home; the household signs on the screen.
    cadre = login(browser, url, "cadre_a")
    cadre.goto(f"{url}/cases/{case.pk}/")
    cadre.fill("#hc-notes", "已入户，情况属实")
    box = cadre.locator("#sig").bounding_box()
    cadre.mouse.move(box["x"] + 20, box["y"] + 60)
    cadre.mouse.down()
    cadre.mouse.move(box["x"] + 150, box["y"] + 30, steps=8)
    cadre.mouse.move(box["x"] + 250, box["y"] + 90, steps=8)
    cadre.mouse.up()
    submit(cadre, "#form-home_check button.btn-success")
    assert "待信息比对" in cadre.locator("#state").inner_text()

    # 4. The township compares.
    town.goto(f"{url}/cases/{case.pk}/")
    town.fill("#cmp-notes", "无车辆、无商品房")
    submit(town, "#form-compare button")
    assert "待民主评议" in town.locator("#state").inner_text()

    # 5. The village reviews; the notice starts and cannot close early.
    cadre.goto(f"{url}/cases/{case.pk}/")
    cadre.fill("#vr-p", "甲、乙、丙、丁、戊")
    cadre.fill("#vr-f", "5")
    cadre.fill("#vr-m", "一致同意纳入")
    submit(cadre, "#form-village_review button")
    assert "公示中" in cadre.locator("#state").inner_text(), cadre.locator(".alert").all_inner_texts()
    assert cadre.locator("#form-notice_close button").is_disabled()
    notice = cadre.context.new_page()
    notice.goto(f"{url}/cases/{case.pk}/notice/")
    text = notice.locator("body").inner_text()
    member = households["A"].members.first()
    assert "张三" in text and member.id_number not in text and households["A"].phone not in text
    # Five days pass.
    Case.objects.filter(pk=case.pk).update(notice_ends_at=timezone.now() - timedelta(minutes=1))
    cadre.goto(f"{url}/cases/{case.pk}/")
    submit(cadre, "#form-notice_close button")
    assert "待乡镇审核" in cadre.locator("#state").inner_text()

    # 6. A cadre of another village is refused; this cadre cannot take the county decision.
    other = login(browser, url, "cadre_b")
    response = other.goto(f"{url}/cases/{case.pk}/")
    assert response.status == 404

    # 7. Township approves, county identifies.
    town.goto(f"{url}/cases/{case.pk}/")
    submit(town, "#form-township_approve button")
    assert "待县级审定" in town.locator("#state").inner_text()
    cadre.goto(f"{url}/cases/{case.pk}/")
    assert cadre.locator("#form-county_identify").count() == 0
    county = login(browser, url, "county_s")
    county.goto(f"{url}/cases/{case.pk}/")
    county.select_option("#ci-cat", "marginal")
    county.check("#form-county_identify input[value='01']")
    submit(county, "#form-county_identify button")
    assert "已认定" in county.locator("#state").inner_text()
    case.refresh_from_db()
    assert case.state == "identified" and case.risk_list == ["01"]
    assert case.steps.get(action="home_check").evidence.get().kind == "signature"
    public.goto(f"{url}/declare/status/{receipt}/")
    assert "已认定" in public.locator("#stage").inner_text()
