"""Explanations in words, set-based: the red and yellow households' details in, one row per warning out — the
triggers that fired (severe first), their reasons filled in from the household's own figures, the indicators that
carry the most points of the index, the risk types (DOMAIN §7), the feeds the evidence came from and the first
signal date.

It is one DuckDB query over the details (an Arrow table, whichever backend graded), built from the rules and the
indicator catalogue, so a province's hundreds of thousands of warnings are explained in a second or two instead of
a Python loop of dicts; rule reason templates (str.format syntax, see rules.Rule) are compiled to DuckDB `format`
calls, which follow the same format-spec language for the specs a template may use."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import date
from string import Formatter

import numpy as np
import pyarrow as pa

from .. import scratch
from . import steps
from .catalogue import INDICATORS
from .rules import RISK_CODES, TEMPLATE_FIELD, Rule

TITLES = {i.code: i.title_zh for i in INDICATORS}

WARNINGS_SCHEMA = pa.schema(
    [
        ("household_id", pa.int64()),
        ("household_no", pa.string()),
        ("village_code", pa.string()),
        ("grade", pa.string()),
        ("score", pa.float64()),
        ("index_score", pa.float64()),
        ("risk_types", pa.list_(pa.string())),
        ("reasons", pa.list_(pa.string())),
        ("sources", pa.list_(pa.string())),
        ("first_signal_date", pa.date32()),
        ("rules", pa.list_(pa.string())),
        ("points", pa.list_(pa.struct([("code", pa.string()), ("points", pa.float64())]))),
        ("contributions", pa.list_(pa.struct([("code", pa.string()), ("value", pa.float64())]))),
        ("digest", pa.string()),  # of the explanation's inputs (`digests`); NULL when not computed
    ]
)

CONTRIBUTIONS_TYPE = WARNINGS_SCHEMA.field("contributions").type

# Warnings by their digest (`digests`): the open ones as stored, and those a run found exactly so.
DIGESTS_SCHEMA = pa.schema([("household_id", pa.int64()), ("digest", pa.string())])

# The format specs a reason template may use on a number: optional thousands separator, precision, and fixed or
# percent presentation (what the shipped templates use). Anything else makes the reason fall back to the rule's
# title, as a template that fails to format did in Python.
# (rules.validate admits a subset: TEMPLATE_SPEC; rules stored before it may use the rest.)
_NUMBER_SPEC = re.compile(r"^(,)?(\.\d+)?([f%])?$")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _disaster_code(schema: pa.Schema) -> str:
    """The code of the household's disaster type (0299, other natural disaster, when the details do not say)."""
    if "disaster_risk_type" not in schema.names:
        return "'0299'"
    return "COALESCE(NULLIF(disaster_risk_type, ''), '0299')"


def _case(key: str, mapping: dict[str, str], default: str = "NULL") -> str:
    if not mapping:
        return default
    whens = " ".join(f"WHEN {_lit(k)} THEN {v}" for k, v in mapping.items())
    return f"CASE {key} {whens} ELSE {default} END"


