"""The price / volume / mix bridge against published worked examples and hand-worked tables.

Published examples are reproduced with the source's own inputs and compared with the
source's own printed answers (F = favourable = positive, A/U = adverse = negative). Each one
says which figures are compared and how its definitions map onto ``pvm``:

* Textbooks value the volume-family variances (volume, mix, quantity) at the standard
  contribution or profit per unit. That is ``basis="margin"`` with price = standard selling
  price and unit_cost = standard variable cost. Where a source only states the contribution
  per unit, it is passed as ``price`` with ``unit_cost`` 0; only that difference enters these
  variances.
* Where a source works in revenue, that is ``basis="revenue"``.
* The sources' "actual" is our ``plan`` and their "budget"/"standard" is our ``budget``.
* When a source gives no actual prices, plan prices equal budget prices. The price step is then
  0 and ``total`` equals the source's sales volume variance.

Figures compare to the cent (0.005): every published figure here is exact, not rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plan_tables import as_text, table_rows
from sopfin.engine.bridge import pvm

CENT = 0.005
METHODS = ("individual", "weighted_average")


def table(text: str, index: str = "item") -> pd.DataFrame:
    """A table in the notation of tests/plan_tables.py: a header row, then one row per item
    (first column = item)."""
    header, rows = table_rows(text)
    return pd.DataFrame({h: [float(r[j]) for r in rows] for j, h in enumerate(header) if j},
                        index=pd.Index([as_text(r[0]) for r in rows], name=index))


def expect(result: pd.DataFrame, column: str, figures: dict[str, float]) -> None:
    """Each named row of ``column`` equals its figure to the cent."""
    for row, figure in figures.items():
        got = result.at[row, column]
        assert abs(got - figure) < CENT, f"{column}[{row}] = {got!r}, expected {figure!r}"


def expect_identity(result: pd.DataFrame) -> None:
    """price + volume (+ cost) == total on every row, and volume == quantity + mix."""
    steps = result["price"] + result["volume"] + result.get("cost", 0.0)
    assert np.all(np.abs(steps - result["total"]) < CENT)
    both = result["status"] == "both"
    split = result["quantity"] + result["mix"]
    assert np.all(np.abs(split[both] - result["volume"][both]) < CENT)


# --- Published example 1 --------------------------------------------------------------------
# Kaplan Publishing, "ACCA Performance Management (PM) Integrated Workbook 2018-19",
# chapter 10 "Advanced variances", printed pp. 281-282, the tables / chairs / sideboards
# illustration of sales mix and quantity contribution variances. Online copy:
#   https://online.flipbuilder.com/bmcx/tkbx/files/basic-html/page289.html
#   https://online.flipbuilder.com/bmcx/tkbx/files/basic-html/page290.html
# Contribution basis: standard selling price less direct material, labour and variable
# overhead (Tables 2,200 - 1,000 - 400 - 40 = 760; Chairs 320 - 160 - 60 - 6 = 94;
# Sideboards 2,800 - 1,200 - 600 - 60 = 940), so basis="margin". Figures in the book are in
# $000. Reproduced: the mix variance per product by BOTH methods ("variance from weighted
# average contribution per unit", weighted average $354.10, and "contribution"), the
# individual-units quantity variance per product and the quantity variance total
# (46,000 - 40,000) x $354.10 = $2,124.60k of the weighted-average method.
# The book prints the quantity variances of tables and the total as "A"; its own difference
# column reads "1,200 F" (9,200 units at budget mix against 8,000 budgeted) and 46,000 units
# were sold against 40,000 budgeted at positive contributions, so the figures are favourable:
# the "A" labels are misprints and the magnitudes are what is compared.
KAPLAN_BUDGET = table("""
    | product    | units  | price | unit_cost |
    | Tables     |  8,000 | 2,200 | 1,440 |
    | Chairs     | 26,000 |   320 |   226 |
    | Sideboards |  6,000 | 2,800 | 1,860 |
