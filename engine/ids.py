"""Citizen ID numbers (公民身份号码) per GB 11643-1999.

An 18-character number is: 6-digit region code of first registration, 8-digit birth date, 3-digit sequence (odd for
men, even for women) and a check character computed with ISO 7064 MOD 11-2 over the first 17 digits. Old 15-digit
numbers (before 1999) omit the century ("19" is implied) and the check character.

`classify_id_number` is the single place that decides what a raw ID cell is. It never raises: it returns a status so
that callers can turn each status into a clear row-level message. Region codes inside the ID are deliberately NOT
checked against the division table: areas are renamed and recoded over the years and the ID keeps the old code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

_SCIENTIFIC = re.compile(r"^[0-9](?:\.[0-9]+)?[eE]\+?[0-9]{1,2}$")
_FLOAT_TAIL = re.compile(r"^([0-9]{15,18})\.0+$")


class IdStatus(StrEnum):
    VALID = "valid"  # 18 characters, checksum correct
    CONVERTED = "converted"  # 15-digit old number, converted to 18
    EXCEL_DAMAGED = "excel_damaged"  # stored as a float by Excel: trailing digits lost
    BAD_CHECKSUM = "bad_checksum"
    BAD_DATE = "bad_date"
    BAD_FORMAT = "bad_format"
    MISSING = "missing"


ACCEPTED_STATUSES = frozenset({IdStatus.VALID, IdStatus.CONVERTED})


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one raw ID cell.

    `number` is the normalised 18-character ID when the status is accepted, else None. `prefix15` keeps the leading
    15 characters that survive Excel's float rounding (region + birth date + sequence), used for matching only.
    """

    status: IdStatus
    number: str | None = None
    prefix15: str | None = None
    sex: str | None = None  # "男" / "女"
    birth_date: date | None = None

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_STATUSES


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def convert_15_to_18(old: str) -> str:
    """Old 15-digit number → 18 characters: insert the century "19" and append the check character."""
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_char(first17)


def clean_raw(raw: object) -> str:
    """Strip what spreadsheets and people add around an ID: spaces, full-width forms, a leading apostrophe."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        # A numeric cell: Excel kept at most 15 significant digits. Render it the way Excel shows it.
        return f"{raw:.14E}".replace("E+", "E+") if raw >= 1e15 else repr(raw)
    if isinstance(raw, int):
        return str(raw)
    text = unicodedata.normalize("NFKC", str(raw))
    text = "".join(text.split())
    return text.lstrip("'‘’`").upper()


def _birth(digits8: str) -> date | None:
    try:
        born = date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None
    if born.year < 1880:
        return None
    return born


def _verdict(number: str, status: IdStatus) -> IdCheck:
    born = _birth(number[6:14])
    if born is None:
        return IdCheck(IdStatus.BAD_DATE, prefix15=number[:15])
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdCheck(status, number=number, prefix15=number[:15], sex=sex, birth_date=born)


def classify_id_number(raw: object, today: date | None = None) -> IdCheck:
    """Decide what a raw ID cell is: valid, converted from 15 digits, Excel-damaged, or wrong (and how)."""
    text = clean_raw(raw)
    if not text:
        return IdCheck(IdStatus.MISSING)
    if _SCIENTIFIC.match(text):
        digits = text.split("E")[0].replace(".", "")
        return IdCheck(IdStatus.EXCEL_DAMAGED, prefix15=digits[:15] if len(digits) >= 15 else None)
    tail = _FLOAT_TAIL.match(text)
    if tail:  # "520526199001011000.0": a float written out in full
        text = tail.group(1)
        if len(text) == 18 and text[15:] == "000" and check_char(text[:17]) != text[17]:
            return IdCheck(IdStatus.EXCEL_DAMAGED, prefix15=text[:15])
    if len(text) == 15 and text.isdigit():
        if _birth("19" + text[6:12]) is None:
            return IdCheck(IdStatus.BAD_DATE, prefix15=None)
        return _verdict(convert_15_to_18(text), IdStatus.CONVERTED)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return IdCheck(IdStatus.BAD_FORMAT)
    if check_char(text[:17]) != text[17]:
        if text[15:] == "000":
            # 18 digits ending in 000 with a wrong check digit: the tell-tale of a number that passed through a
            # 15-significant-digit float and was written back out.
            return IdCheck(IdStatus.EXCEL_DAMAGED, prefix15=text[:15])
        return IdCheck(IdStatus.BAD_CHECKSUM, prefix15=text[:15])
    verdict = _verdict(text, IdStatus.VALID)
    if verdict.birth_date and verdict.birth_date > (today or date.today()):
        return IdCheck(IdStatus.BAD_DATE, prefix15=text[:15])
    return verdict


STATUS_MESSAGES = {
    IdStatus.EXCEL_DAMAGED: "身份证号被Excel按数字存储，末几位已丢失（请将该列设为文本后重新导出）",
    IdStatus.BAD_CHECKSUM: "身份证号校验位错误",
    IdStatus.BAD_DATE: "身份证号中的出生日期无效",
    IdStatus.BAD_FORMAT: "身份证号格式错误（应为18位，或旧15位）",
    IdStatus.MISSING: "缺少身份证号",
}


def mask_id_number(number: str | None) -> str:
    """Mask for lists and exports: keep the first 6 and last 4 (e.g. 520526********123X)."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """Mask a phone number for lists: 138****5678."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


