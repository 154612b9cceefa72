"""The English texts of the indicator catalogue (catalogue_en.py): complete, nothing stale, no Chinese left, and
every number and operator of a Chinese definition carried over to its English one."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from engine.screening.catalogue import INDICATORS
from engine.screening.catalogue_en import DEFINITIONS_EN, DIRECTIONS_EN, SOURCES_EN, UNITS_EN, english
from engine.screening.fields import UNIT_EN

CODES = {i.code for i in INDICATORS}
# CJK ideographs (with extension A and compatibility ones), CJK punctuation, fullwidth forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
OPERATORS = ("÷", "×", "=")


def _numbers(text: str) -> set[Decimal]:
    """The numbers in a text, by value (so "09" is 9 and "0.50" is 0.5)."""
    return {Decimal(n) for n in NUMBER.findall(text)}


def test_every_indicator_has_a_definition_and_a_source():
    for i in INDICATORS:
        assert DEFINITIONS_EN.get(i.code, "").strip(), i.code
        assert SOURCES_EN.get(i.code, "").strip(), i.code


def test_no_text_for_a_code_that_is_no_indicator():
    assert set(DEFINITIONS_EN) - CODES == set()
    assert set(SOURCES_EN) - CODES == set()


def test_every_unit_and_direction_is_covered():
    assert {i.unit for i in INDICATORS} == set(UNITS_EN)
    assert {i.direction for i in INDICATORS} <= set(DIRECTIONS_EN)
    assert set(DIRECTIONS_EN) == {"越低风险越高", "越高风险越高"}


def test_units_use_the_wording_of_the_fields_page():
    shared = set(UNITS_EN) & set(UNIT_EN)
    assert shared
    assert {u: UNITS_EN[u] for u in shared} == {u: UNIT_EN[u] for u in shared}


def test_no_chinese_left_in_the_english_texts():
    texts = [
        *DEFINITIONS_EN.values(),
        *SOURCES_EN.values(),
        *UNITS_EN.values(),
        *DIRECTIONS_EN.values(),
        *(i.title_en for i in INDICATORS),
    ]
    assert [t for t in texts if CJK.search(t)] == []


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.code)
def test_numbers_and_operators_of_the_definition_are_carried_over(ind):
    en = DEFINITIONS_EN[ind.code]
    assert _numbers(ind.definition) <= _numbers(en), (ind.code, _numbers(ind.definition) - _numbers(en))
    for op in OPERATORS:
        assert en.count(op) == ind.definition.count(op), (ind.code, op)


def test_a_source_name_always_gets_the_same_english_name():
    seen: dict[str, set[str]] = {}
    for i in INDICATORS:
        zh, en = i.source.split(" + "), SOURCES_EN[i.code].split(" + ")
        assert len(zh) == len(en), i.code
        for z, e in zip(zh, en, strict=True):
            seen.setdefault(z, set()).add(e)
    assert {z: e for z, e in seen.items() if len(e) > 1} == {}


def test_english_gives_the_five_texts_of_an_indicator():
    for i in INDICATORS:
        texts = english(i)
        assert texts == {
            "title": i.title_en,
            "definition": DEFINITIONS_EN[i.code],
            "source": SOURCES_EN[i.code],
            "unit": UNITS_EN[i.unit],
            "direction": DIRECTIONS_EN[i.direction],
        }
        assert all(v and not CJK.search(v) for v in texts.values()), i.code
