"""Controlled vocabularies of the registry and interchange files: stored code → Chinese label.

One place for the words: the ingest normaliser maps Chinese cell values (and the codes themselves) to these codes,
the Django models use them as choices, and exports map them back. Codes are English identifiers (DOMAIN.md glossary).
"""

from __future__ import annotations

HOUSEHOLD_TYPES = {"former_poor": "脱贫户", "general": "一般农户"}

MONITOR_CATEGORIES = {
    "unstable_former_poor": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

RELATIONS = {
    "head": "户主",
    "spouse": "配偶",
    "son": "之子",
    "daughter": "之女",
    "father": "之父",
    "mother": "之母",
    "grandson": "孙子",
    "granddaughter": "孙女",
    "daughter_in_law": "儿媳",
    "son_in_law": "女婿",
    "sibling": "兄弟姐妹",
    "other": "其他",
}

SEXES = {"male": "男", "female": "女"}

EDUCATION = {
    "illiterate": "文盲或半文盲",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中专",
    "college": "大专及以上",
    "preschool": "学龄前儿童",
}

STUDENT_STATUSES = {
    "preschool": "学前",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中职",
    "college": "大专及以上",
    "not_student": "非在校生",
}

HEALTH = {"healthy": "健康", "chronic": "长期慢性病", "serious": "患有大病", "disabled": "残疾"}

LABOUR_CAPACITIES = {
    "ordinary": "普通劳动力",
    "skilled": "技能劳动力",
    "weak": "弱劳动力或半劳动力",
    "lost": "丧失劳动力",
    "none": "无劳动力",
}

MIGRANT_WORK = {
    "out_of_province": "省外务工",
    "in_province": "省内县外务工",
    "in_county": "县内务工",
    "none": "未务工",
}

SNAPSHOT_KINDS = {"annual": "年度", "identification": "识别时", "post_elimination": "消除后"}

# Extra spellings seen in real files, mapped to the canonical Chinese label above (matching is done after NFKC
# normalisation and removing spaces).
ALIASES: dict[str, dict[str, str]] = {
    "health": {"大病": "患有大病", "慢性病": "长期慢性病", "患有长期慢性病": "长期慢性病"},
    "relation": {
        "本人": "户主",
        "妻": "配偶",
        "夫": "配偶",
        "子": "之子",
        "女": "之女",
        "儿子": "之子",
        "女儿": "之女",
    },
    "education": {
        "文盲": "文盲或半文盲",
        "半文盲": "文盲或半文盲",
        "大专": "大专及以上",
        "本科": "大专及以上",
        "本科及以上": "大专及以上",
        "中职": "中专",
        "技校": "中专",
    },
    "student_status": {
        "非在校": "非在校生",
        "不在校": "非在校生",
        "在校生": "",
        "学龄前": "学前",
        "大学": "大专及以上",
        "中专": "中职",
    },
    "labour_capacity": {"弱劳动力": "弱劳动力或半劳动力", "半劳动力": "弱劳动力或半劳动力"},
    "migrant_work": {"无": "未务工", "否": "未务工"},
    "household_type": {"脱贫户(含监测户)": "脱贫户", "非贫困户": "一般农户", "一般户": "一般农户"},
}


def label(vocab: dict[str, str], code: str | None) -> str:
    """The Chinese label of a code ('' for blank)."""
    return vocab.get(code or "", code or "")


def choices(vocab: dict[str, str]) -> list[tuple[str, str]]:
    """Django-style choices from a vocabulary."""
    return list(vocab.items())