""", index="product")
KAPLAN_ACTUAL = KAPLAN_BUDGET.assign(units=[7_200.0, 31_000.0, 7_800.0])


def test_kaplan_acca_pm_individual_units_method():
    result = pvm(KAPLAN_BUDGET, KAPLAN_ACTUAL, basis="margin", mix_method="individual")
    expect(result, "mix", {"Tables": -1_520_000, "Chairs": 103_400, "Sideboards": 846_000,
                           "Total": -570_600})
    expect(result, "quantity", {"Tables": 912_000, "Chairs": 366_600, "Sideboards": 846_000,
                                "Total": 2_124_600})
    expect_identity(result)


def test_kaplan_acca_pm_weighted_average_method():
    result = pvm(KAPLAN_BUDGET, KAPLAN_ACTUAL, basis="margin", mix_method="weighted_average")
    expect(result, "mix", {"Tables": -811_800, "Chairs": -286_110, "Sideboards": 527_310,
                           "Total": -570_600})
    expect(result, "quantity", {"Total": 2_124_600})
    expect_identity(result)


# --- Published example 2 --------------------------------------------------------------------
# Horngren, Datar, Foster, Rajan & Ittner, "Cost Accounting: A Managerial Emphasis", 13th ed.
# (Pearson Prentice Hall, 2009), exercise 14-24 "SodaKing" (Kola, Limor, Orlem), solution
# exhibit 14-24, all variances in contribution-margin terms. Solution manual copies:
#   https://www.hitpages.com/doc/4513006679490560/21/
#   http://studentsmerit.com/paper-detail/?paper_id=9714
# Horngren's sales-quantity variance (actual total units - budgeted total units) x budgeted
# mix % x budgeted CM per unit and sales-mix variance actual total units x (actual mix % -
# budgeted mix %) x budgeted CM per unit are, product by product, the individual-units
# quantity and mix of ``pvm``. Budgeted CM per unit is passed as price with unit_cost 0.
# Reproduced: sales-volume, sales-quantity and sales-mix variance per product and in total.
# The text does not show the weighted-average split; its totals are method-independent and
# are checked under both methods.
SODAKING_BUDGET = table("""
    | product | units     | price | unit_cost |
    | Kola    |   400,000 |  2.00 | 0 |
    | Limor   |   600,000 |  1.20 | 0 |
    | Orlem   | 1,500,000 |  2.50 | 0 |
""", index="product")
SODAKING_ACTUAL = SODAKING_BUDGET.assign(units=[480_000.0, 900_000.0, 1_620_000.0])


def test_horngren_sodaking_per_product():
    result = pvm(SODAKING_BUDGET, SODAKING_ACTUAL, basis="margin")
    expect(result, "volume", {"Kola": 160_000, "Limor": 360_000, "Orlem": 300_000,
                              "Total": 820_000})
    expect(result, "quantity", {"Kola": 160_000, "Limor": 144_000, "Orlem": 750_000,
                                "Total": 1_054_000})
    expect(result, "mix", {"Kola": 0, "Limor": 216_000, "Orlem": -450_000, "Total": -234_000})
    expect_identity(result)


@pytest.mark.parametrize("method", METHODS)
def test_horngren_sodaking_totals_by_either_method(method):
    result = pvm(SODAKING_BUDGET, SODAKING_ACTUAL, basis="margin", mix_method=method)
    expect(result, "volume", {"Total": 820_000})
    expect(result, "quantity", {"Total": 1_054_000})
    expect(result, "mix", {"Total": -234_000})


# --- Published example 3 --------------------------------------------------------------------
# Horngren et al., "Cost Accounting: A Managerial Emphasis", problem 14-34 "Variance
# analysis, multiple products" (Debbie's Delight Inc., five cookies), solution exhibit 14-34,
# contribution-margin terms. Solution manual copy:
#   https://www.hitpages.com/doc/4513006679490560/44/
# Reproduced: sales-volume and sales-quantity variance per cookie and in total, and the
# sales-mix variance of the four cookies whose lines the copy prints (chocolate chip, coconut,
# white chocolate, macadamia nut) and in total.
DEBBIE_BUDGET = table("""
    | cookie          | units  | price | unit_cost |
    | chocolate chip  | 45,000 |  2.00 | 0 |
    | oatmeal raisin  | 25,000 |  2.30 | 0 |
    | coconut         | 10,000 |  2.60 | 0 |
    | white chocolate |  5,000 |  3.00 | 0 |
    | macadamia nut   | 15,000 |  3.10 | 0 |
