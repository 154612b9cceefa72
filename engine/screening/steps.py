"""The screening steps: each a small pure function returning one canonical SQL statement (DuckDB dialect; the
Spark backend transpiles it with sqlglot). Run in order they build, per household:

    m_feat (members) ────────────────────────────────────────────┐
    p_feat (events per person), dropouts ─► pr_feat (+ members) ─┤
    e_feat (events per household) ───────────────────────────────┼─► features ─► scored (indicator shares,
    i_feat (income) ─────────────────────────────────────────────┤             points, index, triggers, grade)
    v_feat (village events) ─────────────────────────────────────┘

The events (by far the largest input) are grouped before anything is joined to them: per person and per household
straight from the input, with the members joined to the per-person rows afterwards.

Input tables (the engine's boundary; the platform fills them from its database, tests from the simulator):
  households(household_id, household_no, village_code, household_type, monitor_category, no_labour_household,
             relocation_site)
  members(member_id, household_id, is_active, birth_date, education, student_status, health, disability_grade,
          labour_capacity, work_months, basic_medical_insured)
  household_years(household_id, year, wage_income, business_income, property_income, transfer_income,
                  business_cost, claim_income, compliant_out_of_pocket, housing_unsafe, dropout, water_unsafe,
                  uninsured_member, household_size)
  events(feed, household_id, member_id, village_code, event_date, received_date, amount, kind)
  params(village_code, p_<name> …)   — engine.screening.params.resolve
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .catalogue import INDICATORS

FEEDS = (
    "medical_settlement",
    "illness_diagnosis",
    "civil_assistance",
    "death_registration",
    "disability_certificate",
    "school_status",
    "housing_appraisal",
    "water_incident",
    "disaster_loss",
    "employment_change",
    "accident",
    "microcredit",
)

EDUCATION_YEARS = {"illiterate": 1, "primary": 6, "junior": 9, "senior": 12, "vocational": 12, "college": 15}
LABOUR = "('ordinary', 'skilled')"
ABLE = "('ordinary', 'skilled', 'weak')"
JOB_LOSS = "('失业登记', '返乡')"
ASSISTANCE_NEW = "('低保', '特困', '临时救助', '低保边缘', '刚性支出困难')"
# Events that count as a health shock, in the per-person and the per-household steps alike.
SERIOUS_ILLNESS = "feed = 'illness_diagnosis' AND kind = '大病'"
SEVERE_DISABILITY = "feed = 'disability_certificate' AND amount <= 2"
SEVERE_ACCIDENT = "feed = 'accident' AND kind IN ('重伤', '死亡')"
DEATH = "feed = 'death_registration'"
DISASTER_CODES = {
    "洪涝灾害": "0201",
    "地质灾害": "0202",
    "干旱灾害": "0203",
    "生物灾害": "0204",
    "风雹灾害": "0205",
    "低温冷冻和雪灾": "0205",
    "台风灾害": "0205",
    "地震灾害": "0206",
}


@dataclass(frozen=True)
class Window:
    """The dates a run looks at: events reported by `as_of`, the last 12 months (and 6 and 24), and the income
    year the annual collection has delivered by then."""

    as_of: date
    months12: date
    months6: date
    months24: date
    income_year: int
    months3: date
    next_september: date  # the next 1 September on or after as_of: the school year whose costs come next

    @classmethod
    def at(cls, as_of: date, income_year: int | None = None) -> Window:
        return cls(
            as_of=as_of,
            months12=as_of - timedelta(days=365),
            months6=as_of - timedelta(days=183),
            months24=as_of - timedelta(days=730),
            income_year=income_year if income_year is not None else as_of.year - 1,
            months3=as_of - timedelta(days=91),
            next_september=date(as_of.year if (as_of.month, as_of.day) <= (9, 1) else as_of.year + 1, 9, 1),
        )


def _d(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def _age(column: str, at: str) -> str:
    return f"DATE_DIFF('day', {column}, {at}) / 365.25"


def _money_sum(expr: str) -> str:
    """A sum of money, exact in cents whatever order the engine adds the rows in (a sum of DOUBLEs is not, and
    DuckDB's threads and Spark's partitions add in different orders). Amounts arrive as DECIMAL(14,2)."""
    return f"CAST(SUM(CAST({expr} AS DECIMAL(18, 2))) AS DOUBLE)"


def _round(expr: str, digits: int) -> str:
    """ROUND(x, n) of a DOUBLE, the same in every engine: DuckDB's ROUND(x, n) is exactly ROUND(x * 10ⁿ) / 10ⁿ
    (half away from zero on the binary product), Spark's rounds the shortest decimal string of x half up (so
    0.285 → 0.29 there, 0.28 here); both round a whole-number ROUND(y) alike."""
    scale = 10**digits
    return f"ROUND(({expr}) * {scale}) / {scale}"


def member_features(w: Window) -> str:
    edu = " ".join(f"WHEN '{k}' THEN {v}" for k, v in EDUCATION_YEARS.items())
    return f"""
