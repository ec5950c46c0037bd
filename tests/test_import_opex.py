"""Importing opex by department and account from the public AdventureWorks finance facts
(expenditures by department group, account, scenario and day) onto Actuals and Budget.

Every imported figure is checked to the cent against a sum of the CSV made here with the csv
module and Decimal; the mapping of the main test is the one docs/import.md shows. (Budget
and Actuals by channel: tests/test_import_channels.py.)"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from finance_exports import (
    AW_MONTHS,
    CENT,
    FACTFINANCE,
    adventureworks_plan,
    assert_cents,
    fact_rows,
    is_opex,
    json_errors,
    json_issues,
    opex_lines,
    opex_truth,
    run_import,
    sheet_rows,
    write_csv,
)
from lo_oracle import read_values, recalculate_many
from plan_tables import write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.close.published import load_ledger
from sopfin.engine.dollarize import dollarize
from sopfin.engine.opex import plan_opex
from sopfin.imports.mapping import parse_mapping
from sopfin.imports.presets import PRESETS
from sopfin.imports.transform import import_table
from sopfin.model import IssueCode
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import read_raw_sheets

needs_data = pytest.mark.skipif(not FACTFINANCE.exists(),
                                reason="no public data at ../shared/data")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "import.md"


def docs_mapping() -> str:
    """The opex mapping docs/import.md shows: its first TOML block after the opex heading."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Operating expenses by department and account"):]
    found = re.search(r"```toml\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def budget_mapping() -> str:
    return docs_mapping().replace('equals = "Actual"', 'equals = "Budget"')


RENAMED = {"Executive General and Administration": "G&A"}  # as the docs' mapping says


def every_line() -> list[tuple[str, str]]:
    """The plan's Opex lines: every department and account of the facts, one department
    under the plan's own name."""
    lines = dict.fromkeys([*opex_lines("Actual"), *opex_lines("Budget")])
    return [(RENAMED.get(d, d), a) for d, a in lines]


def opex_cells(plan: Path, sheet: str) -> dict[tuple[str, ...], Decimal]:
    """The opex rows' figures by (department, account, month), as decimals of the floats."""
    rows = sheet_rows(plan, sheet)
    header = rows[0]
    dept, account = header.index("Department"), header.index("Account")
    months = {i: h for i, h in enumerate(header) if re.fullmatch(r"\d{4}-\d{2}", str(h))}
    return {(r[dept], r[account], months[i]): Decimal(repr(r[i])) for r in rows[1:]
            if len(r) > 1 and r[1] == "opex" for i in months if r[i] is not None}


def first_row(keep) -> int:
    """The 1-based row (the header is row 1) of the first CSV row ``keep`` accepts."""
    return next(n for n, row in enumerate(fact_rows(), start=2) if keep(row))


@pytest.fixture(scope="module")
def aw_plan(tmp_path_factory) -> Path:
    return write_xlsx(tmp_path_factory.mktemp("aw") / "plan.xlsx",
                      adventureworks_plan(every_line()))


@pytest.fixture(scope="module")
def imported(aw_plan, tmp_path_factory) -> Path:
    """The AdventureWorks plan after importing the docs' mapping into Actuals."""
    plan = tmp_path_factory.mktemp("imported") / "plan.xlsx"
    shutil.copyfile(aw_plan, plan)
    assert run_import(plan, docs_mapping(), "Actuals", FACTFINANCE) == 0
    return plan


@needs_data
def test_actual_expenditures_land_on_actuals_as_opex_to_the_cent(imported):
    assert_cents(opex_cells(imported, "Actuals"), opex_truth("Actual", rename=RENAMED))
    family = [r[:5] for r in sheet_rows(imported, "Actuals")[1:] if r[0] == "BIKES"]
    assert family == [["BIKES", "revenue", None, None, 5000.0]]  # the family row, as it was


@needs_data
def test_a_second_import_changes_no_cell_and_is_recorded_again(imported, tmp_path, capsys):
    plan = tmp_path / "plan.xlsx"
    shutil.copyfile(imported, plan)
    before = sheet_rows(plan, "Actuals")
    capsys.readouterr()
    assert run_import(plan, docs_mapping(), "Actuals", FACTFINANCE, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] == 0 and out["written"] is False and out["recorded"] is True
    assert out["totals"] == {"opex": float(sum(opex_truth("Actual").values()))}
    assert sheet_rows(plan, "Actuals") == before


@needs_data
def test_imported_opex_is_the_actual_of_closed_months_and_the_close_records_it(imported,
                                                                               tmp_path):
    raw = read_raw_sheets(imported, ["Settings", "Families", "Demand", "Prices", "Supply",
                                     "OpeningInventory", "StdCost", "Budget", "Opex",
                                     "Actuals"])
    plan, issues = parse_plan(raw)
    assert plan is not None and not [i for i in issues if i.severity.value == "error"]
    finance, finance_issues = parse_finance(raw, plan)
    assert not finance_issues
    d, _ = dollarize(plan)
    opex = plan_opex(plan, d, finance.opex_actuals)
    truth = opex_truth("Actual", rename=RENAMED)
    closed = sorted({m for _, _, m in truth})
    assert [m for m, c in zip(d.months, opex.closed, strict=True) if c] == closed
    line = opex.lines.index(("Corporate", "Salaries"))
    month = d.months.index(closed[0])
    expected = truth[("Corporate", "Salaries", closed[0])]
    assert Decimal(repr(float(opex.latest_estimate[0, line, month]))).quantize(CENT) == \
        expected.quantize(CENT)

    closing = tmp_path / "plan.xlsx"
    shutil.copyfile(imported, closing)
    assert main(["close", str(closing), "--author", "cfo", "-q"]) == 0
    [note] = [e.note for e in load_ledger(FileWorkbook(closing)) if e.event == "publish"]
    assert "imported Actuals from factfinance_tidy.csv" in note and "by ap" in note
    assert main(["verify", str(closing)]) == 0


@needs_data
def test_budget_expenditures_land_on_budget_as_the_opex_budget(aw_plan, tmp_path):
    plan = tmp_path / "plan.xlsx"
    shutil.copyfile(aw_plan, plan)
    assert run_import(plan, budget_mapping(), "Budget", FACTFINANCE) == 0
    assert_cents(opex_cells(plan, "Budget"), opex_truth("Budget", rename=RENAMED))
    assert [r[:2] for r in sheet_rows(plan, "Budget")[1:] if r[0]] == [["BIKES", "revenue"]]


def without_quality_assurance(tmp_path: Path) -> Path:
    lines = [(d, a) for d, a in every_line() if d != "Quality Assurance"]
    return write_xlsx(tmp_path / "plan.xlsx", adventureworks_plan(lines))


@needs_data
def test_an_unknown_department_is_an_error_at_its_first_row_and_nothing_is_written(
        tmp_path, capsys):
    plan = without_quality_assurance(tmp_path)
    before = plan.read_bytes()
    assert run_import(plan, docs_mapping(), "Actuals", FACTFINANCE, "--json") == 1
    [issue] = json_errors(capsys)
    row = first_row(lambda r: is_opex(r, "Actual")
                    and r["DepartmentGroupName"] == "Quality Assurance")
    assert issue["code"] == IssueCode.UNKNOWN_DEPARTMENT.value
    assert issue["location"] == f"factfinance_tidy.csv:{row} column DepartmentGroupName"
    count = sum(is_opex(r, "Actual") and r["DepartmentGroupName"] == "Quality Assurance"
                for r in fact_rows())
    assert f"'Quality Assurance' has no line on sheet Opex ({count} rows" in issue["message"]
    assert plan.read_bytes() == before


@needs_data
def test_unmapped_skip_leaves_an_unknown_departments_rows_out_with_a_warning(tmp_path,
                                                                            capsys):
    plan = without_quality_assurance(tmp_path)
    mapping = docs_mapping().replace('unmapped = "error"                 # a department',
                                     'unmapped = "skip"                 # a department')
    assert run_import(plan, mapping, "Actuals", FACTFINANCE, "--json") == 0
    warned = {i["code"] for i in json_issues(capsys)}
    assert IssueCode.UNKNOWN_DEPARTMENT.value in warned
    truth = opex_truth("Actual", rename=RENAMED,
                       keep=lambda r: r["DepartmentGroupName"] != "Quality Assurance")
    assert_cents(opex_cells(plan, "Actuals"), truth)


@needs_data
def test_an_unknown_account_of_a_known_department_is_an_error_at_its_row(tmp_path, capsys):
    lines = [(d, a) for d, a in every_line() if (d, a) != ("Corporate", "Rent")]
    plan = write_xlsx(tmp_path / "plan.xlsx", adventureworks_plan(lines))
    assert run_import(plan, docs_mapping(), "Actuals", FACTFINANCE, "--json") == 1
    [issue] = json_errors(capsys)
    row = first_row(lambda r: is_opex(r, "Actual") and r["DepartmentGroupName"] == "Corporate"
                    and r["AccountDescription"] == "Rent")
    assert issue["code"] == IssueCode.UNKNOWN_ACCOUNT.value
    assert issue["location"] == f"factfinance_tidy.csv:{row} column AccountDescription"


@needs_data
def test_a_missing_column_is_an_error_and_nothing_is_written(aw_plan, tmp_path, capsys):
    plan = tmp_path / "plan.xlsx"
    shutil.copyfile(aw_plan, plan)
    mapping = docs_mapping().replace('department = "DepartmentGroupName"',
                                     'department = "Department Name"')
    assert run_import(plan, mapping, "Actuals", FACTFINANCE, "--json") == 1
    [issue] = json_errors(capsys)
    assert issue["code"] == IssueCode.SOURCE_COLUMN_MISSING.value
    assert "'Department Name'" in issue["message"]
    assert plan.read_bytes() == aw_plan.read_bytes()


@needs_data
def test_a_sheet_without_department_and_account_columns_is_never_shifted(tmp_path, capsys):
    plan = write_xlsx(tmp_path / "plan.xlsx",
                      adventureworks_plan(every_line(), line_keys=False))
    before = plan.read_bytes()
    assert run_import(plan, docs_mapping(), "Actuals", FACTFINANCE, "--json") == 1
    [issue] = json_errors(capsys)
    assert (issue["code"], issue["sheet"], issue["cell"]) == (
        IssueCode.MISSING_COLUMN.value, "Actuals", "A1")
    assert "Department" in issue["message"]
    assert plan.read_bytes() == before


@pytest.mark.parametrize(("text", "key"), [
    ('[columns]\ndate = "D"\ndepartment = "G"\naccount = "A"\nitem = "I"\n'
     '[values]\nopex = "X"', "columns.item"),
    ('[columns]\ndate = "D"\ndepartment = "G"\naccount = "A"\n'
     '[values]\nopex = "X"\nrevenue = "R"', "values"),
    ('[columns]\ndate = "D"\ndepartment = "G"\n[values]\nopex = "X"', "columns.account"),
    ('[columns]\ndate = "D"\nitem = "I"\ndepartment = "G"\n[values]\nrevenue = "R"',
     "columns.department"),
    ('[columns]\ndate = "D"\ndepartment = "G"\naccount = "A"\nchannel = "C"\n'
     '[values]\nopex = "X"', "columns.channel"),
    ('[columns]\ndate = "D"\ndepartment = "G"\naccount = "A"\n[values]\nopex = "X"\n'
     '[accounts]\nunmapped = "ignore"', "accounts.unmapped"),
])
def test_an_opex_mapping_that_cannot_be_used_says_where(text, key):
    mapping, issues = parse_mapping(text, "map.toml", "Actuals")
    assert mapping is None
    assert key in {i.where.column for i in issues}
    assert {i.code for i in issues} == {IssueCode.MAPPING_INVALID}


def trial_balance(rows: list[dict[str, str]]) -> list[list[object]]:
    """The facts of 2011 as a GL's trial balance by period and department: a positive amount
    is a debit, a negative one a credit; revenue (a credit balance) comes along too."""
    out: list[list[object]] = [["Period", "Department", "Account", "Account Type", "Debit",
                                "Credit"]]
    for r in rows:
        if r["ScenarioName"] == "Actual" and r["Date"][:4] == "2011" and \
                r["AccountType"] in ("Expenditures", "Revenue"):
            amount = Decimal(r["Amount"])
            debit, credit = (amount, "") if amount >= 0 else ("", -amount)
            out.append([r["Date"][:7], r["DepartmentGroupName"], r["AccountDescription"],
                        r["AccountType"], debit, credit])
    return out


@needs_data
def test_the_gl_opex_preset_reads_a_trial_balance_by_department(tmp_path):
    source = write_csv(tmp_path / "tb.csv", trial_balance(fact_rows()))
    mapping, issues = parse_mapping(PRESETS["gl-opex-by-department"], "preset", "Actuals")
    assert mapping is not None and not issues
    lines: dict[str, list[str]] = {}
    for dept, account in opex_lines():
        lines.setdefault(dept, []).append(account)
    result = import_table(source, mapping, "Actuals", months=AW_MONTHS, opex_lines=lines)
    assert not result.issues
    assert result.key_names == ("family", "department", "account", "measure")
    mine = {(ln.keys[1], ln.keys[2], ln.month): Decimal(repr(ln.value)) for ln in result.lines}
    assert_cents(mine, opex_truth("Actual"))
    revenue = sum(r["AccountType"] == "Revenue" for r in fact_rows()
                  if r["ScenarioName"] == "Actual" and r["Date"][:4] == "2011")
    assert result.rows_other == revenue > 0


def test_a_constant_department_and_a_mapped_account_name_one_line(tmp_path):
    source = write_csv(tmp_path / "travel.csv", [
        ["Posted", "GL name", "Net"],
        ["2027-01-05", "Air fares", "1,200.50"],
        ["2027-01-20", "Hotels", "300"],
        ["2027-02-03", "Air fares", "(100.00)"],
    ])
    text = '''
[columns]
date = "Posted"
account = "GL name"
[constants]
department = "Sales"
[values]
opex = "Net"
[accounts.map]
"Air fares" = "Travel"
"Hotels" = "Travel"
'''
    mapping, issues = parse_mapping(text, "map.toml", "Budget")
    assert mapping is not None and not issues
    result = import_table(source, mapping, "Budget", months=["2027-01", "2027-02"],
                          opex_lines={"Sales": ["Travel", "Salaries"]})
    assert not result.issues
    assert [(ln.keys, ln.month, ln.value) for ln in result.lines] == [
        (("", "Sales", "Travel", "opex"), "2027-01", 1500.5),
        (("", "Sales", "Travel", "opex"), "2027-02", -100.0)]


@needs_data
def test_libreoffice_recalculates_the_pnl_to_the_imported_actuals(imported, tmp_path,
                                                                  soffice, capsys):
    """The P&L's latest estimate of an opex line reads the imported cells of Actuals in its
    closed months: recalculated by LibreOffice, it is the export's sum to the cent. The copy
    LibreOffice saved, as a user's spreadsheet app would, takes the next imports."""
    plan = tmp_path / "plan.xlsx"
    shutil.copyfile(imported, plan)
    assert main(["dollarize", str(plan), "-q"]) == 0
    saved = recalculate_many([plan], tmp_path / "lo", soffice)[plan]
    cells = read_values(saved, [layout.PNL])[layout.PNL]
    header = {v: ref.rstrip("0123456789") for ref, v in cells.items()
              if ref.endswith("2") and ref[:-1].isalpha() and isinstance(v, str)}
    estimate = {(cells.get(f"B{r}"), cells.get(f"C{r}")): r for r in
                {int(ref[1:]) for ref in cells if ref[0] == "D" and ref[1:].isdigit()}
                if cells.get(f"A{r}") == "base" and cells.get(f"D{r}") == "Latest estimate"}
    truth = opex_truth("Actual", rename=RENAMED)
    got = {(d, a, m): Decimal(repr(float(cells.get(f"{header[m]}{estimate[(d, a)]}") or 0)))
           for d, a, m in truth}
    assert_cents(got, truth)

    # the copy LibreOffice saved takes the next import as the file sopfin wrote did
    assert run_import(saved, budget_mapping(), "Budget", FACTFINANCE) == 0
    assert_cents(opex_cells(saved, "Budget"), opex_truth("Budget", rename=RENAMED))
    assert run_import(saved, docs_mapping(), "Actuals", FACTFINANCE, "--json") == 0
    assert '"cells": 0' in capsys.readouterr().out  # the same figures: nothing to set


def test_a_blank_department_is_an_error_at_its_row_and_a_skipped_one_a_warning(tmp_path):
    source = write_csv(tmp_path / "opex.csv", [
        ["Date", "Dept", "GL", "Amount"],
        ["2027-01-05", "Sales", "Travel", "10"],
        ["2027-01-06", "", "Travel", "20"],
        ["2027-01-07", "Sales", "Tarvel", "30"],
    ])
    text = ('[columns]\ndate = "Date"\ndepartment = "Dept"\naccount = "GL"\n'
            '[values]\nopex = "Amount"\n')
    lines = {"Sales": ["Travel"]}
    mapping, _ = parse_mapping(text, "map.toml", "Actuals")
    assert mapping is not None
    result = import_table(source, mapping, "Actuals", months=["2027-01"], opex_lines=lines)
    assert [(i.code, i.where.row, i.where.column, i.severity.value) for i in result.issues] == [
        (IssueCode.UNKNOWN_DEPARTMENT, 3, "Dept", "error"),
        (IssueCode.UNKNOWN_ACCOUNT, 4, "GL", "error")]
    assert "a blank department" in result.issues[0].message
    assert "did you mean 'Travel'?" in result.issues[1].fix
    assert result.lines == ()
    skipping = text + '[departments]\nunmapped = "skip"\n[accounts]\nunmapped = "skip"\n'
    mapping, _ = parse_mapping(skipping, "map.toml", "Actuals")
    assert mapping is not None
    result = import_table(source, mapping, "Actuals", months=["2027-01"], opex_lines=lines)
    assert {i.severity.value for i in result.issues} == {"warning"}
    assert [(ln.keys, ln.value) for ln in result.lines] == [(("", "Sales", "Travel", "opex"),
                                                             10.0)]
    assert result.rows_used == 1