""", index="cookie")
DEBBIE_ACTUAL = DEBBIE_BUDGET.assign(units=[57_600.0, 18_000.0, 9_600.0, 13_200.0, 21_600.0])


def test_horngren_debbies_delight_five_cookies():
    result = pvm(DEBBIE_BUDGET, DEBBIE_ACTUAL, basis="margin")
    expect(result, "volume", {"chocolate chip": 25_200, "oatmeal raisin": -16_100,
                              "coconut": -1_040, "white chocolate": 24_600,
                              "macadamia nut": 20_460, "Total": 53_120})
    expect(result, "quantity", {"chocolate chip": 18_000, "oatmeal raisin": 11_500,
                                "coconut": 5_200, "white chocolate": 3_000,
                                "macadamia nut": 9_300, "Total": 47_000})
    expect(result, "mix", {"chocolate chip": 7_200, "coconut": -6_240,
                           "white chocolate": 21_600, "macadamia nut": 11_160, "Total": 6_120})
    expect_identity(result)


# --- Published example 4 (revenue basis, with a price variance) ------------------------------
# "Chapter five: Measuring yield, mix and quantity effects", lecture notes following Horngren
# et al., the Global Air example (first / business / economy class round-trip tickets),
# variances of revenues. Stored copy (pages 13-15 of the document):
#   https://ininet.org/chapter-five-measuring-yield-mix-and-quantity-effects-learning.html
# Budget: 1,000 / 3,000 / 16,000 tickets at $3,200 / $2,400 / $900 (mix 5% / 15% / 80%).
# Actual: revenues $6,240,000 / $9,600,000 / $10,920,000 on 2,400 / 6,000 / 15,600 tickets
# (mix 10% / 25% / 65%), i.e. $2,600 / $1,600 / $700 a ticket. The source's "flexible-budget
# variance of revenues" (actual revenue - actual units x budgeted price) is our ``price``.
# Reproduced: flexible-budget variance of business class ($4,800,000 U) and in total
# ($9,360,000 U); sales-volume variance per class and in total ($11,320,000 F); sales-quantity
# variance total ($4,960,000 F); sales-mix variance total ($6,360,000 F). The stored text is
# an imperfect extraction (it reads "60020" for 6,000, "€11 320 000" and "66 360 000"); the
# figures above are the ones its own arithmetic lines and totals agree on.
GLOBAL_AIR_BUDGET = table("""
    | class    | units  | price |
    | first    |  1,000 | 3,200 |
    | business |  3,000 | 2,400 |
    | economy  | 16,000 |   900 |
""", index="class")
GLOBAL_AIR_ACTUAL = table("""
    | class    | units  | price |
    | first    |  2,400 | 2,600 |
    | business |  6,000 | 1,600 |
    | economy  | 15,600 |   700 |
