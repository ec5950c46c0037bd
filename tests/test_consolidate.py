"""sopfin consolidate: three business units in two currencies, worked by hand.

    unit  currency  family  months            units     price  std cost  opening  supply
    a     USD       PUMP    2027-01, 2027-02  100, 100  10     6         50       100, 120
    b     EUR       VALVE   2027-01, 2027-02   10,  20  100    50         5        10,  20
    c     EUR       GEAR    2027-01, 2027-02    4,   6  50     20         0         4,  10

Rates EUR -> USD: 2026-12 closing 1.10; 2027-01 average 1.08, closing 1.12; 2027-02 average
1.15, closing 1.20. Flows translate at the average, the inventory value at the closing rate:

    b revenue   1,000 x 1.08 + 2,000 x 1.15 = 3,380      c revenue  200 x 1.08 + 300 x 1.15 = 561
    b COGS        500 x 1.08 + 1,000 x 1.15 = 1,690      c COGS      80 x 1.08 + 120 x 1.15 = 224.4
    b inventory 250 (5 units x 50) all along: closing 250 x 1.20 = 300
      translation difference = 300 - 250 x 1.10 (opening at the prior closing) - 0 moved = 25
    c inventory 0 -> 0 -> 80: closing 80 x 1.20 = 96; moved 80 at 1.15 = 92; difference 4
    total revenue 2,000 + 3,380 + 561 = 5,941; budget 1,800 + 3,345 + 557.5 = 5,702.5
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from plan_tables import make_plan, sheet_rows
from sopfin import layout
from sopfin.cli import main
from sopfin.consolidate.run import consolidate

MONTHS = "2027-01 | 2027-02"


def _table(*rows: str) -> str:
    return "\n".join(f"| {row} |" for row in rows)
UNITS = {
    "a": dict(currency="USD", family="PUMP", demand=(100, 100), price=10, cost=(5, 1),
              opening=50, supply=(100, 120), budget={"units": (90, 90), "revenue": (900, 900),
                                                     "cogs": (500, 500)}),
    "b": dict(currency="EUR", family="VALVE", demand=(10, 20), price=100, cost=(40, 10),
              opening=5, supply=(10, 20), budget={"units": (15, 15), "revenue": (1500, 1500),
                                                  "cogs": (750, 750)}),
    "c": dict(currency="EUR", family="GEAR", demand=(4, 6), price=50, cost=(20, 0),
              opening=0, supply=(4, 10), budget={"units": (5, 5), "revenue": (250, 250),
                                                 "cogs": (100, 100)}),
}
FX_CSV = """Currency,Month,Average,Closing
EUR,2026-12,,1.10
EUR,2027-01,1.08,1.12
EUR,2027-02,1.15,1.20
"""
EXPECTED = {  # unit: revenue, budget revenue, cogs, budget cogs, inventory, translation diff.
    "a": (2000.0, 1800.0, 1200.0, 1000.0, 420.0, 0.0),
    "b": (3380.0, 3345.0, 1690.0, 1672.5, 300.0, 25.0),
    "c": (561.0, 557.5, 224.4, 223.0, 96.0, 4.0),
    None: (5941.0, 5702.5, 3114.4, 2895.5, 816.0, 29.0),
}
FIELDS = ("revenue", "budget_revenue", "cogs", "budget_cogs", "inventory_value",
          "translation_difference")


def _plan_rows(spec: dict) -> dict[str, list[list[object]]]:
    fam, (d1, d2), (s1, s2) = spec["family"], spec["demand"], spec["supply"]
    budget = [f"{fam} | {m} | {a} | {b}" for m, (a, b) in spec["budget"].items()]
    plan = make_plan(
        demand=_table(f"scenario | family | {MONTHS}", f"base | {fam} | {d1} | {d2}"),
        prices=_table(f"family | {MONTHS}", f"{fam} | {spec['price']} | {spec['price']}"),
        supply=_table(f"scenario | family | {MONTHS}", f"base | {fam} | {s1} | {s2}"),
        std_cost=_table("family | material | labour | overhead",
                        f"{fam} | {spec['cost'][0]} | {spec['cost'][1]} | 0"),
        opening=_table("family | units", f"{fam} | {spec['opening']}"),
        budget=_table(f"family | measure | {MONTHS}", *budget),
        currency=spec["currency"], constrained=False)
    return sheet_rows(plan)


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, grid in sheets.items():
        sheet = book.create_sheet(name)
        for row in grid:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> Path:
    """Three units' workbooks and the FX rates as CSV; unit a closed once (v001)."""
    folder = tmp_path_factory.mktemp("group")
    for name, spec in UNITS.items():
        write_workbook(folder / f"{name}.xlsx", _plan_rows(spec))
    (folder / "fx.csv").write_text(FX_CSV, encoding="utf-8")
    assert main(["close", str(folder / "a.xlsx"), "--author", "Controller", "-q"]) == 0
    return folder


