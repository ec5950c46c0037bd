"""The worksheet functions as plain Python: hand-worked figures, the engine's own arrays on a
small plan, the published price / volume / mix examples, readable errors for bad input, and
their registration with xlwings."""

from __future__ import annotations

import importlib
import io
import math
import sys
import types

import numpy as np
import pytest
import xlwings as xw

import sopfin
from fake_xlwings import book_with
from plan_tables import make_plan
from sopfin import layout
from sopfin.close.ledger import LEDGER_COLUMNS
from sopfin.engine import variances
from sopfin.engine.dollarize import days_of_inventory, dollarize
from sopfin.engine.working_capital import working_capital_plan
from sopfin.excel import functions as f
from sopfin.excel import udfs
from test_pvm import (
    KAPLAN_ACTUAL,
    KAPLAN_BUDGET,
    NEW_OLD_BUDGET,
    NEW_OLD_PLAN,
    SODAKING_ACTUAL,
    SODAKING_BUDGET,
)

CENT = 0.005


def close(got, want):
    got = np.where(np.asarray(got, dtype=object) == "", np.nan, got).astype(float)
    return np.allclose(got, np.asarray(want, dtype=float), atol=CENT, rtol=0, equal_nan=True)


# --------------------------------------------------------------------- hand-worked figures
def test_revenue_by_hand():
    assert f.sop_revenue([[100, 120], [10, None]], [[25, 25.5], [8.5, 8.5]]) == [
        [2500.0, 3060.0], [85.0, 0.0]]
    assert f.sop_revenue(4, 2.5) == [[10.0]]
    assert f.sop_revenue([1, 2, 3], [2, 2, 2]) == [[2.0, 4.0, 6.0]]  # one row


def test_cogs_by_hand():
    units = [[100, 120, 80]]
    assert f.sop_cogs(units, [[5]]) == [[500.0, 600.0, 400.0]]
    assert f.sop_cogs(units, [[5, 5, 6]], [[500, None, -200]]) == [[1000.0, 600.0, 280.0]]
    assert f.sop_cogs([[1, 2], [3, 4]], [[10], [20]]) == [[10.0, 20.0], [60.0, 80.0]]


def test_inventory_roll_forward_by_hand():
    # 100 on hand; +50 -100 = 50; +50 -120 = -20; +50 -80 = -50 (shown, not hidden)
    assert f.sop_inventory(100, [[50, 50, 50]], [[100, 120, 80]]) == [[50.0, -20.0, -50.0]]
    assert f.sop_inventory([[10], [0]], [[5, 5], [3, 0]], [[0, 20], [1, 1]]) == [
        [15.0, 0.0], [2.0, 1.0]]


def test_inventory_cash_first_month_needs_an_opening_value():
    assert f.sop_invcash([[250, -100, -250]], [[500]]) == [[250.0, 350.0, 150.0]]
    assert f.sop_invcash([[250, -100, -250]]) == [["", 350.0, 150.0]]


def test_dio_by_hand_default_thirty_days_and_blank_on_zero_cogs():
    assert f.sop_dio([[300, 200]], [[600, 0]]) == [[15.0, ""]]
    assert f.sop_dio([[310, 280]], [[620, 560]], [[31, 28]]) == [[15.5, 14.0]]
    assert f.DEFAULT_DIO_DAYS == 30.0


def test_gap_by_hand_in_each_orientation():
    assert f.sop_gap([[110], [90], [5]], [[100], [100], [0]]) == [
        [10.0, 0.1], [-10.0, -0.1], [5.0, ""]]
    assert f.sop_gap([[110, 90]], [[100, -100]]) == [[10.0, 190.0], [0.1, 1.9]]
    assert f.sop_gap(120, 100) == [[20.0, 0.2]]
    assert f.sop_gap([[1, 2], [3, 4]], [[1, 1], [1, 1]]) == [[0.0, 1.0, 0.0, 1.0],
                                                              [2.0, 3.0, 2.0, 3.0]]


