"""The engine against small plans worked out by hand.

Each case is a plan in the planner's notation and the figures a planner would work out on
paper, written as tables. Money is compared to the cent.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from plan_tables import make_plan, make_table, sheet_rows, table_rows
from sopfin.engine.dollarize import days_of_inventory, dollarize, gross_margin_pct, std_cost_rows
from sopfin.engine.results import FAMILY_MEASURES, LINE_MEASURES
from sopfin.model import CellRef, IssueCode, Keys, Severity
from sopfin.plan.read import parse_plan
from sopfin.plan.settings import Settings, month_range

CENT = 0.005


def _expected(text: str) -> dict[str, list[float]]:
    """'measure | m1 | m2 ...' rows -> {measure: [values]}; '-' means blank (NaN)."""
    _, rows = table_rows(text)
    return {r[0]: [math.nan if c == "-" else float(c) for c in r[1:]] for r in rows}


def _assert_rows(actual: dict[str, np.ndarray], expected: str, label: str) -> None:
    for measure, want in _expected(expected).items():
        got = np.asarray(actual[measure], dtype=float)
        ok = np.allclose(got, want, rtol=0, atol=CENT, equal_nan=True)
        assert ok, f"{label} {measure}: expected {want}, got {got.tolist()}"


def assert_family(d, scenario: str, family: str, expected: str) -> None:
    s, f = d.scenarios.index(scenario), d.families.index(family)
    _assert_rows({m: d.fam[m][s, f] for m in d.fam}, expected, f"{scenario}/{family}")


def assert_line(d, scenario: str, family: str, channel: str, expected: str) -> None:
    s = d.scenarios.index(scenario)
    match = np.flatnonzero((d.lines["family"] == family) & (d.lines["channel"] == channel))
    assert len(match) == 1, f"line {family}/{channel} not found once in {d.lines}"
    _assert_rows({m: d.line[m][s, match[0]] for m in d.line}, expected,
                 f"{scenario}/{family}/{channel}")


# --------------------------------------------------------------------- (a) unconstrained
UNCONSTRAINED = dict(
    demand="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |     100 |     120 |      80 |
    """,
    supply="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |      50 |      50 |      50 |
    """,
    prices="""
    | family | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   |      10 |      10 |      11 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | PUMP   |        3 |    1.5 |      0.5 |
    """,
    opening="""
    | family | units |
    | PUMP   |   100 |
    """,
)


def test_unconstrained_ships_demand_and_warns_once_when_inventory_goes_negative():
    d, issues = dollarize(make_plan(**UNCONSTRAINED, constrained=False))
    assert_family(d, "base", "PUMP", """
    | measure          | 2027-01 | 2027-02 | 2027-03 |
    | demand_units     |     100 |     120 |      80 |
    | production_units |      50 |      50 |      50 |
    | start_units      |     100 |      50 |     -20 |
    | required_units   |     100 |     120 |      80 |
    | shipments_units  |     100 |     120 |      80 |
    | backlog_units    |       0 |       0 |       0 |
    | lost_units       |       0 |       0 |       0 |
    | end_units        |      50 |     -20 |     -50 |
    | unit_cost        |       5 |       5 |       5 |
    | production_cost  |     250 |     250 |     250 |
    | cogs_standard    |     500 |     600 |     400 |
    | cogs             |     500 |     600 |     400 |
    | inventory_value  |     250 |    -100 |    -250 |
    | inventory_cash   |     250 |     350 |     150 |
    | revenue          |    1000 |    1200 |     880 |
    | revenue_at_risk  |       0 |       0 |       0 |
    | gross_margin     |     500 |     600 |     480 |
    """)
    assert d.opening_units.tolist() == [100.0]
    assert d.opening_value.tolist() == [[500.0]]
    assert len(issues) == 1
    issue = issues[0]
    assert issue.code is IssueCode.NEGATIVE_INVENTORY and issue.severity is Severity.WARNING
    assert issue.where == CellRef("Supply", "D2")  # the family's production in 2027-02
    assert "2027-02" in issue.message and "-20 units" in issue.message
    assert "'PUMP'" in issue.message and "'base'" in issue.message
    assert "(2 months of the horizon end below zero)" in issue.message
    assert issue.format().startswith("Supply!D2: inventory of family 'PUMP'")


def test_negative_inventory_points_at_opening_then_demand_when_there_is_no_supply_row():
    tables = dict(UNCONSTRAINED, supply="")
    _, issues = dollarize(make_plan(**tables, constrained=False))
    assert [i.where for i in issues] == [CellRef("OpeningInventory", "B2")]
    assert "2027-02" in issues[0].message and "-120 units" in issues[0].message
    _, issues = dollarize(make_plan(**dict(tables, opening=""), constrained=False))
    assert [i.where for i in issues] == [CellRef("Demand", "C2")]


def test_no_warning_when_inventory_stays_at_or_above_zero():
    tables = dict(UNCONSTRAINED, opening="| family | units |\n| PUMP | 150 |")
    d, issues = dollarize(make_plan(**tables, constrained=False))
    assert issues == []
    assert d.fam["end_units"][0, 0].tolist() == [100.0, 30.0, 0.0]


# --------------------------------------------------------------------- (b) constrained, lost
SHORT = dict(
    demand="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |     100 |     150 |     100 |
    """,
    supply="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |      80 |      80 |      80 |
    """,
    prices="""
    | family | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   |      20 |      20 |      20 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | PUMP   |        8 |      2 |        0 |
    """,
    opening="""
    | family | units |
    | PUMP   |    50 |
    """,
)


def test_constrained_lost_drops_unmet_demand():
    d, issues = dollarize(make_plan(**SHORT, constrained=True, shortage_policy="lost"))
    assert issues == []
    assert_family(d, "base", "PUMP", """
    | measure               | 2027-01 | 2027-02 | 2027-03 |
    | start_units           |      50 |      30 |       0 |
    | required_units        |     100 |     150 |     100 |
    | shipments_units       |     100 |     110 |      80 |
    | lost_units            |       0 |      40 |      20 |
    | backlog_units         |       0 |       0 |       0 |
    | end_units             |      30 |       0 |       0 |
    | revenue               |    2000 |    2200 |    1600 |
    | unconstrained_revenue |    2000 |    3000 |    2000 |
    | revenue_at_risk       |       0 |     800 |     400 |
    | cogs                  |    1000 |    1100 |     800 |
    | inventory_value       |     300 |       0 |       0 |
    | inventory_cash        |     200 |     300 |       0 |
    | gross_margin          |    1000 |    1100 |     800 |
    """)


# --------------------------------------------------------------------- (c) backorder
def test_constrained_backorder_carries_the_backlog_and_fills_it_later():
    tables = dict(
        SHORT,
        demand="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | base     | PUMP   |     100 |     150 |      60 |      50 |
        """,
        supply="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | base     | PUMP   |      80 |      80 |      80 |      80 |
        """,
        prices="""
        | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | PUMP   |      20 |      20 |      20 |      20 |
        """)
    d, issues = dollarize(make_plan(**tables, shortage_policy="backorder"))
    assert issues == []
    assert_family(d, "base", "PUMP", """
    | measure               | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
    | demand_units          |     100 |     150 |      60 |      50 |
    | start_units           |      50 |      30 |       0 |       0 |
    | required_units        |     100 |     150 |     100 |      70 |
    | shipments_units       |     100 |     110 |      80 |      70 |
    | backlog_units         |       0 |      40 |      20 |       0 |
    | lost_units            |       0 |       0 |       0 |       0 |
    | end_units             |      30 |       0 |       0 |      10 |
    | revenue               |    2000 |    2200 |    1600 |    1400 |
    | unconstrained_revenue |    2000 |    3000 |    1200 |    1000 |
    | revenue_at_risk       |       0 |     800 |    -400 |    -400 |
    | cogs                  |    1000 |    1100 |     800 |     700 |
    | inventory_value       |     300 |       0 |       0 |     100 |
    | inventory_cash        |     200 |     300 |       0 |    -100 |
    """)


# --------------------------------------------------------------------- (d) channels share
def test_channels_share_a_shortfall_in_proportion_to_demand_plus_their_own_backlog():
    plan = make_plan(
        demand="""
        | scenario | family | channel | 2027-01 | 2027-02 | 2027-03 |
        | base     | PUMP   | Retail  |      60 |      90 |      30 |
        | base     | PUMP   | Online  |      40 |      10 |      20 |
        """,
        supply="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 |
        | base     | PUMP   |      50 |     100 |     100 |
        """,
        prices="""
        | family | channel | 2027-01 | 2027-02 | 2027-03 |
        | PUMP   | Online  |      12 |      12 |      12 |
        | PUMP   | Retail  |      10 |      10 |      10 |
        """,
        std_cost="| family | material | labour | overhead |\n| PUMP | 5 | 0 | 0 |",
        shortage_policy="backorder")
    d, issues = dollarize(plan)
    assert issues == []
    assert [list(r) for r in zip(d.lines["family"], d.lines["channel"], strict=True)] == [
        ["PUMP", "Retail"], ["PUMP", "Online"]]
    assert_family(d, "base", "PUMP", """
    | measure               | 2027-01 | 2027-02 | 2027-03 |
    | required_units        |     100 |     150 |     100 |
    | shipments_units       |      50 |     100 |     100 |
    | backlog_units         |      50 |      50 |       0 |
    | revenue               |     540 |    1040 |    1060 |
    | unconstrained_revenue |    1080 |    1020 |     540 |
    | revenue_at_risk       |     540 |     -20 |    -520 |
    """)
    assert_line(d, "base", "PUMP", "Retail", """
    | measure               | 2027-01 | 2027-02 | 2027-03 |
    | demand_units          |      60 |      90 |      30 |
    | required_units        |      60 |     120 |      70 |
    | shipments_units       |      30 |      80 |      70 |
    | backlog_units         |      30 |      40 |       0 |
    | price                 |      10 |      10 |      10 |
    | revenue               |     300 |     800 |     700 |
    | unconstrained_revenue |     600 |     900 |     300 |
    | revenue_at_risk       |     300 |     100 |    -400 |
    """)
    assert_line(d, "base", "PUMP", "Online", """
    | measure               | 2027-01 | 2027-02 | 2027-03 |
    | required_units        |      40 |      30 |      30 |
    | shipments_units       |      20 |      20 |      30 |
    | backlog_units         |      20 |      10 |       0 |
    | price                 |      12 |      12 |      12 |
    | revenue               |     240 |     240 |     360 |
    """)