CREATE TABLE m_feat AS
SELECT household_id,
  COUNT(*) AS members,
  SUM(CASE WHEN labour_capacity IN {LABOUR} THEN 1 ELSE 0 END) AS labour_count,
  SUM(CASE WHEN labour_capacity IN {ABLE} THEN 1 ELSE 0 END) AS able_count,
  SUM(CASE WHEN labour_capacity = 'skilled' THEN 1 ELSE 0 END) AS skilled_count,
  SUM(CASE WHEN age < 16 OR age >= 65 THEN 1 ELSE 0 END) AS dependants,
  SUM(CASE WHEN age >= 65 THEN 1 ELSE 0 END) AS elderly,
  SUM(CASE WHEN health IN ('chronic', 'serious') THEN 1 ELSE 0 END) AS ill_count,
  SUM(CASE WHEN health = 'serious' THEN 1 ELSE 0 END) AS serious_count,
  SUM(CASE WHEN health = 'disabled' OR disability_grade IS NOT NULL THEN 1 ELSE 0 END) AS disabled_count,
  SUM(CASE WHEN disability_grade IN (1, 2) THEN 1 ELSE 0 END) AS severe_disabled_count,
  SUM(COALESCE(work_months, 0)) AS work_months,
  AVG(CASE WHEN labour_capacity IN {LABOUR} THEN CASE education {edu} ELSE NULL END END) AS labour_edu_years,
  SUM(CASE WHEN student_status IN ('primary', 'junior', 'senior', 'vocational', 'college') THEN 1 ELSE 0 END)
    AS students,
  SUM(CASE WHEN student_status IN ('senior', 'vocational', 'college') THEN 1 ELSE 0 END) AS costly_students,
  SUM(CASE WHEN basic_medical_insured = FALSE THEN 1 ELSE 0 END) AS uninsured_count,
  SUM(CASE WHEN age_sept >= 15 AND age_sept < 18 THEN 1 ELSE 0 END) AS upper_school_age,
  SUM(CASE WHEN age_sept >= 18 AND age_sept < 22 THEN 1 ELSE 0 END) AS college_age
FROM (
  SELECT *, {_age("birth_date", _d(w.as_of))} AS age, {_age("birth_date", _d(w.next_september))} AS age_sept
  FROM members WHERE is_active
) AS m
GROUP BY household_id
"""


def _known(w: Window, alias: str = "") -> str:
    """Events a screening at `as_of` can know: happened and reported by then, within the longest look-back."""
    a = f"{alias}." if alias else ""
    return (
        f"{a}event_date <= {_d(w.as_of)} AND {a}event_date > {_d(w.months24)} "
        f"AND ({a}received_date IS NULL OR {a}received_date <= {_d(w.as_of)})"
    )


def person_features(w: Window) -> str:
    """Per person, from the events alone: medical out-of-pocket in 12 months, the latest job change and school
    enrolment, a health loss, and the deaths and severe accidents that count only for a labourer (`person_rollup`
    joins the members once these are grouped: joining 12M events to 3.5M members first cost more than the rest)."""
    m12, m6 = _d(w.months12), _d(w.months6)
    death, acc_severe = DEATH, SEVERE_ACCIDENT
    return f"""