@pytest.fixture(scope="module")
def pooled(group, tmp_path_factory):
    """The three units consolidated once on a local pool of two processes."""
    out = tmp_path_factory.mktemp("pooled") / "group.xlsx"
    return consolidate(out, units_of(group), fx=group / "fx.csv", workers=2)


def units_of(folder: Path) -> list[Path]:
    return [folder / f"{name}.xlsx" for name in UNITS]


def figures(result) -> dict[object, tuple[float, ...]]:
    rows = result.summary.to_dict("records")
    return {(r["unit"] if isinstance(r["unit"], str) else None): tuple(r[f] for f in FIELDS)
            for r in rows}


def assert_hand_worked(result) -> None:
    got = figures(result)
    assert got.keys() == EXPECTED.keys()
    for unit, expected in EXPECTED.items():
        assert got[unit] == pytest.approx(expected, abs=0.005), unit


def test_three_units_in_two_currencies_through_the_process_pool(group, tmp_path, capsys):
    out = tmp_path / "group.xlsx"
    code = main(["consolidate", str(out), *map(str, units_of(group)), "--fx",
                 str(group / "fx.csv"), "--workers", "2", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["complete"] is True
    total = payload["summary"][-1]
    assert total["unit"] == "Total" and total["revenue"] == 5941.0
    assert total["gross_margin"] == pytest.approx(5941.0 - 3114.4)
    assert (tmp_path / "group.duckdb").is_file()


def test_the_pooled_figures_are_the_hand_worked_ones(pooled):
    assert_hand_worked(pooled)
    assert pooled.complete and pooled.issues == []


def test_the_bridge_by_unit_sums_to_each_gap(pooled):
    result = pooled
    bridge = {(r["unit"] if isinstance(r["unit"], str) else None): r
              for r in result.bridge.to_dict("records")}
    # a: same price, 20 more units at 10 -> quantity 200; b: 30 units both sides, translated
    # budget price 3,345 / 30 = 111.5 against 3,380 / 30 -> price 35
    assert bridge["a"]["quantity"] == pytest.approx(200.0)
    assert bridge["a"]["price"] == pytest.approx(0.0, abs=1e-9)
    assert bridge["b"]["price"] == pytest.approx(35.0)
    assert bridge["b"]["quantity"] == pytest.approx(0.0, abs=1e-9)
    for unit, row in bridge.items():
        steps = sum(row[k] for k in ("price", "quantity", "mix", "new", "discontinued",
                                     "other", "overrides"))
        assert row["budget_revenue"] + steps == pytest.approx(row["plan_revenue"]), unit
    assert bridge[None]["plan_revenue"] == pytest.approx(5941.0)


def test_units_list_the_ledger_head_or_none(group, pooled):
    from sopfin.close.ledger import head_hash
    from sopfin.close.published import load_ledger
    from sopfin.xlsx.adapter import open_workbook

    result = pooled
    units = result.units.set_index("unit")
    head = head_hash(load_ledger(open_workbook(group / "a.xlsx")))
    assert units.loc["a", ["version", "version_status", "ledger_head"]].tolist() == [
        "v001", "draft", head]
    assert units.loc["b", ["version", "ledger_head"]].tolist() == ["none", "none"]
    assert units["currency"].tolist() == ["USD", "EUR", "EUR"]
    book = openpyxl.load_workbook(result.out)
    assert book.sheetnames == list(layout.CONSOLIDATED_SHEET_NAMES)
    listed = [[c.value for c in row] for row in book[layout.CONSOLIDATED_UNITS].iter_rows(
        min_row=5, max_col=10)]
    assert [r[0] for r in listed] == ["a", "b", "c"] and listed[0][9] == head


def test_a_dask_local_cluster_gives_the_same_figures(group, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = consolidate(tmp_path / "dask.xlsx", units_of(group), fx=group / "fx.csv",
                             scheduler=cluster.scheduler_address)
    assert_hand_worked(result)
    assert result.complete


def test_a_failing_unit_is_listed_not_dropped(group, tmp_path, capsys):
    broken = _plan_rows(UNITS["b"])
    broken[layout.PRICES] = [broken[layout.PRICES][0]]  # VALVE has demand but no price
    write_workbook(tmp_path / "d.xlsx", broken)
    (tmp_path / "e.xlsx").write_text("not a workbook", encoding="utf-8")
    out = tmp_path / "g.xlsx"
    code = main(["consolidate", str(out), *map(str, units_of(group)), str(tmp_path / "d.xlsx"),
                 str(tmp_path / "e.xlsx"), "--fx", str(group / "fx.csv"), "--workers", "2"])
    text = capsys.readouterr().out
    assert code == 1 and out.is_file()
    assert "d: d.xlsx!Prices" in text or "d: d.xlsx!Demand" in text
    assert "e: e.xlsx: the workbook cannot be read" in text
    book = openpyxl.load_workbook(out)
    units = {r[0]: r for r in book[layout.CONSOLIDATED_UNITS].iter_rows(min_row=5,
                                                                         values_only=True)}
    assert units.keys() == {"a", "b", "c", "d", "e"}
    assert units["d"][6].startswith("LEFT OUT") and units["e"][6].startswith("LEFT OUT")
    assert book[layout.CONSOLIDATED_SUMMARY]["A2"].value.startswith("INCOMPLETE: 2 of 5")
    issues = [r for r in book[layout.CONSOLIDATED_ISSUES].iter_rows(min_row=5,
                                                                    values_only=True)]
    assert {"d", "e"} <= {r[0] for r in issues}
    assert {r[2] for r in issues if r[0] == "e"} == {"workbook-unreadable"}
    result = consolidate(tmp_path / "again.xlsx", [*units_of(group), tmp_path / "d.xlsx"],
                         fx=group / "fx.csv", workers=2)
    assert_hand_worked(result)  # the figures are those of the three good units
    assert not result.complete


def test_a_missing_rate_names_the_currency_and_month(group, tmp_path, capsys):
    fx = tmp_path / "fx.csv"
    fx.write_text(FX_CSV.replace("EUR,2027-02,1.15,1.20\n", ""), encoding="utf-8")
    out = tmp_path / "g.xlsx"
    code = main(["consolidate", str(out), *map(str, units_of(group)), "--fx", str(fx),
                 "--workers", "2", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1 and payload["complete"] is False
    missing = [i for i in payload["issues"] if i["code"] == "fx-rate-missing"]
    assert {i["unit"] for i in missing} == {"b", "c"}
    assert all("no average or closing rate for EUR 2027-02" in i["message"] for i in missing)
    assert [u["included"] for u in payload["units"]] == [True, False, False]
    assert payload["summary"][-1]["revenue"] == 2000.0  # only a is in the figures


def test_fx_sheet_of_a_workbook_and_a_bad_rate_at_its_cell(group, tmp_path):
    rows = [list(layout.FX_HEADERS)] + [r.split(",") for r in FX_CSV.splitlines()[1:]]
    rows = [[float(v) if i >= 2 and v else (v or None) for i, v in enumerate(r)]
            if k else r for k, r in enumerate(rows)]
    rows.append(["EUR", "2027-03", "n/a", 1.3])
    write_workbook(tmp_path / "rates.xlsx", {layout.FX: rows})
    result = consolidate(tmp_path / "g.xlsx", units_of(group), fx=tmp_path / "rates.xlsx",
                         workers=1)
    assert_hand_worked(result)
    [(unit, issue)] = result.issues
    assert unit == "FX table" and issue.code.value == "fx-rate-invalid"
    assert str(issue.where) == "FX!C5" and "'n/a'" in issue.message
    assert not result.complete  # an error in the FX table is an error of the consolidation


def test_usage_problems_exit_2_with_one_line(group, tmp_path, capsys):
    out = tmp_path / "g.xlsx"
    assert main(["consolidate", str(out)]) == 2
    assert main(["consolidate", str(out), "--from", str(tmp_path / "none-*.xlsx")]) == 2
    assert main(["consolidate", str(out), str(group / "a.xlsx"), "--fx",
                 str(group / "a.xlsx")]) == 2
    shutil.copy(group / "a.xlsx", out)
    assert main(["consolidate", str(out), str(group / "a.xlsx")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("sopfin: ") for line in lines)
    assert "no sheet 'FX'" in lines[2] and "exists" in lines[3]


@pytest.mark.libreoffice
def test_the_summary_recalculates_to_the_same_totals_in_libreoffice(pooled, tmp_path, soffice):
    from tests.lo_oracle import read_values, recalculate

    values = read_values(recalculate(pooled.out, tmp_path / "lo", soffice),
                         [layout.CONSOLIDATED_SUMMARY, layout.CONSOLIDATED_BRIDGE])
    summary, bridge = values[layout.CONSOLIDATED_SUMMARY], values[layout.CONSOLIDATED_BRIDGE]
    assert summary["A8"] == "Total"
    assert summary["C8"] == pytest.approx(5941.0) and summary["E8"] == pytest.approx(238.5)
    assert summary["H8"] == pytest.approx(5941.0 - 3114.4)
    assert summary["O8"] == pytest.approx(29.0)
    assert bridge["J8"] == pytest.approx(5941.0) and bridge["K8"] == 0


def test_a_budget_with_negative_units_puts_the_whole_gap_in_other():
    import pandas as pd

    from sopfin.consolidate.bridge import unit_bridge

    families = pd.DataFrame({"family": ["PUMP", "VALVE"], "budget_units": [-5.0, 2.0],
                             "budget_revenue": [-50.0, 40.0], "plan_units": [3.0, 2.0],
                             "plan_revenue": [30.0, 44.0], "overrides": [0.0, 6.0]})
    row, [issue] = unit_bridge("a", families)
    assert row["other"] == pytest.approx(74.0 - (-10.0))
    assert row["price"] == row["quantity"] == row["mix"] == 0.0
    assert row["plan_revenue"] == pytest.approx(80.0)
    assert issue.severity.value == "warning" and str(issue.where) == layout.BUDGET
    assert "negative units for 'PUMP'" in issue.message


def test_one_demo_unit_consolidates_to_its_own_summary_and_the_package_conforms(tmp_path):
    """Consolidated alone, in its own currency, a unit's figures are the ones sopfin's API
    gives for the scenario its close reconciles (plan with overrides, budget, inventory)."""
    import sopfin
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook
    from tests.xlsx_helpers.conformance import errors, package_findings

    plan_path = tmp_path / "demo.xlsx"
    create_workbook(plan_path, demo_sheets(families=6, months=12))
    plan = sopfin.read_plan(plan_path)
    scenario = plan.settings.reconciled_scenario
    own = sopfin.dollarize(plan, [scenario]).summary
    horizon = own[(own["scenario"] == scenario) & (own["period_type"] == "month")]
    by_measure = horizon.groupby("measure")[["plan", "budget"]].sum()
    out = tmp_path / "group.xlsx"
    result = consolidate(out, [plan_path], workers=1)
    [unit] = [r for r in result.summary.to_dict("records") if r["unit"] == "demo"]
    assert unit["revenue"] == pytest.approx(by_measure.loc["revenue", "plan"], abs=0.005)
    assert unit["budget_revenue"] == pytest.approx(by_measure.loc["revenue", "budget"])
    assert unit["cogs"] == pytest.approx(by_measure.loc["cogs", "plan"], abs=0.005)
    assert unit["units"] == pytest.approx(by_measure.loc["units", "plan"])
    closing = horizon[horizon["measure"] == "inventory_value"]["plan"].iloc[-1]
    assert unit["inventory_value"] == pytest.approx(closing, abs=0.005)
    assert unit["translation_difference"] == 0.0
    found = errors(package_findings(out))
    assert not found, "\n".join(map(str, found))


def test_from_takes_the_matching_workbooks_once_and_never_out(group, tmp_path, capsys):
    folder = tmp_path / "plans"
    folder.mkdir()
    for name in ("b", "a"):
        shutil.copy(group / f"{name}.xlsx", folder / f"{name}.xlsx")
    out = folder / "group.xlsx"
    args = ["consolidate", str(out), str(folder / "b.xlsx"), "--from", str(folder / "*.xlsx"),
            "--fx", str(group / "fx.csv"), "--workers", "1", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert [u["unit"] for u in first["units"]] == ["b", "a"]  # named first, then sorted
    assert main([*args, "--force"]) == 0  # OUT now matches the pattern: it is not a unit
    again = json.loads(capsys.readouterr().out)
    assert [u["unit"] for u in again["units"]] == ["b", "a"]
    assert again["summary"] == first["summary"]
