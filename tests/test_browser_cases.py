"""The whole procedure in Debian's chromium on a phone viewport (issue 5): a household declares through the public
page, the township finds it in its inbox and opens a case, the village cadre checks at home (signature drawn on the
screen), the township compares, the village reviews and posts the notice (which cannot close early), the township
approves and the county identifies; the village cadre draws up the plan from the recommendation, adds a coded
measure and marks it delivered with evidence; months later the elimination runs through the eligibility check,
village review, notice (again not early), township and county, and the household is no longer monitored. A cadre of
another village is refused on every page of the flow (and tests/test_flow_isolation.py posts to every step URL).

Time is moved forward through the ORM, honestly: the notice end dates are set to a minute ago, and the
identification date is back-dated seven months (ELIMINATION_MIN_MONTHS = 6 stays in force). The household's income
row and the county's monitoring line are set up through the ORM too (data a visit or an import would bring)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from engine.ids import check_char
from guardline.accounts.models import Role
from guardline.assistance.models import Elimination, Measure
from guardline.cases.models import Case, Clue
from guardline.regions.models import MonitoringLine, Region
from guardline.registry.import_services import income_apply_rows
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


def fits(page) -> None:
    """Nothing pushes the page wider than the phone (wide tables scroll inside their own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], (page.url, width)


