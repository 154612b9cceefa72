"""GB 11643 ID numbers: the standard's own example and the edge cases real files contain."""

from datetime import date

import pytest

from engine.ids import (
    IdStatus,
    check_char,
    classify_id_number,
    convert_15_to_18,
    mask_id_number,
    mask_phone,
)

STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999, appendix example


def test_standard_example_is_valid_with_derived_sex_and_birth_date():
    verdict = classify_id_number(STANDARD_EXAMPLE)
    assert verdict.status is IdStatus.VALID
    assert verdict.number == STANDARD_EXAMPLE
    assert verdict.birth_date == date(1949, 12, 31)
    assert verdict.sex == "女"  # sequence 002 is even
    assert check_char("11010519491231002") == "X"


def test_lowercase_x_spaces_fullwidth_and_apostrophe_are_normalised():
    for raw in [
        "11010519491231002x",
        " 11010519491231002X ",
        "'11010519491231002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]:
        assert classify_id_number(raw).number == STANDARD_EXAMPLE, raw


def test_fifteen_digit_id_converts_to_eighteen():
    assert convert_15_to_18("110105491231002") == STANDARD_EXAMPLE
    verdict = classify_id_number("110105491231002")
    assert verdict.status is IdStatus.CONVERTED
    assert verdict.number == STANDARD_EXAMPLE


def test_male_sequence_odd():
    first17 = "52052619900101001"
    verdict = classify_id_number(first17 + check_char(first17))
    assert verdict.sex == "男"
    assert verdict.birth_date == date(1990, 1, 1)


@pytest.mark.parametrize("raw", [5.20526199001011e17, "5.20526199001011E+17", "5.20526199001011e+17"])
def test_excel_float_ids_are_damaged_and_keep_their_first_15_characters(raw):
    verdict = classify_id_number(raw)
    assert verdict.status is IdStatus.EXCEL_DAMAGED
    assert not verdict.accepted
    assert verdict.number is None
    assert verdict.prefix15 == "520526199001011"


def test_eighteen_digits_ending_000_with_bad_checksum_are_excel_damaged():
    verdict = classify_id_number("520526199001011000")
    assert verdict.status is IdStatus.EXCEL_DAMAGED
    assert verdict.prefix15 == "520526199001011"


def test_bad_checksum_bad_date_bad_format_missing():
    assert classify_id_number("110105194912310021").status is IdStatus.BAD_CHECKSUM
    first17 = "11010519491331002"  # month 13
    assert classify_id_number(first17 + check_char(first17)).status is IdStatus.BAD_DATE
    first17 = "11010520991231002"  # born in the future
    assert (
        classify_id_number(first17 + check_char(first17), today=date(2026, 1, 1)).status is IdStatus.BAD_DATE
    )
    assert classify_id_number("1101051949123100").status is IdStatus.BAD_FORMAT
    assert classify_id_number("11010519491231002Y").status is IdStatus.BAD_FORMAT
    assert classify_id_number("").status is IdStatus.MISSING
    assert classify_id_number(None).status is IdStatus.MISSING


def test_unknown_region_code_in_id_is_not_a_rejection():
    first17 = "99999919900101002"  # no such region: areas are recoded, the ID keeps the old code
    assert classify_id_number(first17 + check_char(first17)).status is IdStatus.VALID


def test_masks():
    assert mask_id_number(STANDARD_EXAMPLE) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == ""
