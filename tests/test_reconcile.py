"""The budget bridge and the reconciliation, worked by hand on a small plan.

The plan (three months, unconstrained so shipments = demand; every figure per month):

    family | plan units | plan price | std cost | budget units | budget revenue | budget cogs
    A      | 100        | 10         | 6        | 90           | 855 (9.50/u)   | 495 (5.50/u)
    B      | 40         | 21         | 12       | 60           | 1200 (20/u)    | 720 (12/u)
    C      | 10         | 5          | 3        | -            | -              | -   (new)
    D      | -          | -          | -        | 20           | 300 (15/u)     | 200 (gone)

Planned variances: A overtime 100 in 2027-02, B expedite 50 in 2027-03. Overrides: OVR-1
+200 revenue on A in 2027-02 (J. Ortiz), OVR-2 +30 cogs on B in 2027-03 (K. Lee).

Every expected figure below is worked by hand from these tables (the working is in the
comments), not by ``sopfin.engine.bridge.pvm``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from plan_tables import make_plan, raw_sheets
from sopfin.close.reconcile import (
    COARSER_BUDGET_NOTE,
    apply_overrides,
    compare_forecast,
    reconcile,
)
from sopfin.close.records import FinanceInputs, silent_override
from sopfin.close.rowtable import MonthTable
from sopfin.close.window import parse_window
from sopfin.engine.dollarize import dollarize
from sopfin.model import CellRef, IssueCode, Severity
from sopfin.money import cents_equal, to_cents
from sopfin.plan.finance_sheets import parse_finance

MONTHS = ("2027-01", "2027-02", "2027-03")
DEMAND = """
| scenario | family | 2027-01 | 2027-02 | 2027-03 |
| base     | A      | 100     | 100     | 100 |
| base     | B      | 40      | 40      | 40 |
| base     | C      | 10      | 10      | 10 |
| upside   | A      | 120     | 120     | 120 |
| upside   | B      | 40      | 40      | 40 |
| upside   | C      | 10      | 10      | 10 |
"""
SUPPLY = """
| scenario | family | 2027-01 | 2027-02 | 2027-03 |
| base     | A      | 110     | 100     | 100 |
| base     | B      | 40      | 40      | 40 |
| base     | C      | 10      | 10      | 10 |
| upside   | A      | 120     | 120     | 120 |
| upside   | B      | 40      | 40      | 40 |
| upside   | C      | 10      | 10      | 10 |
"""
PRICES = """
| family | 2027-01 | 2027-02 | 2027-03 |
| A      | 10      | 10      | 10 |
| B      | 21      | 21      | 21 |
| C      | 5       | 5       | 5 |
"""
STD_COST = """
| family | material | labour | overhead |
| A      | 4        | 1      | 1 |
| B      | 8        | 2      | 2 |
| C      | 2        | 0.5    | 0.5 |
"""
VARIANCES = """
| scenario | family | type     | 2027-01 | 2027-02 | 2027-03 |
| base     | A      | overtime | 0       | 100     | 0 |
| base     | B      | expedite | 0       | 0       | 50 |
"""
BUDGET = """
| family | measure   | 2027-01 | 2027-02 | 2027-03 |
| A      | units     | 90      | 90      | 90 |
| A      | revenue   | 855     | 855     | 855 |
| A      | cogs      | 495     | 495     | 495 |
| A      | inventory | 100     | 150     | 120 |
| B      | units     | 60      | 60      | 60 |
| B      | revenue   | 1200    | 1200    | 1200 |
| B      | cogs      | 720     | 720     | 720 |
| D      | units     | 20      | 20      | 20 |
| D      | revenue   | 300     | 300     | 300 |
| D      | cogs      | 200     | 200     | 200 |
"""
OVERRIDES = [
    ["Id", "Scenario", "Family", "Month", "Measure", "Amount", "Owner", "Reason", "ApprovedBy"],
    ["OVR-1", "base", "A", "2027-02", "revenue", 200.0, "J. Ortiz", "Pricing true-up", "CFO"],
    ["OVR-2", "base", "B", "2027-03", "cogs", 30.0, "K. Lee", "Freight", None],
]
ACTIONS = [
    ["Id", "Scenario", "Description", "Owner", "RevenueImpact", "MarginImpact", "Probability"],
    ["ACT-1", "base", "OEM price rise", "J. Ortiz", 1000.0, 400.0, 0.5],
    ["ACT-2", "base", "Web promotion", "K. Lee", 200.0, 100.0, None],
    ["ACT-3", "upside", "Not this scenario", "K. Lee", 999.0, 999.0, None],
]


def small_plan(**settings):
    settings.setdefault("constrained", False)
    return make_plan(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=STD_COST,
                     variances=VARIANCES, budget=BUDGET, **settings)


def finance(plan, **extra):
    grids = {"Overrides": OVERRIDES, "Actions": ACTIONS, **extra}
    fin, issues = parse_finance(raw_sheets(grids), plan)
    assert issues == []
    return fin


@pytest.fixture(scope="module")
def case():
    plan = small_plan()
    d, issues = dollarize(plan)
    assert issues == []
    return plan, d, finance(plan)


def lines(bridge) -> list[tuple[str, str, float, str]]:
    return [(b.kind, b.label, to_cents(b.amount), b.owner) for b in bridge]


def assert_sums(bridge) -> None:
    steps = sum(b.amount for b in bridge[1:-1])
    assert cents_equal(steps, bridge[-1].amount - bridge[0].amount)


# ----------------------------------------------------------------------------- horizon
def test_revenue_bridge_over_the_horizon(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    # Horizon sums: plan A 300 u / 3000, B 120 u / 2520, C 150; budget A 270 u / 2565,
    # B 180 u / 3600, D 900. Budget mix of A, B: 0.6, 0.4; plan units of A+B 420 at that mix:
    # A 252, B 168.
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 7065.0, ""),        # 2565 + 3600 + 900
        ("price", "Price", 270.0, ""),                   # A .5 x 300 + B 1 x 120
        ("quantity", "Quantity", -411.0, ""),            # A (252-270) x 9.5 + B (168-180) x 20
        ("mix", "Mix", -504.0, ""),                      # A (300-252) x 9.5 + B (120-168) x 20
        ("new", "New: C", 150.0, ""),
        ("discontinued", "Discontinued: D", -900.0, ""),
        ("override", "OVR-1 Pricing true-up", 200.0, "J. Ortiz"),
        ("end", "Plan revenue", 5870.0, ""),             # 3000 + 2520 + 150 + 200
    ]
    assert_sums(r.revenue_bridge)
    assert r.revenue_bridge[6].note == "revenue A 2027-02, approved by CFO"
    assert (r.scenario, r.window.label, r.cycle, r.currency) == ("base", "Horizon", "2027-01",
                                                                 "USD")


def test_margin_bridge_over_the_horizon(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    # Margin per unit: budget A 9.5-5.5 = 4, B 20-12 = 8; plan A 10-6, B 21-12, C 5-3.
    assert lines(r.margin_bridge) == [
        ("start", "Budget gross margin", 2820.0, ""),    # 7065 - (1485 + 2160 + 600)
        ("price", "Price", 270.0, ""),
        ("quantity", "Quantity", -168.0, ""),            # A -18 x 4 + B -12 x 8
        ("mix", "Mix", -192.0, ""),                      # A 48 x 4 + B -48 x 8
        ("cost", "Cost rates", -150.0, ""),              # A -(6 - 5.5) x 300
        ("variance", "Overtime", -100.0, ""),
        ("variance", "Expedite", -50.0, ""),
        ("new", "New: C", 60.0, ""),                     # 30 x (5 - 3)
        ("discontinued", "Discontinued: D", -300.0, ""),  # -60 x (15 - 10)
        ("override", "OVR-1 Pricing true-up", 200.0, "J. Ortiz"),
        ("override", "OVR-2 Freight", -30.0, "K. Lee"),  # cogs +30 lowers margin
        ("end", "Plan gross margin", 2360.0, ""),        # 5670 - 3480 + 200 - 30
    ]
    assert_sums(r.margin_bridge)
    assert to_cents(r.revenue_gap) == -1195.0 and to_cents(r.margin_gap) == -460.0


def test_family_frames_carry_the_per_family_steps(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    rev = r.family_revenue.frame()
    assert list(rev.index) == ["A", "B", "D", "C", "Total"]
    assert list(rev["status"]) == ["both", "both", "discontinued", "new", ""]
    assert rev.loc["A", ["price", "quantity", "mix", "total"]].tolist() == [150, -171, 456, 435]
    assert rev.loc["B", ["price", "quantity", "mix", "total"]].tolist() == [120, -240, -960,
                                                                            -1080]
    assert rev.loc["Total", "total"] == pytest.approx(5670 - 7065)
    margin = r.family_margin.frame()
    assert margin.loc["A", ["price", "quantity", "mix", "cost", "total"]].tolist() == [
        150, -72, 192, -150, 120]                        # 300 x 4 - 270 x 4 ... = 1200 - 1080
    assert margin.loc["C", "volume"] == 60 and margin.loc["D", "volume"] == -300


def test_gap_after_actions_takes_the_scenarios_actions_at_their_probability(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    assert to_cents(r.revenue_gap_after_actions) == -1195.0 + 1000 * 0.5 + 200
    assert to_cents(r.margin_gap_after_actions) == -460.0 + 400 * 0.5 + 100
    assert [a.id for a in r.actions] == ["ACT-1", "ACT-2", "ACT-3"]  # the register: all
    upside = reconcile(plan, d, fin, scenario="upside")
    assert to_cents(upside.revenue_gap_after_actions - upside.revenue_gap) == 999.0


def test_scenario_table_with_the_budget_inventory_cash_line(case):
    plan, d, fin = case
    table = reconcile(plan, d, fin).scenarios
    # base: A builds 10 units (x 6 = 60) in 2027-01 -> cash -60; the budget inventory of A
    # goes 0 (opening) -> 100 -> 150 -> 120, cash -120. upside builds nothing.
    expected = pd.DataFrame({
        "revenue": [5870.0, 6270.0], "budget_revenue": [7065.0, 7065.0],
        "revenue_gap": [-1195.0, -795.0], "gross_margin": [2360.0, 2580.0],
        "budget_gross_margin": [2820.0, 2820.0], "gross_margin_gap": [-460.0, -240.0],
        "inventory_value": [60.0, 0.0], "inventory_cash": [-60.0, 0.0],
        "budget_inventory_cash": [-120.0, -120.0], "cash_vs_budget": [60.0, 120.0],
        "revenue_at_risk": [0.0, 0.0]}, index=pd.Index(["base", "upside"], name="scenario"))
    pd.testing.assert_frame_equal(table.frame(), expected, atol=0.005, check_exact=False)
    window = reconcile(plan, d, fin, window="2027-02").scenarios
    assert window.at("base", "budget_inventory_cash") == -50.0  # -(150 - 100)
    assert window.at("base", "cash_vs_budget") == 50.0


def test_without_an_inventory_budget_the_cash_comparison_is_blank():
    plan = make_plan(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=STD_COST,
                     budget="\n".join(ln for ln in BUDGET.splitlines() if "inventory" not in ln),
                     constrained=False)
    d, _ = dollarize(plan)
    table = reconcile(plan, d, FinanceInputs()).scenarios
    assert np.isnan(table["budget_inventory_cash"]).all()
    assert np.isnan(table["cash_vs_budget"]).all()
    assert table.at("base", "inventory_cash") == -60.0


# ----------------------------------------------------------------------------- windows
def test_a_one_month_window(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin, window="2027-02")
    # 2027-02: plan A 100/1000, B 40/840, C 50; budget A 90/855, B 60/1200, D 300.
    # A+B plan units 140 at the budget mix .6/.4: A 84, B 56.
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 2355.0, ""), ("price", "Price", 90.0, ""),
        ("quantity", "Quantity", -137.0, ""),   # (84-90) x 9.5 + (56-60) x 20
        ("mix", "Mix", -168.0, ""),             # (100-84) x 9.5 + (40-56) x 20
        ("new", "New: C", 50.0, ""), ("discontinued", "Discontinued: D", -300.0, ""),
        ("override", "OVR-1 Pricing true-up", 200.0, "J. Ortiz"),
        ("end", "Plan revenue", 2090.0, "")]
    assert lines(r.margin_bridge) == [
        ("start", "Budget gross margin", 940.0, ""),  # 2355 - 1415
        ("price", "Price", 90.0, ""), ("quantity", "Quantity", -56.0, ""),
        ("mix", "Mix", -64.0, ""), ("cost", "Cost rates", -50.0, ""),
        ("variance", "Overtime", -100.0, ""),   # no expedite in 2027-02: no line
        ("new", "New: C", 20.0, ""), ("discontinued", "Discontinued: D", -100.0, ""),
        ("override", "OVR-1 Pricing true-up", 200.0, "J. Ortiz"),  # OVR-2 is in 2027-03
        ("end", "Plan gross margin", 880.0, "")]  # 2090 - (700 + 480 + 30)
    assert r.window.months == ("2027-02",)


def test_year_to_date_and_fiscal_windows_on_the_plan():
    plan = small_plan(current_cycle="2027-02", fiscal_year_start=7)
    d, _ = dollarize(plan)
    fin = finance(plan)
    ytd = reconcile(plan, d, fin, window="YTD")
    # FY2027 runs 2026-07 .. 2027-06; through the cycle 2027-02 the horizon has Jan and Feb
    assert ytd.window.label == "YTD 2027-02" and ytd.window.months == MONTHS[:2]
    assert to_cents(ytd.revenue_bridge[0].amount) == 2355.0 * 2
    assert to_cents(ytd.revenue_bridge[-1].amount) == 1890.0 * 2 + 200
    quarter = reconcile(plan, d, fin, window="FY2027 Q3")  # Jan-Mar with a July year
    horizon = reconcile(plan, d, fin)
    assert quarter.window.months == MONTHS
    assert lines(quarter.margin_bridge) == lines(horizon.margin_bridge)
    with pytest.raises(ValueError, match="no month inside the plan horizon"):
        reconcile(plan, d, fin, window="FY2027 Q4")


JULY_HORIZON = ("2027-05", "2027-06", "2027-07", "2027-08", "2027-09", "2027-10", "2027-11",
                "2027-12")


@pytest.mark.parametrize("text, label, months", [
    ("Horizon", "Horizon", JULY_HORIZON),
    ("", "Horizon", JULY_HORIZON),
    ("2027-08", "2027-08", ("2027-08",)),
    ("FY2027", "FY2027", ("2027-05", "2027-06")),  # Jul 2026 - Jun 2027, cut by the horizon
    ("FY2027 Q4", "FY2027 Q4", ("2027-05", "2027-06")),
    ("FY2028 Q1", "FY2028 Q1", ("2027-07", "2027-08", "2027-09")),
    ("fy2028q2", "FY2028 Q2", ("2027-10", "2027-11", "2027-12")),
    ("FY2028", "FY2028", JULY_HORIZON[2:]),
    ("YTD", "YTD 2027-09", ("2027-07", "2027-08", "2027-09")),
    ("YTD 2027-06", "YTD 2027-06", ("2027-05", "2027-06")),
    # what analysts type: month names, quarters without FY, two-digit years, any case
    ("Aug 2027", "2027-08", ("2027-08",)),
    ("august 2027", "2027-08", ("2027-08",)),
    ("Q1 2028", "FY2028 Q1", ("2027-07", "2027-08", "2027-09")),
    ("2028-q2", "FY2028 Q2", ("2027-10", "2027-11", "2027-12")),
    ("FY28", "FY2028", JULY_HORIZON[2:]),
    ("fy27", "FY2027", ("2027-05", "2027-06")),
    ("ytd", "YTD 2027-09", ("2027-07", "2027-08", "2027-09")),
    ("HORIZON", "Horizon", JULY_HORIZON),
])
def test_windows_with_a_july_fiscal_year(text, label, months):
    window = parse_window(text, JULY_HORIZON, 7, "2027-09")
    assert (window.label, window.months) == (label, months)


@pytest.mark.parametrize("text, message", [
    ("2028-01", "outside the plan horizon"),
    ("FY2029", "no month inside the plan horizon"),
    ("FY2027 Q1", "no month inside"),
    ("Q1", "unknown window 'Q1'; accepted .*2027-03, Mar 2027, 2027-Q1, Q1 2027"),
    ("YTD 2027-1", "needs a month YYYY-MM after YTD"),
    ("Q5 2027", "unknown window 'Q5 2027'; accepted"),
    ("Smarch 2027", "unknown window"),
    ("2027-13", "unknown window"),
    ("FY2027 Q0", "unknown window"),
])
def test_bad_windows_say_what_is_accepted(text, message):
    with pytest.raises(ValueError, match=message):
        parse_window(text, JULY_HORIZON, 7, "2027-09")


# ----------------------------------------------------------------------------- overrides
def test_apply_overrides_adds_the_scenarios_overrides_only(case):
    plan, d, fin = case
    base = apply_overrides(d, fin.overrides, "base")
    assert base["revenue"][0].tolist() == [1000.0, 1200.0, 1000.0]
    assert base["cogs"][1].tolist() == [480.0, 480.0, 560.0]  # 480 + expedite 50 + OVR-2 30
    upside = apply_overrides(d, fin.overrides, "upside")
    assert upside["revenue"][0].tolist() == [1200.0] * 3
    assert d.fam["revenue"][0][0].tolist() == [1000.0] * 3  # the dollarized plan is untouched


def test_an_override_on_a_family_without_plan_figures_is_still_a_bridge_line():
    plan = make_plan(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=STD_COST,
                     budget=BUDGET, constrained=False, families="""
                     | family | name | product_line | uom | active |
                     | A | A | | EA | TRUE |
                     | B | B | | EA | TRUE |
                     | C | C | | EA | TRUE |
                     | D | D | | EA | TRUE |
                     | Z | Z | | EA | TRUE |
                     """)
    d, _ = dollarize(plan)
    fin, issues = parse_finance(raw_sheets({"Overrides": [
        OVERRIDES[0], ["OVR-9", "base", "Z", "2027-01", "revenue", 75.0, "M. Diaz", "Royalty",
                       None]]}), plan)
    assert issues == []
    r = reconcile(plan, d, fin)
    assert lines(r.revenue_bridge)[-2:] == [("override", "OVR-9 Royalty", 75.0, "M. Diaz"),
                                           ("end", "Plan revenue", 5745.0, "")]
    assert_sums(r.revenue_bridge)
    assert any("OVR-9" in n for n in r.notes)
    assert "Z" not in [family for family, _ in r.snapshot.keys]


# ----------------------------------------------------------------------------- edge cases
def test_channel_mix_inside_a_family_shows_in_its_price_step():
    plan = make_plan(demand="""
        | scenario | family | channel | 2027-01 |
        | base     | A      | Retail  | 50 |
        | base     | A      | OEM     | 50 |
        """, prices="""
        | family | channel | 2027-01 |
        | A      | Retail  | 10 |
        | A      | OEM     | 6 |
        """, std_cost="| family | material | labour | overhead |\n| A | 1 | 0 | 0 |",
        budget="| family | measure | 2027-01 |\n| A | units | 100 |\n| A | revenue | 900 |\n"
               "| A | cogs | 100 |",
        constrained=False)
    d, _ = dollarize(plan)
    r = reconcile(plan, d, FinanceInputs())
    # plan 100 units for 800 (8/u) against the budget's 9/u: price (8 - 9) x 100
    assert lines(r.revenue_bridge)[1:4] == [("price", "Price", -100.0, ""),
                                            ("quantity", "Quantity", 0.0, ""),
                                            ("mix", "Mix", 0.0, "")]
    assert COARSER_BUDGET_NOTE in r.notes


def test_a_budget_in_dollars_only_stays_in_price():
    plan = make_plan(demand="| scenario | family | 2027-01 |\n| base | A | 100 |\n"
                            "| base | E | 10 |",
                     prices="| family | 2027-01 |\n| A | 10 |\n| E | 40 |",
                     std_cost="| family | material | labour | overhead |\n| A | 1 | 0 | 0 |\n"
                              "| E | 1 | 0 | 0 |",
                     budget="""| family | measure | 2027-01 |
                     | A | units | 100 |
                     | A | revenue | 1000 |
                     | E | revenue | 500 |""", constrained=False)
    d, _ = dollarize(plan)
    r = reconcile(plan, d, FinanceInputs())
    # Both families are on both sides; E has no budget units, so its budget mix share is 0:
    # plan units 110 at the budget mix are all A -> quantity (110-100) x 10, mix (100-110) x 10.
    # E: no budget rate, so no volume; its 400 - 500 stays in price.
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 1500.0, ""), ("price", "Price", -100.0, ""),
        ("quantity", "Quantity", 100.0, ""), ("mix", "Mix", -100.0, ""),
        ("end", "Plan revenue", 1400.0, "")]
    family = r.family_revenue.frame()
    assert family.loc["E", ["price", "volume", "total"]].tolist() == pytest.approx(
        [-100.0, 0.0, -100.0])
    assert any("money but no units" in n for n in r.notes)


def test_no_budget_makes_every_family_new():
    plan = make_plan(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=STD_COST,
                     constrained=False)
    d, _ = dollarize(plan)
    r = reconcile(plan, d, FinanceInputs())
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 0.0, ""), ("price", "Price", 0.0, ""),
        ("quantity", "Quantity", 0.0, ""), ("mix", "Mix", 0.0, ""),
        ("new", "New: A", 3000.0, ""), ("new", "New: B", 2520.0, ""),
        ("new", "New: C", 150.0, ""), ("end", "Plan revenue", 5670.0, "")]


def test_an_undollarized_scenario_is_a_fault(case):
    plan, d, fin = case
    with pytest.raises(ValueError, match="not dollarized"):
        reconcile(plan, d, fin, scenario="downside")


# ----------------------------------------------------------------------------- snapshot
def test_snapshot_is_the_reconciled_scenario_with_overrides(case):
    plan, d, fin = case
    snap = reconcile(plan, d, fin).snapshot.frame()
    assert list(snap.columns) == list(MONTHS)
    assert snap.index.names == ["family", "measure"]
    assert snap.loc[("A", "units")].tolist() == [100.0] * 3
    assert snap.loc[("A", "revenue")].tolist() == [1000.0, 1200.0, 1000.0]
    assert snap.loc[("A", "cogs")].tolist() == [600.0, 700.0, 600.0]  # overtime 100 in Feb
    assert snap.loc[("B", "cogs")].tolist() == [480.0, 480.0, 560.0]
    upside = reconcile(plan, d, fin, scenario="upside").snapshot.frame()
    assert upside.loc[("A", "units")].tolist() == [120.0] * 3


# ----------------------------------------------------------------------------- forecast
FORECAST = [
    ["Scenario", "Family", "Measure", "2027-01", "2027-02", "2027-03"],
    ["base", "A", "revenue", 1000.0, 1200.0, 2500.0],   # Feb matches plan + OVR-1
    ["base", "B", "cogs", 480.0, 1480.004, 560.0],      # 1000.004 off: not more than 1000
    ["upside", "B", "cogs", None, 1481.0, 480.0],       # blank is not compared
]


def test_forecast_cells_off_the_plan_by_more_than_materiality_are_found(case):
    plan, d, _ = case
    fin = finance(plan, Forecast=FORECAST)
    found = compare_forecast(plan, d, fin)
    assert [(str(f.where), f.kind, f.expected, f.found) for f in found] == [
        ("Forecast!F2", "forecast-differs", 1000.0, 2500.0),
        ("Forecast!E4", "forecast-differs", 480.0, 1481.0)]
    assert reconcile(plan, d, fin).silent_overrides == tuple(found)
    issues = found  # each silent override is a silent-override warning
    assert [(i.code, i.severity, i.where) for i in issues] == [
        (IssueCode.SILENT_OVERRIDE, Severity.WARNING, CellRef("Forecast", "F2")),
        (IssueCode.SILENT_OVERRIDE, Severity.WARNING, CellRef("Forecast", "E4"))]
    assert issues[0].format() == (
        "Forecast!F2: the forecast revenue of family 'A' in 2027-03 (base) is 2,500.00 but the "
        "dollarized plan plus named overrides gives 1,000.00, +1,500.00 off, more than the "
        "materiality threshold of 1,000.00; add a named override on sheet Overrides or correct "
        "the forecast.")


def test_the_silent_overrides_are_the_edited_cells_then_the_forecast_found_once(case):
    plan, d, _ = case
    fin = finance(plan, Forecast=FORECAST)
    edited = silent_override(CellRef("Summary", "F4"), IssueCode.TYPED_OVER_FORMULA,
                             "=Inventory!G161", "123456", "sopfin wrote =Inventory!G161 here "
                             "and found 123456", "a deliberate change belongs on sheet Overrides")
    rec = reconcile(plan, d, fin, edited=[edited])
    assert rec.silent_overrides == (edited, *compare_forecast(plan, d, fin))
    assert [i.kind for i in rec.silent_overrides] == [IssueCode.TYPED_OVER_FORMULA,
                                                      IssueCode.FORECAST_DIFFERS,
                                                      IssueCode.FORECAST_DIFFERS]


def test_a_lower_materiality_flags_more_and_overrides_explain_differences():
    plan = small_plan(materiality=0.0)
    d, _ = dollarize(plan)
    fin = finance(plan, Forecast=FORECAST)
    cells = [str(f.where) for f in compare_forecast(plan, d, fin)]
    assert cells == ["Forecast!F2", "Forecast!E3", "Forecast!E4"]  # 1000.004 is 1000.00 off
    without = FinanceInputs(forecast=fin.forecast)  # no OVR-1: Feb revenue is 200 off
    assert "Forecast!E2" in [str(f.where) for f in compare_forecast(plan, d, without)]


# ----------------------------------------------------------------------------- actuals
ACTUALS = [
    ["Family", "Measure", "2027-01", "2027-02", "2027-03"],
    ["A", "units", 95.0, None, None],
    ["A", "revenue", 960.0, None, None],
    ["A", "cogs", 570.0, None, None],
    ["B", "units", 45.0, None, None],
    ["B", "revenue", 900.0, None, None],
]


def test_latest_estimate_is_actuals_for_closed_months_and_plan_for_open(case):
    plan, d, _ = case
    r = reconcile(plan, d, finance(plan, Actuals=ACTUALS))
    est = r.latest_estimate.frame()
    assert est.loc[("A", "revenue")].tolist() == [960.0, 1200.0, 1000.0]
    assert est.loc[("B", "units")].tolist() == [45.0, 40.0, 40.0]
    assert est.loc[("B", "cogs")].tolist() == [0.0, 480.0, 560.0]  # closed, no actual: 0
    assert est.loc[("C", "revenue")].tolist() == [0.0, 50.0, 50.0]
    # blanks in the closed month: B cogs, C x 3, D x 3 (D has a budget, so it is a family)
    assert any(n.startswith("7 family figures") for n in r.notes)


def test_accuracy_of_the_month_just_closed_against_the_current_plan(case):
    plan, d, _ = case
    r = reconcile(plan, d, finance(plan, Actuals=ACTUALS))
    acc = r.accuracy.frame()
    assert (acc["month"] == "2027-01").all()
    units = acc.loc["units"]
    assert list(units.index) == ["A", "B", "C", "Total"]
    # A: 100 planned, 95 actual; B 40 vs 45; C 10 vs 0
    assert units["error"].tolist() == [5.0, -5.0, 10.0, 10.0]
    assert units.loc["A", "abs_pct_error"] == pytest.approx(5 / 95)
    assert units.loc["B", "bias"] == pytest.approx(-5 / 45)
    assert math.isnan(units.loc["C", "abs_pct_error"])
    assert units.loc["Total", "abs_pct_error"] == pytest.approx(20 / 140)  # WAPE
    assert units.loc["Total", "bias"] == pytest.approx(10 / 140)
    revenue = acc.loc["revenue"]
    assert revenue.loc["Total", ["forecast", "actual"]].tolist() == [1890.0, 1860.0]
    assert revenue.loc["Total", "abs_pct_error"] == pytest.approx((40 + 60 + 50) / 1860)
    assert any("compares with the current plan" in n for n in r.notes)


def test_accuracy_uses_the_last_approved_snapshot_when_given(case):
    plan, d, fin = case
    fin = finance(plan, Actuals=ACTUALS)
    prior = reconcile(plan, d, fin).snapshot.frame()
    prior.loc[("A", "units"), "2027-01"] = 90.0
    r = reconcile(plan, d, fin, prior_snapshot=MonthTable.from_frame(prior))
    units = r.accuracy.frame().loc["units"]
    assert units.loc["A", "error"] == -5.0  # 90 - 95
    assert units.loc["Total", "error"] == 0.0 and units.loc["Total", "bias"] == 0.0
    assert units.loc["Total", "abs_pct_error"] == pytest.approx(20 / 140)
    assert not any("compares with the current plan" in n for n in r.notes)
    other = prior.loc[:, ["2027-02"]]
    r = reconcile(plan, d, fin, prior_snapshot=MonthTable.from_frame(other))
    assert r.accuracy is None and any("has no 2027-01" in n for n in r.notes)


def test_without_actuals_there_is_no_estimate(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    assert r.latest_estimate is None and r.accuracy is None
    blank = finance(plan, Actuals=[ACTUALS[0], ["A", "units", None, None, None]])
    assert reconcile(plan, d, blank).latest_estimate is None


def test_figures_are_float64_and_unrounded(case):
    plan, d, fin = case
    r = reconcile(plan, d, fin)
    assert all(isinstance(b.amount, float) for b in r.revenue_bridge + r.margin_bridge)
    assert r.family_revenue["price"].dtype == np.float64


def test_plan_to_actual_bridge_over_the_closed_month(case):
    """Worked by hand. Plan for 2027-01: A 100 units for 1,000; B 40 for 840; C 10 for 50.
    Actual: A 95 for 960; B 45 for 900; C nothing (so C is 'discontinued' in the actuals).
    Price (960/95 - 10) x 95 + (20 - 21) x 45 = 10 - 45 = -35. Units on both sides are 140
    either way, so quantity is 0 and mix is (95 - 100) x 10 + (45 - 40) x 21 = 55. C: -50.
    1,890 - 35 + 0 + 55 - 50 = 1,860."""
    plan, d, _ = case
    r = reconcile(plan, d, finance(plan, Actuals=ACTUALS))
    got = [(line.kind, line.label, round(line.amount, 2)) for line in r.actual_bridge]
    assert got == [("start", "Plan revenue (2027-01)", 1890.0), ("price", "Price", -35.0),
                   ("quantity", "Quantity", 0.0), ("mix", "Mix", 55.0),
                   ("discontinued", "Discontinued: C", -50.0),
                   ("end", "Actual revenue (2027-01)", 1860.0)]
    assert_sums(r.actual_bridge)


def test_plan_to_actual_bridge_starts_from_the_approved_snapshot(case):
    plan, d, _ = case
    fin = finance(plan, Actuals=ACTUALS)
    prior = reconcile(plan, d, fin).snapshot.frame()
    prior.loc[("A", "revenue"), "2027-01"] = 1100.0  # approved at a price of 11
    r = reconcile(plan, d, fin, prior_snapshot=MonthTable.from_frame(prior))
    start = r.actual_bridge[0]
    assert start.amount == 1990.0
    assert_sums(r.actual_bridge)
    assert reconcile(plan, d, fin, window="2027-02").actual_bridge == ()  # nothing closed


def test_price_measured_at_the_budget_volume_publishes_a_joint_line():
    """Settings 'Price measured at' = budget: price at the budget volume, the price x volume
    remainder on its own line; quantity, mix and the gap are unchanged."""
    plan = small_plan(price_at="budget")
    d, _ = dollarize(plan)
    r = reconcile(plan, d, finance(plan))
    revenue = {b.kind: to_cents(b.amount) for b in r.revenue_bridge}
    assert revenue["price"] == 315.0   # A .5 x 270 + B 1 x 180 (budget units)
    assert revenue["joint"] == -45.0   # A .5 x (300 - 270) + B 1 x (120 - 180)
    assert (revenue["quantity"], revenue["mix"]) == (-411.0, -504.0)
    assert [b.label for b in r.revenue_bridge[1:3]] == ["Price", "Joint (price x volume)"]
    margin = {b.kind: to_cents(b.amount) for b in r.margin_bridge}
    assert margin["price"] == 315.0
    assert margin["cost"] == -135.0    # A -(6 - 5.5) x 270; B's cost rate is unchanged
    assert margin["joint"] == -60.0    # margin per unit: A 4 -> 4, B 8 -> 9, x (120 - 180)
    assert_sums(r.revenue_bridge)
    assert_sums(r.margin_bridge)
    assert to_cents(r.revenue_gap) == -1195.0 and to_cents(r.margin_gap) == -460.0


def test_price_measured_at_a_volume_that_is_neither_is_a_settings_issue():
    from sopfin.plan.settings import SettingValueError, _parse_price_at
    assert _parse_price_at("Budget") == "budget" and _parse_price_at(None) == "plan"
    with pytest.raises(SettingValueError, match="'plan' or 'budget'"):
        _parse_price_at("actual")
