"""The warnings inbox and the catalogue: scoped to the user's regions, ordered red-first and oldest-first, with the
response clock; parameters and rules editable only by those allowed, with validation; the live path from the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.screening.models import RiskWarning, ScreeningParameter, ScreeningRule
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def _warning(household, grade="red", hours_ago=0, score=70.0):
    at = timezone.now() - dt.timedelta(hours=hours_ago)
    return RiskWarning.objects.create(
        household=household, village_code=household.village_code, grade=grade, score=score, risk_types="01",
        reasons=[f"测试原因 {household.household_no}"], sources=["medical_settlement"], first_signal_date=at.date(),
        opened_at=at, updated_at=at, graded_at=at,
    )  # fmt: skip


def test_inbox_is_scoped_ordered_and_shows_the_clock(client, households, make_user, villages):
    old_yellow = _warning(households["A"], "yellow", hours_ago=300, score=40)
    _warning(households["A2"], "red", hours_ago=3)
    _warning(households["B"], "red", hours_ago=1)
    township = villages["A"].code[:9]
    make_user("township", Role.TOWNSHIP_REVIEWER, township)
    client.login(username="township", password=PASSWORD)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "测试原因 " + households["B"].household_no not in page  # other township
    red_pos = page.index("测试原因 " + households["A2"].household_no)
    yellow_pos = page.index("测试原因 " + households["A"].household_no)
    assert red_pos < yellow_pos  # red first
    assert (
        page.count("已超时") >= 2
    )  # red 3 h old: on site (2 h) overdue; yellow 300 h: on site (7 d) overdue
    assert old_yellow.on_site_due < timezone.now()
    filtered = client.get(reverse("screening:inbox"), {"grade": "yellow"}).content.decode()
    assert "测试原因 " + households["A2"].household_no not in filtered


def test_a_cadre_sees_only_the_village(client, households, cadre_a):
    _warning(households["A"])
    _warning(households["A2"])
    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "测试原因 " + households["A"].household_no in page
    assert "测试原因 " + households["A2"].household_no not in page


def test_department_officers_cannot_see_warnings(client, make_user, villages):
    make_user("dept", Role.DEPARTMENT_OFFICER, villages["A"].code[:6], department="medical_insurance")
    client.login(username="dept", password=PASSWORD)
    assert client.get(reverse("screening:inbox")).status_code == 403
    assert client.get(reverse("screening:catalogue")).status_code == 403


def test_catalogue_lists_every_indicator_and_rule(client, cadre_a):
    from engine.screening import DEFAULT_RULES, INDICATORS

    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(reverse("screening:catalogue")).content.decode()
    assert len(INDICATORS) >= 28
    for i in INDICATORS:
        assert i.title_zh in page
    for r in DEFAULT_RULES:
        assert r.code in page
    assert reverse("screening:rule_new") not in page  # a cadre edits nothing
    rule_page = client.get(reverse("screening:rule_detail", args=["medical_annual"])).content.decode()
    assert "med_oop_12m &gt; p_med_annual_oop" in rule_page and "内置默认版本" in rule_page
    assert 'name="action" value="save"' not in rule_page and 'name="action" value="try"' not in rule_page


def test_parameters_only_in_own_region_and_validated(client, make_user, villages):
    county = villages["A"].code[:6]
    make_user("admin", Role.COUNTY_ADMIN, county)
    client.login(username="admin", password=PASSWORD)
    url = reverse("screening:parameter_set")
    client.post(url, {"name": "monitoring_line", "region_code": county, "value": "9100"})
    assert ScreeningParameter.objects.get(region_code=county).value == 9100
    assert (
        client.post(url, {"name": "monitoring_line", "region_code": "53", "value": "9100"}).status_code == 403
    )
    page = client.post(url, {"name": "monitoring_line", "region_code": county, "value": "-1"}, follow=True)
    assert "超出范围" in page.content.decode()
    assert ScreeningParameter.objects.get(region_code=county).value == 9100
    # a county admin may not change the province's rules (trying one in the county is allowed: test_whatif; a
    # rule of the county's own is: test_a_county_keeps_its_own_triggers_and_only_them)
    province_wide = {**RULE, "code": "x", "applies_to": ""}
    refused = client.post(reverse("screening:rule_new"), province_wide).content.decode()
    assert "适用地区" in refused and "is-invalid" in refused  # the province is not among its choices
    url = reverse("screening:rule_detail", args=["medical_annual"])
    assert client.post(url, {"action": "save"}).status_code == 403
    assert (
        client.post(reverse("screening:rule_restore", args=["medical_annual"]), {"version": "0"}).status_code
        == 403
    )
    assert not ScreeningRule.objects.exists()


def test_parameters_page_shows_what_holds_where_and_clears_back_to_the_region_above(
    client, make_user, villages
):
    from guardline.core.models import ChangeLog

    county, township = villages["A"].code[:6], villages["A"].code[:9]
    make_user("admin", Role.COUNTY_ADMIN, county)
    client.login(username="admin", password=PASSWORD)
    url = reverse("screening:parameter_set")
    page = client.get(url).content.decode()  # the user's own county by default
    assert (
        "防止返贫监测线" in page
        and "权重：" in page
        and f'<small class="text-muted">{county}</small>' in page
    )
    assert (
        client.post(
            url, {"region": county, "name": "monitoring_line", "value": "9100", "note": "县发〔2026〕1号"}
        ).status_code
        == 302
    )
    client.post(url, {"region": township, "name": "monitoring_line", "value": "9300", "year": "2026"})
    row = (
        client.get(url, {"region": township})
        .content.decode()
        .split('id="param-monitoring_line"')[1]
        .split("</tr>")[0]
    )
    assert "9300.0" in row and "(2026)" in row  # the township's own value for the year wins
    county_page = client.get(url, {"region": county}).content.decode()
    assert "9100.0" in county_page.split('id="param-monitoring_line"')[1].split("</tr>")[0]
    assert township in county_page.split('id="param-below"')[1]  # listed under the regions inside
    # what the page says holds is what the engine resolves, for every parameter and weight
    from engine.screening.catalogue import default_weights
    from engine.screening.params import resolve
    from guardline.screening.selectors import parameter_rows
    from guardline.screening.services import overrides_in_force

    today = timezone.localdate()
    for region in (county, township, villages["A"].code):
        rows, _ = parameter_rows(region, today)
        engine = resolve(
            [region], overrides_in_force([region], today), today.year, default_weights()
        ).to_pylist()[0]
        assert {r.name: r.value for r in rows} == {k[2:]: v for k, v in engine.items() if k.startswith("p_")}

    # A rejected value comes back in the form with the reason; nothing changes.
    bad = client.post(
        url, {"region": county, "name": "w_housing", "value": "-5", "note": "试试"}
    ).content.decode()
    assert "参数未保存" in bad and 'value="-5"' in bad and 'value="试试"' in bad
    assert not ScreeningParameter.objects.filter(name="w_housing").exists()
    assert (
        "不是数字"
        in client.post(url, {"region": county, "name": "grade_red", "value": "abc"}).content.decode()
    )

    # Clearing the township's value: it falls back to the county's.
    pk = ScreeningParameter.objects.get(region_code=township).pk
    assert client.post(url, {"region": township, "action": "clear", "pk": pk}).status_code == 302
    row = (
        client.get(url, {"region": township})
        .content.decode()
        .split('id="param-monitoring_line"')[1]
        .split("</tr>")[0]
    )
    assert "9100.0" in row and county in row
    assert ChangeLog.objects.filter(entity="screening_parameter", action="delete", entity_id=pk).exists()

    # Another county's value cannot be seen, set or cleared; a cadre reads but does not write.
    other = ScreeningParameter.objects.create(name="grade_red", region_code="520525", value=40)
    assert client.get(url, {"region": "520525"}).status_code == 403
    assert client.post(url, {"region": county, "action": "clear", "pk": other.pk}).status_code == 404
    assert ScreeningParameter.objects.filter(pk=other.pk).exists()
    make_user("cadre_p", Role.VILLAGE_CADRE, villages["A"].code)
    client.login(username="cadre_p", password=PASSWORD)
    assert client.get(url).status_code == 200
    assert (
        client.post(url, {"region": villages["A"].code, "name": "grade_red", "value": "30"}).status_code
        == 403
    )


RULE = {"code": "r1", "title": "两人失业", "risk_type": "07", "severity": "hard", "condition": "job_losses_12m >= 2",
        "signal_date": "job_loss_first_date", "reason": "{job_losses_12m:.0f} 人失业", "sources": ["employment_change"],
        "is_active": "on", "note": "省乡村振兴局文件", "action": "save"}  # fmt: skip


def test_province_officer_adds_a_rule_and_a_bad_one_keeps_what_was_typed(client, make_user):
    make_user("prov", Role.PROVINCE_OFFICER, "52")
    client.login(username="prov", password=PASSWORD)
    url = reverse("screening:rule_new")
    bad = client.post(url, {**RULE, "condition": "job_losses_12m >= 2 AND secret_column > 1"})
    page = bad.content.decode()
    assert bad.status_code == 200 and "未知字段" in page and "secret_column" in page
    assert "job_losses_12m &gt;= 2 AND secret_column &gt; 1" in page  # the condition as typed, in its box
    assert 'value="两人失业"' in page and 'value="省乡村振兴局文件"' in page
    assert "is-invalid" in page and not ScreeningRule.objects.exists()
    injected = client.post(url, {**RULE, "condition": "1; DROP TABLE x"})
    assert "条件" in injected.content.decode() and not ScreeningRule.objects.exists()
    assert "小写字母开头" in client.post(url, {**RULE, "code": "Bad-code"}).content.decode()
    template = client.post(url, {**RULE, "reason": "{nope}"}).content.decode()
    assert "原因模板" in template and not ScreeningRule.objects.exists()

    good = client.post(url, RULE)
    assert good.status_code == 302 and good.url == reverse("screening:rule_detail", args=["r1"])
    row = ScreeningRule.objects.get(code="r1")
    assert (row.version, row.sources, row.note, row.signal_date) == (
        1,
        ["employment_change"],
        "省乡村振兴局文件",
        "job_loss_first_date",
    )
    assert "r1" in client.get(reverse("screening:catalogue")).content.decode()
    # a code in use is edited on its own page, not added again
    again = client.post(url, {**RULE, "code": "medical_annual"}).content.decode()
    assert "规则代码已存在" in again and not ScreeningRule.objects.filter(code="medical_annual").exists()


def test_editing_keeps_the_rules_sources_switching_off_and_restoring_are_versions(client, make_user):
    from engine.screening import DEFAULT_RULES
    from guardline.core.models import ChangeLog
    from guardline.screening.services import rules_in_force

    make_user("prov", Role.PROVINCE_OFFICER, "52")
    client.login(username="prov", password=PASSWORD)
    url = reverse("screening:rule_detail", args=["medical_annual"])
    default = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    page = client.get(url).content.decode()
    # the editor starts from the version in force: every field filled, the rule's feed ticked
    assert "med_oop_12m &gt; p_med_annual_oop" in page
    assert re.search(r'name="sources" value="medical_settlement"[^>]*checked', page)
    assert not re.search(r'name="sources" value="accident"[^>]*checked', page)
    assert "近12个月家庭医疗自付合计" in page  # the field reference
    form = {"title": default.title_zh, "risk_type": default.risk_type, "severity": default.severity,
            "condition": "med_oop_12m > 30000", "signal_date": default.signal_date, "reason": default.reason,
            "sources": list(default.sources), "is_active": "on", "note": "2026年第3号文", "action": "save"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    v1 = ScreeningRule.objects.get(code="medical_annual", version=1)
    assert v1.condition == "med_oop_12m > 30000" and v1.sources == ["medical_settlement"]
    entry = ChangeLog.objects.filter(entity="screening_rule", entity_id=v1.pk).get()
    assert (
        entry.before["condition"] == default.condition and entry.after["condition"] == "med_oop_12m > 30000"
    )

    off = {k: v for k, v in form.items() if k != "is_active"}
    assert client.post(url, {**off, "note": "暂停"}).status_code == 302
    assert "medical_annual" not in {r.code for r in rules_in_force()}
    catalogue = client.get(reverse("screening:catalogue")).content.decode()
    assert "medical_annual" in catalogue and "已停用" in catalogue  # listed, so it can be switched on again

    restore = reverse("screening:rule_restore", args=["medical_annual"])
    assert client.post(restore, {"version": "0"}).status_code == 302
    v3 = ScreeningRule.objects.get(code="medical_annual", version=3)
    assert (v3.condition, v3.is_active, v3.sources) == (default.condition, True, list(default.sources))
    assert next(r for r in rules_in_force() if r.code == "medical_annual") == default
    assert client.post(restore, {"version": "9"}).status_code == 404
    history = client.get(url).content.decode().split('id="rule-versions"')[1]
    assert history.count("<tr>") >= 4  # three versions and the default
    assert "2026年第3号文" in history and "暂停" in history and "恢复为第 0 版" in history
    assert "is_active" in history  # what version 2 changed


def test_an_api_event_rescreens_its_household_at_once(client, households):
    """The live path: a large medical bill pushed by the insurance system opens a red warning for that household
    (in tests the background task runs immediately; in production the task worker picks it up)."""
    import json

    from guardline.api.services import department_token_create
    from guardline.regions.models import Region

    _, raw = department_token_create(
        actor=None, name="医保", department="medical_insurance", region=Region.objects.get(code="520526")
    )
    member = households["A"].members.first()
    today = timezone.localdate().isoformat()
    event = {"证件号码": member.id_number, "姓名": member.name, "结算日期": today, "个人自付": "35000"}
    response = client.post(
        "/api/v1/feeds/medical_settlement/events",
        json.dumps({"events": [event]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    warning = RiskWarning.objects.get(household=households["A"], status="open")
    assert warning.grade == "red" and "medical_settlement" in warning.sources
    assert any("35,000" in r for r in warning.reasons)
    assert not RiskWarning.objects.filter(household=households["B"]).exists()


def test_rule_firing_counts_are_the_users_households(client, screened_county, make_user):
    """The catalogue and each rule's page count the households each trigger fires on now, in the user's regions."""
    from guardline.screening.models import HouseholdGrade
    from guardline.screening.services import screening_run

    screening_run()
    grades = list(HouseholdGrade.objects.values_list("village_code", "rules"))
    village = max({v for v, r in grades if r}, key=lambda v: sum(1 for w, r in grades if w == v and r))

    def expected(prefix: str, code: str) -> int:
        return sum(1 for v, r in grades if v.startswith(prefix) and code in r.split(";"))

    make_user("fires_county", Role.COUNTY_ADMIN, village[:6])
    make_user("fires_cadre", Role.VILLAGE_CADRE, village)
    for username, prefix in (("fires_county", village[:6]), ("fires_cadre", village)):
        client.login(username=username, password=PASSWORD)
        page = client.get(reverse("screening:catalogue")).content.decode()
        shown = dict(re.findall(r'data-fires="(\w+)">(\d+)<', page))
        assert shown and all(int(n) == expected(prefix, code) for code, n in shown.items()), shown
        assert sum(int(n) for n in shown.values()) > 0
        code = max(shown, key=lambda c: int(shown[c]))
        rule_page = client.get(reverse("screening:rule_detail", args=[code])).content.decode()
        assert f'<strong id="rule-fires">{expected(prefix, code)}</strong>' in rule_page


def test_each_full_run_keeps_its_firing_counts_per_county_and_the_rule_page_shows_the_trend(
    client, screened_county, make_user
):
    """A run over every household stores, per county, the households graded and on how many each trigger fired;
    a live re-screen stores none. The rule page lists the runs with the version in force at each, and the
    catalogue flags a trigger that fell to nothing since the run before (a feed that stopped, a rule switched off).
    A user who works below a county sees no trend: the counts are the county's."""
    from engine.screening import DEFAULT_RULES
    from guardline.accounts.models import User
    from guardline.screening.models import HouseholdGrade, RuleFiring, ScreeningRun
    from guardline.screening.services import screening_rule_save, screening_run

    first = screening_run()
    grades = list(HouseholdGrade.objects.values_list("village_code", "rules"))
    county = grades[0][0][:6]
    stored = {(f.county_code, f.rule_code): f.households for f in RuleFiring.objects.filter(run=first)}
    assert stored[(county, "")] == first.households == len(grades)
    fired = {c for _, r in grades for c in r.split(";") if c}
    assert fired and all(stored[(county, c)] == sum(c in r.split(";") for _, r in grades) for c in fired)
    assert len(stored) == len(fired) + 1  # a trigger that fired nowhere has no row

    code = max(fired, key=lambda c: stored[(county, c)])
    before = stored[(county, code)]
    province = make_user("trend_province", Role.PROVINCE_OFFICER, county[:2])
    rule = next(r for r in DEFAULT_RULES if r.code == code)
    screening_rule_save(actor=province, rule=rule, is_active=False, note="试停用")
    household = HouseholdGrade.objects.values_list("household_id", flat=True).first()
    live = screening_run(household_ids=[household])
    assert not RuleFiring.objects.filter(run=live).exists()
    second = screening_run()
    assert RuleFiring.objects.get(run=second, county_code=county, rule_code="").households == len(grades)
    assert not RuleFiring.objects.filter(run=second, rule_code=code).exists()

    make_user("trend_county", Role.COUNTY_ADMIN, county)
    make_user("trend_cadre", Role.VILLAGE_CADRE, grades[0][0])
    from guardline.regions.models import Region

    city = Region.objects.get(code=county[:4])
    other = "520527" if county != "520527" else "520525"
    elsewhere = Region.objects.create(code=other, name="邻县", level=Region.Level.COUNTY, parent=city)
    make_user("trend_elsewhere", Role.COUNTY_ADMIN, elsewhere.code)
    client.login(username="trend_county", password=PASSWORD)
    page = client.get(reverse("screening:rule_detail", args=[code])).content.decode()
    rows = re.findall(r'<tr data-run="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(pk) for pk, _ in rows] == [second.pk, first.pk]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for _, row in rows]
    assert "1" in cells[0][2] and "停用" in cells[0][2] and cells[0][3] == "0"
    assert "默认" in cells[1][2] and cells[1][3] == str(before) and cells[1][4] == str(len(grades))
    assert cells[1][5] == f"{100 * before / len(grades):.2f}%"
    catalogue = client.get(reverse("screening:catalogue")).content.decode()
    last = re.search(rf'data-last-runs="{code}">(.*?)</td>', catalogue, re.S).group(1)
    assert last.startswith(f"0 ({before})") and "降为0" in last

    # a county's own rule made after both runs: no version was in force at either
    from engine.screening import Rule

    own = Rule("county_own", "本县规则", "02", "hard", "med_oop_12m > 0", "", "本县规则", region=county)
    screening_rule_save(actor=User.objects.get(username="trend_county"), rule=own)
    page = client.get(reverse("screening:rule_detail", args=["county_own"])).content.decode()
    rows = re.findall(r'<tr data-run="(\d+)">(.*?)</tr>', page, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for _, row in rows]
    assert [c[2] for c in cells] == ["—", "—"] and [c[3] for c in cells] == ["0", "0"]

    client.login(username="trend_cadre", password=PASSWORD)
    page = client.get(reverse("screening:rule_detail", args=[code])).content.decode()
    assert 'id="rule-fires"' in page and "rule-trend" not in page
    client.login(username="trend_elsewhere", password=PASSWORD)
    page = client.get(reverse("screening:rule_detail", args=[code])).content.decode()
    assert 'id="rule-trend-empty"' in page and "data-run=" not in page
    assert ScreeningRun.objects.filter(scope="").count() == 2


def test_the_catalogue_parameters_and_what_if_pages_in_english(client, cadre_a, make_user, villages):
    """Indicators (title, definition, source, unit, direction) and parameters (title, unit) in English on the
    English page; the Chinese stays on the Chinese page."""
    from django.utils.html import escape

    from engine.screening import INDICATORS, PARAMETERS
    from engine.screening.catalogue_en import english
    from engine.screening.fields import PARAMETER_TITLES_EN

    client.login(username="cadre_a", password=PASSWORD)
    chinese = client.get(reverse("screening:catalogue")).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(reverse("screening:catalogue")).content.decode()
    for i in INDICATORS:
        en = english(i)
        assert i.definition in chinese and en["title"] in page
        for text in (en["definition"], en["source"], en["direction"]):
            assert escape(text) in page, (i.code, text)
        assert i.definition not in page
    for p in PARAMETERS:
        assert escape(PARAMETER_TITLES_EN[p.name]) in page
    make_user("en_county", Role.COUNTY_ADMIN, villages["A"].code[:6])
    client.login(username="en_county", password=PASSWORD)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    params = client.get(reverse("screening:parameter_set")).content.decode()
    assert "Monitoring line (per-capita net income)" in params and "yuan per person per year" in params
    assert "Weight: " in params
    whatif = client.get(reverse("screening:whatif")).content.decode()
    assert "Rural dibao standard (yuan per person per year" in whatif


def test_the_inbox_shows_the_latest_run_without_its_whole_region_counts(client, households, cadre_a):
    """A full run covers every region; its message counts them all. A cadre's inbox names the run (date, scorer)
    and counts only the cadre's own households."""
    from guardline.screening.models import ScreeningRun

    ScreeningRun.objects.create(
        as_of=dt.date(2026, 6, 30), status="done", finished_at=timezone.now(), households=987654, red=4321,
        message="筛查 987654 户：红色 4321，黄色 5678，绿色 977655；新增预警 9999，更新 0，未变 0，关闭 0",
    )  # fmt: skip
    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "2026-06-30" in page and "评分：风险指数" in page
    assert "987654" not in page and "4321" not in page and "9999" not in page


def test_a_county_keeps_its_own_triggers_and_only_them(client, make_user, villages):
    """A county administrator adds a trigger for the county (it fires only there), edits it, cannot make it
    province-wide or another county's, and cannot save the province's triggers; another county neither lists nor
    opens it; the province manager keeps every trigger."""
    from django.core.exceptions import PermissionDenied

    from engine.screening import DEFAULT_RULES
    from guardline.regions.models import Region
    from guardline.screening.services import rules_in_force, screening_rule_save

    county = villages["A"].code[:6]
    Region.objects.get_or_create(
        code="520525", defaults={"name": "纳雍县", "level": 3, "parent_id": county[:4]}
    )
    admin = make_user("rules_county", Role.COUNTY_ADMIN, county)
    other = make_user("rules_other", Role.COUNTY_ADMIN, "520525")
    client.login(username="rules_county", password=PASSWORD)
    catalogue = client.get(reverse("screening:catalogue")).content.decode()
    assert reverse("screening:rule_new") in catalogue  # a county keeps rules of its own
    new = client.get(reverse("screening:rule_new")).content.decode()
    assert (
        f'value="{county}" selected' in new and '<option value="">' not in new
    )  # for the county, not the province
    url = reverse("screening:rule_new")
    assert "适用地区" in client.post(url, {**RULE, "applies_to": ""}).content.decode()  # blank: not offered
    assert (
        client.post(url, {**RULE, "applies_to": "520525"}).status_code == 200
    )  # another county: not offered
    assert not ScreeningRule.objects.exists()
    made = client.post(url, {**RULE, "code": "county_jobs", "applies_to": county})
    assert made.status_code == 302
    row = ScreeningRule.objects.get(code="county_jobs")
    assert row.region_code == county
    assert next(r for r in rules_in_force() if r.code == "county_jobs").region == county
    page_url = reverse("screening:rule_detail", args=["county_jobs"])
    edit = {**RULE, "condition": "job_losses_12m >= 1", "applies_to": county}
    assert client.post(page_url, edit).status_code == 302
    assert ScreeningRule.objects.filter(code="county_jobs").count() == 2
    # the province's triggers: tried, not saved
    medical = next(r for r in DEFAULT_RULES if r.code == "medical_annual")
    assert client.post(reverse("screening:rule_detail", args=["medical_annual"]), {**edit}).status_code == 403
    with pytest.raises(PermissionDenied):
        screening_rule_save(actor=admin, rule=medical, note="县里改省规则")
    from dataclasses import replace

    own = next(r for r in rules_in_force() if r.code == "county_jobs")
    for region in ("", "520525"):  # not out of the county, by the service either
        with pytest.raises(PermissionDenied):
            screening_rule_save(actor=admin, rule=replace(own, region=region))
    # another county: not listed, not opened, not saved
    from django.test import Client

    elsewhere = Client()  # (the first user's flash messages stay with the first client)
    elsewhere.login(username="rules_other", password=PASSWORD)
    assert "county_jobs" not in elsewhere.get(reverse("screening:catalogue")).content.decode()
    assert elsewhere.get(page_url).status_code == 404
    again = elsewhere.post(
        reverse("screening:rule_new"), {**RULE, "code": "county_jobs", "applies_to": "520525"}
    )
    assert "已被其他地区的规则使用" in again.content.decode()  # not sent to a page it cannot open
    with pytest.raises(PermissionDenied):
        screening_rule_save(actor=other, rule=replace(own, region="520525"))
    # the province manager keeps it too, and may make it province-wide
    prov = make_user("rules_prov", Role.PROVINCE_OFFICER, "52")
    screening_rule_save(actor=prov, rule=replace(own, region=""), note="推广到全省")
    assert next(r for r in rules_in_force() if r.code == "county_jobs").region == ""


@pytest.mark.parametrize("beats", [True, False])
def test_the_catalogue_reports_the_learned_models_comparison(client, cadre_a, tmp_path, settings, beats):
    """Issue 4: the model is used only if it beats the index on held-out data, and the comparison is reported."""
    from guardline.screening.tests.test_screening_run import _tiny_model

    client.login(username="cadre_a", password=PASSWORD)
    plain = client.get(reverse("screening:catalogue")).content.decode()
    assert "由风险指数评分（未配置学习模型" in plain
    settings.GUARDLINE = {
        **settings.GUARDLINE,
        "SCREENING_MODEL": str(_tiny_model(tmp_path / "m", beats=beats)),
    }
    page = (
        client.get(reverse("screening:catalogue")).content.decode().split('id="scorer"')[1].split("</div>")[0]
    )
    assert "tiny" in page and "0.900" in page and "0.800" in page  # held-out AUC of the model and the index
    assert ("在用：留出数据上优于风险指数" in page) is beats
    assert ("未采用：留出数据上未优于风险指数" in page) is not beats