# --------------------------------------------------------------------- against the engine
PLAN = dict(
    demand="""
    | scenario | family | channel | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   | Retail  |     100 |     120 |      80 |
    | base     | PUMP   | OEM     |      40 |         |      60 |
    | base     | VALVE  | Retail  |      10 |      30 |      20 |
    """,
    supply="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |     150 |     100 |     150 |
    | base     | VALVE  |      20 |      20 |      20 |
    """,
    prices="""
    | family | channel | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   | Retail  |      25 |      25 |      26 |
    | PUMP   | OEM     |      20 |      20 |      21 |
    | VALVE  | Retail  |     8.5 |     8.5 |     8.5 |
    """,
    std_cost="""
    | family | material | labour | overhead | effective_from |
    | PUMP   |       10 |      4 |        2 |  |
    | PUMP   |       11 |      4 |        2 | 2027-03 |
    | VALVE  |        3 |      1 |      0.5 |  |
    """,
    opening="""
    | family | units |
    | PUMP   |    40 |
    | VALVE  |     5 |
    """,
    variances="""
    | scenario | family | type     | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   | overtime |     500 |         |    -200 |
    """,
)


@pytest.fixture(scope="module")
def engine():
    d, _ = dollarize(make_plan(**PLAN, constrained=True, shortage_policy="backorder"))
    return d


def test_revenue_matches_the_engine(engine):
    units = engine.line["shipments_units"][0].tolist()
    prices = engine.line["price"][0].tolist()
    assert close(f.sop_revenue(units, prices), engine.line["revenue"][0])


def test_cogs_matches_the_engine(engine):
    fam = {k: v[0] for k, v in engine.fam.items()}
    got = f.sop_cogs(fam["shipments_units"].tolist(), fam["unit_cost"].tolist(),
                     fam["variances"].tolist())
    assert close(got, fam["cogs"])
    assert fam["variances"].any() and fam["unit_cost"][0, 2] == 17.0  # both paths exercised


def test_inventory_matches_the_engine(engine):
    fam = {k: v[0] for k, v in engine.fam.items()}
    opening = [[u] for u in engine.opening_units.tolist()]
    got = f.sop_inventory(opening, fam["production_units"].tolist(),
                          fam["shipments_units"].tolist())
    assert close(got, fam["end_units"])


def test_inventory_cash_matches_the_engine(engine):
    fam = {k: v[0] for k, v in engine.fam.items()}
    opening = [[v] for v in engine.opening_value[0].tolist()]
    assert close(f.sop_invcash(fam["inventory_value"].tolist(), opening), fam["inventory_cash"])


def test_dio_matches_the_engine(engine):
    fam = {k: v[0] for k, v in engine.fam.items()}
    days = [engine.days_in_month.tolist()]
    got = f.sop_dio(fam["inventory_value"].tolist(), fam["cogs"].tolist(), days)
    assert close(got, days_of_inventory(fam["inventory_value"], fam["cogs"],
                                        engine.days_in_month))


def test_dso_dpo_and_ccc_by_hand_and_blank_on_a_zero_flow():
    assert f.sop_dso([[3000, 100]], [[3100, 0]], [[31, 28]]) == [[30.0, ""]]
    assert f.sop_dpo([[500, 280]], [[1500, 560]]) == [[10.0, 15.0]]
    # DIO 600/1860x31 = 10, DSO 3000/3100x31 = 30, DPO 900/1860x31 = 15: a 25-day cycle.
    assert f.sop_ccc([[600, 1]], [[1860, 0]], [[3000, 1]], [[3100, 1]], [[900, 1]],
                     [[31, 28]]) == [[25.0, ""]]


def test_ccc_reproduces_the_published_cash_cycle():
    """Ross, Westerfield & Jordan's review problem 18.1 (see test_working_capital): average
    inventory 1,337, receivables 3,575, payables 1,910, sales 14,750, COGS 11,375 over 365
    days: a cash cycle of 70 days, as ``sopfin.working_capital_days`` gives."""
    got = f.sop_ccc([[1_337]], [[11_375]], [[3_575]], [[14_750]], [[1_910]], [[365]])
    assert round(got[0][0]) == 70
    assert got[0][0] == pytest.approx(sopfin.working_capital_days(
        14_750, 11_375, 1_337, 3_575, 1_910)["ccc"], abs=1e-12)


def test_dso_and_dpo_match_the_working_capital_plan(engine):
    fam = {k: v[0] for k, v in engine.fam.items()}
    days = engine.days_in_month
    wc = working_capital_plan(fam["revenue"], fam["production_cost"], fam["inventory_value"],
                              days, dso=45.0, dpo=30.0)
    assert close(f.sop_dso(wc["receivables"].tolist(), fam["revenue"].tolist(),
                           [days.tolist()]), np.where(fam["revenue"] != 0, 45.0, np.nan))
    assert close(f.sop_dpo(wc["payables"].tolist(), fam["production_cost"].tolist(),
                           [days.tolist()]),
                 np.where(fam["production_cost"] != 0, 30.0, np.nan))


# --------------------------------------------------------------------- published PVM examples
def _column(frame, name):
    return [[v] for v in frame[name].tolist()]


def _pvm_row(table, item):
    header = table[0]
    row = next(r for r in table[1:] if r[0] == item)
    return dict(zip(header, row, strict=True))


def test_pvm_kaplan_acca_both_methods():
    args = (_column(KAPLAN_BUDGET, "units"), _column(KAPLAN_BUDGET, "price"),
            _column(KAPLAN_ACTUAL, "units"), _column(KAPLAN_ACTUAL, "price"))
    costs = (_column(KAPLAN_BUDGET, "unit_cost"), _column(KAPLAN_ACTUAL, "unit_cost"))
    ind = f.sop_pvm(*args, "margin", "individual", *costs)
    assert ind[0] == ["Item", "Price", "Quantity", "Mix", "Volume", "Cost", "Total", "Status"]
    for item, mix, qty in ((1, -1_520_000, 912_000), (2, 103_400, 366_600),
                           (3, 846_000, 846_000), ("Total", -570_600, 2_124_600)):
        row = _pvm_row(ind, item)
        assert abs(row["Mix"] - mix) < CENT and abs(row["Quantity"] - qty) < CENT
    wa = f.sop_pvm(*args, "Margin", "weighted average", *costs)
    for item, mix in ((1, -811_800), (2, -286_110), (3, 527_310), ("Total", -570_600)):
        assert abs(_pvm_row(wa, item)["Mix"] - mix) < CENT


def test_pvm_horngren_sodaking_totals():
    table = f.sop_pvm(_column(SODAKING_BUDGET, "units"), _column(SODAKING_BUDGET, "price"),
                      _column(SODAKING_ACTUAL, "units"), _column(SODAKING_ACTUAL, "price"))
    total = _pvm_row(table, "Total")
    assert table[0] == ["Item", "Price", "Quantity", "Mix", "Volume", "Total", "Status"]
    from sopfin.engine.bridge import pvm

    engine = pvm(SODAKING_BUDGET, SODAKING_ACTUAL)
    for name in ("price", "quantity", "mix", "volume", "total"):
        assert abs(total[name.capitalize()] - engine.at["Total", name]) < CENT


def test_pvm_blank_units_and_price_make_an_item_new_or_discontinued():
    # items by position: A, B, C (budget only), D, E (plan only)
    order = ["A", "B", "C", "D", "E"]

    def side(frame, col):
        return [[frame[col].get(k) if k in frame.index else None] for k in order]

    table = f.sop_pvm(side(NEW_OLD_BUDGET, "units"), side(NEW_OLD_BUDGET, "price"),
                      side(NEW_OLD_PLAN, "units"), side(NEW_OLD_PLAN, "price"))
    status = {r[0]: r[-1] for r in table[1:]}
    assert status == {1: "both", 2: "both", 3: "discontinued", 4: "new", 5: "new",
                      "Total": ""}
    assert _pvm_row(table, "Total")["Total"] == 6_430 - 5_200


# --------------------------------------------------------------------- cost variances
def _as_rows(table):
    header, *rows = table
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_matvar_spills_the_published_material_variances():
    # Warren, Reeve & Duchac EX 23-5 (Techno Tyme) and Heisinger & Hoyle (Carol's Cookies),
    # cited in test_variances.py: price 180 F / usage 138 A at usage; 128,000 F / 78,000 A
    # with the price taken on the 640,000 lb bought.
    assert f.sop_matvar(1, 6.90, 430, 450, 2_925) == [["price", "usage", "total"],
                                                      [180.0, -138.0, 42.0]]
    table = f.sop_matvar([[1], [1.5]], [[6.90], [2]], [[430], [390_000]], [[450], [624_000]],
                         None, [[450], [640_000]], [[2_925], [1_152_000]])
    assert _as_rows(table) == [dict(price=180.0, usage=-138.0, total=42.0),
                               dict(price=128_000.0, usage=-78_000.0, total=50_000.0)]


def test_labvar_spills_rate_idle_time_and_efficiency_per_family():
    # aCOWtancy FMA (rate 2,485 F, idle 6,500 A, efficiency 2,000 F) and Emile Woolf F5
    # (rate 11,400 A, efficiency 9,000 A), cited in test_variances.py; one row per family.
    table = f.sop_labvar([[5, 3]], [[5, 6]], [[8_900, 9_000]], [[45_400, 28_500]],
                         [[224_515, 182_400]], [[44_100, 28_500]])
    assert table[0] == ["rate", "idle_time", "efficiency", "total"]
    assert _as_rows(table) == [
        variances.labour(5, 5.0, 8_900, 45_400, 224_515, hours_worked=44_100),
        variances.labour(3, 6.0, 9_000, 28_500, 182_400)]
    assert table[1][:3] == [2_485.0, -6_500.0, 2_000.0] and table[2][0] == -11_400.0
    assert f.sop_labvar(3, 6, 9_000, 28_500, 182_400)[1][1] == 0.0  # no hours_worked: no idle


def test_ohvar_spills_variable_then_fixed_overhead():
    # Emile Woolf F5, p. 499 (test_variances.py): variable expenditure 10,000 F, efficiency
    # 6,000 A; fixed expenditure 8,000 F, capacity 12,000 A, efficiency 12,000 A.
    variable = f.sop_ohvar(3, 4, 9_000, 28_500, 104_000)
    assert variable == [["variable_expenditure", "variable_efficiency", "variable_total"],
                        [10_000.0, -6_000.0, 4_000.0]]
    both = f.sop_ohvar(3, 4, 9_000, 28_500, 104_000, 10_000, 240_000, 232_000)
    assert both[0][3:] == ["fixed_expenditure", "fixed_volume", "fixed_capacity",
                           "fixed_efficiency", "fixed_total"]
    assert both[1] == [10_000.0, -6_000.0, 4_000.0, 8_000.0, -24_000.0, -12_000.0,
                       -12_000.0, -16_000.0]
    # one cell applies to every family: two families, one of them the AAT forum's figures
    two = f.sop_ohvar([[3], [6]], 4, [[9_000], [11_500]], [[28_500], [70_150]], 104_000,
                      [[10_000], [10_000]], [[240_000], [600_000]], [[232_000], [630_000]])
    assert _as_rows(two)[1]["fixed_capacity"] == 101_500.0
    assert _as_rows(two)[1]["fixed_efficiency"] == -11_500.0


# --------------------------------------------------------------------- errors in the cell
@pytest.mark.parametrize("call, message", [
    (lambda: f.sop_revenue([[1] * 12] * 2, [[1] * 11] * 2),
     "#SOPFIN: prices must be the same shape as units (2x12 vs 2x11)"),
    (lambda: f.sop_revenue([[1, "abc"]], [[1, 1]]),
     "#SOPFIN: units must be numbers; found 'abc' at position 2"),
    (lambda: f.sop_revenue([[1, 2], [-3, 4]], [[1, 1], [1, 1]]),
     "#SOPFIN: units cannot be negative; found -3 at row 2, column 1"),
    (lambda: f.sop_revenue([[1, "#N/A"]], [[1, 1]]),
     "#SOPFIN: units has the Excel error #N/A at position 2"),
    (lambda: f.sop_cogs([[1, 2]], [[True, 1]]),
     "#SOPFIN: std_cost must be numbers; found True at position 1"),
    (lambda: f.sop_cogs([[1, 2]], [[1, 2, 3]]),
     "#SOPFIN: std_cost must be the same shape as units, one column with a value per row, "
     "or one cell (1x2 vs 1x3)"),
    (lambda: f.sop_inventory([[1], [2]], [[1, 2]], [[1, 2]]),
     "#SOPFIN: opening must be one column with a value per row of production (1x1 vs 2x1)"),
    (lambda: f.sop_dio([[1, 2]], [[1, "#DIV/0!"]]),
     "#SOPFIN: cogs has the Excel error #DIV/0! at position 2"),
    (lambda: f.sop_dso([[1, 2]], [[1]]),
     "#SOPFIN: revenue must be the same shape as receivables (1x2 vs 1x1)"),
    (lambda: f.sop_dpo([[1, 2]], [[1, 2]], [[30], [31]]),
     "#SOPFIN: days must be one cell, one row with a value per column, or the shape of cost "
     "(1x2 vs 2x1)"),
    (lambda: f.sop_ccc([[1]], [[1]], [[1]], [[1]], [["x"]]),
     "#SOPFIN: payables must be numbers; found 'x'"),
    (lambda: f.sop_gap([[1, 2]], [[1]]),
     "#SOPFIN: budget must be the same shape as plan (1x2 vs 1x1)"),
    (lambda: f.sop_pvm([[1], [2]], [[1], [2]], [[1], [2]], [[1], [2]], "profit"),
     "#SOPFIN: basis must be one of revenue, margin; found 'profit'"),
    (lambda: f.sop_pvm([[1], [2]], [[1], [2]], [[1], [2]], [[1], [2]], "margin"),
     "#SOPFIN: the margin basis needs budget_unit_costs and plan_unit_costs"),
    (lambda: f.sop_pvm([[1], [2]], [[1], [2]], [[1]], [[1]]),
     "#SOPFIN: plan_units must list the same items as budget_units (2 vs 1)"),
    (lambda: f.sop_pvm([[1, 2], [3, 4]], [[1, 2], [3, 4]], [[1]], [[1]]),
     "#SOPFIN: budget_units must be one row or one column, one cell per item (got 2x2)"),
    (lambda: f.sop_version([]), "#SOPFIN: no published version in this workbook yet"),
    (lambda: f.sop_matvar(1, 2, 3, [[4, -5]], 6),
     "#SOPFIN: qty_used cannot be negative; found -5 at position 2"),
    (lambda: f.sop_matvar(1, 2, 3, 4, 5, 6),
     "#SOPFIN: material: the price variance at purchase needs qty_purchased and "
     "purchase_cost; purchase_cost is missing"),
    (lambda: f.sop_labvar(1, 2, [[3, 3]], [[4, 4, 4]], 5),
     "#SOPFIN: actual_output must be one cell or one cell per family (3 vs 2)"),
    (lambda: f.sop_labvar(1, 2, 3, [[4, 4]], 5, [[4, 5]]),
     "#SOPFIN: labour: hours_worked cannot exceed hours_paid at family 2"),
    (lambda: f.sop_ohvar(1, 2, 3, 4, "#REF!"),
     "#SOPFIN: actual_cost has the Excel error #REF!"),
    (lambda: f.sop_ohvar(1, 2, 3, 4, 5, 10, 100),
     "#SOPFIN: the fixed overhead needs budget_output, budget_fixed_cost and "
     "actual_fixed_cost"),
    (lambda: f.sop_ohvar(0, 2, 3, 4, 5, 10, 100, 90),
     "#SOPFIN: fixed_overhead: std_hours_per_unit must be positive where budget_cost is "
     "not zero"),
])
def test_bad_input_gives_one_readable_line(call, message):
    assert call() == message


def test_a_date_is_named_as_a_date():
    import datetime as dt

    assert f.sop_revenue([[dt.datetime(2027, 1, 1)]], [[1]]) == (
        "#SOPFIN: units must be numbers; found a date")


# --------------------------------------------------------------------- SOP_VERSION
def _ledger(*events):
    rows = [list(LEDGER_COLUMNS)]
    for seq, (event, version, digest) in enumerate(events, start=1):
        row = dict.fromkeys(LEDGER_COLUMNS, "")
        row.update(seq=float(seq), event=event, version=float(version), recon_hash=digest,
                   status="draft" if event == "publish" else "approved")
        rows.append([row[c] for c in LEDGER_COLUMNS])
    return rows


def test_version_reads_the_latest_publish_and_its_status():
    rows = _ledger(("publish", 1, "a" * 64), ("publish", 2, "b1c2d3e4" + "0" * 56),
                   ("approve", 2, "b1c2d3e4" + "0" * 56))
    assert f.sop_version(rows) == [["v002", "approved", "b1c2d3e4"]]
    assert f.sop_version(rows[:3]) == [["v002", "draft", "b1c2d3e4"]]


def test_sop_version_udf_reads_the_callers_workbook_ledger():
    book = book_with({"Demand": [["x"]], layout.LEDGER: _ledger(("publish", 1, "f" * 64))})
    caller = book.sheets["Demand"].range("A1")
    assert udfs.SOP_VERSION(caller) == [["v001", "draft", "ffffffff"]]
    assert udfs.SOP_VERSION(book_with({"Demand": [["x"]]}).sheets["Demand"].range("A1")) == \
        "#SOPFIN: no published version in this workbook yet"


# --------------------------------------------------------------------- xlwings registration
@pytest.fixture(scope="module")
def registered():
    """``sopfin.excel.udfs`` decorated by xlwings' own Windows registration code.

    On Linux ``xw.func``/``xw.arg`` are pass-throughs; the classic decorators live in
    ``xlwings.udfs``, which imports pywin32 at the top. With those imports stubbed, the real
    decorators and xlwings' own VBA wrapper generator run unchanged."""
    stubs = {name: types.ModuleType(name) for name in
             ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["win32com.client"].Dispatch = None
    stubs["win32com"].client = stubs["win32com.client"]
    saved = {name: sys.modules.get(name) for name in [*stubs, "xlwings.udfs"]}
    plain = (xw.func, xw.arg, xw.ret)
    sys.modules.update(stubs)
    try:
        classic = importlib.import_module("xlwings.udfs")
        xw.func, xw.arg, xw.ret = classic.xlfunc, classic.xlarg, classic.xlret
        yield classic, importlib.reload(udfs)
    finally:
        xw.func, xw.arg, xw.ret = plain
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        importlib.reload(udfs)


def test_every_udf_is_registered_with_a_description_and_argument_help(registered):
    _, module = registered
    names = set()
    for func in module.UDFS:
        meta = func.__xlfunc__
        names.add(meta["name"])
        assert meta["category"] == module.CATEGORY
        assert meta["ret"]["doc"] and "\n" not in meta["ret"]["doc"].strip()
        for arg in meta["args"]:
            if arg["name"] == "caller":  # filled in by xlwings, not shown in the wizard
                continue
            assert not arg["doc"].startswith("Positional argument"), (meta["name"], arg)
            assert arg["options"].get("err_to_str") is True
    assert names == {"SOP_REVENUE", "SOP_COGS", "SOP_INVENTORY", "SOP_INVCASH", "SOP_DIO",
                     "SOP_DSO", "SOP_DPO", "SOP_CCC", "SOP_PVM", "SOP_GAP", "SOP_MATVAR",
                     "SOP_LABVAR", "SOP_OHVAR", "SOP_VERSION"}
    assert module.SOP_VERSION.__xlfunc__["volatile"] is True
    optional = {a["name"] for a in module.SOP_PVM.__xlfunc__["args"] if "optional" in a}
    assert optional == {"basis", "mix_method", "budget_unit_costs", "plan_unit_costs"}
    optional = {a["name"] for a in module.SOP_OHVAR.__xlfunc__["args"] if "optional" in a}
    assert optional == {"budget_output", "budget_fixed_cost", "actual_fixed_cost"}
    assert module.SOP_REVENUE([[1]], [[2]]) == [[2.0]]  # still plain Python underneath


def test_xlwings_generates_the_excel_declarations(registered):
    classic, module = registered
    out = io.StringIO()
    classic.generate_vba_wrapper("sopfin.excel.udfs", module, out,
                                 types.SimpleNamespace(Name="sopfin.xlam"))
    vba = out.getvalue()
    assert ("Function SOP_PVM(budget_units, budget_prices, plan_units, plan_prices, "
            "Optional basis, Optional mix_method, Optional budget_unit_costs, "
            "Optional plan_unit_costs)") in vba
    assert "Function SOP_VERSION()" in vba and "Application.Volatile" in vba
    assert ("Function SOP_MATVAR(std_qty_per_unit, std_price, actual_output, qty_used, "
            "actual_cost, Optional qty_purchased, Optional purchase_cost)") in vba
    for func in module.UDFS:
        assert f'"sopfin.excel.udfs", "{func.__name__}"' in vba


def test_udfs_turn_faults_into_one_line():
    assert udfs.SOP_REVENUE([[1]], [[2]]) == [[2.0]]
    got = udfs.SOP_GAP(object(), [[1]])
    assert got.startswith("#SOPFIN: ") and "\n" not in got
    assert udfs.SOP_DIO([[1]], [[0]]) == [[""]]
    assert not math.isnan(udfs.SOP_COGS([[2]], [[3]], None)[0][0])