VECTOR_BLOCK = 262_144


def valid_18_mask(values, today: date | None = None):
    """Vectorised check of many cells at once (numpy over the Arrow string buffer, no Python loop per value).

    Returns a boolean array: True exactly where `classify_id_number` would say VALID for a cell that is already a
    clean 18-character ID (17 digits + check character in either case, checksum right, real birth date from 1880
    up to `today`). Cells needing repair (spaces, full-width digits, 15-digit numbers, Excel floats) come out False
    and go through `classify_id_number` one by one — they are few."""
    import numpy as np
    import pyarrow as pa

    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) > VECTOR_BLOCK:  # blocks keep the temporaries small: fewer page faults, same result
        return np.concatenate(
            [valid_18_mask(arr.slice(i, VECTOR_BLOCK), today) for i in range(0, len(arr), VECTOR_BLOCK)]
        )
    n = len(arr)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + n + 1].astype(np.int64)
    data = (
        np.frombuffer(arr.buffers()[2], dtype=np.uint8)
        if arr.buffers()[2] is not None
        else np.zeros(0, np.uint8)
    )
    candidates = np.diff(offsets) == 18
    if arr.null_count:
        candidates &= ~np.asarray(arr.is_null())
    if (
        candidates.all()
    ):  # the usual column: every cell 18 characters, so the buffer is an n × 18 matrix as it is
        rows = np.arange(n)
        chars = data[offsets[0] : offsets[0] + 18 * n].reshape(n, 18)
    else:
        rows = np.flatnonzero(candidates)
        if not len(rows):
            return out
        chars = data[offsets[rows][:, None] + np.arange(18)]
    digits = chars[:, :17] - np.uint8(48)  # non-digits wrap around to values above 9
    ok = (digits <= 9).all(axis=1)
    d = digits.astype(np.int32)
    total = d @ np.array(WEIGHTS, dtype=np.int32)
    expected = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[total % 11]
    last = chars[:, 17]
    ok &= expected == np.where(last == ord("x"), np.uint8(ord("X")), last)
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1880)
    start = (np.clip(year, 1880, 9999) - 1970) * 12 + np.clip(month, 1, 12) - 1
    month_start = start.astype("datetime64[M]").astype("datetime64[D]")
    month_days = ((start + 1).astype("datetime64[M]").astype("datetime64[D]") - month_start).astype(np.int32)
    ok &= day <= month_days
    birth = month_start + (np.clip(day, 1, 31) - 1).astype("timedelta64[D]")
    ok &= birth <= np.datetime64(today or date.today())
    out[rows] = ok
    return out