def test_a_family_price_without_channels_applies_to_every_channel():
    plan = make_plan(
        demand="""
        | scenario | family | channel | 2027-01 |
        | base     | PUMP   | Retail  |       3 |
        | base     | PUMP   | Online  |       4 |
        """,
        prices="| family | 2027-01 |\n| PUMP | 2.5 |",
        supply="| scenario | family | 2027-01 |\n| base | PUMP | 7 |",
        std_cost="| family | material | labour | overhead |\n| PUMP | 1 | 0 | 0 |")
    d, _ = dollarize(plan)
    assert d.line["price"][0, :, 0].tolist() == [2.5, 2.5]
    assert d.fam["revenue"][0, 0, 0] == pytest.approx(17.5)


# --------------------------------------------------------------------- (e) cost change
def test_a_mid_horizon_cost_change_revalues_inventory_through_the_cash_line():
    plan = make_plan(
        demand="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | base     | PUMP   |      30 |      30 |      30 |      30 |
        """,
        supply="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | base     | PUMP   |      20 |      20 |      40 |       0 |
        """,
        prices="""
        | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
        | PUMP   |      25 |      25 |      25 |      25 |
        """,
        std_cost="""
        | family | material | labour | overhead | effective_from |
        | PUMP   |       90 |      5  |        4 | 2027-05 |
        | PUMP   |        7 |      2  |        3 | 2027-03 |
        | PUMP   |        6 |      2  |        2 |  |
        """,
        opening="| family | units |\n| PUMP | 100 |")
    d, issues = dollarize(plan)
    assert issues == []
    # opening 100 units at the first month's cost of 10.00
    assert d.opening_value.tolist() == [[1000.0]]
    assert_family(d, "base", "PUMP", """
    | measure         | 2027-01 | 2027-02 | 2027-03 | 2027-04 |
    | start_units     |     100 |      90 |      80 |      90 |
    | shipments_units |      30 |      30 |      30 |      30 |
    | end_units       |      90 |      80 |      90 |      60 |
    | unit_cost       |      10 |      10 |      12 |      12 |
    | production_cost |     200 |     200 |     480 |       0 |
    | cogs            |     300 |     300 |     360 |     360 |
    | inventory_value |     900 |     800 |    1080 |     720 |
    | inventory_cash  |     100 |     100 |    -280 |     360 |
    | revenue         |     750 |     750 |     750 |     750 |
    | gross_margin    |     450 |     450 |     390 |     390 |
    """)
    # -280 = build of 10 units at 12.00 (-120) and revaluation of 80 units by 2.00 (-160)
    assert std_cost_rows(plan, d.families).tolist() == [[2, 2, 1, 1]]


