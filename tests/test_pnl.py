"""The P&L sheet: a small plan worked by hand, a plan without opex, and the demo recalculated
by LibreOffice: every formula to its cached value to the cent, and an edited driver cell (a
freight rate) or one month's units moving exactly the cells that depend on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from lo_oracle import read_values, recalculate_many, spec_cells
from opex_tables import opex_plan
from plan_tables import base, write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.pipeline import run_dollarize
from sopfin.plan.demo import demo_sheets
from sopfin.sheetspec import SheetSpec
from sopfin.xlsx.sheetxml import worksheet_xml
from sopfin.xlsx.writer import create_workbook

Rows = dict[tuple[str, str, str, str], list[object]]  # keys -> month and period values


def _pnl(path: Path) -> SheetSpec:
    result = run_dollarize(path)
    assert result.ok and result.specs is not None, [i.format() for i in result.issues]
    return next(s for s in result.specs if s.name == layout.PNL)


def _rows(spec: SheetSpec) -> Rows:
    cells = spec_cells(spec)
    rows: Rows = {}
    width = 4 + len(next(b for b in spec.blocks if b.style == "month_header").values[0])
    for r in sorted({int("".join(c for c in ref if c.isdigit())) for ref in cells}):
        keys = tuple(cells.get(f"{c}{r}", (None, None))[1] or "" for c in "ABCD")
        if keys[0] and r > 2:
            rows[keys] = [cells.get(f"{layout.column_letter(c)}{r}", (None, None))[1]
                          for c in range(5, width + 1)]
    return rows


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> Rows:
    return _rows(_pnl(write_xlsx(tmp_path_factory.mktemp("pnl") / "plan.xlsx", opex_plan())))


def test_opex_lines_worked_by_hand(hand: Rows) -> None:
    freight = ("base", "Operations", "Freight")
    # $2 per P-100 unit shipped (150, 110, 180), then the quarter and the year
    assert hand[(*freight, "Plan")] == pytest.approx([300, 220, 360, 880, 880])
    assert hand[(*freight, "Budget")] == pytest.approx([300, 300, 300, 900, 900])
    assert hand[(*freight, "Variance")] == pytest.approx([0, -80, 60, -20, -20])
    assert hand[(*freight, "Variance %")] == pytest.approx([0, -80 / 300, 0.2, -20 / 900,
                                                            -20 / 900])
    # 5% of Retail revenue: P-100 Retail and V-200 (10 x 8.5)
    commission = hand[("base", "Sales", "Commission", "Plan")]
    assert commission[:3] == pytest.approx([0.05 * 2585, 0.05 * 2835, 0.05 * 3205])
    sales = hand[("base", "Sales", "Total", "Plan")]
    assert sales[0] == pytest.approx(1100 + 129.25)
    assert hand[("base", "Opex", "", "Plan")][0] == pytest.approx(1100 + 129.25 + 300)


def test_margin_and_ebitda_worked_by_hand(hand: Rows) -> None:
    # January, base: 100 x 25 + 50 x 20 + 10 x 8.5 revenue; 150 x 16 + 10 x 4.5 + 500 overtime
    assert hand[("base", "Revenue", "", "Plan")][0] == pytest.approx(3585)
    assert hand[("base", "COGS", "", "Plan")][0] == pytest.approx(2945)
    assert hand[("base", "Gross margin", "", "Plan")][0] == pytest.approx(640)
    assert hand[("base", "EBITDA", "", "Plan")][0] == pytest.approx(640 - 1529.25)
    assert hand[("base", "Revenue", "", "Budget")][0] == pytest.approx(3600)
    assert hand[("upside", "Sales", "Commission", "Plan")][:3] == [0, 0, 0]  # no such line


def test_the_latest_estimate_takes_actuals_in_closed_months(hand: Rows) -> None:
    assert hand[("base", "Sales", "Salaries", "Latest estimate")][:3] == \
        pytest.approx([1050, 1120, 1200])
    # the freight line is closed in January and February with nothing booked
    assert hand[("base", "Operations", "Freight", "Latest estimate")][:3] == \
        pytest.approx([0, 0, 360])
    # revenue closes with the family actuals (P-100 only); COGS had nothing booked
    revenue = hand[("base", "Revenue", "", "Latest estimate")]
    assert revenue[:2] == pytest.approx([3500, 3650])
    assert hand[("base", "COGS", "", "Latest estimate")][:2] == pytest.approx([0, 0])


def test_the_actual_row_holds_closed_months_and_is_blank_after(hand: Rows) -> None:
    """January and February are closed (Actuals has figures there); March is open. A quarter
    and a year sum their closed months."""
    assert hand[("base", "Sales", "Salaries", "Actual")] == pytest.approx(
        [1050, 1120, None, 2170, 2170])
    assert hand[("base", "Operations", "Freight", "Actual")] == pytest.approx(
        [0, 0, None, 0, 0])  # closed with nothing booked
    assert hand[("base", "Revenue", "", "Actual")] == pytest.approx(
        [3500, 3650, None, 7150, 7150])
    # gross margin 3,500 (no COGS booked) less opex 1,050 (Salaries alone booked)
    assert hand[("base", "EBITDA", "", "Actual")] == pytest.approx(
        [3500 - 1050, 3650 - 1120, None, 7150 - 2170, 7150 - 2170])
    for scenario in ("base", "upside"):  # actuals have no scenario
        assert hand[(scenario, "Opex", "", "Actual")][:2] == pytest.approx([1050, 1120])


def test_accounts_fold_under_their_department(tmp_path: Path) -> None:
    spec = _pnl(write_xlsx(tmp_path / "plan.xlsx", opex_plan()))
    cells = spec_cells(spec)
    accounts = {r for r in spec.row_outline}
    assert accounts and set(spec.row_outline.values()) == {1}
    for r in range(3, max(accounts) + 2):
        account = cells.get(f"C{r}", (None, None))[1]
        assert (r in accounts) == (account not in (None, "Total")), r
    xml = worksheet_xml(spec, {s: 0 for s in {b.style for b in spec.blocks if b.style}})
    # Revenue, COGS and Gross margin take six rows each from row 3; Sales' first account next
    assert b'outlineLevelRow="1"' in xml and b'<row r="21" outlineLevel="1">' in xml


def test_without_opex_the_pnl_stops_at_gross_margin_and_ebitda_is_it(tmp_path: Path) -> None:
    spec = _pnl(write_xlsx(tmp_path / "plan.xlsx", base()))
    rows = _rows(spec)
    assert {k[1] for k in rows} == {"Revenue", "COGS", "Gross margin", "EBITDA"}
    for scenario in ("base", "upside"):
        for basis in ("Plan", "Budget", "Latest estimate"):
            assert rows[(scenario, "EBITDA", "", basis)] == \
                rows[(scenario, "Gross margin", "", basis)]
    assert not spec.row_outline


# ----------------------------------------------------------------------------- LibreOffice
def _set(path: Path, sheet: str, find: dict[int, object], column: int, factor: float) -> str:
    """Scale the cell in ``column`` of the first row of ``sheet`` matching ``find`` (column
    index -> value); the cell's reference."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    row = next(r for r in range(2, ws.max_row + 1)
               if all(ws.cell(r, c).value == v for c, v in find.items()))
    ws.cell(row, column).value = ws.cell(row, column).value * factor
    book.save(path)
    return ws.cell(row, column).coordinate