""", index="class")


@pytest.mark.parametrize("method", METHODS)
def test_global_air_revenue_bridge(method):
    result = pvm(GLOBAL_AIR_BUDGET, GLOBAL_AIR_ACTUAL, basis="revenue", mix_method=method)
    expect(result, "price", {"business": -4_800_000, "Total": -9_360_000})
    expect(result, "volume", {"first": 4_480_000, "business": 7_200_000, "economy": -360_000,
                              "Total": 11_320_000})
    expect(result, "quantity", {"Total": 4_960_000})
    expect(result, "mix", {"Total": 6_360_000})
    # actual revenue 26,760,000 against budgeted revenue 24,800,000
    expect(result, "total", {"Total": 26_760_000 - 24_800_000})
    expect_identity(result)


# --- Published example 5 --------------------------------------------------------------------
# OpenTuition, "Ask the Tutor ACCA PM Exams" forum, topic "Sales quantity variance", reply by
# John Moffat, 24 May 2014: https://opentuition.com/topic/sales-quantity-variance-2
# Budget 500 A and 500 B, standard contribution $5 and $10; actual 550 A and 650 B.
# Reproduced: budget contribution 7,500 and actual 9,250, volume variance 1,750 F, quantity
# variance 1,500 F and mix variance 250 F, whose parts are "50 extra B's ... $500" and
# "50 less A's ... lose 50 x $5" (individual-units method).
def test_opentuition_two_product_sales_quantity_variance():
    budget = table("""
        | product | units | price | unit_cost |
        | A       |   500 |     5 | 0 |
        | B       |   500 |    10 | 0 |
    """, index="product")
    result = pvm(budget, budget.assign(units=[550.0, 650.0]), basis="margin")
    expect(result, "total", {"Total": 9_250 - 7_500})
    expect(result, "volume", {"Total": 1_750})
    expect(result, "quantity", {"Total": 1_500})
    expect(result, "mix", {"A": -250, "B": 500, "Total": 250})


# --- Published example 6 --------------------------------------------------------------------
# Gleim CMA review question on the sales mix variance (products E and F), answer explanation
# as published at https://www.gaodun.com/q/c013gl
# Budget 5,500 E and 4,500 F at unit contribution $4.50 and $10.00; actual 6,000 of each.
# The answer uses a composite unit: budgeted composite UCM $6.975 (the weighted average
# contribution) against $7.250 at the actual mix, times 12,000 units.
# Reproduced: sales mix variance $3,300 F and (from the distractor analysis) the sales volume
# variance $17,250 F. The composite-unit mix variance is the mix total of either method.
@pytest.mark.parametrize("method", METHODS)
def test_gleim_cma_composite_unit_mix_variance(method):
    budget = table("""
        | product | units | price | unit_cost |
        | E       | 5,500 |  4.50 | 0 |
        | F       | 4,500 | 10.00 | 0 |
    """, index="product")
    result = pvm(budget, budget.assign(units=[6_000.0, 6_000.0]), basis="margin",
                 mix_method=method)
    expect(result, "mix", {"Total": 3_300})
    expect(result, "volume", {"Total": 17_250})


# --- Published example 7 --------------------------------------------------------------------
# BPP Learning Media, ACCA PM Practice & Revision Kit (September 2020), question 178, as
# quoted with its answer on OpenTuition:
#   https://opentuition.com/topic/bpp-revision-kit-sep-2020-no-178-budgeting/
# Budget 800 X, 1,000 Y, 600 Z at standard profit $10, $6, $12; actual 700, 1,200, 350 at
# actual profit $8, $6, $16. BPP's answer uses the weighted-average method: weighted average
# profit 21,200 / 2,400 (printed rounded as $8.83) x 150 units short = $1,325 A. The tutor's
# reply identifies the student's $2,800 as the total sales volume variance.
# Profit per unit is passed as price with unit_cost 0. Reproduced: quantity variance 1,325 A
# and volume variance 2,800 A, under either method.
@pytest.mark.parametrize("method", METHODS)
def test_bpp_revision_kit_sales_quantity_variance(method):
    budget = table("""
        | product | units | price | unit_cost |
        | X       |   800 |    10 | 0 |
        | Y       | 1,000 |     6 | 0 |
        | Z       |   600 |    12 | 0 |
    """, index="product")
    actual = table("""
        | product | units | price | unit_cost |
        | X       |   700 |     8 | 0 |
        | Y       | 1,200 |     6 | 0 |
        | Z       |   350 |    16 | 0 |
    """, index="product")
    result = pvm(budget, actual, basis="margin", mix_method=method)
    expect(result, "quantity", {"Total": -1_325})
    expect(result, "volume", {"Total": -2_800})
    expect_identity(result)


# --- Hand-worked: new and discontinued items (revenue basis) ---------------------------------
# Both sides: A and B. Budget units 300 + 100 = 400, so the budget mix is 75% / 25%; plan units
# 280 + 160 = 440, i.e. 330 / 110 at the budget mix. Weighted average budget price
# (3,000 + 2,000) / 400 = 12.50. C is discontinued, D and E are new.
#
#        price            quantity            mix (individual)     mix (weighted average)
#   A    (11-10)x280= 280  (330-300)x10 = 300  (280-330)x10 = -500   -50x(10-12.5) = 125
#   B    (19-20)x160=-160  (110-100)x20 = 200  (160-110)x20 = 1,000   50x(20-12.5) = 375
#
#        volume            total (plan value - budget value)
#   A    -20x10 = -200     3,080 - 3,000 =    80
#   B     60x20 = 1,200    3,040 - 2,000 = 1,040
#   C    -200              0 - 200       =  -200
#   E     30               30 - 0        =    30
#   D    280               280 - 0       =   280
#   Total 1,110            1,230  (= 6,430 plan - 5,200 budget; price 120 + volume 1,110)
NEW_OLD_BUDGET = table("""
    | family | units | price |
    | A      |   300 |    10 |
    | B      |   100 |    20 |
    | C      |    50 |     4 |
