"""One small function per field kind, each returning DuckDB SQL over a text column: the repaired value and an
error code (NULL when fine). normalize.py composes them into one set-based SELECT.

Every function takes `c`, the SQL of a cleaned cell (see `sql_clean`: full-width forms folded to ASCII, blanks
trimmed, blank → NULL), so a blank cell is NULL here and stays NULL (never 0)."""

from __future__ import annotations

from datetime import date

from engine.ids import CHECK_CHARS, WEIGHTS

from .specs import Field

# Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space fold to ASCII, as NFKC would do for them.
FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
BLANKS = " \t\r\n\u3000\u00a0\ufeff"
TRUE_WORDS = ("是", "有", "y", "yes", "true", "t", "1", "√", "✓", "✔", "对")
FALSE_WORDS = ("否", "无", "n", "no", "false", "f", "0", "×", "✗", "✘", "不是")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")
SCIENTIFIC = "[0-9](\\.[0-9]+)?[eE]\\+?[0-9]{1,2}"  # a long number Excel rounded: 5.20526199001011E+17

Sql = tuple[str, str]  # (value expression, error-code expression)
# Error expressions refer to the field's value as V; normalize.py computes the value once, in an inner layer,
# and substitutes its column for V, which keeps the SQL small (planning time) and each value computed once.
V = "__value__"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


_BLANK_CODES = "32, 9, 10, 13, 160, 12288, 65279"  # code points of BLANKS, for a cheap first-character test


def sql_nonblank(col: str) -> str:
    """True when the cell holds something other than blanks. The first character decides in the common case;
    only cells starting with a blank pay for trim()."""
    return (
        f"CASE WHEN {col} IS NULL THEN false WHEN ascii({col}) NOT IN ({_BLANK_CODES}) THEN true "
        f"ELSE trim({col}, {lit(BLANKS)}) <> '' END"
    )


# Control characters (NUL and the other C0 codes but tab and line breaks, and DEL) never mean anything in a cell;
# PostgreSQL refuses NUL in text and openpyxl refuses all of them, so they are dropped before anything is stored.
CONTROLS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"


def sql_strip_controls(col: str) -> str:
    """The text without control characters (see CONTROLS)."""
    return f"regexp_replace({col}, '{CONTROLS}', '', 'g')"


def sql_clean(col: str) -> str:
    """Full-width forms to ASCII, control characters dropped, surrounding blanks removed, blank → NULL. One
    regular expression finds the cells that need any of it, so a clean cell costs one scan."""
    needs = f"[\\x{{FF01}}-\\x{{FF5E}}\\x{{3000}}]|^[\\s\\x{{A0}}\\x{{FEFF}}]|[\\s\\x{{A0}}\\x{{FEFF}}]$|{CONTROLS}"
    fixed = f"trim(translate({sql_strip_controls(col)}, {lit(FULL)}, {lit(HALF)}), {lit(BLANKS)})"
    return f"NULLIF(CASE WHEN regexp_matches({col}, '{needs}') THEN {fixed} ELSE {col} END, '')"


def _bad(c: str, code: str) -> str:
    return f"CASE WHEN {V} IS NULL AND {c} IS NOT NULL THEN '{code}' END"


def sql_text(c: str) -> Sql:
    """Text as given; a long number that Excel turned into scientific notation is an error, not a value."""
    return c, f"CASE WHEN regexp_full_match({c}, '{SCIENTIFIC}') THEN 'excel_number' END"


def sql_money(c: str) -> Sql:
    """Money: thousands separators, 元, ¥/￥ and inner spaces removed; "-" alone counts as blank."""
    stripped = f"NULLIF(NULLIF(regexp_replace({c}, '[,，元¥￥\\s]', '', 'g'), ''), '-')"
    value = f"TRY_CAST({stripped} AS DECIMAL(14,2))"
    return value, f"CASE WHEN {V} IS NULL AND {stripped} IS NOT NULL THEN 'bad_money' END"


def sql_int(c: str) -> Sql:
    """Whole numbers, also written as "12.0" (Excel floats) — but not 12.5."""
    number = f"TRY_CAST({c} AS DOUBLE)"
    value = (
        f"CASE WHEN isfinite({number}) AND {number} = floor({number}) AND abs({number}) < 2147483648 "
        f"THEN CAST({number} AS INTEGER) END"
    )
    return value, _bad(c, "bad_int")


