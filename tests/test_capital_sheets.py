"""Working capital and trapped stock on the Cash sheet, Summary, Issues and the Recon.

A small plan worked by hand (three families over eight months) goes through the whole
pipeline into a real workbook; LibreOffice recalculates a copy and every formula of Cash and
Summary must come back as sopfin cached it, the working-capital, stranded and excess rows
among them. The demo's discontinued families must be reported as stranded, the value
checked by hand against its input cells.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lo_oracle import read_values, recalculate_many, spec_cells
from plan_tables import make_plan, sheet_rows, write_xlsx
from sopfin import layout
from sopfin.close.reconcile import reconcile
from sopfin.engine.working_capital import working_capital_plan
from sopfin.model import IssueCode, Severity
from sopfin.pipeline import check_with_finance, plan_outputs, run_dollarize
from test_render_libreoffice import mismatches

MONTHS = "| 2027-01 | 2027-02 | 2027-03 | 2027-04 | 2027-05 | 2027-06 | 2027-07 | 2027-08 |"
# PUMP sells 100 a month from 500 on hand and makes 60: excess stock. GEAR sells nothing
# until May: its 40 units are stranded in January (no demand in February to April). OLD is
# never sold: its 50 units are stranded in every month the plan can judge.
PLAN = dict(
    demand=f"""
    | scenario | family {MONTHS}
    | base | PUMP | 100 | 100 | 100 | 100 | 100 | 100 | 100 | 100 |
    | base | GEAR |   0 |   0 |   0 |   0 |  30 |  30 |  30 |  30 |
    """,
    supply=f"""
    | scenario | family {MONTHS}
    | base | PUMP |  60 |  60 |  60 |  60 |  60 |  60 |  60 |  60 |
    """,
    prices=f"""
    | family {MONTHS}
    | PUMP   |      20 |      20 |      20 |      20 |      20 |      20 |      20 |      20 |
    | GEAR   |      50 |      50 |      50 |      50 |      50 |      50 |      50 |      50 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | PUMP   |        6 |      1 |        1 |
    | GEAR   |       15 |      3 |        2 |
    | OLD    |        4 |      0 |        0 |
    """,
    opening="""
    | family | units |
    | PUMP   |   500 |
    | GEAR   |    40 |
    | OLD    |    50 |
    """)
TERMS = dict(stranded_months=3, target_cover_days=45.0, dso_days=40.0, dpo_days=25.0)
OUTPUTS = [layout.CASH, layout.SUMMARY]


def row_of(spec, *keys: str) -> int:
    """The row whose first key cells read ``keys``."""
    cells = spec_cells(spec)
    rows = sorted({int("".join(ch for ch in ref if ch.isdigit())) for ref in cells})
    for row in rows:
        if [cells.get(f"{layout.column_letter(c)}{row}", (None, None))[1]
                for c in range(1, len(keys) + 1)] == list(keys):
            return row
    raise AssertionError(f"no row {keys} on {spec.name}")


def month_cells(spec, row: int, count: int = 8) -> list[str]:
    first = next(b.col for b in spec.blocks if b.style == "month_header")
    return [f"{layout.column_letter(first + j)}{row}" for j in range(count)]


@pytest.fixture(scope="module")
def worked(tmp_path_factory, soffice):
    root = tmp_path_factory.mktemp("capital")
    path = write_xlsx(root / "capital.xlsx", sheet_rows(make_plan(**PLAN, **TERMS)))
    result = run_dollarize(path)
    assert result.ok and result.specs is not None, [i.format() for i in result.issues]
    specs = {s.name: s for s in result.specs if s.name in OUTPUTS}
    again = recalculate_many([path], root / "lo", soffice)[path]
    return specs, read_values(again, OUTPUTS), result


def test_cash_and_summary_formulas_agree_with_libreoffice(worked):
    specs, recalculated, _ = worked
    assert mismatches(specs, recalculated)[:10] == []


def test_hand_worked_stock_figures_as_libreoffice_computes_them(worked):
    specs, recalculated, _ = worked
    cash = specs[layout.CASH]
    got = recalculated[layout.CASH]

    def values(*keys: str) -> list[object]:
        return [got.get(ref) for ref in month_cells(cash, row_of(cash, *keys))]

    assert values("base", "OLD", "Stranded stock (units)")[:5] == [50] * 5
    assert values("base", "OLD", "Stranded stock value")[:5] == [200] * 5  # 50 x 4
    assert values("base", "OLD", "Stranded stock (units)")[5:] == [None] * 3  # not judged
    assert values("base", "GEAR", "Stranded stock (units)")[:2] == [40, 0]
    # January's 460 units against 45 days of shipments: February's 100 and 17/31 of March's
    pump = values("base", "PUMP", "Excess stock (units)")
    assert pump[0] == pytest.approx(460 - 100 - 100 * 17 / 31, abs=1e-9)
    assert values("base", "PUMP", "Excess stock value")[0] == pytest.approx(
        (460 - 100 - 100 * 17 / 31) * 8, abs=0.005)
    summary = specs[layout.SUMMARY]
    stranded = recalculated[layout.SUMMARY][
        month_cells(summary, row_of(summary, "base", "Stranded stock value", "Plan"))[0]]
    assert stranded == pytest.approx(200 + 40 * 20, abs=0.005)


def test_receivables_payables_and_cycle_as_libreoffice_computes_them(worked):
    specs, recalculated, _ = worked
    cash = specs[layout.CASH]
    got = recalculated[layout.CASH]

    def january(label: str) -> object:
        return got.get(month_cells(cash, row_of(cash, "base", "Total", label))[0])

    revenue, production = 100 * 20, 60 * 8
    assert january("Receivables") == pytest.approx(revenue * 40 / 31, abs=0.005)
    assert january("Payables") == pytest.approx(production * 25 / 31, abs=0.005)
    inventory = 460 * 8 + 40 * 20 + 50 * 4
    assert january("Inventory value") == pytest.approx(inventory, abs=0.005)
    net = revenue * 40 / 31 + inventory - production * 25 / 31
    assert january("Net working capital") == pytest.approx(net, abs=0.005)
    # before the horizon receivables and payables stand at January's: the change is the
    # inventory build alone (500 -> 460 PUMP units at 8)
    assert january("Cash effect of working capital") == pytest.approx(40 * 8, abs=0.005)
    cogs = 100 * 8
    dio, dso, dpo = inventory / cogs * 31, 40.0, production * 25 / 31 / cogs * 31
    assert january("Cash conversion cycle (days)") == pytest.approx(dio + dso - dpo, abs=1e-6)
    assert january("Inventory turnover") == pytest.approx(cogs / inventory, abs=1e-9)


def test_the_plan_warns_of_each_stranded_family_at_its_cell(worked):
    *_, result = worked
    stranded = [i for i in result.issues if i.code is IssueCode.STRANDED_STOCK]
    assert [(str(i.where), i.severity) for i in stranded] == [
        ("Families!A3", Severity.WARNING), ("Families!A4", Severity.WARNING)]
    assert "'GEAR' holds 40 units" in stranded[0].message
    assert "'OLD' holds 50 units" in stranded[1].message


days = st.integers(min_value=28, max_value=31).map(float)
money = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(revenue=money, cost=money, inventory=money, month_days=days, months=st.integers(1, 24),
       dso=st.floats(0, 365), dpo=st.floats(0, 365))
def test_unchanged_working_capital_has_no_cash_effect(revenue, cost, inventory, month_days,
                                                      months, dso, dpo):
    """The same month again and again, opening at its own level: no change, no cash."""
    flat = np.full((1, months), 1.0)
    wc = working_capital_plan(flat * revenue, flat * cost, flat * inventory,
                              np.full(months, month_days), dso=dso, dpo=dpo,
                              opening=revenue * dso / month_days + inventory
                              - cost * dpo / month_days)
    assert np.all(wc["change"] == 0)
    assert np.all(wc["cash_effect"] == 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(money, money, money), min_size=1, max_size=24), st.floats(0, 365),
       st.floats(0, 365), money)
def test_cash_effect_is_minus_the_change_and_adds_up(rows, dso, dpo, opening):
    revenue, cost, inventory = (np.array([[r[k] for r in rows]]) for k in range(3))
    month_days = np.full(len(rows), 30.0)
    wc = working_capital_plan(revenue, cost, inventory, month_days, dso=dso, dpo=dpo,
                              opening=opening)
    assert np.array_equal(wc["cash_effect"] == 0, wc["change"] == 0)
    total = -(wc["net_working_capital"][0, -1] - opening)
    assert math.isclose(wc["cash_effect"].sum(), total, rel_tol=1e-9,
                        abs_tol=1e-6 * max(1.0, abs(opening), float(np.abs(
                            wc["net_working_capital"]).max())))


def _cost_in_force(plan, family: str, month: str) -> float:
    """Material + labour + overhead of the family's StdCost row in force in ``month``."""
    table = plan.std_cost
    keys = table.keys
    rows = [i for i in range(len(keys)) if keys["family"][i] == family
            and (keys["effective_from"][i] or "0000-00") <= month]
    latest = max(rows, key=lambda i: keys["effective_from"][i] or "0000-00")
    return float(table.values[latest].sum())