""", index="family")
NEW_OLD_PLAN = table("""
    | family | units | price |
    | E      |    10 |     3 |
    | D      |    40 |     7 |
    | B      |   160 |    19 |
    | A      |   280 |    11 |
""", index="family")


@pytest.mark.parametrize("method", METHODS)
def test_new_and_discontinued_items_carry_their_whole_value_in_volume(method):
    result = pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, mix_method=method)
    assert list(result.index) == ["A", "B", "C", "E", "D", "Total"]
    assert result.index.name == "family"
    assert list(result["status"]) == ["both", "both", "discontinued", "new", "new", ""]
    expect(result, "price", {"A": 280, "B": -160, "C": 0, "E": 0, "D": 0, "Total": 120})
    expect(result, "volume", {"A": -200, "B": 1_200, "C": -200, "E": 30, "D": 280,
                              "Total": 1_110})
    expect(result, "total", {"A": 80, "B": 1_040, "C": -200, "E": 30, "D": 280,
                             "Total": 1_230})
    for one_sided in ("C", "E", "D"):
        expect(result, "quantity", {one_sided: 0})
        expect(result, "mix", {one_sided: 0})
    expect(result, "quantity", {"Total": 500})  # 40 more units x 12.50
    expect(result, "mix", {"Total": 500})
    expect_identity(result)


def test_new_and_discontinued_individual_split():
    result = pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, mix_method="individual")
    expect(result, "quantity", {"A": 300, "B": 200})
    expect(result, "mix", {"A": -500, "B": 1_000})


def test_new_and_discontinued_weighted_average_split():
    result = pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, mix_method="weighted_average")
    expect(result, "mix", {"A": 125, "B": 375})
    # each item's volume is the same under both methods; quantity is the rest of it
    expect(result, "quantity", {"A": -200 - 125, "B": 1_200 - 375})


# --- Hand-worked: margin basis with cost changes ---------------------------------------------
# Budget X 100 at 50 - 30 = 20, Y 300 at 20 - 15 = 5 (mix 25% / 75%, weighted average
# margin 3,500 / 400 = 8.75). Plan X 150 at 52 - 33, Y 250 at 20 - 14: 400 units again, so
# the quantity effect is 0 and the volume change is all mix.
#        price         cost              volume        total
#   X    2x150 = 300   -(3)x150 = -450   50x20 = 1,000  2,850 - 2,000 = 850
#   Y    0             -(-1)x250 = 250   -50x5 = -250   1,500 - 1,500 =   0
#   weighted-average mix: X 50x(20-8.75) = 562.50, Y -50x(5-8.75) = 187.50
MARGIN_BUDGET = table("""
    | sku | units | price | unit_cost |
    | X   |   100 |    50 | 30 |
    | Y   |   300 |    20 | 15 |
""", index="sku")
MARGIN_PLAN = table("""
    | sku | units | price | unit_cost |
    | X   |   150 |    52 | 33 |
    | Y   |   250 |    20 | 14 |