CREATE TABLE p_feat AS
SELECT household_id, member_id,
  {_money_sum(f"CASE WHEN feed = 'medical_settlement' AND event_date > {m12} THEN amount ELSE 0 END")} AS oop_12m,
  MAX(CASE WHEN feed = 'employment_change' AND kind IN {JOB_LOSS} THEN event_date END) AS loss_date,
  MAX(CASE WHEN feed = 'employment_change' AND kind = '就业' THEN event_date END) AS job_date,
  MAX(CASE WHEN feed = 'school_status' AND kind = '在读' THEN event_date END) AS enrolled_date,
  MAX(CASE WHEN event_date > {m12} AND (({SERIOUS_ILLNESS})
      OR ({acc_severe}) OR {death}
      OR ({SEVERE_DISABILITY})) THEN 1 ELSE 0 END) AS health_loss,
  SUM(CASE WHEN {death} AND event_date > {m12} THEN 1 ELSE 0 END) AS deaths_12m,
  MIN(CASE WHEN {death} AND event_date > {m12} THEN event_date END) AS death_date,
  SUM(CASE WHEN {acc_severe} AND event_date > {m12} THEN 1 ELSE 0 END) AS accidents_12m,
  SUM(CASE WHEN ({death} OR {acc_severe}) AND event_date > {m6} THEN 1 ELSE 0 END) AS shocks_6m
FROM events
WHERE household_id IS NOT NULL AND member_id IS NOT NULL AND {_known(w)}
GROUP BY household_id, member_id
"""


def dropouts(w: Window) -> str:
    """Per person, the latest dropout at compulsory-school age (6 to 16 at the event): the one event step that
    needs a member's birth date, over the few dropout events."""
    return f"""
CREATE TABLE dropouts AS
SELECT e.household_id, e.member_id, MAX(e.event_date) AS dropout_date
FROM events AS e JOIN members AS m ON m.member_id = e.member_id
WHERE e.feed = 'school_status' AND e.kind = '辍学' AND e.household_id IS NOT NULL AND {_known(w, "e")}
  AND {_age("m.birth_date", "e.event_date")} >= 6 AND {_age("m.birth_date", "e.event_date")} < 16
GROUP BY e.household_id, e.member_id
"""


def event_features(w: Window) -> str:
    """Per household, from the events alone (the labourers' deaths and accidents come from `person_rollup`)."""
    m12, m6 = _d(w.months12), _d(w.months6)

    def in12(cond: str) -> str:
        return f"({cond}) AND event_date > {m12}"

    def in6(cond: str) -> str:
        return f"({cond}) AND event_date > {m6}"

    med = "feed = 'medical_settlement'"
    serious, severe_disab, acc_severe = SERIOUS_ILLNESS, SEVERE_DISABILITY, SEVERE_ACCIDENT
    illness = "feed = 'illness_diagnosis'"
    disab = "feed = 'disability_certificate'"
    job_loss = f"feed = 'employment_change' AND kind IN {JOB_LOSS}"
    house = "feed = 'housing_appraisal' AND kind IN ('C', 'D')"
    disaster = "feed = 'disaster_loss'"
    credit = "feed = 'microcredit' AND amount > 0"
    assist = f"feed = 'civil_assistance' AND kind IN {ASSISTANCE_NEW}"
    disaster_case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in DISASTER_CODES.items())
    counts = ",\n  ".join(
        f"SUM(CASE WHEN feed = '{f}' AND event_date > {m12} THEN 1 ELSE 0 END) AS n_{f}" for f in FEEDS
    )
    return f"""
CREATE TABLE e_feat AS
SELECT household_id,
  {_money_sum(f"CASE WHEN {in12(med)} THEN amount ELSE 0 END")} AS med_oop_12m,
  SUM(CASE WHEN {in12(med)} THEN 1 ELSE 0 END) AS med_stays_12m,
  {_money_sum(f"CASE WHEN ({med}) AND event_date > {_d(w.months3)} THEN amount ELSE 0 END")} AS med_oop_3m,
  MAX(CASE WHEN {in12(med)} THEN amount END) AS med_max_stay_oop,
  MIN(CASE WHEN {in12(med)} AND amount > 0 THEN event_date END) AS med_first_date,
  SUM(CASE WHEN {in12(illness)} THEN 1 ELSE 0 END) AS new_illness_12m,
  SUM(CASE WHEN {in12(serious)} THEN 1 ELSE 0 END) AS new_serious_12m,
  MIN(CASE WHEN {in12(serious)} THEN event_date END) AS serious_first_date,
  SUM(CASE WHEN {in12(disab)} THEN 1 ELSE 0 END) AS new_disability_12m,
  SUM(CASE WHEN {in12(severe_disab)} THEN 1 ELSE 0 END) AS new_severe_disability_12m,
  MIN(CASE WHEN {in12(disab)} THEN event_date END) AS disability_first_date,
  SUM(CASE WHEN {in12(acc_severe)} THEN 1 ELSE 0 END) AS accidents_severe_12m,
  MIN(CASE WHEN {in12(acc_severe)} THEN event_date END) AS accident_first_date,
  MIN(CASE WHEN {in12(job_loss)} THEN event_date END) AS job_loss_first_date,
  MAX(CASE WHEN {house} THEN CASE kind WHEN 'D' THEN 2 ELSE 1 END ELSE 0 END) AS housing_level_24m,
  MIN(CASE WHEN {house} THEN event_date END) AS housing_first_date,
  {_money_sum(f"CASE WHEN {in12(disaster)} THEN amount ELSE 0 END")} AS disaster_loss_12m,
  MAX(CASE WHEN {in12(disaster)} THEN CASE kind {disaster_case} ELSE '0299' END END) AS disaster_risk_type,
  MIN(CASE WHEN {in12(disaster)} THEN event_date END) AS disaster_first_date,
  MAX(CASE WHEN {in12(credit)} THEN amount ELSE 0 END) AS credit_overdue_max,
  MIN(CASE WHEN {in12(credit)} THEN event_date END) AS credit_first_date,
  SUM(CASE WHEN {in12(assist)} THEN 1 ELSE 0 END) AS assistance_new_12m,
  MAX(CASE WHEN {in12(assist)} THEN kind END) AS assistance_kind,
  MIN(CASE WHEN {in12(assist)} THEN event_date END) AS assistance_first_date,
  SUM(CASE WHEN {in6(f"{serious} OR {severe_disab} OR {acc_severe}")} THEN 1 ELSE 0 END) AS shocks_health_6m,
  SUM(CASE WHEN {in6(job_loss)} THEN 1 ELSE 0 END) AS job_losses_6m,
  {counts}
FROM events
WHERE household_id IS NOT NULL AND {_known(w)}
GROUP BY household_id
"""