def test_the_demo_reports_its_stranded_stock(built_demo: Path):
    result = plan_outputs(check_with_finance(built_demo))
    assert result.ok and result.plan is not None and result.dollarized is not None
    stranded = [i for i in result.issues if i.code is IssueCode.STRANDED_STOCK]
    assert {i.message.split("'")[1] for i in stranded} == {"VLV-120", "VLV-180"}
    assert all(i.where.sheet == layout.FAMILIES for i in stranded)
    rec = reconcile(result.plan, result.dollarized, result.finance)
    trapped = rec.exposure
    assert trapped is not None and rec.exposure_as_at == "2028-06"
    assert set(trapped.labels()) == {"VLV-120", "VLV-180", "Total"}
    # by hand: the opening units (no demand, no supply) at the cost in force in 2028-06
    plan = result.plan
    opening = dict(zip(plan.opening.keys["family"], plan.opening.values[:, 0], strict=True))
    by_hand = opening["VLV-120"] * _cost_in_force(plan, "VLV-120", "2028-06")
    assert trapped.at("VLV-120", "stranded_units") == opening["VLV-120"]
    assert trapped.at("VLV-120", "stranded_value") == pytest.approx(by_hand, abs=0.005)
    assert 60_000 < trapped.at("Total", "stranded_value") < 66_000