""", index="sku")


@pytest.mark.parametrize("method", METHODS)
def test_margin_basis_separates_price_and_cost(method):
    result = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="margin", mix_method=method)
    expect(result, "price", {"X": 300, "Y": 0, "Total": 300})
    expect(result, "cost", {"X": -450, "Y": 250, "Total": -200})
    expect(result, "volume", {"X": 1_000, "Y": -250, "Total": 750})
    expect(result, "total", {"X": 850, "Y": 0, "Total": 850})
    expect(result, "quantity", {"Total": 0})
    expect(result, "mix", {"Total": 750})
    expect_identity(result)


def test_margin_basis_weighted_average_mix():
    result = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="margin", mix_method="weighted_average")
    expect(result, "mix", {"X": 562.50, "Y": 187.50})
    expect(result, "quantity", {"X": 437.50, "Y": -437.50})


def test_revenue_basis_ignores_unit_cost():
    result = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="revenue")
    # X 150 x 52 - 100 x 50 = 2,800; Y 250 x 20 - 300 x 20 = -1,000
    expect(result, "total", {"X": 2_800, "Y": -1_000, "Total": 1_800})
    expect(result, "price", {"X": 300, "Y": 0})


# --- Hand-worked: no budget units among the items on both sides -------------------------------
# A and B are budgeted at 0 units, so there is no budget mix: the volume change is reported
# as quantity (A 10 x 10 = 100, B 4 x 5 = 20) and mix is 0. C (discontinued) is outside the
# mix base and does not define one.
@pytest.mark.parametrize("method", METHODS)
def test_zero_budget_units_put_the_whole_volume_effect_in_quantity(method):
    budget = table("""
        | item | units | price |
        | A    |     0 |    10 |
        | B    |     0 |     5 |
        | C    |    20 |     3 |
    """)
    plan = table("""
        | item | units | price |
        | A    |    10 |    10 |
        | B    |     4 |     6 |
    """)
    result = pvm(budget, plan, mix_method=method)
    expect(result, "quantity", {"A": 100, "B": 20, "C": 0, "Total": 120})
    expect(result, "mix", {"A": 0, "B": 0, "C": 0, "Total": 0})
    expect(result, "price", {"B": 4, "Total": 4})
    expect(result, "volume", {"C": -60, "Total": 60})
    expect(result, "total", {"A": 100, "B": 24, "C": -60, "Total": 64})
    assert not result.drop(columns="status").isna().any().any()


# --- Price measured at the budget volume ----------------------------------------------------
# One product, budget 100 units at $10, actual 90 units at $9 (justaaa.com/finance/
# 227084-13-describe-the-difference-between-price-versus): total -190; volume (90 - 100) x 10
# = -100; price at the actual volume (9 - 10) x 90 = -90. Measured at the budget volume the
# price step is (9 - 10) x 100 = -100 and the joint (price x volume) effect (9 - 10) x
# (90 - 100) = +10 completes the same -190.
ONE_BUDGET = table("""
    | item | units | price |
    | P    |   100 |    10 |
""")
ONE_ACTUAL = ONE_BUDGET.assign(units=[90.0], price=[9.0])


def test_price_at_plan_and_at_budget_volume_one_product():
    plan_volume = pvm(ONE_BUDGET, ONE_ACTUAL)
    budget_volume = pvm(ONE_BUDGET, ONE_ACTUAL, price_at="budget")
    expect(plan_volume, "price", {"P": -90, "Total": -90})
    expect(budget_volume, "price", {"P": -100, "Total": -100})
    expect(budget_volume, "joint", {"P": 10, "Total": 10})
    for result in (plan_volume, budget_volume):
        expect(result, "volume", {"P": -100})
        expect(result, "total", {"P": -190, "Total": -190})
    assert "joint" not in plan_volume.columns


def test_rate_volume_analysis_with_its_joint_term():
    """The rate/volume split of a bank's interest income (math.stackexchange question
    1794661, "Conceptual understanding of rate / volume analysis", as mirrored at
    math.techqa.club): balance 100 at 1% becomes 200 at 2%, income 1 -> 4. Volume (200 - 100)
    x 1% = 1; rate at the new balance (2% - 1%) x 200 = 2; at the old balance 1% x 100 = 1,
    leaving the joint 1% x 100 = 1 that the answer draws as the rectangle's corner."""
    budget = pd.DataFrame({"units": [100.0], "price": [0.01]}, index=pd.Index(["loans"]))
    plan = pd.DataFrame({"units": [200.0], "price": [0.02]}, index=pd.Index(["loans"]))
    at_plan = pvm(budget, plan)
    at_budget = pvm(budget, plan, price_at="budget")
    assert at_plan.at["loans", "price"] == pytest.approx(2.0)
    assert at_plan.at["loans", "volume"] == pytest.approx(1.0)
    assert [at_budget.at["loans", c] for c in ("price", "volume", "joint", "total")] == \
        pytest.approx([1.0, 1.0, 1.0, 3.0])