def person_rollup(w: Window) -> str:
    """Per household, over its people (with their member rows: work months, labour capacity): the largest personal
    out-of-pocket, open job losses and dropouts, the work months lost, and the deaths, severe accidents and shocks
    of labourers. A person missing from the members (or an event without one) counts as no labourer."""
    m12 = _d(w.months12)
    labourer = f"m.labour_capacity IN {ABLE}"
    return f"""
CREATE TABLE pr_feat AS
SELECT p.household_id,
  MAX(p.oop_12m) AS person_oop_max,
  SUM(CASE WHEN p.loss_date > {m12} AND (p.job_date IS NULL OR p.job_date < p.loss_date) THEN 1 ELSE 0 END)
    AS job_losses_12m,
  SUM(CASE WHEN d.dropout_date > {m12} AND (p.enrolled_date IS NULL OR p.enrolled_date < d.dropout_date)
      THEN 1 ELSE 0 END) AS dropouts_open,
  MIN(CASE WHEN d.dropout_date > {m12} THEN d.dropout_date END) AS dropout_first_date,
  SUM(CASE WHEN p.health_loss = 1 OR (p.loss_date > {m12} AND (p.job_date IS NULL OR p.job_date < p.loss_date))
      THEN COALESCE(m.work_months, 0) ELSE 0 END) AS lost_work_months,
  SUM(CASE WHEN {labourer} THEN p.deaths_12m ELSE 0 END) AS labour_deaths_12m,
  MIN(CASE WHEN {labourer} THEN p.death_date END) AS death_first_date,
  SUM(CASE WHEN {labourer} THEN p.accidents_12m ELSE 0 END) AS accidents_labour_12m,
  SUM(CASE WHEN {labourer} THEN p.shocks_6m ELSE 0 END) AS labour_shocks_6m
FROM p_feat AS p
LEFT JOIN members AS m ON m.member_id = p.member_id
LEFT JOIN dropouts AS d ON d.household_id = p.household_id AND d.member_id = p.member_id
GROUP BY p.household_id
"""


def village_features(w: Window) -> str:
    """Water incidents are reported per village (some per person): every household of the village shares them."""
    m12 = _d(w.months12)
    return f"""
CREATE TABLE v_feat AS
SELECT village_code,
  MAX(COALESCE(amount, 0)) AS water_days_max,
  MAX(CASE WHEN kind IN ('水质不达标', '取水距离远') THEN 1 ELSE 0 END) AS water_quality,
  MIN(event_date) AS water_first_date
FROM events
WHERE feed = 'water_incident' AND household_id IS NULL AND event_date > {m12} AND {_known(w)}
GROUP BY village_code
"""