def _field(name: str, spec: str, schema: pa.Schema) -> str | None:
    """One template field as a DuckDB string expression, or None when it cannot be formatted like Python would.
    NULL and missing values read as 0, as they did for the Python formatter."""
    if name == "risk_name":
        value = _case(_disaster_code(schema), {k: _lit(v) for k, v in RISK_CODES.items()}, _lit("灾害"))
        return value if spec == "" else None
    if name == "assistance_kind":
        if spec:
            return None
        if "assistance_kind" not in schema.names:
            return "'社会救助'"
        return "COALESCE(NULLIF(assistance_kind, ''), '社会救助')"
    if not TEMPLATE_FIELD.match(name):
        return None  # attribute or index access: not supported
    if name in schema.names:
        kind, column = schema.field(name).type, name
    elif spec == "":
        return "'0'"  # Python formatted the integer 0
    else:
        kind, column = pa.float64(), "CAST(0 AS DOUBLE)"
    if pa.types.is_string(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return f"COALESCE(CAST({column} AS VARCHAR), '0')" if spec == "" else None
    if pa.types.is_boolean(kind):
        column = f"CAST({column} AS INTEGER)"
        kind = pa.int64()
    m = _NUMBER_SPEC.match(spec)
    if not m:
        return None
    comma, precision, presentation = m.groups()
    value = f"COALESCE({column}, 0)"
    if spec == "":
        if pa.types.is_integer(kind):
            return f"format('{{}}', {value})"
        # Python prints a whole float with ".0"; fmt's shortest form leaves it off.
        v = f"CAST({column} AS DOUBLE)"
        return (
            f"CASE WHEN {v} IS NULL THEN '0' WHEN {v} = floor({v}) AND abs({v}) < 1e16 THEN format('{{:.1f}}', {v}) "
            f"ELSE format('{{}}', {v}) END"
        )
    if presentation == "%":
        # Python multiplies the float by 100 and formats it fixed ("f"), then adds the sign.
        return f"format('{{:{comma or ''}{precision or '.6'}f}}%', CAST({value} AS DOUBLE) * 100)"
    if presentation is None and precision is None:
        return f"format('{{:,}}', {value})" if pa.types.is_integer(kind) else None
    return f"format('{{:{comma or ''}{precision or '.6'}f}}', CAST({value} AS DOUBLE))"


def reason_sql(rule: Rule, schema: pa.Schema) -> str:
    """The rule's reason template as one DuckDB string expression over the details row (its title when the
    template uses a field or spec this cannot format)."""
    parts: list[str] = []
    try:
        parsed = list(Formatter().parse(rule.reason))
    except ValueError:
        return _lit(rule.title_zh)
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(_lit(literal))
        if name is None:
            continue
        expr = None if conversion or not name else _field(name, spec or "", schema)
        if expr is None:
            return _lit(rule.title_zh)
        parts.append(expr)
    return "(" + " || ".join(parts or ["''"]) + ")"


def _round2(x: str) -> str:
    """Python's round(x, 2) — the double nearest the decimal correctly rounded from x's exact binary value. DuckDB's
    round multiplies by 100 first, which can land on the other side of a tie (0.175 → 0.18, Python 0.17): near a
    tie the value is formatted (fmt rounds exactly, as Python does) and read back; elsewhere both agree."""
    return (
        f"CASE WHEN abs({x} * 100 - floor({x} * 100) - 0.5) < 1e-6 THEN CAST(format('{{:.2f}}', {x}) AS DOUBLE) "
        f"ELSE round({x}, 2) END"
    )


def _list(items: list[str], element: str) -> str:
    """A list of the non-NULL values among `items` (SQL expressions), in their order."""
    if not items:
        return f"CAST([] AS {element}[])"
    return f"list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)"


def explain_sql(rules: Sequence[Rule], schema: pa.Schema, as_of: date, with_contributions: bool) -> str:
    """The query over `details` (and, with a model, its `contributions` column) giving WARNINGS_SCHEMA rows.

    Triggers are listed severe first, then by code: a fixed order of the rule set, so each per-trigger list is
    the rule set in that order with the rules that did not fire left out — plain CASE expressions, no lambda
    that would copy the row's columns into every list element."""
    has = set(schema.names)
    ordered = sorted(rules, key=lambda r: (r.severity != "severe", r.code))

    def fired(rule: Rule) -> str:
        return f"contains(fired_set, {_lit(';' + rule.code + ';')})"

    disaster = _disaster_code(schema)
    codes = _list([f"CASE WHEN {fired(r)} THEN {_lit(r.code)} END" for r in ordered], "VARCHAR")
    rule_risks = [
        f"CASE WHEN {fired(r)} THEN {disaster if r.risk_type == 'disaster' else _lit(r.risk_type)} END"
        for r in ordered
    ]
    reasons = _list([f"CASE WHEN {fired(r)} THEN {reason_sql(r, schema)} END" for r in ordered], "VARCHAR")
    signal_dates = [
        f"CASE WHEN {fired(r)} THEN {r.signal_date} END"
        for r in ordered
        if r.signal_date and r.signal_date in has
    ]
    # An indicator's risk type of natural disaster (02) names the disaster's own code; it adds nothing when a
    # trigger already gave 02 itself.
    fired_02 = " OR ".join(fired(r) for r in ordered if r.risk_type == "02") or "FALSE"
    items = ", ".join(
        f"{{'k': -CAST(pt_{i.code} AS DOUBLE), 'c': {_lit(i.code)}, 'p': CAST(pt_{i.code} AS DOUBLE), "
        f"'r': {disaster if i.risk_type == '02' else _lit(i.risk_type)}, "
        f"'skip': {('(' + fired_02 + ')') if i.risk_type == '02' else 'FALSE'}, 't': {_lit(i.title_zh)}}}"
        for i in INDICATORS
        if f"pt_{i.code}" in has
    )
    positive = (
        f"list_transform(list_sort(list_filter([{items}], lambda x: x.p > 0 AND NOT isnan(x.p))), "
        f"lambda x: {{'code': x.c, 'points': {_round2('x.p')}, 'r': x.r, 'skip': x.skip, "
        "'t': x.t})"
        if items
        else "CAST([] AS STRUCT(code VARCHAR, points DOUBLE, r VARCHAR, skip BOOLEAN, t VARCHAR)[])"
    )
    sources = _list(
        [f"CASE WHEN COALESCE(n_{f}, 0) <> 0 THEN {_lit(f)} END" for f in steps.FEEDS if f"n_{f}" in has],
        "VARCHAR",
    )
    dates = [c for c in steps.DATE_COLUMNS if c in has]
    first_fired = f"LEAST({', '.join(signal_dates)})" if signal_dates else "NULL"
    any_date = f"LEAST({', '.join(dates)})" if dates else "NULL"
    contributions = "contributions" if with_contributions else f"CAST([] AS {_contrib_sql()})"
    model_reason = (
        "[format('模型预测6个月内返贫致贫概率 {:.1f}%', CAST(score AS DOUBLE)) || CASE WHEN len(contributions) > 0 "
        "THEN '，主要因素：' || array_to_string(list_transform(contributions, lambda x: "
        f"{_case('x.code', {k: _lit(v) for k, v in TITLES.items()}, 'x.code')}), '；') ELSE '' END]"
        if with_contributions
        else "CAST([] AS VARCHAR[])"
    )
    return f"""
WITH marked AS (
  SELECT *, ';' || COALESCE(fired_rules, '') || ';' AS fired_set FROM details
), explained AS (
  SELECT *,
    {codes} AS fired_codes,
    {positive} AS positive,
    {_list(rule_risks, "VARCHAR")} AS fired_risks
  FROM marked
), risked AS (
  SELECT *,
    list_concat(fired_risks, list_transform(list_filter(positive, lambda x: x.points >= 3 AND NOT x.skip),
      lambda x: x.r)) AS all_risks
  FROM explained
), unique_risks AS (
  SELECT *, list_filter(all_risks, lambda x, i: list_position(all_risks, x) = i) AS risks0 FROM risked
)
SELECT
  CAST(household_id AS BIGINT) AS household_id,
  household_no,
  village_code,
  grade,
  CAST(score AS DOUBLE) AS score,
  CAST(index_score AS DOUBLE) AS index_score,
  CASE
    WHEN len(risks0) = 0 THEN ['99']
    WHEN len(risks0) > 1 AND list_contains(risks0, '99')
      THEN list_concat(list_filter(risks0, lambda x: x <> '99'), ['99'])[1:5]
    ELSE risks0[1:5]
  END AS risk_types,
  list_concat(
    {reasons},
    {model_reason},
    [CASE WHEN len(positive) = 0 THEN format('风险分值 {{:.1f}}', CAST(index_score AS DOUBLE))
     ELSE format('风险分值 {{:.1f}}：', CAST(index_score AS DOUBLE)) || array_to_string(
       list_transform(positive[1:3], lambda x: x.t || ' ' || format('{{:.1f}}分', x.points)), '，') END]
  ) AS reasons,
  {sources} AS sources,
  CAST(COALESCE({first_fired}, {any_date}, DATE '{as_of.isoformat()}') AS DATE) AS first_signal_date,
  fired_codes AS rules,
  list_transform(positive, lambda x: {{'code': x.code, 'points': x.points}}) AS points,
  {contributions} AS contributions,
  {"digest" if "digest" in has else "CAST(NULL AS VARCHAR)"} AS digest
FROM unique_risks
ORDER BY household_id
"""


def _contrib_sql() -> str:
    return "STRUCT(code VARCHAR, value DOUBLE)[]"


def fingerprint(rules: Sequence[Rule], schema: pa.Schema, with_contributions: bool, scorer: str = "") -> str:
    """Everything besides a details row that decides its explanation: the explanation query compiled from the
    rules (conditions' codes, reason templates, severities, risk types) and the catalogue, and the scorer (a
    learned model's identity). Any change to them changes every digest, so every warning is explained again."""
    sql = explain_sql(rules, schema, date(2000, 1, 1), with_contributions)
    return hashlib.sha256(f"{sql}\x00{scorer}".encode()).hexdigest()[:16]


def digests(details: pa.Table, fingerprint: str, known: pa.Table | None = None) -> pa.Table:
    """Per details row, in order: `digest`, DuckDB's 64-bit hash (16 hex digits) of the fingerprint and every value
    of the row — the inputs of its explanation —, and `known`, whether `known` (household_id, digest: the open
    warnings as stored) holds that very digest for the household. Equal digests give equal explanations, but for
    a first-signal date that falls back to the screening date, which a stored warning keeps when earlier; so a
    known warning need not be explained again. (A DuckDB upgrade that changed the hash would explain and rewrite
    each warning once.)"""
    names = [n for n in details.column_names if n != "digest"]
    values = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    # The row's position is given, not numbered in SQL: ROW_NUMBER() OVER () promises no order.
    rows = details.select(names).append_column("_n", pa.array(np.arange(details.num_rows, dtype=np.int64)))
    if known is None:
        known = DIGESTS_SCHEMA.empty_table()
    with scratch.connection() as con:
        con.register("details", rows)
        con.register("known", known)
        return con.sql(
            f"SELECT d.digest, EXISTS (SELECT 1 FROM known AS k WHERE k.household_id = d.household_id "
            f"AND k.digest = d.digest) AS known FROM ("
            f"  SELECT _n, household_id, printf('%016x', hash({_lit(fingerprint)}, {values})) AS digest"
            f"  FROM details"
            f") AS d ORDER BY d._n"
        ).to_arrow_table()


# Up to this many warnings are explained in Python: compiling the query costs about 0.1 s, which a live re-screen
# of one household should not pay; beyond it the query wins by far (≈ 10 µs against 60 µs a warning).
SMALL = 1000


def explain_table(
    details: pa.Table,
    rules: Sequence[Rule],
    as_of: date,
    contributions: list[list[tuple[str, float]]] | None = None,
    *,
    small: int | None = None,
) -> pa.Table:
    """The warnings of the `details` rows (red and yellow households) as WARNINGS_SCHEMA, in household order."""
    if details.num_rows <= (SMALL if small is None else small):
        rows = explain_rows(
            details.to_pylist(), list(rules), as_of, contributions
        )  # details: household order
        return pa.Table.from_pylist(rows, schema=WARNINGS_SCHEMA)
    if contributions is not None:
        details = details.append_column(
            "contributions",
            pa.array(
                [[{"code": c, "value": v} for c, v in row] for row in contributions], CONTRIBUTIONS_TYPE
            ),
        )
    sql = explain_sql(rules, details.schema, as_of, contributions is not None)
    with scratch.connection() as con:
        con.register("details", details)
        table = con.sql(sql).to_arrow_table()
    return table.cast(WARNINGS_SCHEMA)


class _Values(dict):
    """A row as format values: missing or NULL reads as 0 (built once per row, not per reason)."""

    def __getitem__(self, key: str):
        value = dict.get(self, key)
        return 0 if value is None else value


def _fmt(rule: Rule, row: dict, values: _Values | None = None) -> str:
    if values is None:
        values = _Values(row)
        code = row.get("disaster_risk_type") or "0299"
        values["risk_name"] = RISK_CODES.get(code, "灾害")
        values["assistance_kind"] = row.get("assistance_kind") or "社会救助"
    try:
        return rule.reason.format_map(values)
    except (KeyError, ValueError, TypeError):
        return rule.title_zh


def explain_rows(
    rows: list[dict],
    rules: Sequence[Rule],
    as_of: date,
    contributions: list[list[tuple[str, float]]] | None = None,
) -> list[dict]:
    """The same explanation as `explain_sql`, row by row in Python, as WARNINGS_SCHEMA rows: for a handful of
    households (the live path re-screens one at a time), where compiling the query would cost more than it saves.
    tests/test_explain.py proves both give the same warnings."""
    by_code = {r.code: r for r in rules}
    titles = {i.code: i.title_zh for i in INDICATORS}
    risk_of = {i.code: i.risk_type for i in INDICATORS}
    point_keys = [(i.code, f"pt_{i.code}") for i in INDICATORS]
    out = []
    for n, row in enumerate(rows):
        fired = [c for c in (row["fired_rules"] or "").split(";") if c]
        fired.sort(key=lambda c: (by_code[c].severity != "severe", c))
        positive = [(c, p) for c, k in point_keys if (p := row[k]) and p > 0]
        positive.sort(key=lambda p: (-p[1], p[0]))
        points = [(c, round(p, 2)) for c, p in positive]
        risks: list[str] = []
        for c in fired:
            r = by_code[c].risk_type
            r = (row.get("disaster_risk_type") or "0299") if r == "disaster" else r
            if r not in risks:
                risks.append(r)
        for c, p in points:
            r = risk_of[c]
            if p >= 3 and r not in risks:
                r = (row.get("disaster_risk_type") or "0299") if r == "02" else r
                if r not in risks:
                    risks.append(r)
        if len(risks) > 1 and "99" in risks:
            risks.remove("99")
            risks.append("99")
        values = _Values(row)
        values["risk_name"] = RISK_CODES.get(row.get("disaster_risk_type") or "0299", "灾害")
        values["assistance_kind"] = row.get("assistance_kind") or "社会救助"
        reasons = [_fmt(by_code[c], row, values) for c in fired]
        contrib = contributions[n] if contributions is not None else []
        if contributions is not None:
            named = "；".join(titles[c] for c, _ in contrib)
            reasons.append(
                f"模型预测6个月内返贫致贫概率 {row['score']:.1f}%" + (f"，主要因素：{named}" if named else "")
            )
        index_score = row.get("index_score", row["score"])
        top = "，".join(f"{titles[c]} {p:.1f}分" for c, p in points[:3])
        reasons.append(f"风险分值 {index_score:.1f}：{top}" if top else f"风险分值 {index_score:.1f}")
        dates: list[date] = [
            row[by_code[c].signal_date]
            for c in fired
            if by_code[c].signal_date and row.get(by_code[c].signal_date)
        ]
        if not dates:
            dates = [row[c] for c in steps.DATE_COLUMNS if row.get(c) is not None]
        sources = [f for f in steps.FEEDS if row.get(f"n_{f}")]
        out.append(
            {
                "household_id": row["household_id"],
                "household_no": row["household_no"],
                "village_code": row["village_code"],
                "grade": row["grade"],
                "score": float(row["score"]),
                "index_score": float(index_score),
                "risk_types": (risks or ["99"])[:5],
                "reasons": reasons,
                "sources": sources,
                "first_signal_date": min(dates) if dates else as_of,
                "rules": fired,
                "points": [{"code": c, "points": p} for c, p in points],
                "contributions": [{"code": c, "value": v} for c, v in contrib],
                "digest": row.get("digest"),
            }
        )
    return out
