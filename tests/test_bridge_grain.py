"""The budget bridge at the grain where channel mix lives: a Budget by family and channel.

Hand-worked figures first (the engine's two-level mix, then the close's bridge on a 2-family x
2-channel plan, with the same plan against a budget by family), then the reader's checks of a
Budget or Actuals kept by channel, a property over generated plans at either grain, and the
demo with its budget split by channel on every window.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_tables import base, make_plan, raw_sheets, table, write_xlsx
from sopfin import layout
from sopfin.calendar import fiscal_quarters, fiscal_years
from sopfin.cli import main
from sopfin.close.reconcile import COARSER_BUDGET_NOTE, reconcile
from sopfin.close.records import END, MIX_BETWEEN, MIX_WITHIN, START, FinanceInputs
from sopfin.engine.bridge import pvm
from sopfin.engine.dollarize import dollarize
from sopfin.layout import column_letter
from sopfin.model import IssueCode, Keys
from sopfin.money import cents_equal, to_cents
from sopfin.pipeline import check_with_finance
from sopfin.plan.checks import validate
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.render.recon_sections import published_bridge

CENT = 0.005


def lines(bridge) -> list[tuple[str, str, float]]:
    return [(line.kind, line.label, round(line.amount, 6)) for line in bridge]


# --- the engine: pvm(..., group=) ------------------------------------------------------------
# Budget: 100 units of each item at 10, 20, 30, 40 (families A = items 1-2, B = items 3-4):
# 400 units, 10,000. Plan: 50, 150, 150, 150 units at the same prices: 500 units, 14,000.
# Budget average rate r_avg = 10,000 / 400 = 25; by family R_A = 3,000 / 200 = 15,
# R_B = 7,000 / 200 = 35. At the budget mix the plan's 500 units are 125 per item (250 per
# family); at each family's budget mix, A's 200 are 100 + 100 and B's 300 are 150 + 150.
ITEMS = pd.MultiIndex.from_tuples([("A", "Retail"), ("A", "OEM"), ("B", "Retail"),
                                   ("B", "OEM")], names=["family", "channel"])
BUDGET = pd.DataFrame({"units": [100.0, 100, 100, 100], "price": [10.0, 20, 30, 40]},
                      index=ITEMS)
PLAN = pd.DataFrame({"units": [50.0, 150, 150, 150], "price": [10.0, 20, 30, 40]}, index=ITEMS)


def test_two_level_mix_individual_units_by_hand():
    r = pvm(BUDGET, PLAN, group="family")
    assert list(r.columns) == ["price", "quantity", "mix", "mix_between", "mix_within",
                               "volume", "total", "status"]
    # between: A (200 - 250) x 15 = -750 (items: (100 - 125) x 10, (100 - 125) x 20);
    #          B (300 - 250) x 35 = 1,750 (items: 25 x 30, 25 x 40)
    assert r["mix_between"].tolist() == [-250.0, -500.0, 750.0, 1000.0, 1000.0]
    # within: A (50 - 100) x 10 + (150 - 100) x 20 = 500; B at its budget mix: 0
    assert r["mix_within"].tolist() == [-500.0, 1000.0, 0.0, 0.0, 500.0]
    # quantity (500 - 400) x 25 = 2,500; 2,500 + 1,000 + 500 = 4,000 = 14,000 - 10,000
    assert r.iloc[-1][["quantity", "mix", "total"]].tolist() == [2500.0, 1500.0, 4000.0]
    assert np.allclose(r["mix_between"] + r["mix_within"], r["mix"])


def test_two_level_mix_weighted_average_by_hand():
    r = pvm(BUDGET, PLAN, group="family", mix_method="weighted_average")
    # between: A (200 - 250) x (15 - 25) = 500, B (300 - 250) x (35 - 25) = 500, each
    # shared by the family's budget mix (half each)
    assert r["mix_between"].tolist() == [250.0, 250.0, 250.0, 250.0, 1000.0]
    # within: A (50 - 100) x (10 - 15) = 250 and (150 - 100) x (20 - 15) = 250; B 0
    assert r["mix_within"].tolist() == [250.0, 250.0, 0.0, 0.0, 500.0]
    # by family and in total the same as without group (and as the individual method)
    plain = pvm(BUDGET, PLAN, mix_method="weighted_average")
    assert r.iloc[-1]["mix"] == pytest.approx(plain.iloc[-1]["mix"])
    assert np.allclose(r["quantity"] + r["mix"], r["volume"])


def test_group_from_a_column_and_without_group_nothing_changes():
    flat_budget = BUDGET.reset_index(drop=True).assign(group=list("AABB"))
    flat_plan = PLAN.reset_index(drop=True).assign(group=list("AABB"))
    by_column = pvm(flat_budget, flat_plan, group="group")
    by_level = pvm(BUDGET, PLAN, group="family")
    assert by_column["mix_within"].tolist() == by_level["mix_within"].tolist()
    plain = pvm(BUDGET, PLAN)
    assert "mix_between" not in plain.columns
    assert plain["mix"].tolist() == by_level["mix"].tolist()


def test_a_group_without_budget_units_is_all_mix_between():
    budget = pd.DataFrame({"units": [100.0, 0.0], "price": [10.0, 5.0], "group": ["A", "C"]},
                          index=["a", "c"])
    plan = pd.DataFrame({"units": [100.0, 10.0], "price": [10.0, 5.0], "group": ["A", "C"]},
                        index=["a", "c"])
    for method in ("individual", "weighted_average"):
        r = pvm(budget, plan, group="group", mix_method=method)
        assert r.at["c", "mix_within"] == 0.0
        assert r.at["c", "mix_between"] == pytest.approx(r.at["c", "mix"])
        assert r.at["Total", "total"] == pytest.approx(50.0)


def test_group_errors_name_the_problem():
    with pytest.raises(ValueError, match="no column or index level 'segment'"):
        pvm(BUDGET, PLAN, group="segment")
    budget = BUDGET.reset_index(drop=True).assign(group=list("AABB"))
    plan = PLAN.reset_index(drop=True).assign(group=list("AABA"))
    with pytest.raises(ValueError, match="belong to one group in the budget and another"):
        pvm(budget, plan, group="group")
    with pytest.raises(ValueError, match="group is blank for item"):
        pvm(budget.assign(group=["A", None, "B", "B"]), plan.assign(group=list("AABB")),
            group="group")


# --- the close: a Budget by family and channel -----------------------------------------------
DEMAND = """
    | scenario | family | channel | 2027-01 |
    | base     | A      | Retail  | 50      |
    | base     | A      | OEM     | 150     |
    | base     | B      | Retail  | 150     |
    | base     | B      | OEM     | 150     |
    """
PRICES = """
    | family | channel | 2027-01 |
    | A      | Retail  | 10      |
    | A      | OEM     | 22      |
    | B      | Retail  | 30      |
    | B      | OEM     | 40      |
    """
STD_COST = """
    | family | material | labour | overhead |
    | A      | 1        | 0      | 0        |
    | B      | 2        | 0      | 0        |
    """
BUDGET_BY_CHANNEL = """
    | family | measure | channel | 2027-01 |
    | A      | units   | Retail  | 100     |
    | A      | revenue | Retail  | 1000    |
    | A      | cogs    | Retail  | 100     |
    | A      | units   | OEM     | 100     |
    | A      | revenue | OEM     | 2000    |
    | A      | cogs    | OEM     | 100     |
    | B      | units   | Retail  | 100     |
    | B      | revenue | Retail  | 3000    |
    | B      | cogs    | Retail  | 200     |
    | B      | units   | OEM     | 100     |
    | B      | revenue | OEM     | 4000    |
    | B      | cogs    | OEM     | 200     |
    """
BUDGET_BY_FAMILY = """
    | family | measure | 2027-01 |
    | A      | units   | 200     |
    | A      | revenue | 3000    |
    | A      | cogs    | 200     |
    | B      | units   | 200     |
    | B      | revenue | 7000    |
    | B      | cogs    | 400     |
    """


def close_of(budget: str):
    plan = make_plan(demand=DEMAND, prices=PRICES, std_cost=STD_COST, budget=budget,
                     constrained=False)
    d, _ = dollarize(plan)
    return reconcile(plan, d, FinanceInputs())


def test_bridge_per_family_and_channel_by_hand():
    r = close_of(BUDGET_BY_CHANNEL)
    # Plan 500 + 3,300 + 4,500 + 6,000 = 14,300 against 10,000. A's OEM price rose 2 on
    # 150 units: Price 300. Quantity (500 - 400) x 25 = 2,500. Between families
    # A (200 - 250) x 15 + B (300 - 250) x 35 = 1,000; within A (50 - 100) x 10 +
    # (150 - 100) x 20 = 500, B at its budget mix 0.
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 10_000.0), ("price", "Price", 300.0),
        ("quantity", "Quantity", 2_500.0), (MIX_BETWEEN, "Mix between families", 1_000.0),
        (MIX_WITHIN, "Mix within families", 500.0), ("end", "Plan revenue", 14_300.0)]
    # Margin at the budget's rates 9, 19, 28, 38 (r_avg 9,400 / 400 = 23.5, R_A 14, R_B 33):
    # quantity 100 x 23.5 = 2,350; between -50 x 14 + 50 x 33 = 950; within -50 x 9 + 50 x 19
    # = 500; price 300; standard costs as budgeted: 0. Plan 14,300 - 800 = 13,500.
    assert lines(r.margin_bridge) == [
        ("start", "Budget gross margin", 9_400.0), ("price", "Price", 300.0),
        ("quantity", "Quantity", 2_350.0), (MIX_BETWEEN, "Mix between families", 950.0),
        (MIX_WITHIN, "Mix within families", 500.0), ("cost", "Cost rates", 0.0),
        ("end", "Plan gross margin", 13_500.0)]
    assert r.family_revenue.index_names == ("family", "channel")
    assert r.family_revenue.at(("A", "OEM"), "price") == 300.0
    assert COARSER_BUDGET_NOTE not in r.notes


def test_a_budget_by_family_keeps_channel_mix_in_price_and_says_so():
    r = close_of(BUDGET_BY_FAMILY)
    # A: 3,800 for 200 units (19) against 15: Price 4 x 200 = 800, the 300 of price and the
    # 500 of channel mix above; Mix is the 1,000 between families.
    assert lines(r.revenue_bridge) == [
        ("start", "Budget revenue", 10_000.0), ("price", "Price", 800.0),
        ("quantity", "Quantity", 2_500.0), ("mix", "Mix", 1_000.0),
        ("end", "Plan revenue", 14_300.0)]
    assert COARSER_BUDGET_NOTE in r.notes


def test_items_on_one_side_are_named_by_family_and_channel():
    budget = BUDGET_BY_CHANNEL.replace("| B      | units   | OEM     | 100     |",
                                       "| B      | units   | OEM     | 0       |")
    budget = budget.replace("| B      | revenue | OEM     | 4000    |",
                            "| B      | revenue | OEM     | 0       |")
    budget = budget.replace("| B      | cogs    | OEM     | 200     |",
                            "| B      | cogs    | OEM     | 0       |")
    r = close_of(budget)
    assert ("new", "New: B / OEM", 6_000.0) in lines(r.revenue_bridge)
    assert cents_equal(sum(line.amount for line in r.revenue_bridge[1:-1]), 14_300 - 6_000)


# --- reading a Budget and Actuals by channel -------------------------------------------------
def budget_grid(*rows: list[object]) -> list[list[object]]:
    return [["Family", "Measure", "Channel", "2027-01", "2027-02", "2027-03"], *map(list, rows)]


def issues_of(grids) -> list[tuple[IssueCode, str]]:
    plan, issues = parse_plan(raw_sheets(grids))
    if plan is not None:
        issues += validate(plan)
    return [(i.code, str(i.where)) for i in issues]


def test_a_budget_by_channel_reads_and_validates():
    grids = base()
    grids["Budget"] = budget_grid(["P-100", "units", "Retail", 100, 100, 100],
                                  ["P-100", "units", "OEM", 50, 50, 50],
                                  ["P-100", "revenue", "OEM", 1000, 1000, 1000])
    plan, issues = parse_plan(raw_sheets(grids))
    assert plan is not None and issues == [] and validate(plan) == []
    assert plan.budget.key_names == ("family", "measure", "channel")
    assert plan.budget.key_col("channel") == "C"


def test_budget_channel_errors_point_at_their_cells():
    grids = base()
    grids["Budget"] = budget_grid(["P-100", "units", "Retail", 100, 100, 100],
                                  ["P-100", "units", "Web", 1, 1, 1],
                                  ["P-100", "units", "Retail", 5, 5, 5],
                                  ["P-100", "revenue", None, 9, 9, 9])
    assert sorted(issues_of(grids)) == sorted([
        (IssueCode.CHANNEL_MISMATCH, "Budget!C3"), (IssueCode.DUPLICATE_ROW, "Budget!A4"),
        (IssueCode.BLANK_KEY, "Budget!C5")])


def test_a_budget_channel_where_demand_has_none_is_a_mismatch():
    grids = base()
    for name in ("Demand", "Prices"):
        key = grids[name][0].index("Channel")
        rows = [r for r in grids[name] if r[key] != "OEM"]
        grids[name] = [r[:key] + r[key + 1:] for r in rows]
    grids["Budget"] = budget_grid(["P-100", "units", "Retail", 100, 100, 100])
    assert issues_of(grids) == [(IssueCode.CHANNEL_MISMATCH, "Budget!C1")]


def test_actuals_by_channel_are_checked_and_sum_by_family():
    grids = base()
    plan, _ = parse_plan(raw_sheets(grids))
    assert plan is not None
    grids["Actuals"] = budget_grid(["P-100", "units", "Retail", 90, None, None],
                                   ["P-100", "units", "OEM", 40, None, None],
                                   ["P-100", "units", "Web", 1, None, None],
                                   ["P-100", "units", "OEM", 2, None, None])
    fin, issues = parse_finance(raw_sheets(grids), plan)
    assert [(i.code, str(i.where)) for i in issues] == [
        (IssueCode.CHANNEL_MISMATCH, "Actuals!C4"), (IssueCode.DUPLICATE_ROW, "Actuals!A5")]
    assert fin.actuals is not None and fin.actuals.key_names == ("family", "measure", "channel")
    d, _ = dollarize(plan)
    r = reconcile(plan, d, fin, window="2027-01")
    assert r.latest_estimate is not None
    assert r.latest_estimate.frame().at[("P-100", "units"), "2027-01"] == 130.0


# --- any grain: the lines sum to the gap -----------------------------------------------------
MONTHS = ("2027-01", "2027-02")
CHANNELS = ("Retail", "OEM", "Web")
money = st.integers(min_value=0, max_value=300_000).map(lambda c: c / 100)
whole = st.integers(min_value=0, max_value=900)


@st.composite
def channel_plans(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """Demand, prices, standard costs and a budget by channel or by family for up to three
    families in up to three channels; a family or line may be on one side only."""
    demand, prices, costs, budget = [], [], [], []
    by_channel = draw(st.booleans())
    for family in ("F0", "F1", "F2"):
        sold = draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3))
        costs.append([family, draw(money), 0, 0])
        for channel in sold:
            demand.append(["base", family, channel, draw(whole), draw(whole)])
            prices.append([family, channel, draw(money), draw(money)])
        budgeted = draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3))
        for channel in budgeted if by_channel else budgeted[:1]:
            for measure, amount in (("units", whole), ("revenue", money), ("cogs", money)):
                budget.append([family, measure, *([channel] if by_channel else []),
                               draw(amount), draw(amount)])
    if not demand:
        demand.append(["base", "F0", "Retail", 1, 1])
        prices.append(["F0", "Retail", 1.0, 1.0])
    used = {row[2] for row in demand}
    budget = [row for row in budget if not by_channel or row[2] in used]
    head = ["family", "measure", *(["channel"] if by_channel else []), *MONTHS]
    return (table(["scenario", "family", "channel", *MONTHS], demand),
            table(["family", "channel", *MONTHS], prices),
            table(["family", "material", "labour", "overhead"], costs),
            table(head, budget) if budget else "")


@settings(max_examples=40, deadline=None)
@given(tables=channel_plans(), window=st.sampled_from(("Horizon", *MONTHS)))
def test_the_lines_sum_to_the_gap_at_any_grain_to_the_cent(tables, window):
    demand, prices, costs, budget = tables
    plan = make_plan(demand=demand, prices=prices, std_cost=costs, budget=budget,
                     families="| family | name | product_line | uom | active |\n"
                              + "\n".join(f"| {f} | {f} | | EA | TRUE |" for f in
                                          ("F0", "F1", "F2")),
                     months=MONTHS, constrained=False, scenarios=("base",))
    d, _ = dollarize(plan)
    r = reconcile(plan, d, FinanceInputs(), window=window)
    cols = [MONTHS.index(m) for m in r.window.months]
    for bridge, budget_total, plan_total in (
            (r.revenue_bridge, d.budget["revenue"][:, cols].sum(),
             d.fam["revenue"][0][:, cols].sum()),
            (r.margin_bridge, (d.budget["revenue"] - d.budget["cogs"])[:, cols].sum(),
             d.fam["gross_margin"][0][:, cols].sum())):
        assert cents_equal(bridge[0].amount, budget_total)
        assert cents_equal(bridge[-1].amount, plan_total)
        assert cents_equal(sum(line.amount for line in bridge[1:-1]),
                           bridge[-1].amount - bridge[0].amount)
        published = published_bridge(bridge)
        steps = round(sum(to_cents(line.amount) * 100 for line in published[1:-1]))
        assert steps == round((to_cents(plan_total) - to_cents(budget_total)) * 100)
        kinds = [line.kind for line in bridge]
        grain_lines = (MIX_BETWEEN in kinds) + (MIX_WITHIN in kinds)
        assert grain_lines == (2 if "channel" in plan.budget.key_names else 0)


# --- the demo with its budget split by channel -----------------------------------------------
def split_by_channel(plan):
    """The demo's Budget with each family's rows split over its channels (units 60/40,
    money 55/45: the channels' budget prices differ)."""
    table_ = plan.budget
    channels: dict[str, list[str]] = {}
    demand = plan.demand.keys
    for family, channel in zip(demand["family"], demand["channel"], strict=True):
        if channel not in channels.setdefault(family, []):
            channels[family].append(channel)
    keys, values = [], []
    for i in range(len(table_)):
        family, measure = table_.keys["family"][i], table_.keys["measure"][i]
        sold = channels.get(family, ["Direct"])
        first = 0.6 if measure == "units" else 0.55
        shares = [first] + [(1 - first) / (len(sold) - 1)] * (len(sold) - 1) if len(sold) > 1 \
            else [1.0]
        for channel, share in zip(sold, shares, strict=True):
            keys.append({"family": family, "measure": measure, "channel": channel,
                         "row": 2 + len(keys)})
            values.append(table_.values[i] * share)
    frame = Keys.of({n: [k[n] for k in keys] for n in ("family", "measure", "channel")},
                    row=[k["row"] for k in keys])
    return replace(plan, budget=replace(
        table_, key_names=("family", "measure", "channel"), keys=frame,
        values=np.array(values), key_cols=("A", "B", "C"),
        value_cols=tuple(column_letter(4 + j) for j in range(len(table_.value_names))),
        last_row=1 + len(keys)))


def test_every_window_of_the_demo_by_channel_adds_up_to_the_cent(built_demo):
    checked = check_with_finance(built_demo)
    plan = split_by_channel(checked.plan)
    assert validate(plan) == validate(checked.plan)
    d, _ = dollarize(plan)
    start = plan.settings.fiscal_year_start
    windows = [*d.months, *fiscal_quarters(d.months, start).labels,
               *fiscal_years(d.months, start).labels, "YTD", "Horizon"]
    runs = [(w, plan.settings.reconciled_scenario) for w in windows]
    runs += [("Horizon", s) for s in d.scenarios]
    for window, scenario in runs:
        rec = reconcile(plan, d, checked.finance, window=window, scenario=scenario)
        for bridge in (rec.revenue_bridge, rec.margin_bridge):
            assert {MIX_BETWEEN, MIX_WITHIN} <= {line.kind for line in bridge}
            published = published_bridge(bridge)
            first, last = published[0], published[-1]
            assert (first.kind, last.kind) == (START, END)
            steps = sum(round(line.amount * 100) for line in published[1:-1])
            assert steps == round(last.amount * 100) - round(first.amount * 100), window
            assert cents_equal(sum(line.amount for line in bridge[1:-1]),
                               bridge[-1].amount - bridge[0].amount)


# --- published: the two mix lines on the tab, next to a version bridged per family ----------
def replace_budget(path, rows: list[list[object]]) -> None:
    """A user retyping the Budget sheet (openpyxl is fine for test inputs)."""
    book = openpyxl.load_workbook(path)
    sheet = book["Budget"]
    sheet.delete_rows(1, sheet.max_row)
    for row in rows:
        sheet.append(row)
    book.save(path)


def bridge_on_tab(path, version: int) -> list[tuple[str, float]]:
    sheet = openpyxl.load_workbook(path, read_only=True)[layout.recon_tab_name(version)]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(cells) if str(r[0] or "").startswith("Revenue bridge"))
    out = []
    for r in cells[at + 2:]:
        if r[0] is None:
            return out
        out.append((str(r[0]), float(r[1])))
    return out