def income_features(w: Window) -> str:
    """The latest annual income the collection has delivered (year ≤ income_year) and the year before it."""
    return f"""
CREATE TABLE i_feat AS
SELECT cur.household_id, cur.year AS income_year,
  cur.gross, cur.net, cur.adj_net, cur.oop AS oop_last_year, cur.transfer_income, cur.wage, cur.household_size,
  cur.housing_flag, cur.dropout_flag, cur.water_flag, cur.uninsured_flag,
  prev.net AS prev_net, prev.household_size AS prev_size
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY household_id ORDER BY year DESC) AS rn
  FROM (
    SELECT household_id, year,
      COALESCE(wage_income, 0) + COALESCE(business_income, 0) + COALESCE(property_income, 0)
        + COALESCE(transfer_income, 0) AS gross,
      COALESCE(wage_income, 0) + COALESCE(business_income, 0) + COALESCE(property_income, 0)
        + COALESCE(transfer_income, 0) - COALESCE(business_cost, 0) AS net,
      COALESCE(wage_income, 0) + COALESCE(business_income, 0) + COALESCE(property_income, 0)
        + COALESCE(transfer_income, 0) - COALESCE(business_cost, 0) + COALESCE(claim_income, 0)
        - COALESCE(compliant_out_of_pocket, 0) AS adj_net,
      COALESCE(compliant_out_of_pocket, 0) AS oop,
      COALESCE(transfer_income, 0) AS transfer_income,
      COALESCE(wage_income, 0) AS wage,
      household_size,
      CASE WHEN housing_unsafe THEN 1 ELSE 0 END AS housing_flag,
      CASE WHEN dropout THEN 1 ELSE 0 END AS dropout_flag,
      CASE WHEN water_unsafe THEN 1 ELSE 0 END AS water_flag,
      CASE WHEN uninsured_member THEN 1 ELSE 0 END AS uninsured_flag
    FROM household_years WHERE year <= {w.income_year}
  ) AS y
) AS cur
LEFT JOIN (
  SELECT household_id, year,
    COALESCE(wage_income, 0) + COALESCE(business_income, 0) + COALESCE(property_income, 0)
      + COALESCE(transfer_income, 0) - COALESCE(business_cost, 0) AS net,
    household_size
  FROM household_years
) AS prev ON prev.household_id = cur.household_id AND prev.year = cur.year - 1
WHERE cur.rn = 1
"""


# Feature columns every indicator expression and rule condition may use (besides p_<param>).
FEATURE_COLUMNS = (
    "size", "members", "labour_count", "able_count", "skilled_count", "dependants", "elderly", "ill_count",
    "serious_count", "disabled_count", "severe_disabled_count", "work_months", "labour_edu_years", "students",
    "costly_students", "uninsured_count", "income_year", "gross", "net", "adj_net", "oop_last_year",
    "pc_net", "pc_adj", "income_change", "transfer_share", "rigid_share", "housing_flag", "dropout_flag",
    "water_flag", "uninsured_flag", "med_oop_12m", "med_stays_12m", "med_max_stay_oop", "person_oop_max",
    "new_illness_12m", "new_serious_12m", "new_disability_12m", "new_severe_disability_12m", "labour_deaths_12m",
    "accidents_severe_12m", "accidents_labour_12m", "job_losses_12m", "dropouts_open", "housing_level_24m",
    "disaster_loss_12m", "credit_overdue_max", "assistance_new_12m", "shocks_health_6m", "shocks_labour_6m",
    "water_days_max", "water_quality", "former_poor", "relocated", "monitored", "no_labour", "vulnerable",
    "med_oop_3m", "upper_school_age", "college_age", "lost_work_months", "lost_wages", "wage",
)  # fmt: skip

# Computed after the parameters are joined (scored step); rules and indicators may use them like features.
DERIVED_COLUMNS = {
    # Per-capita income projected over the coming months: last year's adjusted income with last year's compliant
    # out-of-pocket replaced by what is known of the last 12 months plus the current quarter's treatment going on,
    # minus disaster losses, the wages of members who fell ill, were hurt, died or lost their job, and the expected
    # costs of the school year that comes next (members of upper-secondary and college age).
    "projected_pc": "(COALESCE(adj_net, 0) + oop_last_year - med_oop_12m - med_oop_3m - disaster_loss_12m"
    " - lost_wages - upper_school_age * p_school_cost_upper - college_age * p_school_cost_college) / size",
}

