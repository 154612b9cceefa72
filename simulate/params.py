"""Every rate, level and distribution parameter of the synthetic county, in one place. MODEL.md explains each value
and where it comes from; tests read the documented rates from here. Money in yuan of the base year (the year before
the simulation starts) unless marked otherwise; "per month" rates are monthly hazards."""

from __future__ import annotations

# --- households -------------------------------------------------------------------------------------------------
# Household size 1..8, mean ≈ 3.8: households on Bijie's registers are larger than the census mean of private
# households (many with grandparents and grandchildren).
SIZE_P = (0.08, 0.17, 0.20, 0.22, 0.17, 0.09, 0.045, 0.025)
VILLAGE_WEIGHT_SIGMA = 0.6  # households per village ∝ lognormal(0, σ)
COMMUNITY_WEIGHT = 0.45  # 居委会 (urban communities) hold fewer registered rural households than 村委会
HEAD_MALE = 0.86
SPOUSE_PRESENT = 0.86  # share of households of size ≥ 2 with the head's spouse
BOY_SHARE = 0.525  # sex ratio at birth in Guizhou ≈ 110
# 脱贫户 share of households (Weining: deeply poor county, poverty incidence > 25 % in 2014).
FORMER_POOR_TARGET = 0.28
# Households moved to resettlement communities (易地扶贫搬迁; Weining relocated ≈ 7 % of its people).
RELOCATED = 0.045

# --- ID numbers -------------------------------------------------------------------------------------------------
BORN_ELSEWHERE_SPOUSE = 0.25  # married-in spouses / daughters-in-law / sons-in-law born in another county
ELSEWHERE_SPLIT = (0.60, 0.20, 0.20)  # same city, same province, neighbouring province
OTHER_BORN_ELSEWHERE = 0.02  # any other member
RETIRED_CODE_SHARE = 0.05  # members born before the county's code changed who still carry the old code

# --- people -----------------------------------------------------------------------------------------------------
# Prevalence by age band (<15, 15-39, 40-59, 60-69, 70+).
AGE_BANDS = (15, 40, 60, 70)
CHRONIC_P = (0.01, 0.05, 0.17, 0.30, 0.38)
SERIOUS_P = (0.002, 0.007, 0.020, 0.035, 0.040)
DISABLED_P = (0.02, 0.04, 0.07, 0.12, 0.17)
DISABILITY_GRADE_P = (0.12, 0.20, 0.30, 0.38)  # grades 1..4
INSURED = 0.98  # basic medical insurance enrolment (newborns: 0.90)
SKILLED = (
    0.18  # able labourers with a skill (技能劳动力); × 2.5 with vocational/college, × 1.3 with senior school
)
# Migrant work is a household strategy: the main labourer goes out, others follow less often.
MAIN_MIGRANT = 0.85
OTHER_MIGRANT = 0.40  # other able members aged up to 45 (half that above 45)
MIGRANT_P = {"out_of_province": 0.62, "in_province": 0.15, "in_county": 0.23}  # destination split
MIGRANT_MONTHS_MEAN = {"out_of_province": 9.5, "in_province": 9.0, "in_county": 7.0}