@pytest.mark.parametrize("method", METHODS)
def test_price_at_budget_on_the_margin_basis_keeps_volume_and_total(method):
    at_plan = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="margin", mix_method=method)
    at_budget = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="margin", mix_method=method,
                    price_at="budget")
    for column in ("quantity", "mix", "volume", "total"):
        assert np.allclose(at_plan[column], at_budget[column], rtol=0, atol=CENT)
    steps = at_budget["price"] + at_budget["volume"] + at_budget["cost"] + at_budget["joint"]
    assert np.all(np.abs(steps - at_budget["total"]) < CENT)
    assert list(at_budget.columns) == ["price", "quantity", "mix", "volume", "cost", "joint",
                                       "total", "status"]
    with pytest.raises(ValueError, match="unknown price_at 'actual'"):
        pvm(MARGIN_BUDGET, MARGIN_PLAN, price_at="actual")


# --- Shape of the result ----------------------------------------------------------------------
def test_columns_on_each_basis():
    revenue = pvm(MARGIN_BUDGET, MARGIN_PLAN)
    margin = pvm(MARGIN_BUDGET, MARGIN_PLAN, basis="margin")
    assert list(revenue.columns) == ["price", "quantity", "mix", "volume", "total", "status"]
    assert list(margin.columns) == ["price", "quantity", "mix", "volume", "cost", "total",
                                    "status"]
    for result in (revenue, margin):
        numeric = result.drop(columns="status")
        assert all(dtype == np.float64 for dtype in numeric.dtypes)
        assert result.index[-1] == "Total"
        assert result.at["Total", "status"] == ""


def test_total_row_sums_every_column():
    result = pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, basis="revenue")
    items = result.drop(index="Total").drop(columns="status")
    total = result.drop(columns="status").loc["Total"]
    assert np.allclose(items.sum().to_numpy(), total.to_numpy(), rtol=0, atol=CENT)


def test_inputs_are_not_modified_and_extra_columns_are_ignored():
    budget = NEW_OLD_BUDGET.assign(note=["x", "y", "z"])
    plan = NEW_OLD_PLAN.copy()
    before = (budget.copy(), plan.copy())
    result = pvm(budget, plan)
    pd.testing.assert_frame_equal(budget, before[0])
    pd.testing.assert_frame_equal(plan, before[1])
    expect(result, "total", {"Total": 1_230})


def test_integer_items_and_integer_columns():
    budget = pd.DataFrame({"units": [10, 30], "price": [2, 1]}, index=[101, 102])
    plan = pd.DataFrame({"units": [20, 20], "price": [1, 2]}, index=[102, 101])
    result = pvm(budget, plan)
    assert list(result.index) == [101, 102, "Total"]
    # 101: (20 - 10) x 2 = 20; 102: (20 - 30) x 1 = -10
    expect(result, "total", {101: 20, 102: -10, "Total": 10})


def test_family_by_channel_index_keeps_its_levels():
    index = pd.MultiIndex.from_tuples([("PUMP", "Retail"), ("PUMP", "OEM")],
                                      names=["family", "channel"])
    budget = pd.DataFrame({"units": [100.0, 100.0], "price": [10.0, 8.0]}, index=index)
    plan = pd.DataFrame({"units": [50.0, 150.0], "price": [10.0, 8.0]}, index=index)
    result = pvm(budget, plan)
    assert list(result.index.names) == ["family", "channel"]
    assert result.index[-1] == ("Total", "")
    # same 200 units, 50 moved from Retail (10) to OEM (8): mix -500 + 400 = -100
    assert abs(result.loc[("Total", ""), "mix"] - -100) < CENT
    assert abs(result.loc[("Total", ""), "quantity"]) < CENT