DATE_COLUMNS = (
    "med_first_date", "serious_first_date", "disability_first_date", "death_first_date", "accident_first_date",
    "job_loss_first_date", "housing_first_date", "disaster_first_date", "credit_first_date",
    "assistance_first_date", "dropout_first_date", "water_first_date",
)  # fmt: skip

TEXT_COLUMNS = ("disaster_risk_type", "assistance_kind")

_ZERO_IF_NULL = tuple(
    c
    for c in FEATURE_COLUMNS
    if c
    not in {
        "size", "income_year", "pc_net", "pc_adj", "income_change", "transfer_share", "rigid_share",
        "labour_edu_years", "former_poor", "relocated", "monitored", "no_labour", "vulnerable", "gross", "net",
        "adj_net", "med_max_stay_oop", "lost_wages",
    }
)  # fmt: skip


def features(w: Window) -> str:
    """One row per household: every feature, NULL-free where zero is the honest value. A view, which `scored`
    reads once: materialising a province's ~100 feature columns first cost more than all the joins (at 1M
    households the pass took 16.2-16.3 s with the table, 13.0-13.6 s with the view)."""
    zeroed = ",\n  ".join(f"COALESCE(x.{c}, 0) AS {c}" for c in _ZERO_IF_NULL)
    dates = ", ".join(f"x.{c}" for c in DATE_COLUMNS)
    texts = ", ".join(f"x.{c}" for c in TEXT_COLUMNS)
    counts = ", ".join(f"COALESCE(x.n_{f}, 0) AS n_{f}" for f in FEEDS)
    return f"""
CREATE VIEW features AS
SELECT x.household_id, x.household_no, x.village_code, x.size, x.income_year, x.gross, x.net, x.adj_net,
  x.med_max_stay_oop, x.labour_edu_years,
  x.net / x.year_size AS pc_net,
  x.adj_net / x.year_size AS pc_adj,
  CASE WHEN x.prev_net > 0 AND x.net IS NOT NULL
       THEN (x.net / x.year_size - x.prev_net / x.prev_year_size) / (x.prev_net / x.prev_year_size)
       END AS income_change,
  CASE WHEN x.gross > 0 THEN x.transfer_income / x.gross END AS transfer_share,
  CASE WHEN x.net > 0 THEN x.oop_last_year / x.net WHEN x.net IS NOT NULL THEN 1 END AS rigid_share,
  CASE WHEN COALESCE(x.work_months, 0) > 0
       THEN COALESCE(x.wage, 0) * LEAST(COALESCE(x.lost_work_months, 0), x.work_months) / x.work_months * 0.5
       ELSE 0 END AS lost_wages,
  CASE WHEN x.household_type = 'former_poor' THEN 1 ELSE 0 END AS former_poor,
  CASE WHEN x.relocation_site THEN 1 ELSE 0 END AS relocated,
  CASE WHEN COALESCE(x.monitor_category, '') <> '' THEN 1 ELSE 0 END AS monitored,
  CASE WHEN x.no_labour_household OR COALESCE(x.able_count, 0) = 0 THEN 1 ELSE 0 END AS no_labour,
  CASE WHEN x.household_type = 'former_poor' OR COALESCE(x.monitor_category, '') <> '' THEN 1 ELSE 0 END
    AS vulnerable,
  {zeroed},
  {dates}, {texts}, {counts}
FROM (
  SELECT *,
    GREATEST(COALESCE(NULLIF(members, 0), NULLIF(household_size, 0), 1), 1) AS size,
    GREATEST(COALESCE(NULLIF(household_size, 0), NULLIF(members, 0), 1), 1) AS year_size,
    GREATEST(COALESCE(NULLIF(prev_size, 0), NULLIF(household_size, 0), NULLIF(members, 0), 1), 1) AS prev_year_size,
    COALESCE(job_losses_6m, 0) + COALESCE(labour_shocks_6m, 0) AS shocks_labour_6m
  FROM households
  LEFT JOIN m_feat USING (household_id)
  LEFT JOIN i_feat USING (household_id)
  LEFT JOIN e_feat USING (household_id)
  LEFT JOIN pr_feat USING (household_id)
  LEFT JOIN v_feat USING (village_code)
) AS x
"""