# --------------------------------------------------------------------- (f) variances
def test_planned_variances_of_two_types_land_in_cogs_per_scenario():
    plan = make_plan(
        families="""
        | family | name  | product_line | uom | active |
        | PUMP   | Pumps | Fluids       | EA  | TRUE |
        | VALVE  | Valves| Fluids       | EA  | TRUE |
        """,
        demand="""
        | scenario | family | 2027-01 | 2027-02 |
        | base     | PUMP   |      10 |      10 |
        | base     | VALVE  |       5 |       5 |
        | down     | PUMP   |      10 |      10 |
        | down     | VALVE  |       5 |       5 |
        """,
        supply="""
        | scenario | family | 2027-01 | 2027-02 |
        | base     | PUMP   |      10 |      10 |
        | base     | VALVE  |       5 |       5 |
        | down     | PUMP   |      10 |      10 |
        | down     | VALVE  |       5 |       5 |
        """,
        prices="| family | 2027-01 | 2027-02 |\n| PUMP | 20 | 20 |\n| VALVE | 10 | 10 |",
        std_cost="| family | material | labour | overhead |\n| PUMP | 5 | 0 | 0 |\n"
                 "| VALVE | 3 | 1 | 0 |",
        variances="""
        | scenario | family | type     | 2027-01 | 2027-02 |
        | base     | VALVE  | overtime |       7 |       8 |
        | base     | PUMP   | overtime |     100 |       0 |
        | base     | PUMP   | ppv      |     -30 |      50 |
        | down     | PUMP   | ppv      |    12.5 |       0 |
        """)
    d, issues = dollarize(plan)
    assert issues == []
    assert [list(r) for r in zip(*(d.variance_lines[n].tolist()
                                   for n in ("family", "type", "fam_idx")), strict=True)] == [
        ["PUMP", "overtime", 0], ["PUMP", "ppv", 0], ["VALVE", "overtime", 1]]
    np.testing.assert_allclose(d.variance, [[[100, 0], [-30, 50], [7, 8]],
                                            [[0, 0], [12.5, 0], [0, 0]]])
    assert_family(d, "base", "PUMP", """
    | measure       | 2027-01 | 2027-02 |
    | cogs_standard |      50 |      50 |
    | variances     |      70 |      50 |
    | cogs          |     120 |     100 |
    | gross_margin  |      80 |     100 |
    """)
    assert_family(d, "base", "VALVE", """
    | measure      | 2027-01 | 2027-02 |
    | variances    |       7 |       8 |
    | cogs         |      27 |      28 |
    | gross_margin |      23 |      22 |
    """)
    assert_family(d, "down", "PUMP", """
    | measure      | 2027-01 | 2027-02 |
    | cogs         |    62.5 |      50 |
    | gross_margin |   137.5 |     150 |
    """)