def test_a_budget_moved_to_channels_publishes_both_mix_lines_and_every_version_verifies(
        tmp_path, capsys):
    path = write_xlsx(tmp_path / "plan.xlsx", base())
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    replace_budget(path, budget_grid(["P-100", "units", "Retail", 100, 100, 100],
                                     ["P-100", "units", "OEM", 50, 50, 50],
                                     ["P-100", "revenue", "Retail", 2500, 2500, 2600],
                                     ["P-100", "revenue", "OEM", 1000, 1000, 1100]))
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    first, second = bridge_on_tab(path, 1), bridge_on_tab(path, 2)
    assert [label for label, _ in first][1:4] == ["Price", "Quantity", "Mix"]
    assert [label for label, _ in second][1:5] == ["Price", "Quantity", "Mix between families",
                                                   "Mix within families"]
    for bridge in (first, second):
        cents = [round(amount * 100) for _, amount in bridge]
        assert sum(cents[1:-1]) == cents[-1] - cents[0]
    capsys.readouterr()
    assert main(["verify", str(path)]) == 0
    assert main(["diff", str(path), "v1", "v2"]) == 0
    # diff compares the plans of record: the budget moved to channels, the plan did not
    assert "v001 -> v002: nothing moved" in capsys.readouterr().out


@pytest.mark.libreoffice
def test_a_budget_by_channel_closes_again_after_a_libreoffice_save(tmp_path, soffice):
    from lo_oracle import recalculate

    grids = base()
    grids["Budget"] = budget_grid(["P-100", "units", "Retail", 100, 100, 100],
                                  ["P-100", "units", "OEM", 50, 50, 50],
                                  ["P-100", "revenue", "Retail", 2500, 2500, 2600],
                                  ["P-100", "revenue", "OEM", 1000, 1000, 1100])
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    saved = recalculate(path, tmp_path / "saved", soffice)
    assert main(["verify", str(saved), "-q"]) == 0
    assert main(["close", str(saved), "--author", "test", "--force", "-q"]) == 0
    assert bridge_on_tab(saved, 2) == bridge_on_tab(path, 1)
    assert "Mix within families" in dict(bridge_on_tab(saved, 2))