def share_expr(code: str, expr: str, zero_at: float, full_at: float) -> str:
    """0–1 risk share of an indicator; a missing value adds no risk (the data-quality rules report gaps)."""
    return f"GREATEST(LEAST((COALESCE(({expr}), {zero_at}) - ({zero_at})) / ({full_at} - ({zero_at})), 1.0), 0.0)"


def wide_columns(params: Sequence[str]) -> list[str]:
    """What a scored table keeps for a learned model to score and explain (`scored(keep=…)`): identity, every
    feature, value and point, the score, and the parameters `params`."""
    return [
        "household_id", "household_no", "village_code", *FEATURE_COLUMNS, *DERIVED_COLUMNS, *DATE_COLUMNS,
        *TEXT_COLUMNS, *[f"n_{f}" for f in FEEDS], *[f"pt_{i.code}" for i in INDICATORS],
        *[f"v_{i.code}" for i in INDICATORS], "score", *[f"p_{p}" for p in dict.fromkeys(params)],
    ]  # fmt: skip


def scored(rules: list[tuple[str, str, str]], keep: Sequence[str] | None = None) -> str:
    """Indicator values and shares, points, the index, trigger flags and the grade.

    `rules` are (code, severity, condition) with conditions already validated (engine.screening.rules). With
    `keep` (column names) the table holds only those columns besides the grade and the fired triggers — what
    grading and explaining read — instead of every parameter, share and flag of every household: the table is
    written whole for a province, and its width is most of this step's time (1M households: 4.3-6.7 s with every
    column, 3.7-4.3 s with the ~90 an explanation reads)."""
    values = ",\n  ".join(f"({i.expr}) AS v_{i.code}" for i in INDICATORS)
    derived = ",\n  ".join(f"({e}) AS {c}" for c, e in DERIVED_COLUMNS.items())
    shares = ",\n  ".join(
        f"{share_expr(i.code, f'v_{i.code}', i.zero_at, i.full_at)} AS s_{i.code}" for i in INDICATORS
    )
    flags = "".join(f",\n  COALESCE(({cond}), FALSE) AS r_{code}" for code, _, cond in rules)
    weight_sum = " + ".join(f"p_w_{i.code}" for i in INDICATORS)
    points = ",\n  ".join(
        f"{_round(f'100.0 * p_w_{i.code} * s_{i.code} / ({weight_sum})', 4)} AS pt_{i.code}"
        for i in INDICATORS
    )
    total = " + ".join(f"pt_{i.code}" for i in INDICATORS)
    severe = " OR ".join(f"r_{code}" for code, sev, _ in rules if sev == "severe") or "FALSE"
    hard = " OR ".join(f"r_{code}" for code, sev, _ in rules if sev == "hard") or "FALSE"
    fired = (
        ", ".join(f"CASE WHEN r_{code} THEN '{code}' END" for code, _, _ in rules) or "CAST(NULL AS VARCHAR)"
    )
    columns = "*" if keep is None else ", ".join(dict.fromkeys(keep))
    return f"""
CREATE TABLE scored AS
SELECT {columns},
  CASE WHEN {severe} OR score >= p_grade_red THEN 'red'
       WHEN {hard} OR score >= p_grade_yellow THEN 'yellow'
       ELSE 'green' END AS grade,
  CONCAT_WS(';', {fired}) AS fired_rules
FROM (
  SELECT *, {_round(total, 2)} AS score
  FROM (
    SELECT *,
      {points}
    FROM (
      SELECT *,
        {shares}{flags}
      FROM (
        SELECT *,
          {values}
        FROM (
          SELECT *,
            {derived}
          FROM features JOIN params ON params.param_village = features.village_code
        ) AS p
      ) AS a
    ) AS b
  ) AS c
) AS d
"""


def sequence(
    w: Window, rules: list[tuple[str, str, str]], keep: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """The whole screening as (table, SQL) pairs in execution order (`keep`: see `scored`); each is a
    CREATE TABLE … AS SELECT, or a CREATE VIEW for a step that only one later step reads."""
    return [
        ("m_feat", member_features(w)),
        ("p_feat", person_features(w)),
        ("dropouts", dropouts(w)),
        ("pr_feat", person_rollup(w)),  # before e_feat: the members and per-person rows are freed after it
        ("e_feat", event_features(w)),
        ("v_feat", village_features(w)),
        ("i_feat", income_features(w)),
        ("features", features(w)),
        ("scored", scored(rules, keep)),
    ]