# --------------------------------------------------------------------- (g) ratios
def test_gross_margin_pct_and_days_of_inventory_are_blank_where_undefined():
    plan = make_plan(
        demand="""
        | scenario | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 | 2027-05 |
        | base     | PUMP   |      10 |       0 |       5 |       0 |       5 |
        """,
        prices="""
        | family | 2027-01 | 2027-02 | 2027-03 | 2027-04 | 2027-05 |
        | PUMP   |      20 |      20 |       0 |      20 |      20 |
        """,
        std_cost="""
        | family | material | labour | overhead | effective_from |
        | PUMP   |        5 |      0 |        0 |  |
        | PUMP   |        0 |      0 |        0 | 2027-05 |
        """,
        variances="""
        | scenario | family | type | 2027-01 | 2027-02 | 2027-03 | 2027-04 | 2027-05 |
        | base     | PUMP   | ppv  |       0 |       0 |       0 |      10 |       0 |
        """,
        opening="| family | units |\n| PUMP | 40 |")
    d, _ = dollarize(plan)
    assert d.days_in_month.tolist() == [31, 28, 31, 30, 31]
    fam = {m: d.fam[m][0, 0] for m in FAMILY_MEASURES}
    fam["gm_pct"] = gross_margin_pct(fam["revenue"], fam["gross_margin"])
    fam["dio"] = days_of_inventory(fam["inventory_value"], fam["cogs"], d.days_in_month)
    _assert_rows(fam, """
    | measure         | 2027-01 | 2027-02 | 2027-03 | 2027-04 | 2027-05 |
    | end_units       |      30 |      30 |      25 |      25 |      20 |
    | inventory_value |     150 |     150 |     125 |     125 |       0 |
    | revenue         |     200 |       0 |       0 |       0 |     100 |
    | cogs            |      50 |       0 |      25 |      10 |       0 |
    | gross_margin    |     150 |       0 |     -25 |     -10 |     100 |
    | gm_pct          |    0.75 |       - |       - |       - |       1 |
    | dio             |      93 |       - |     155 |     375 |       - |
    """, "base/PUMP")


