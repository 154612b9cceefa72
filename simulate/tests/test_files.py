"""Files and headers exactly as INTERCHANGE.md; one income file per year; same seed ⇒ byte-identical files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from simulate import INCOME_HEADERS, REGISTRY_HEADERS, simulate_county

from .conftest import DIVISIONS, header, rows

# Written out from INTERCHANGE.md §1–§3 (not imported from the simulator, so that the test checks it).
REGISTRY = [
    "户编号",
    "行政区划代码",
    "户类型",
    "监测对象类别",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "文化程度",
    "在校生状况",
    "健康状况",
    "残疾等级",
    "劳动技能",
    "务工状况",
    "务工时间(月)",
    "是否参加城乡居民基本医疗保险",
    "联系电话",
]
INCOME = [
    "户编号",
    "年度",
    "工资性收入",
    "生产经营性收入",
    "财产性收入",
    "转移性收入",
    "生产经营性支出",
    "理赔收入",
    "合规自付支出",
    "住房出现安全问题",
    "义务教育阶段失学辍学",
    "饮水出现安全问题",
    "有家庭成员未参加基本医疗保险",
]
PERSON = ["证件号码", "姓名", "出生日期", "性别", "行政区划代码"]
FEEDS = {
    "medical_settlement": "结算日期 医疗机构 医疗总费用 基本医保支付 大病保险支付 医疗救助支付 个人自付",
    "illness_diagnosis": "确诊日期 疾病名称 病种类别",
    "civil_assistance": "起始日期 救助类型 救助金额 终止日期",
    "death_registration": "死亡日期",
    "disability_certificate": "发证日期 残疾类别 残疾等级",
    "school_status": "报告日期 学校 学段 学籍状态",
    "housing_appraisal": "鉴定日期 鉴定等级 原因",
    "water_incident": "报告日期 问题类型 持续天数",
    "disaster_loss": "灾害日期 灾种 直接经济损失",
    "employment_change": "变动日期 变动类型 月工资",
    "accident": "事故日期 伤情",
    "microcredit": "到期日 逾期天数 贷款余额",
}


def test_headers_exactly_as_interchange(county):
    out, summary = county
    assert header(out / "registry.csv") == REGISTRY == REGISTRY_HEADERS
    for year in (2023, 2024, 2025):
        assert header(out / f"income_{year}.csv") == INCOME == INCOME_HEADERS
    for key, own in FEEDS.items():
        person = ["行政区划代码"] if key == "water_incident" else PERSON
        assert header(out / "feeds" / f"{key}.csv") == person + own.split(), key
        assert summary["files"][f"feeds/{key}.csv"] > 0, key
    assert sorted(p.name for p in (out / "feeds").iterdir()) == sorted(f"{k}.csv" for k in FEEDS)


def test_income_files_one_row_per_household_per_year(county):
    out, summary = county
    for year in (2023, 2024, 2025):
        data = rows(out / f"income_{year}.csv")
        assert len(data) == summary["households"] and {r["年度"] for r in data} == {str(year)}
        assert len({r["户编号"] for r in data}) == len(data)
        for r in data[:300]:
            for column in INCOME[2:9]:
                assert r[column] == "" or float(r[column]) >= 0
            for column in INCOME[9:]:
                assert r[column] in ("是", "否")
    flags = rows(out / "income_2024.csv") + rows(out / "income_2025.csv")
    assert any(r["住房出现安全问题"] == "是" for r in flags) and any(
        r["饮水出现安全问题"] == "是" for r in flags
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path):
    a = simulate_county(households=300, seed=9, out_dir=tmp_path / "a", divisions_dir=DIVISIONS, quirks=True)
    b = simulate_county(households=300, seed=9, out_dir=tmp_path / "b", divisions_dir=DIVISIONS, quirks=True)
    simulate_county(households=300, seed=10, out_dir=tmp_path / "c", divisions_dir=DIVISIONS)
    assert a == b
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(first) == 1 + 3 + 12 + 4 + 6 and first == second  # registry, income, feeds, truth, quirk files
    assert first["registry.csv"] != _digest(tmp_path / "c")["registry.csv"]


def test_progress_is_reported(tmp_path):
    seen: list[tuple[int, int, str]] = []
    simulate_county(
        households=50,
        seed=1,
        out_dir=tmp_path,
        divisions_dir=DIVISIONS,
        progress=lambda d, t, s: seen.append((d, t, s)),
    )
    assert seen[0][0] == 0 and seen[-1] == (seen[-1][1], seen[-1][1], "done")
    assert [d for d, _t, _s in seen] == sorted(d for d, _t, _s in seen)