def _formulas(spec: SheetSpec) -> dict[str, object]:
    return {ref: value for ref, (formula, value) in spec_cells(spec).items() if formula}


def _off(expected: object, got: object) -> bool:
    if expected is None:
        return got not in (None, "")
    return not isinstance(got, int | float) or abs(float(got) - float(expected)) > 0.005


def _demo(root: Path, full: bool) -> Path:
    """The demo workbook: as ``sopfin new --demo`` writes it, or a smaller one (8 families,
    12 months) of the same generator for the fast run."""
    path = root / "plan.xlsx"
    if full:
        assert main(["new", str(path), "--demo", "-q"]) == 0
    else:
        create_workbook(path, demo_sheets(families=8, months=12))
    return path


@pytest.fixture(scope="module", params=[
    pytest.param(False, id="demo-8x12"), pytest.param(True, id="demo", marks=pytest.mark.slow)])
def oracle(request, tmp_path_factory, soffice: str) -> dict[str, tuple[SheetSpec, dict]]:
    root = tmp_path_factory.mktemp("pnl-oracle")
    plan = _demo(root, request.param)
    specs = {"plan": _pnl(plan)}
    edits = {"rate": (layout.OPEX, {1: "base", 3: "Outbound freight"}, 6, 1.5),
             "units": (layout.DEMAND, {1: "base", 2: "CTL-100"}, 6, 2.0)}
    files = {"plan": plan}
    for name, (sheet, find, column, factor) in edits.items():
        files[name] = root / f"{name}.xlsx"
        shutil.copyfile(plan, files[name])
        _set(files[name], sheet, find, column, factor)
        again = root / f"{name}-dollarized.xlsx"
        shutil.copyfile(files[name], again)
        specs[name] = _pnl(again)  # what sopfin computes for the edited plan
    recalculated = recalculate_many(list(files.values()), root / "lo", soffice)
    return {name: (specs[name], read_values(recalculated[path], [layout.PNL])[layout.PNL])
            for name, path in files.items()}