def test_declaration_to_identification_to_elimination(
    browser,  # noqa: F811
    live_server,
    households,
    villages,
    make_user,
    cadre_a,
):
    a = villages["A"].code
    town_user = make_user("town_a", Role.TOWNSHIP_REVIEWER, a[:9])
    make_user("county_s", Role.COUNTY_STAFF, a[:6])
    make_user("cadre_b", Role.VILLAGE_CADRE, villages["B"].code)
    url = live_server.url

    # 1. The household declares on its phone (no login).
    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{url}/declare/{a}/")
    fits(public)
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
    fits(town)
    town.click(f"text={receipt}")
    town.click("text=立案，启动识别认定")
    town.wait_for_url("**/cases/*/")
    case = Case.objects.get()
    assert Clue.objects.get(receipt_no=receipt).case == case

    # 3. The village cadre checks at home; the household signs on the screen.
    cadre = login(browser, url, "cadre_a")
    cadre.goto(f"{url}/cases/{case.pk}/")
    fits(cadre)
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
    fits(county)
    county.select_option("#ci-cat", "marginal")
    county.check("#form-county_identify input[value='01']")
    submit(county, "#form-county_identify button")
    assert "已认定" in county.locator("#state").inner_text()
    case.refresh_from_db()
    assert case.state == "identified" and case.risk_list == ["01"]
    assert case.steps.get(action="home_check").evidence.get().kind == "signature"
    public.goto(f"{url}/declare/status/{receipt}/")
    assert "已认定" in public.locator("#stage").inner_text()

    # 8. The village cadre draws up the plan from the recommendation (health assistance for an illness) ...
    cadre.goto(f"{url}/cases/{case.pk}/")
    cadre.click("text=帮扶计划与风险消除")
    cadre.wait_for_url(f"**/assistance/case/{case.pk}/")
    fits(cadre)
    assert cadre.locator("input[name=code][value='100A45']").is_checked()
    cadre.fill("#notes", "先看病，再就业")
    submit(cadre, "form[action$='/plan/'] button[type=submit]")
    assert "/assistance/plans/" in cadre.url
    assert "100A45" in cadre.locator("#measures").inner_text()
    # ... adds a coded measure of the national table ...
    cadre.select_option("#id_code", "100A40")
    cadre.fill("#id_description", "县城务工介绍")
    cadre.fill("#id_amount", "1500")
    cadre.select_option("#id_responsible", str(cadre_a.pk))
    submit(cadre, "form[action$='/measures/'] button")
    measure = Measure.objects.get(plan__case=case, code="100A40")
    card = cadre.locator(f"#measure-{measure.pk}")
    assert card.is_visible() and "县城务工介绍" in card.inner_text()
    fits(cadre)
    # ... and marks it delivered with a photo of the job contract (every control within the phone's width).
    button = card.locator(".measure-complete button")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"]
    card.locator(".measure-complete input[type=file]").set_input_files(
        {"name": "合同.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 contract"}
    )
    submit(cadre, f"#measure-{measure.pk} .measure-complete button")
    measure.refresh_from_db()
    assert measure.status == Measure.Status.DELIVERED and measure.evidence_name == "合同.pdf"
    assert "已落实" in cadre.locator(f"#measure-{measure.pk}").inner_text()
    assert cadre.locator(f"#measure-{measure.pk} a", has_text="佐证").count() == 1
    plan_url = cadre.url

    # 9. Seven months pass: identification back-dated; the income of this year is above the line, and every
    #    guarantee is secure (data a visit or an import would bring).
    household = households["A"]
    household.refresh_from_db()
    assert household.monitor_category == "marginal"
    Case.objects.filter(pk=case.pk).update(decided_at=timezone.now() - timedelta(days=215))
    year = timezone.localdate().year
    MonitoringLine.objects.create(region=Region.objects.get(code=a[:6]), year=year,
                                  effective_from=date(year, 1, 1), amount=Decimal("7000"))  # fmt: skip
    row = {"household_no": household.household_no, "year": year, "source_row": 0, "wage_income": Decimal("9000"),
           "housing_unsafe": False, "dropout": False, "water_unsafe": False, "uninsured_member": False}  # fmt: skip
    assert not income_apply_rows([row], actor_id=town_user.pk).issues

    # 10. The elimination: started from the plan page, eligibility checked at once.
    cadre.goto(plan_url)
    fits(cadre)
    cadre.select_option("select[name=mode]", "assisted")
    submit(cadre, "form[action$='/eliminate/'] button")
    elim = Elimination.objects.get(case=case)
    assert cadre.url.endswith(f"/assistance/eliminations/{elim.pk}/")
    assert "待资格核查" in cadre.locator("main").inner_text() and elim.eligible
    fits(cadre)
    cadre.fill("form[action$='/act/confirm/'] input[name=notes]", "收入稳定，两不愁三保障")
    submit(cadre, "form[action$='/act/confirm/'] button")
    assert "待民主评议" in cadre.locator("main strong").first.inner_text()
    form = "form[action$='/act/village_review/']"
    cadre.fill(f"{form} input[name=participants]", "甲，乙，丙，丁，戊")
    cadre.fill(f"{form} input[name=votes_for]", "5")
    cadre.fill(f"{form} textarea[name=minutes]", "一致同意消除风险")
    submit(cadre, f"{form} button")
    assert "公示中" in cadre.locator("main strong").first.inner_text()
    # The notice cannot close early: the button is disabled, and the server refuses a forced post with the end.
    close = cadre.locator("form[action$='/act/notice_close/'] button")
    assert (
        close.is_disabled()
        and "公示期未满" in cadre.locator("form[action$='/act/notice_close/']").inner_text()
    )
    close.evaluate("button => { button.disabled = false; }")
    submit(cadre, "form[action$='/act/notice_close/'] button")
    elim.refresh_from_db()
    ends = timezone.localtime(elim.notice_ends_at).strftime("%Y-%m-%d %H:%M")
    refusal = cadre.locator(".alert-danger").inner_text()
    assert "公示期未满" in refusal and ends in refusal  # the local time the page shows, not UTC
    assert elim.state == "public_notice"
    Elimination.objects.filter(pk=elim.pk).update(notice_ends_at=timezone.now() - timedelta(minutes=1))
    cadre.goto(cadre.url)
    submit(cadre, "form[action$='/act/notice_close/'] button")
    assert "待乡镇审核" in cadre.locator("main strong").first.inner_text()
    # The cadre cannot decide for the township or county, nor can the cadre of another village see anything.
    assert cadre.locator("form[action$='/act/township_approve/']").count() == 0
    for path in (
        f"/assistance/case/{case.pk}/",
        plan_url.removeprefix(url),
        f"/assistance/eliminations/{elim.pk}/",
    ):
        assert other.goto(f"{url}{path}").status == 404, path

    # 11. Township approves, the county eliminates: the household is no longer monitored.
    town.goto(f"{url}/assistance/eliminations/{elim.pk}/")
    fits(town)
    submit(town, "form[action$='/act/township_approve/'] button")
    assert "待县级审定" in town.locator("main strong").first.inner_text()
    county.goto(f"{url}/assistance/eliminations/{elim.pk}/")
    fits(county)
    submit(county, "form[action$='/act/county_eliminate/'] button")
    assert "已消除" in county.locator("main strong").first.inner_text()
    assert "确认符合消除条件 → 待民主评议" in county.locator("main").inner_text()  # steps by their labels
    elim.refresh_from_db()
    household.refresh_from_db()
    assert elim.state == "eliminated" and not elim.premature and household.monitor_category == ""
    assert [s.action for s in elim.steps.order_by("at", "pk")] == [
        "start", "confirm", "village_review", "notice_close", "township_approve", "county_eliminate",
    ]  # fmt: skip

    # 12. The lists of the flow fit the phone too.
    for page, path in ((cadre, "/cases/tasks/"), (cadre, "/cases/list/?state=all"), (cadre, "/assistance/"),
                       (cadre, "/assistance/eliminations/?state=all"), (cadre, "/assistance/visits/?week=1"),
                       (town, "/cases/overdue/"), (town, f"/cases/qr/sheet/{a[:9]}/"), (town, "/cases/holidays/"),
                       (cadre, f"/households/{household.pk}/")):  # fmt: skip
        assert page.goto(f"{url}{path}").status == 200, path
        fits(page)