# --------------------------------------------------------------------- index and shape
def test_families_follow_the_families_sheet_and_only_planned_ones_are_kept():
    plan = make_plan(
        families="""
        | family | name | product_line | uom | active |
        | IDLE   | x    |              | EA  | TRUE |
        | VALVE  | x    |              | EA  | FALSE |
        | PUMP   | x    |              | EA  | TRUE |
        | SEAL   | x    |              | EA  | TRUE |
        """,
        demand="""
        | scenario | family | channel | 2027-01 |
        | base     | PUMP   | Retail  |       1 |
        | base     | VALVE  | Retail  |       1 |
        | base     | PUMP   | Online  |       1 |
        | base     | GHOST  | Online  |       1 |
        """,
        budget="| family | measure | 2027-01 |\n| SEAL | revenue | 500 |\n| PUMP | Units | 3 |")
    d, _ = dollarize(plan)
    assert d.families == ("VALVE", "PUMP", "SEAL")
    assert [list(r) for r in zip(*(d.lines[n].tolist() for n in d.lines.columns),
                                 strict=True)] == [["VALVE", "Retail", 0], ["PUMP", "Retail", 1],
                                       ["PUMP", "Online", 1]]
    assert d.budget["revenue"][:, 0].tolist() == [0, 0, 500]
    assert d.budget["units"][:, 0].tolist() == [0, 3, 0]
    assert d.budget["cogs"].shape == (3, 1)


def test_scenarios_can_be_chosen_and_unknown_ones_are_reported():
    plan = make_plan(**SHORT, scenarios=("base", "up"))
    d, issues = dollarize(plan, ["up", "base", "nope"])
    assert d.scenarios == ("up", "base")
    assert d.fam["shipments_units"][:, 0, 0].tolist() == [0.0, 100.0]
    assert [(i.code, i.severity) for i in issues] == [(IssueCode.UNKNOWN_SCENARIO,
                                                       Severity.ERROR)]
    assert "'nope'" in issues[0].message


def test_shapes_follow_the_results_contract():
    d, _ = dollarize(make_plan(**SHORT))
    assert set(d.fam) == set(FAMILY_MEASURES) and set(d.line) == set(LINE_MEASURES)
    assert all(a.shape == (1, 1, 3) for a in d.fam.values())
    assert all(a.shape == (1, 1, 3) for a in d.line.values())
    assert d.variance.shape == (1, 0, 3) and d.opening_value.shape == (1, 1)
    assert len(d.family_frame()) == 3 and len(d.line_frame()) == 3