# --- income (base year) -----------------------------------------------------------------------------------------
GROWTH = 0.07  # nominal rural income growth per year (Guizhou 2022→2024 ≈ 7–8 %)
YEAR_NOISE = 0.03  # household-year income noise, lognormal σ
HOUSEHOLD_FACTOR_SIGMA = 0.25  # earning capacity shared by a household's wage and business income
MONTHLY_WAGE = {"out_of_province": 4700.0, "in_province": 4000.0, "in_county": 3100.0}
# Share of a migrant's wage counted as household income: what is left after living away (rent, food), i.e. what is
# remitted or brought home — the household survey's disposable-income concept.
WAGE_KEPT = {"out_of_province": 0.65, "in_province": 0.75, "in_county": 1.0}
WAGE_SIGMA = 0.25
WOMAN_WAGE = 0.82
SKILL_WAGE = 1.25
LOCAL_WORK_P = 0.65  # able non-migrants doing casual local work
LOCAL_WORK_ANNUAL = 8000.0  # median, yuan/year (weak labour: half)
# Policy floor of the transition period (2021–): households that would be under the line × FLOOR_BAND were lifted
# to line × FLOOR_TO with probability FLOOR_P, through a public-welfare post / 帮扶车间 job for a member who can work
# (wage income), else classified 低保, eco-ranger or industry subsidies (transfer income).
FLOOR_BAND = 1.20
FLOOR_P = 0.80
FLOOR_TO = (1.10, 1.60)
LAND_MU_MEDIAN = 6.0
FARM_GROSS_PER_MU = 1800.0
FARM_COST_SHARE = (0.35, 0.50)
CASH_CROP_P = 0.30  # farming households growing a cash crop (flue-cured tobacco, apples, vegetables, herbs)
CASH_CROP_GROSS_MEDIAN = 18000.0
CASH_CROP_COST_SHARE = 0.45
LIVESTOCK_P = 0.55  # households with someone at home keeping cattle, pigs, sheep
LIVESTOCK_NET_MEDIAN = 6000.0
LIVESTOCK_COST_SHARE = (0.40, 0.60)
LAND_RENT_P = 0.15  # land transferred out (土地流转)
DIVIDEND_P_FORMER_POOR = 0.60  # 资产收益分红 from linkage-fund assets
PENSION = 1600.0  # urban-rural residents' basic pension per person 60+ per year (≈ 133 yuan/month)
OLD_AGE_ALLOWANCE = 600.0  # 高龄补贴, 80+
FARMLAND_SUBSIDY_PER_MU = 110.0  # 耕地地力保护补贴
ECO_SUBSIDY_P = 0.30  # 退耕还林 / 生态补偿
ELDER_SUPPORT_MEDIAN = 5000.0  # 赡养费 per elder in households without working-age members
DISABILITY_ALLOWANCE = 1000.0  # 残疾人两项补贴, each per year
DIBAO_STANDARD = 5400.0  # rural 低保 standard, yuan/person/year (≈ 450/month, Guizhou 2023–24)
DIBAO_TAKE_UP = 0.85
TEKUN_FACTOR = 1.3  # 特困 basic support = 1.3 × 低保 standard
YULU_SUBSIDY = 3000.0  # 雨露计划, per former-poor student in vocational school or college
CHRONIC_MEDS_MONTHLY = (100.0, 300.0)  # compliant out-of-pocket for chronic medication, uniform range
SERIOUS_ONGOING_MEDIAN = 9000.0  # yearly compliant out-of-pocket of a known serious illness
SCHOOL_COST = {"preschool": 1500.0, "primary": 600.0, "junior": 900.0, "senior": 4500.0}
SCHOOL_COST.update({"vocational": 2500.0, "college": 15000.0})
CLAIM_BACKGROUND_P = 0.02  # households with some insurance claim in a year without modelled shocks

# --- monitoring rules of the ground truth (the platform reads its own from data) ----------------------------------
MONITORING_LINE = 8700.0  # 2024–25 Yunnan line (DOMAIN §3), used as the county's line for the truth
HARDSHIP_K = 2.0  # severe hardship: income − rigid expenditure < k × 低保 (per person) ...
HARDSHIP_RIGID_SHARE = 0.4  # ... when rigid expenditure is at least this share of income; or rigid > income
MONITORED_BELOW = 0.45  # share of already-below households already monitored at the start
MONITORED_NEAR = 0.10  # near-line households with a seriously ill or disabled member already monitored

