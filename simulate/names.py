"""Chinese names with a Guizhou (Bijie) flavour: common Han surnames plus Yi, Hui and Miao family names frequent in
Weining. Given names are drawn from a small pool, so namesakes in one village occur as often as they do in life."""

from __future__ import annotations

import numpy as np

# Surname weights: national Han frequencies, boosted for the local Yi (禄, 安, 陇), Hui (马, 丁) and Miao (龙, 杨, 陶) names.
SURNAMES = {
    "王": 6.0,
    "李": 6.5,
    "张": 6.0,
    "刘": 4.5,
    "陈": 4.0,
    "杨": 5.5,
    "赵": 2.5,
    "黄": 2.0,
    "周": 2.0,
    "吴": 2.0,
    "徐": 1.2,
    "孙": 1.0,
    "胡": 1.2,
    "朱": 1.0,
    "高": 1.2,
    "林": 0.6,
    "何": 1.0,
    "郭": 1.0,
    "马": 3.5,
    "罗": 1.5,
    "禄": 1.5,
    "安": 1.5,
    "龙": 1.8,
    "陶": 1.0,
    "丁": 1.2,
    "陇": 0.5,
    "管": 0.8,
    "邓": 1.0,
    "蔡": 0.7,
    "田": 1.0,
    "谢": 0.8,
    "宋": 0.7,
    "许": 0.7,
    "吕": 0.6,
    "苏": 0.6,
    "卢": 0.8,
    "蒋": 0.6,
    "唐": 0.7,
    "袁": 0.6,
    "余": 0.6,
}
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞兵文斌学海林云发德成国贵荣福永兴富祥忠"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英桂兰梅珍玉凤琴红燕萍翠花春莲云芬慧"
# Characters people and clerks confuse when a name is typed from speech (同音/形近字): used for feed typos.
HOMOPHONES = {
    "伟": "玮",
    "玮": "伟",
    "军": "俊",
    "俊": "军",
    "华": "桦",
    "明": "铭",
    "杰": "洁",
    "英": "瑛",
    "兰": "岚",
    "云": "芸",
    "芳": "方",
    "丽": "莉",
    "红": "宏",
    "平": "萍",
    "萍": "平",
    "文": "雯",
    "林": "琳",
    "海": "凯",
    "国": "果",
    "成": "诚",
    "德": "得",
    "荣": "蓉",
    "贵": "桂",
    "桂": "贵",
    "秀": "绣",
    "燕": "艳",
    "艳": "燕",
    "学": "雪",
    "飞": "菲",
    "斌": "彬",
    "梅": "美",
    "珍": "贞",
    "玉": "钰",
    "春": "椿",
    "发": "法",
    "富": "付",
}


def draw_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """One name per person: surname + 1 or 2 given-name characters by sex."""
    n = len(male)
    surnames = np.array(list(SURNAMES))
    weights = np.array(list(SURNAMES.values()))
    sur = rng.choice(surnames, size=n, p=weights / weights.sum())
    m_chars = np.array(list(MALE_CHARS))
    f_chars = np.array(list(FEMALE_CHARS))
    first = np.where(male, rng.choice(m_chars, n), rng.choice(f_chars, n))
    second = np.where(male, rng.choice(m_chars, n), rng.choice(f_chars, n))
    two = rng.random(n) < 0.55
    given = np.where(two, np.char.add(first, second), first)
    return np.char.add(sur, given)


def typo(name: str, rng: np.random.Generator) -> str:
    """A plausible clerical variant of a name: one given-name character replaced by a homophone."""
    chars = list(name)
    positions = [i for i, c in enumerate(chars) if i > 0 and c in HOMOPHONES]
    if not positions:
        return name
    i = positions[int(rng.integers(len(positions)))]
    chars[i] = HOMOPHONES[chars[i]]
    return "".join(chars)