def _large_plan(lines: int = 10_000, months: int = 36, scenarios: int = 3):
    """The benchmark's size L, built straight into tables (the text fixture is for humans)."""
    rng = np.random.default_rng(7)
    month_names = month_range("2027-01", months)
    families = [f"F{i:05d}" for i in range(lines // 5)]
    channels = ["A", "B", "C", "D", "E"]
    base = make_plan(demand="| scenario | family | 2027-01 |\n| base | F00000 | 1 |")
    plan_settings = Settings(first_period="2027-01", horizon=months,
                             scenarios=tuple(f"s{i}" for i in range(scenarios)),
                             shortage_policy="backorder")

    def table(kind, keys, values):
        empty = make_table(kind, None, month_names)
        rows = len(next(iter(keys.values())))
        frame = Keys.of(keys, row=np.arange(2, 2 + rows))
        return dataclasses.replace(empty, keys=frame, values=values,
                                   last_row=1 + len(frame))

    fam_col = np.repeat(families, len(channels))
    demand = table("demand", {
        "scenario": np.repeat(plan_settings.scenarios, lines),
        "family": np.tile(fam_col, scenarios),
        "channel": np.tile(channels * len(families), scenarios)},
        rng.integers(0, 100, (lines * scenarios, months)).astype(float))
    supply = table("supply", {"scenario": np.repeat(plan_settings.scenarios, len(families)),
                              "family": np.tile(families, scenarios)},
                   rng.integers(0, 400, (len(families) * scenarios, months)).astype(float))
    prices = table("prices", {"family": fam_col, "channel": channels * len(families)},
                   rng.uniform(1, 50, (lines, months)))
    return dataclasses.replace(
        base, settings=plan_settings, months=month_names,
        families=table("families", {"family": families, "name": families,
                                    "product_line": [""] * len(families),
                                    "uom": ["EA"] * len(families),
                                    "active": ["TRUE"] * len(families)},
                       np.zeros((len(families), 0))),
        demand=demand, supply=supply, prices=prices)


def test_size_l_dollarizes_with_every_line_kept():
    """Size L through the vectorised engine; its speed is measured in benchmarks/ (the
    dollarize step of `python -m benchmarks.run`), not timed here."""
    d, _ = dollarize(_large_plan())
    assert d.line["revenue"].shape == (3, 10_000, 36)
    shipped = d.line["shipments_units"].sum(axis=1)
    assert np.allclose(shipped, d.fam["shipments_units"].sum(axis=1))


# --------------------------------------------------------------------- the fixture itself
def test_the_fixture_lays_out_tables_as_the_reader_reads_them():
    """Provenance from the text tables equals what the reader builds from the same sheets."""
    plan = make_plan(
        demand="""
        | scenario | family | channel | 2027-01 | 2027-02 |
        | base     | PUMP   | Retail  |      60 |      90 |
        | base     | PUMP   | Online  |      40 |      10 |
        """,
        supply="| scenario | family | 2027-01 | 2027-02 |\n| base | PUMP | 50 | 100 |",
        prices="| family | channel | 2027-01 | 2027-02 |\n| PUMP | Retail | 10 | 10 |\n"
               "| PUMP | Online | 12 | 12 |",
        std_cost="| family | material | labour | overhead | effective_from |\n"
                 "| PUMP | 5 | 1 | 0 |  |\n| PUMP | 6 | 1 | 0 | 2027-02 |",
        opening="| family | units |\n| PUMP | 7 |",
        variances="| scenario | family | type | 2027-01 | 2027-02 |\n"
                  "| base | PUMP | ppv | 3 | -2 |",
        budget="| family | measure | 2027-01 | 2027-02 |\n| PUMP | revenue | 900 | 900 |",
        shortage_policy="backorder")
    raw = {name: SimpleNamespace(name=name, rows=grid)
           for name, grid in sheet_rows(plan).items()}
    read, issues = parse_plan(raw, "fixture.xlsx")
    assert issues == [] and read is not None
    assert read.settings == plan.settings and read.has_channel and plan.has_channel
    for kind in ("families", "demand", "prices", "supply", "opening", "std_cost",
                 "variances", "budget"):
        ours, theirs = getattr(plan, kind), getattr(read, kind)
        assert (ours.key_names, ours.key_cols, ours.value_names, ours.value_cols,
                ours.first_row, ours.last_row) == (
            theirs.key_names, theirs.key_cols, theirs.value_names, theirs.value_cols,
            theirs.first_row, theirs.last_row), kind
        assert {n: ours.keys[n].tolist() for n in ours.keys.columns} == {
            n: theirs.keys[n].tolist() for n in theirs.keys.columns}, kind
        np.testing.assert_array_equal(ours.values, theirs.values, err_msg=kind)
