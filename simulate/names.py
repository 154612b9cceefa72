"""Chinese names with a Guizhou (Bijie, Weining) flavour: the common Han surnames plus Yi (禄 安 陇 管), Hui (马 丁) and
Miao (陶 龙 杨 王) family names frequent in Weining. Given names come from small pools per sex and birth cohort with
Zipf-like weights, so namesakes (张伟, 王芳 …) occur in a village as often as they do in life."""

from __future__ import annotations

import numpy as np

# Relative surname weights (national Han frequencies adjusted to Guizhou, boosted for local ethnic surnames).
SURNAMES = (
    "王6.5 李6.5 张6.0 杨5.5 刘4.0 陈4.5 马3.5 罗2.0 吴2.0 周2.0 黄1.8 赵1.8 龙1.8 朱1.5 胡1.3 徐1.2 "
    "禄1.5 安1.5 陶1.2 丁1.2 何1.2 高1.2 邓1.0 余1.0 孔0.8 管0.8 陇0.6 苏0.8 韩0.8 郭0.8 田0.8 谢0.7 "
    "宋0.7 许0.7 卢0.8 蒋0.6 唐0.7 袁0.6 孙0.8 林0.5 尚0.5 聂0.5 顾0.4 柳0.4 邹0.5 蔡0.6"
)
# Given-name characters per sex and cohort (born before 1970, 1970–1989, 1990 and later), most frequent first.
GIVEN = {
    ("m", 0): "德明国华学文光发贵富荣永福正金成海忠兴顺才祥开昌林云书平",
    ("m", 1): "伟军勇平强斌林刚涛波明辉杰超华亮峰兵志红江龙飞鹏磊",
    ("m", 2): "浩宇轩杰鑫涛俊博磊阳晨子豪宏睿航文涵凯鹏振宁川瑞旭",
    ("f", 0): "秀英兰珍芬凤翠花玉梅桂春琼仙菊美芝莲素萍",
    ("f", 1): "红艳丽敏霞燕娟芳梅琴玲静英萍莉娜慧丹雪",
    ("f", 2): "婷琪瑶欣怡雨涵诗梦佳雪倩颖璐悦思媛彤丹晶",
}
TWO_CHAR_P = (0.45, 0.60, 0.80)  # share of two-character given names per cohort
# Characters people and clerks confuse when a name is typed from speech (同音字) or read from a poor copy (形近字).
HOMOPHONES = dict(
    pair.split(":")
    for pair in [
        "伟:玮",
        "玮:伟",
        "军:俊",
        "俊:军",
        "华:桦",
        "明:铭",
        "杰:洁",
        "英:瑛",
        "兰:岚",
        "云:芸",
        "芳:方",
        "丽:莉",
        "红:宏",
        "平:萍",
        "萍:平",
        "文:雯",
        "林:琳",
        "海:凯",
        "国:果",
        "成:诚",
        "德:得",
        "荣:蓉",
        "贵:桂",
        "桂:贵",
        "秀:绣",
        "燕:艳",
        "艳:燕",
        "学:雪",
        "飞:菲",
        "斌:彬",
        "梅:美",
        "珍:贞",
        "玉:钰",
        "春:椿",
        "发:法",
        "富:付",
        "涛:韬",
        "波:坡",
        "刚:钢",
        "辉:晖",
        "超:朝",
        "亮:良",
        "峰:锋",
        "鹏:朋",
        "磊:垒",
        "浩:皓",
        "宇:雨",
        "轩:萱",
        "鑫:欣",
        "博:搏",
        "阳:杨",
        "晨:辰",
        "豪:浩",
        "婷:亭",
        "琪:琦",
        "瑶:遥",
        "怡:仪",
        "涵:寒",
        "佳:家",
        "倩:茜",
        "颖:莹",
        "悦:月",
        "敏:民",
        "霞:峡",
        "娟:鹃",
        "琴:芹",
        "玲:铃",
        "静:晶",
        "娜:纳",
        "慧:惠",
        "丹:单",
        "雪:学",
        "金:今",
        "忠:中",
        "兴:星",
        "顺:舜",
        "才:材",
        "祥:翔",
        "开:凯",
        "昌:常",
        "书:淑",
        "凤:风",
        "翠:萃",
        "花:华",
        "琼:穷",
        "仙:先",
        "菊:局",
        "芝:之",
        "莲:连",
        "素:苏",
        "勇:永",
        "兵:冰",
        "江:姜",
        "龙:隆",
        "志:智",
        "川:穿",
        "宁:凝",
        "睿:锐",
        "航:杭",
        "旭:绪",
        "振:镇",
        "宏:洪",
        "子:紫",
        "思:丝",
        "媛:元",
        "彤:童",
        "璐:露",
    ]
)


def _surname_table() -> tuple[np.ndarray, np.ndarray]:
    names = [s[0] for s in SURNAMES.split()]
    weights = np.array([float(s[1:]) for s in SURNAMES.split()])
    return np.array(names), weights / weights.sum()


def _zipf(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** 0.7
    return w / w.sum()


def draw_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    names, p = _surname_table()
    return names[rng.choice(len(names), size=n, p=p)]


def draw_given(rng: np.random.Generator, male: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
    """Given names (1 or 2 characters) by sex and birth cohort."""
    n = len(male)
    cohort = np.where(birth_year < 1970, 0, np.where(birth_year < 1990, 1, 2))
    out = np.empty(n, dtype="<U2")
    for (sex, c), chars in GIVEN.items():
        mask = (male == (sex == "m")) & (cohort == c)
        k = int(mask.sum())
        if not k:
            continue
        pool = np.array(list(chars))
        p = _zipf(len(pool))
        first = pool[rng.choice(len(pool), size=k, p=p)]
        second = pool[rng.choice(len(pool), size=k, p=p)]
        two = rng.random(k) < TWO_CHAR_P[c]
        out[mask] = np.where(two, np.char.add(first, second), first)
    return out


def typo(name: str, rng: np.random.Generator) -> str:
    """A plausible clerical variant of a name: one given-name character replaced by a homophone (张伟 → 张玮)."""
    positions = [i for i, c in enumerate(name) if i > 0 and c in HOMOPHONES]
    if not positions:
        return name
    i = positions[int(rng.integers(len(positions)))]
    return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