def sql_date(c: str) -> Sql:
    """2024-03-05, 2024/3/5, 2024年3月5日, 20240305, 2024.3.5, with or without a time part, or an Excel serial
    number (days since 1899-12-30) of a date in 1900-03-01…2100-12-31. A bare 4-digit number in 1900–2100 is read
    as a year someone typed, not as a serial of 1905, and so is an error."""
    text = f"regexp_replace({c}, '[\\sT]+[0-9]{{1,2}}:[0-9]{{2}}.*$', '')"  # drop a time part
    formats = "[" + ", ".join(lit(f) for f in DATE_FORMATS) + "]"
    parsed = f"CAST(try_strptime({text}, {formats}) AS DATE)"
    serial = f"TRY_CAST({c} AS DOUBLE)"
    from_serial = (
        f"CASE WHEN regexp_full_match({c}, '[0-9]{{2,5}}(\\.[0-9]+)?') AND {serial} BETWEEN 61 AND 73415 "
        f"AND NOT ({serial} BETWEEN 1900 AND 2100) "
        f"THEN CAST(DATE '1899-12-30' + CAST(floor({serial}) AS INTEGER) AS DATE) END"
    )
    # strptime's %Y also takes 1–3 digit years ("24-03-05" → year 24): a date outside 1880–2100 is an error.
    value = f"COALESCE({parsed}, {from_serial})"
    return f"CASE WHEN {value} BETWEEN DATE '1880-01-01' AND DATE '2100-12-31' THEN {value} END", _bad(
        c, "bad_date"
    )


def sql_bool(c: str) -> Sql:
    """是/否, Y/N, 1/0, true/false, √/×, 有/无 (any case)."""
    trues = ", ".join(lit(w) for w in TRUE_WORDS)
    falses = ", ".join(lit(w) for w in FALSE_WORDS)
    value = (
        f"CASE WHEN {c} IN ({trues}) THEN TRUE WHEN {c} IN ({falses}) THEN FALSE "
        f"WHEN lower({c}) IN ({trues}) THEN TRUE WHEN lower({c}) IN ({falses}) THEN FALSE END"
    )
    return value, _bad(c, "bad_bool")


def sql_enum(c: str, code: str) -> Sql:
    """An enum cell whose code was looked up per distinct value (lookups.enum_table) as `code`: '' means an
    alias for blank, NULL means unknown → 'unknown_value' (a warning for non-strict fields, value then NULL)."""
    return f"NULLIF({code}, '')", f"CASE WHEN {c} IS NOT NULL AND {code} IS NULL THEN 'unknown_value' END"


def sql_region_code(c: str) -> Sql:
    """Exactly 12 digits (a village's statistical division code); a float tail ".0" is dropped."""
    digits = f"regexp_replace({c}, '\\.0+$', '')"
    value = f"CASE WHEN regexp_full_match({digits}, '[0-9]{{12}}') THEN {digits} END"
    return value, _bad(c, "bad_region_code")


def sql_phone(c: str) -> Sql:
    """Digits only after removing spaces, dashes, brackets and a +86/0086 prefix of a mobile number; 7–12 digits."""
    stripped = f"regexp_replace({c}, '[\\s\\-()（）]', '', 'g')"
    digits = f"regexp_replace({stripped}, '^(\\+86|0086)(1[0-9]{{10}})$', '\\2')"
    value = f"CASE WHEN regexp_full_match({digits}, '[0-9]{{7,12}}') THEN {digits} END"
    return value, _bad(c, "bad_phone")


def sql_range(f: Field) -> str:
    """'out_of_range' when the value falls outside [min, max]."""
    lo = f"{V} < {f.min}" if f.min is not None else "FALSE"
    hi = f"{V} > {f.max}" if f.max is not None else "FALSE"
    return f"CASE WHEN {lo} OR {hi} THEN 'out_of_range' END"


def field_sql(f: Field, c: str) -> Sql:
    """The value and error SQL of one field of a kind computed from the cleaned cell `c` alone (not ID, enum)."""
    builders = {
        "text": sql_text,
        "money": sql_money,
        "int": sql_int,
        "date": sql_date,
        "bool": sql_bool,
        "region_code": sql_region_code,
        "phone": sql_phone,
    }
    return builders[f.kind](c)


def sql_id_fast(r: str, today: date) -> str:
    """True when the raw cell is already a valid 18-character ID: 17 digits + check character (either case),
    checksum right, birth date real, from 1880 on and not in the future. This is exactly the VALID verdict of
    engine.ids.classify_id_number for such text; every other cell is sent to that function itself."""
    terms = " + ".join(f"(ascii(substr({r}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS))
    born = sql_id_birth(r)
    return (
        f"(regexp_full_match({r}, '[0-9]{{17}}[0-9Xx]') "
        f"AND substr({lit(CHECK_CHARS)}, (({terms}) % 11) + 1, 1) = upper(substr({r}, 18, 1)) "
        f"AND {born} BETWEEN DATE '1880-01-01' AND DATE '{today.isoformat()}')"
    )


def sql_id_birth(r: str) -> str:
    """The birth date inside an 18-character ID."""
    return f"CAST(try_strptime(substr({r}, 7, 8), '%Y%m%d') AS DATE)"


def sql_id_sex(r: str) -> str:
    """The sex code from the sequence digit of an 18-character ID (odd = male)."""
    return f"CASE WHEN (ascii(substr({r}, 17, 1)) - 48) % 2 = 1 THEN 'male' ELSE 'female' END"
