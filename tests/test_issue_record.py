"""One problem record: every problem sopfin reports is an ``Issue`` with a code from
``IssueCode``, a severity, a location, a message and a separate fix.

Here: the location kinds and how an issue prints; the silent overrides found on a
fingerprinted output sheet, one per way a cell can change, each a ``silent-override``
warning with what sopfin wrote and what it found; and verify's findings on the same record.
"""

from __future__ import annotations

import json

from sopfin.close.digests import FormulaCell
from sopfin.close.ledger import GENESIS_HASH, new_entry
from sopfin.close.ledger_checks import WARNING_CODES, verify_ledger
from sopfin.guard.edits import discarded_issues, edit_issues, edited_cells
from sopfin.guard.row_prints import with_fingerprints
from sopfin.model import CellRef, Issue, IssueCode, PackagePart, Severity, SourceRow
from sopfin.sheetspec import Block, SheetSpec
from test_overrides_rows import rendered

SHEET = "Revenue"


def _sheet(factor: str = "2") -> SheetSpec:
    """Two family rows: labels in A:B, a units constant in C, revenue as a formula in D."""
    return with_fingerprints(SheetSpec(SHEET, blocks=(
        Block(1, 1, [["Family", "Measure", "Units", "Revenue"]]),
        Block(2, 1, [["P-100", "revenue", 10.0, 0.0], ["P-200", "revenue", 20.0, 0.0]],
              formulas=[[None, None, None, f"C2*{factor}"], [None, None, None, f"C3*{factor}"]]),
    )))


def test_an_issue_prints_location_message_and_fix_once():
    issue = Issue(IssueCode.MISSING_PRICE, Severity.ERROR, CellRef("Prices", "C4"),
                  "price is missing for family 'P-100' in 2027-01", "add it on sheet Prices")
    assert issue.text == "price is missing for family 'P-100' in 2027-01; add it on sheet Prices"
    assert issue.located("Plan.xlsx") == f"Plan.xlsx!Prices!C4: {issue.text}"
    assert issue.format("Plan.xlsx") == f"Plan.xlsx!Prices!C4: {issue.text}."
    assert issue.format() == f"Prices!C4: {issue.text}."


def test_a_cell_in_another_copy_prints_that_copy_first():
    where = CellRef("_Ledger", "J3", book="copy.xlsx")
    assert str(where) == "copy.xlsx!_Ledger!J3"
    assert where != CellRef("_Ledger", "J3")


def test_every_location_kind_keeps_the_json_keys_of_a_cell():
    at_cell = Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, CellRef("Demand", "F14"), "m", "f")
    in_part = Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, PackagePart("xl/workbook.xml"),
                    "m", "f")
    on_row = Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, SourceRow("erp.csv", 7), "m", "f")
    keys = ["code", "severity", "sheet", "cell", "message", "fix"]
    assert list(at_cell.to_dict()) == keys
    assert in_part.to_dict() == {"code": "not-a-number", "severity": "error", "sheet": "",
                                 "cell": "", "message": "m", "fix": "f",
                                 "location": "xl/workbook.xml"}
    assert on_row.to_dict()["location"] == "erp.csv:7"
    assert in_part.format("Plan.xlsx") == "Plan.xlsx!xl/workbook.xml: m; f."
    assert on_row.format() == "erp.csv:7: m; f."
    json.dumps([at_cell.to_dict(), in_part.to_dict(), on_row.to_dict()])


def test_each_way_a_cell_changes_is_a_silent_override_with_its_kind():
    written = rendered(_sheet())
    edited = dict(written) | {
        "D2": 99.0,  # the formula typed over with a constant
        "D3": FormulaCell("C3*3", 60.0),  # the formula rewritten
        "B3": "cost",  # a label sopfin wrote
    }
    found = edited_cells([_sheet()], {SHEET: edited})
    assert [(str(f.where), f.kind) for f in found] == [
        ("Revenue!D2", IssueCode.TYPED_OVER_FORMULA),
        ("Revenue!D3", IssueCode.FORMULA_CHANGED),
        ("Revenue!B3", IssueCode.CONSTANT_CHANGED)]
    assert {(f.code, f.severity) for f in found} == {(IssueCode.SILENT_OVERRIDE,
                                                       Severity.WARNING)}
    typed = found[0]
    assert (typed.expected, typed.found) == ("=C2*2", "99")
    assert typed.message == "sopfin wrote =C2*2 here and found 99"
    assert typed.fix.startswith("a deliberate change belongs on sheet Overrides")


def test_a_changed_row_the_plan_also_changed_is_named_for_the_row():
    edited = rendered(_sheet()) | {"D2": FormulaCell("C2*5", 50.0)}
    [row] = edited_cells([_sheet(factor="4")], {SHEET: edited})
    assert (str(row.where), row.kind, row.code) == ("Revenue!D2", IssueCode.ROW_CHANGED,
                                                    IssueCode.SILENT_OVERRIDE)
    assert row.message.startswith("a formula or label sopfin wrote on row 2 was changed")


def test_dollarize_reports_the_same_edits_as_errors_or_as_discarded():
    edited = rendered(_sheet()) | {"D2": 99.0}
    [found] = edited_cells([_sheet()], {SHEET: edited})
    [typed_over] = edit_issues([found])
    [discarded] = discarded_issues([found])
    assert (typed_over.code, typed_over.severity) == (IssueCode.TYPED_OVER, Severity.ERROR)
    assert typed_over.message == found.message and typed_over.where == found.where
    assert (discarded.code, discarded.severity) == (IssueCode.EDIT_DISCARDED,
                                                    Severity.WARNING)
    assert discarded.message == "discarded an edit: found 99 where sopfin wrote =C2*2"


def test_verify_findings_are_issues_with_their_version_and_severity():
    entry = new_entry([], event="publish", version=1, cycle="2027-01",
                      timestamp="2027-01-31T12:00:00Z", author="A. Analyst", status="draft",
                      input_hash="a" * 64, recon_hash="b" * 64)
    assert entry.prev_hash == GENESIS_HASH
    [missing] = verify_ledger([entry], {}, None)
    assert isinstance(missing, Issue)
    assert (missing.code, missing.severity, missing.version, missing.where) == (
        IssueCode.MISSING_TAB, Severity.ERROR, 1, CellRef("Recon v001"))
    assert missing.located("Plan.xlsx") == (
        "Plan.xlsx!Recon v001: v1 is in the ledger but its tab is missing")
    assert IssueCode.MISSING_TAB not in WARNING_CODES