def test_empty_budget_makes_every_item_new():
    result = pvm(NEW_OLD_BUDGET.iloc[:0], NEW_OLD_PLAN)
    assert list(result["status"]) == ["new"] * 4 + [""]
    # 30 + 280 + 3,040 + 3,080
    expect(result, "volume", {"Total": 6_430})
    expect(result, "quantity", {"Total": 0})


def test_ten_thousand_items():
    rng = np.random.default_rng(7)
    n = 10_000
    items = pd.Index([f"SKU{i:05d}" for i in range(n)], name="sku")
    budget = pd.DataFrame({"units": rng.integers(0, 1_000, n).astype(float),
                           "price": rng.integers(100, 10_000, n) / 100}, index=items)
    plan = pd.DataFrame({"units": rng.integers(0, 1_000, n).astype(float),
                         "price": rng.integers(100, 10_000, n) / 100}, index=items[::-1])
    result = pvm(budget, plan, mix_method="weighted_average")
    assert len(result) == n + 1
    gap = (plan["units"] * plan["price"]).sum() - (budget["units"] * budget["price"]).sum()
    assert abs(result.at["Total", "total"] - gap) < CENT
    expect_identity(result)


# --- Errors ------------------------------------------------------------------------------------
def test_unknown_basis_and_method():
    with pytest.raises(ValueError, match="unknown basis 'gross'"):
        pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, basis="gross")
    with pytest.raises(ValueError, match="unknown mix_method 'average'"):
        pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, mix_method="average")


def test_missing_columns():
    with pytest.raises(ValueError, match="plan has no column price"):
        pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN.drop(columns="price"))
    with pytest.raises(ValueError, match="budget has no column units"):
        pvm(NEW_OLD_BUDGET.drop(columns="units"), NEW_OLD_PLAN)
    with pytest.raises(ValueError, match="unit_cost is needed on the margin basis"):
        pvm(NEW_OLD_BUDGET, NEW_OLD_PLAN, basis="margin")


def test_duplicate_items():
    doubled = pd.concat([NEW_OLD_PLAN, NEW_OLD_PLAN.loc[["B"]]])
    with pytest.raises(ValueError, match="plan lists item\\(s\\) 'B' more than once"):
        pvm(NEW_OLD_BUDGET, doubled)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinite_values(bad):
    plan = NEW_OLD_PLAN.copy()
    plan.loc["D", "price"] = bad
    with pytest.raises(ValueError, match="plan has NaN or infinite values at 'D'.price"):
        pvm(NEW_OLD_BUDGET, plan)


def test_nan_unit_cost_on_margin_basis():
    budget = MARGIN_BUDGET.copy()
    budget.loc["Y", "unit_cost"] = np.nan
    with pytest.raises(ValueError, match="'Y'.unit_cost"):
        pvm(budget, MARGIN_PLAN, basis="margin")
    # on the revenue basis unit_cost is not used, so its gap does not matter
    expect(pvm(budget, MARGIN_PLAN), "total", {"Total": 1_800})


def test_negative_units():
    budget = NEW_OLD_BUDGET.copy()
    budget.loc["C", "units"] = -5
    with pytest.raises(ValueError, match="budget has negative units for 'C'"):
        pvm(budget, NEW_OLD_PLAN)


def test_non_numeric_values():
    plan = NEW_OLD_PLAN.astype({"price": object})
    plan.loc["A", "price"] = "eleven"
    with pytest.raises(ValueError, match="must be numeric"):
        pvm(NEW_OLD_BUDGET, plan)


def test_an_item_named_total_is_refused():
    plan = NEW_OLD_PLAN.rename(index={"E": "Total"})
    with pytest.raises(ValueError, match="item named 'Total'"):
        pvm(NEW_OLD_BUDGET, plan)


def test_inputs_must_be_frames():
    with pytest.raises(TypeError, match="budget must be a pandas DataFrame"):
        pvm({"units": [1]}, NEW_OLD_PLAN)  # type: ignore[arg-type]
