"""The vectorised ID check agrees with the per-value reference on every kind of cell."""

from datetime import date

import pyarrow as pa

from engine.ids import IdStatus, check_char, classify_id_number, valid_18_mask

TODAY = date(2026, 11, 23)


def _id(first17: str) -> str:
    return first17 + check_char(first17)


def _wrong_check(first17: str) -> str:
    return first17 + ("1" if check_char(first17) != "1" else "2")


CELLS = [
    _id("52052619800101001"),
    _wrong_check("52052619800101001"),
    _id("52052620000229002"),  # 29 February of a leap year
    _id("52052619000229002"),  # 1900 was not a leap year
    _id("52052619801301002"),  # month 13
    _id("52052618790101002"),  # before 1880
    _id("52052620301231002"),  # born in the future
    _id("11010519491231002").lower(),  # the check character may be a lower-case x
    " " + _id("52052619800101001"),  # needs cleaning: left to classify_id_number
    "52052680010100",  # too short
    "5205261980010100１",  # full-width digit
    "5.20526198001011E+17",
    "",
    None,
]


def test_agrees_with_classify_id_number():
    mask = valid_18_mask(CELLS, TODAY)
    for cell, fast in zip(CELLS, mask, strict=True):
        plain = cell is not None and len(cell) == 18 and cell.strip() == cell and cell.isascii()
        expected = plain and classify_id_number(cell, TODAY).status is IdStatus.VALID
        assert bool(fast) == expected, cell


def test_blocks_and_chunked_arrays_give_the_same_answer():
    cells = [_id(f"520526198{i % 10}0101{i % 1000:03d}") for i in range(300_000)] + ["x" * 18]
    chunked = pa.chunked_array([cells[:100_000], cells[100_000:]])
    mask = valid_18_mask(chunked, TODAY)
    assert mask[:-1].all() and not mask[-1]
    assert (valid_18_mask(pa.array(cells), TODAY) == mask).all()
