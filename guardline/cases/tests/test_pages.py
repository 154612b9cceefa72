"""The public declaration page (bad input, spam, rate limit), the receipt status, QR codes, the inbox, the case
page, the printable notice (no personal details) and the permissions of every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from engine.ids import check_char
from guardline.cases import services
from guardline.cases.models import Case, Clue
from tests.support import PASSWORD

from .conftest import walk

pytestmark = pytest.mark.django_db

GOOD_ID = "52052619800101001" + check_char("52052619800101001")  # household A's head


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def form(**kw):
    data = {"name": "张三", "id_number": GOOD_ID, "phone": "13800001234", "address": "一组", "concern": "illness",
            "description": "住院花了很多钱", "consent": "on", "website": ""}  # fmt: skip
    data.update(kw)
    return data


def test_declaration_lands_in_the_township_inbox_with_a_receipt(client, villages, households, people):
    url = f"/declare/{villages['A'].code}/"
    page = client.get(url)
    assert page.status_code == 200 and "困难申报" in page.content.decode()
    assert 'name="viewport"' in page.content.decode()
    response = client.post(url, form())
    assert response.status_code == 302
    clue = Clue.objects.get()
    assert clue.channel == "declaration" and clue.household == households["A"] and clue.status == "new"
    assert response["Location"] == f"/declare/status/{clue.receipt_no}/?new=1"
    status = client.get(response["Location"]).content.decode()
    assert clue.receipt_no in status and "待乡镇核实" in status
    assert "张三" not in status and GOOD_ID not in status
    client.login(username="town_a", password=PASSWORD)
    inbox = client.get("/cases/").content.decode()
    assert clue.receipt_no in inbox
    client.logout()
    client.login(username="town_b", password=PASSWORD)
    assert clue.receipt_no not in client.get("/cases/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "id_number": "", "description": "", "consent": ""}, "这个字段是必填项"),
        ({"id_number": GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")}, "校验位错误"),
        ({"id_number": "12345"}, "格式错误"),
        ({"description": "<script>alert(1)</script>"}, "特殊符号"),
        ({"name": "<b>x</b>"}, "特殊符号"),
        ({"description": "好" * 5000}, "1000"),
        ({"phone": "12"}, "电话号码格式不正确"),
        ({"concern": "hack"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, villages, data, message):
    response = client.post(f"/declare/{villages['A'].code}/", form(**data))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body
    assert Clue.objects.count() == 0


def test_honeypot_stores_nothing(client, villages):
    response = client.post(f"/declare/{villages['A'].code}/", form(website="http://spam.example"))
    assert response.status_code == 400 and Clue.objects.count() == 0


def test_unknown_or_malformed_village(client):
    assert client.get("/declare/999999999999/").status_code == 404
    assert client.get("/declare/<script>/").status_code == 404
    assert client.get("/declare/status/NOSUCH/").status_code == 404


def test_declaration_without_registry_match_still_lands(client, villages):
    other = "11010519491231002"
    other += check_char(other)
    assert client.post(f"/declare/{villages['A'].code}/", form(id_number=other)).status_code == 302
    clue = Clue.objects.get()
    assert clue.household is None and clue.village_code == villages["A"].code


def test_rate_limit(client, villages, households, settings):
    settings.GUARDLINE = {**settings.GUARDLINE, "DECLARATION_RATE": 3, "DECLARATION_WINDOW": 3600}
    url = f"/declare/{villages['A'].code}/"
    codes = [client.post(url, form(description=f"第{i}次")).status_code for i in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert "提交次数过多" in client.post(url, form()).content.decode()
    assert Clue.objects.count() == 3
    assert Clue.objects.filter(status="new").count() == 1  # the same household: merged


def test_csrf_is_enforced(villages):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/declare/{villages['A'].code}/", form()).status_code == 403


def test_qr_code_and_sheet(client, villages, people):
    client.login(username="town_a", password=PASSWORD)
    svg = client.get(f"/cases/qr/{villages['A'].code}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    sheet = client.get(f"/cases/qr/sheet/{villages['A'].code[:9]}/").content.decode()
    assert (
        villages["A"].name in sheet
        and villages["A2"].name in sheet
        and f"/declare/{villages['A'].code}/" in sheet
    )
    assert client.get(f"/cases/qr/{villages['B'].code}.svg").status_code == 404
    assert client.get(f"/cases/qr/sheet/{villages['B'].code[:9]}/").status_code == 404


def test_visit_report_with_photo(client, households, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.login(username="grid_a", password=PASSWORD)
    assert client.get("/cases/report/").status_code == 200
    photo = SimpleUploadedFile("house.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    response = client.post("/cases/report/", {"village": households["A"].village_code,
                                               "household_no": households["A"].household_no, "concern": "disaster",
                                               "description": "房屋被洪水冲毁", "photos": [photo]})  # fmt: skip
    assert response.status_code == 302
    clue = Clue.objects.get()
    assert clue.channel == "visit" and clue.household == households["A"] and clue.evidence.count() == 1
    response = client.post("/cases/report/", {"village": households["A"].village_code,
                                               "household_no": households["B"].household_no, "concern": "other",
                                               "description": "x"})  # fmt: skip
    assert "不在您的管辖范围内" in response.content.decode()


def test_case_page_flow_and_refusal_for_another_village(client, clue, people, villages):
    client.login(username="town_a", password=PASSWORD)
    assert client.post(f"/cases/clues/{clue.pk}/open/").status_code == 302
    case = Case.objects.get()
    client.logout()
    client.login(username="cadre_b", password=PASSWORD)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/act/reject/", {"reason": "x"}).status_code == 404
    client.logout()
    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="form-home_check"' in page and 'id="form-county_identify"' not in page
    client.post(f"/cases/{case.pk}/act/home_check/", {"notes": "已入户"})
    case.refresh_from_db()
    assert case.state == "home_check"  # no commitment: refused with a message
    import base64

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()
    client.post(
        f"/cases/{case.pk}/act/home_check/",
        {"notes": "已入户", "signature_data": f"data:image/png;base64,{png}"},
    )
    case.refresh_from_db()
    assert case.state == "comparison"
    assert case.steps.get(action="home_check").evidence.get().kind == "signature"
    assert client.post(f"/cases/{case.pk}/act/county_identify/", {"category": "marginal"}).status_code == 302
    case.refresh_from_db()
    assert case.state == "comparison"


def test_notice_print_shows_no_personal_details(client, case, people, households):
    from guardline.registry.models import Member

    case = walk(case, people, until="public_notice")
    head = Member.objects.get(household=households["A"])
    Member.objects.filter(pk=head.pk).update(health="serious_illness")
    client.login(username="cadre_a", password=PASSWORD)
    body = client.get(f"/cases/{case.pk}/notice/").content.decode()
    assert "张三" in body and "公示" in body
    for secret in (head.id_number, head.id_number[:6] + "*", households["A"].phone, "138", "大病", "银行",
                   "身份证", "电话号码", "住院"):  # fmt: skip
        assert secret not in body
    assert case.notice_ends_at.strftime("%-d") in body


def test_pages_answer_for_each_role(client, case, people):
    for username in ("grid_a", "cadre_a", "town_a", "county_s", "county_x"):
        client.login(username=username, password=PASSWORD)
        for url in ("/cases/", "/cases/list/", f"/cases/{case.pk}/", "/cases/tasks/", "/cases/overdue/",
                    "/cases/holidays/", f"/cases/clues/{case.clues.first().pk}/"):  # fmt: skip
            assert client.get(url).status_code == 200, (username, url)
        client.logout()
    client.login(username="prov", password=PASSWORD)
    assert client.get("/cases/").status_code == 403
    assert client.get("/cases/overdue/").status_code == 200


def test_holiday_calendar_is_editable_by_county_admin_only(client, people):
    client.login(username="town_a", password=PASSWORD)
    assert client.post("/cases/holidays/", {"date": "2026-10-01", "kind": "holiday"}).status_code == 403
    client.login(username="county_x", password=PASSWORD)
    client.post("/cases/holidays/", {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"})
    assert "国庆节" in client.get("/cases/holidays/").content.decode()


def test_tasks_and_escalation(client, case, people):
    past = timezone.now() - timedelta(days=30)
    Case.objects.filter(pk=case.pk).update(decision_due=past)
    client.login(username="cadre_a", password=PASSWORD)
    assert case.household.household_no in client.get("/cases/tasks/").content.decode()
    client.login(username="town_a", password=PASSWORD)
    tasks = client.get("/cases/tasks/").content.decode()
    escalated = tasks.split('id="escalated"')[1]
    assert case.household.household_no in escalated and "已超时上报" in escalated
    overdue = client.get("/cases/overdue/").content.decode()
    assert case.household.household_no in overdue
    client.login(username="town_b", password=PASSWORD)
    assert case.household.household_no not in client.get("/cases/overdue/").content.decode()
    _ = services