def test_the_demo_pnl_recalculates_to_its_cached_values_to_the_cent(oracle) -> None:
    spec, got = oracle["plan"]
    expected = _formulas(spec)
    assert len(expected) > 4000
    assert [ref for ref, v in expected.items() if _off(v, got.get(ref))][:10] == []
    rows = _rows(spec)
    assert {k[1] for k in rows} >= {"Sales", "Marketing", "Operations", "G&A", "EBITDA"}
    le = rows[("base", "Sales", "Salaries", "Latest estimate")]
    plan = rows[("base", "Sales", "Salaries", "Plan")]
    assert le[:2] != plan[:2] and le[2:11] == plan[2:11]  # two closed months of actuals


@pytest.mark.parametrize("edit", ["rate", "units"])
def test_an_edited_driver_cell_moves_exactly_its_dependents(oracle, edit: str) -> None:
    before, _ = oracle["plan"]
    after, got = oracle[edit]
    old, new = _formulas(before), _formulas(after)
    assert old.keys() == new.keys()
    assert [ref for ref, v in new.items() if _off(v, got.get(ref))][:10] == []
    moved = {ref for ref in old if _off(old[ref], new[ref]) or _off(new[ref], old[ref])}
    cells = spec_cells(before)
    keys = {ref: tuple(cells[f"{c}{ref.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"][1] or ""
                       for c in "ABC") for ref in moved}
    assert moved and {k[0] for k in keys.values()} == {"base"}
    if edit == "rate":  # the freight line and what sums it, nothing else
        assert {k[1:] for k in keys.values()} == {
            ("Operations", "Outbound freight"), ("Operations", "Total"), ("Opex", ""),
            ("EBITDA", "")}
        freight = _rows(after)[("base", "Operations", "Outbound freight", "Plan")]
        was = _rows(before)[("base", "Operations", "Outbound freight", "Plan")]
        assert np.allclose(np.array(freight, dtype=float), 1.5 * np.array(was, dtype=float))
    else:  # the month's revenue, COGS and the lines driven by units shipped or revenue
        assert ("Operations", "Outbound freight") in {k[1:] for k in keys.values()}
        assert ("G&A", "Rent") not in {k[1:] for k in keys.values()}