# --- shocks: monthly hazards --------------------------------------------------------------------------------------
# Hospital stays (routine care, risk 01 when they hurt): per person per year by age band.
HOSPITAL_YEARLY = (0.07, 0.06, 0.10, 0.18, 0.25)
HOSPITAL_COST_MEDIAN, HOSPITAL_COST_SIGMA = 3500.0, 0.80
# New serious illness and new chronic illness, per person per month by age band.
NEW_SERIOUS = (0.00004, 0.00011, 0.00038, 0.00085, 0.00130)
NEW_CHRONIC = (0.00005, 0.00060, 0.00200, 0.00350, 0.00400)
SERIOUS_COST_MEDIAN, SERIOUS_COST_SIGMA = 40000.0, 0.7  # first-year total treatment cost
NEW_DISABILITY = 0.00010  # per person per month
ACCIDENT = 0.00035  # per working member under 65 per month
ACCIDENT_INJURY_P = (0.60, 0.32, 0.08)  # 轻伤, 重伤, 死亡
LABOURER_DEATH = 0.00012  # per able labourer per month (illness), besides accident deaths
ELDER_DEATH = {70: 0.0025, 80: 0.006, 90: 0.014}  # per person per month from the given age
JOB_LOSS = 0.0030  # per migrant worker per month: loses the job or returns home
JOB_GAP_MONTHS = 4.0  # mean months until working again
BUSINESS_FAILURE = 0.0015  # per livestock-keeping household per month (epidemics, failed projects)
MARKET_SHOCK_VILLAGE = 0.0050  # per village per month: price collapse of the main cash crop
DROPOUT = 0.00010  # per compulsory-age pupil per month; × 4 in the poorest fifth, × 2 for ages 12–14
COLLEGE_ENTRY = 0.35  # of 18-year-olds
SENIOR_ENTRY = (0.50, 0.33)  # of 15-year-olds: senior high school, vocational school
# Disasters: (name, risk code, months of the year, hazard per village per month in season, share of the village's
# households hit, crop-loss share, share of hit households whose house is damaged). Drought strikes whole townships.
DISASTERS = (
    ("风雹灾害", "0205", (4, 5, 6, 7, 8), 0.0150, (0.10, 0.50), (0.30, 0.90), 0.02),
    ("洪涝灾害", "0201", (6, 7, 8, 9), 0.0100, (0.05, 0.35), (0.30, 0.90), 0.08),
    ("地质灾害", "0202", (5, 6, 7, 8, 9), 0.0050, (0.02, 0.10), (0.20, 0.60), 0.45),
    ("干旱灾害", "0203", (3, 4, 5), 0.0080, (0.30, 0.80), (0.20, 0.60), 0.0),
    ("低温冷冻和雪灾", "0205", (12, 1, 2), 0.0080, (0.20, 0.60), (0.20, 0.50), 0.01),
    ("生物灾害", "0204", (7, 8), 0.0050, (0.10, 0.40), (0.20, 0.60), 0.0),
)
DISASTER_RELIEF_P = 0.25  # hit households receiving 救灾款 (80 % when the house is damaged)
CROP_INSURANCE_P = 0.40  # hit households with policy crop insurance (claim ≈ 30 % of the crop loss)
NEW_DIBAO_P = 0.55  # households whose income fell below the 低保 standard and get 低保 (after 2–4 months)
TEMP_ASSISTANCE_P = 0.30  # serious shocks followed by 临时救助

# --- department feeds ---------------------------------------------------------------------------------------------
MISSING_ID = 0.20  # person rows without the ID number (matched on name + birth date + village)
EXCEL_DAMAGED = 0.005  # IDs that went through Excel as numbers (5.20526199001011E+17)
NAME_TYPO = 0.03  # homophone / similar-character typo in the name
LOWER_X = 0.30  # of IDs ending in X, written with a lower-case x
ID15 = 0.01  # old 15-digit numbers, for people born in the 1900s (civil affairs, police)
BIRTH_ERROR = 0.005  # birth date off by one day
TOWNSHIP_CODE = 0.03  # rows that carry only the township's code (9 digits + 000)
# Rows about people outside the rural registry (urban residents, other counties), only with outsiders=True.
OUTSIDERS = {
    "medical_settlement": 0.08,
    "illness_diagnosis": 0.05,
    "civil_assistance": 0.03,
    "death_registration": 0.10,
    "disability_certificate": 0.04,
    "school_status": 0.04,
    "housing_appraisal": 0.02,
    "disaster_loss": 0.01,
    "employment_change": 0.05,
    "accident": 0.15,
    "microcredit": 0.03,
}
BACKGROUND = {  # yearly rates of routine records unrelated to shocks
    "chronic_followup": 0.10,  # per known chronic/serious patient: 卫健 follow-up diagnosis record
    "certificate_renewal": 0.08,  # per disabled person: 残联 certificate renewal (same grade)
    "housing_check": 0.03,  # per household: routine 住建 appraisal
    "water_incident": 0.06,  # per village
    "new_job": 0.10,  # per migrant worker: 人社 employment registration
    "loan_due": 0.10,  # per household with a microcredit loan: a loan falling due (repaid)
    "late_payment": 0.01,  # per loan holder: overdue a few days without hardship
}
LOAN_P = {"former_poor": 0.30, "general": 0.05}  # households holding a 小额信贷 loan
