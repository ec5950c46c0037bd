"""Build the error catalogue: one tiny failing workbook per issue code, and catalogue.json.

Each case starts from the valid base plan in tests/plan_tables.py, applies one mutation and
names the issue it must produce, message written out in full. Run from the repository, with
the import path pyproject gives the tests:

    PYTHONPATH=.:tests python tests/errors/make_catalogue.py

The expected messages are written by hand here, never copied from sopfin's output:
tests/test_error_catalogue.py reads each workbook with the real reader and checks them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opex_tables import OPEX
from plan_tables import XlError, base, set_cell, sheets, write_xlsx

HERE = Path(__file__).resolve().parent

Grids = dict[str, list[list[object]]]


@dataclass(frozen=True)
class Case:
    code: str
    severity: str
    cell: str
    message: str
    mutate: Callable[[Grids], None]
    what: str

    @property
    def file(self) -> str:
        return f"{self.code}.xlsx"


def _drop_sheet(name: str) -> Callable[[Grids], None]:
    return lambda g: g.pop(name) and None


def _cells(sheet: str, **values: object) -> Callable[[Grids], None]:
    def mutate(grids: Grids) -> None:
        for ref, value in values.items():
            set_cell(grids, sheet, ref, value)
    return mutate


def _append_row(sheet: str, *values: object) -> Callable[[Grids], None]:
    return lambda g: g[sheet].append(list(values))


def _drop_column(sheet: str, index: int) -> Callable[[Grids], None]:
    def mutate(grids: Grids) -> None:
        for row in grids[sheet]:
            del row[index:index + 1]
    return mutate


_OVERRIDES = [
    ["Id", "Scenario", "Family", "Month", "Measure", "Amount", "Owner", "Reason", "ApprovedBy"],
    ["OVR-1", "base", "P-100", "2027-02", "revenue", 500.0, "J. Ortiz", "Pricing true-up",
     "CFO"],
    ["OVR-2", "base", "V-200", "2027-03", "cogs", 120.0, "K. Lee", "Freight surcharge", None],
]
_ACTIONS = [
    ["Id", "Scenario", "Description", "Owner", "RevenueImpact", "MarginImpact", "Probability"],
    ["ACT-1", "base", "Price increase on OEM", "J. Ortiz", 3000.0, 3000.0, 0.5],
]


def _with_opex(**cells: dict[str, object]) -> Callable[[Grids], None]:
    """Add the opex plan's Budget, Opex and Actuals sheets, then change the given cells."""
    def mutate(grids: Grids) -> None:
        grids.update(sheets(OPEX))
        for sheet, values in cells.items():
            for ref, value in values.items():
                set_cell(grids, sheet, ref, value)
    return mutate


def _with_sheet(sheet: str, rows: list[list[object]], **values: object,
                ) -> Callable[[Grids], None]:
    """Add a finance sheet (a valid table), then change the given cells."""
    def mutate(grids: Grids) -> None:
        grids[sheet] = [list(r) for r in rows]
        for ref, value in values.items():
            set_cell(grids, sheet, ref, value)
    return mutate


CASES: tuple[Case, ...] = (
    Case("missing-sheet", "error", "Prices",
         "Prices: the workbook has no sheet 'Prices', which every plan needs; add it with its "
         "header row, or run sopfin init to add the missing input sheets.",
         _drop_sheet("Prices"), "the Prices sheet is deleted"),
    Case("missing-column", "error", "Demand!B1",
         "Demand!B1: expected the column 'Family' here, found 'Famly'; the table must start in "
         "column A with Scenario, Family, in this order; rename this header to 'Family' or "
         "insert the column.",
         _cells("Demand", B1="Famly"), "a misspelt key header"),
    Case("unknown-column", "warning", "StdCost!F1",
         "StdCost!F1: the column 'Notes' is not part of the StdCost table and is ignored; the "
         "columns are Family, Material, Labour, Overhead, MaterialQty, MaterialPrice, "
         "LabourHours, LabourRate, VariableOverheadRate, FixedOverheadBudget, BudgetOutput, "
         "EffectiveFrom; rename it if it is meant to be one of them.",
         _cells("StdCost", F1="Notes", F2="new supplier"), "a notes column on StdCost"),
    Case("month-header-invalid", "error", "Supply!D1",
         "Supply!D1: the month header 'Feb 2027' is not a month; expected '2027-02'; type the "
         "header as the text '2027-02' (YYYY-MM).",
         _cells("Supply", D1="Feb 2027"), "a month header typed as 'Feb 2027'"),
    Case("months-out-of-order", "error", "Prices!C1",
         "Prices!C1: found month 2027-02 where 2027-01 was expected; the headers must be the 3 "
         "months 2027-01 to 2027-03, in order, one column each; put the month columns in order "
         "and remove repeated months.",
         _cells("Prices", C1="2027-02", D1="2027-01"), "two month headers swapped"),
    Case("months-missing", "error", "Budget!E1",
         "Budget!E1: 1 month of the horizon is missing (2027-03); expected the 3 months "
         "2027-01 to 2027-03, one column each, from column C; insert a column headed '2027-03' "
         "here.",
         _drop_column("Budget", 4), "the last month column of Budget is deleted"),
    Case("setting-invalid", "error", "Settings!B3",
         "Settings!B3: setting 'Currency': expected a 3-letter ISO currency code such as USD, "
         "found 'dollars'; enter a valid value: ISO 4217 code of the currency all prices and "
         "costs are in.",
         _cells("Settings", B3="dollars"), "a currency written out in words"),
    Case("setting-unknown", "warning", "Settings!A8",
         "Settings!A8: unknown setting 'Colour'; check its spelling against the Help column or "
         "delete the row.",
         _append_row("Settings", "Colour", "blue", None), "an unknown Settings row"),
    Case("value-invalid", "error", "Families!E3",
         "Families!E3: Active must be TRUE or FALSE, found 'maybe'; type TRUE or FALSE (blank "
         "means TRUE).",
         _cells("Families", E3="maybe"), "an Active flag that is neither TRUE nor FALSE"),
    Case("not-a-number", "error", "Demand!E3",
         "Demand!E3: expected a number for 2027-02, found the text '1,200'; type it as a number "
         "(1200), not as text.",
         _cells("Demand", E3="1,200"), "a quantity stored as text"),
    Case("excel-error", "error", "Supply!C3",
         "Supply!C3: expected a number for 2027-01, found the Excel error #REF!; fix the formula "
         "or the cell it refers to, or type a number.",
         _cells("Supply", C3=XlError("#REF!")), "a #REF! in Supply"),
    Case("negative-value", "error", "OpeningInventory!B3",
         "OpeningInventory!B3: opening units cannot be negative, found -5 for units; enter 0 or "
         "a positive number.",
         _cells("OpeningInventory", B3=-5.0), "negative opening units"),
    Case("blank-key", "error", "Supply!B3",
         "Supply!B3: Family is blank in a row that has data; fill in the Family, or delete the "
         "row.",
         _cells("Supply", B3=None), "a Supply row without its family"),
    Case("unknown-family", "error", "Prices!A4",
         "Prices!A4: the family 'V-20' is not on sheet Families; add it on sheet Families or "
         "correct the spelling (did you mean 'V-200'?).",
         _cells("Prices", A4="V-20"), "a misspelt family on Prices"),
    Case("duplicate-family", "error", "Families!A5",
         "Families!A5: the family 'V-200' is listed twice (first in Families!A3); keep one row "
         "per family.",
         _append_row("Families", "V-200", "Valve 200 (copy)", "Valves", "ea", True),
         "a family listed twice"),
    Case("duplicate-row", "error", "Budget!A4",
         "Budget!A4: the keys family 'P-100', measure 'units' are already on row 2; merge the "
         "two rows into one, or correct the keys.",
         _append_row("Budget", "P-100", "units", 10.0, 10.0, 10.0), "a Budget row repeated"),
    Case("inactive-family-has-demand", "warning", "Demand!E7",
         "Demand!E7: family 'OLD-1' is inactive (Families!E4) but has 5 units of demand; set "
         "Active to TRUE on Families, or clear its demand.",
         _append_row("Demand", "base", "OLD-1", "Retail", None, 5.0, None),
         "demand for an inactive family"),
    Case("unknown-scenario", "error", "PlannedVariances!A2",
         "PlannedVariances!A2: the scenario 'Base' is not in Settings 'Scenarios' (base, "
         "upside); add it to 'Scenarios' on Settings or correct the spelling (did you mean "
         "'base'?).",
         _cells("PlannedVariances", A2="Base"), "a scenario name in the wrong case"),
    Case("scenario-missing", "error", "Demand!A7",
         "Demand!A7: the scenario 'downside' (Settings 'Scenarios') has no rows on Demand; add "
         "its demand rows, or remove it from 'Scenarios' on Settings.",
         _cells("Settings", B6="base, upside, downside"), "a scenario without demand"),
    Case("channel-mismatch", "error", "Demand!C7",
         "Demand!C7: family 'V-200' has demand in channel 'Web' but Prices has it only for "
         "'Retail'; add a row for family 'V-200' channel 'Web' on sheet Prices or correct the "
         "channel.",
         _append_row("Demand", "base", "V-200", "Web", 1.0, 1.0, 1.0), "an unpriced channel"),
    Case("unknown-measure", "error", "Budget!B3",
         "Budget!B3: unknown budget measure 'margin'; expected one of units, revenue, cogs, "
         "inventory, opex; correct the measure, or delete the row.",
         _cells("Budget", B3="margin"), "a budget measure sopfin does not know"),
    Case("missing-price", "error", "Prices!E2",
         "Prices!E2: price is missing for family 'P-100' channel 'Retail' in 2027-03: it is "
         "blank or 0 where Demand!F2 has demand; enter the price, or mark the family inactive.",
         _cells("Prices", E2=None), "a blank price where there is demand"),
    Case("missing-std-cost", "error", "OpeningInventory!B3",
         "OpeningInventory!B3: no standard cost for family 'V-200', which is needed from "
         "2027-01; add a row for it on sheet StdCost.",
         lambda g: g["StdCost"].pop(3) and None, "the StdCost row of a family is deleted"),
    Case("override-incomplete", "error", "Overrides!H3",
         "Overrides!H3: the override 'OVR-2' has no Reason: an override must say who owns it "
         "and why it is there; fill in the Reason, or delete the override.",
         _with_sheet("Overrides", _OVERRIDES, H3=None), "an override without a reason"),
    Case("override-invalid", "error", "Overrides!D2",
         "Overrides!D2: the override month is '2027-13', not a month of the plan horizon "
         "(2027-01 to 2027-03); type a month of the horizon as the text YYYY-MM.",
         _with_sheet("Overrides", _OVERRIDES, D2="2027-13"), "an override in no real month"),
    Case("probability-invalid", "error", "Actions!G2",
         "Actions!G2: the probability must be a number from 0 to 1, found 50; type it as a "
         "fraction or a percentage (for 50% type 0.5 or 50%), or leave it blank for certain.",
         _with_sheet("Actions", _ACTIONS, G2=50.0), "a probability typed as 50"),
    Case("text-too-long", "error", "Demand!C4",
         "Demand!C4: the channel 'RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR'... is 300 characters "
         "long; sopfin writes it into formulas, where Excel allows 255; keep it to 255 "
         "characters or fewer.",
         _cells("Demand", C4="R" * 300), "a channel name of 300 characters"),
    Case("number-too-large", "error", "Prices!C4",
         "Prices!C4: expected a number below 1e+15 in size for 2027-01, found 1e+308, too large "
         "to compute with to the cent; correct the value (a typo or a wrong unit is the usual "
         "cause).",
         _cells("Prices", C4=1e308), "a price of 1e308, which would overflow revenue"),
    # operating expenses (the plan of tests/opex_tables.py)
    Case("unknown-department", "error", "Budget!C6",
         "Budget!C6: the department 'Logistics' has no line on sheet Opex; add its lines on "
         "sheet Opex or correct the spelling.",
         _with_opex(Budget={"C6": "Logistics"}), "a budget opex row of a department with no line"),
    Case("unknown-account", "error", "Budget!D6",
         "Budget!D6: the account 'Fuel' is not a line of department 'Operations' on sheet Opex "
         "(Freight); add the line on sheet Opex or correct the spelling.",
         _with_opex(Budget={"D6": "Fuel"}), "a budget opex row of an account with no line"),
    Case("unknown-driver", "error", "Opex!D3",
         "Opex!D3: unknown driver 'headcount'; expected one of units_shipped, revenue, "
         "average_inventory_units; correct the driver.",
         _with_opex(Opex={"D3": "headcount"}), "a driver sopfin does not compute"),
    Case("rate-invalid", "error", "Opex!D4",
         "Opex!D4: the units_shipped line has no Rate; type the Rate ($ per unit, or a fraction "
         "of revenue: 5% = 0.05).",
         _with_opex(Opex={"F4": None}), "a driver line without its rate"),
)

# Codes raised after validation, by steps that have their own tests: code -> (the test file
# that produces it and checks its code, how it arises). tests/test_error_catalogue.py checks
# that the file names the code.
EMITTED_ELSEWHERE = {
    "standard-missing": ("test_cost_variances.py", "the finance sheets, when ActualCosts has a "
                         "cost whose StdCost standards are not given"),
    "std-cost-mismatch": ("test_cost_variances.py", "the finance sheets, when StdCost's "
                          "standards give another cost per unit"),
    "negative-inventory": ("test_dollarize.py", "dollarize, when supply is not a constraint"),
    "stranded-stock": ("test_capital_sheets.py", "dollarize, for a family holding stock with no "
                       "demand in the stranded horizon"),
    "silent-override": ("test_reconcile.py", "the reconciliation, when a Forecast cell is off "
                        "the plan, and close, when a cell sopfin wrote was changed"),
    "typed-over": ("test_edits.py", "dollarize, when a cell sopfin wrote was changed"),
    "edit-discarded": ("test_edits.py", "dollarize --discard-edits, for each cell it overwrote"),
    "import-log-unreadable": ("test_import_provenance.py", "an import (error) or a close "
                              "(warning), when a row of _Imports is no import record"),
    # how a silent override was found: Issue.kind of a silent-override or typed-over
    "typed-over-formula": ("test_overrides_rows.py", "a sopfin formula now holds a constant"),
    "formula-changed": ("test_overrides_rows.py", "a sopfin formula was rewritten"),
    "constant-changed": ("test_issue_record.py", "a label or constant sopfin wrote changed"),
    "row-changed": ("test_issue_record.py", "a changed row the plan has also changed since"),
    "forecast-differs": ("test_reconcile.py", "a Forecast cell off the plan plus overrides"),
    # verify, about the version ledger and the published tabs
    "tampered-cell": ("test_versions.py", "a published cell differs from its digest"),
    "overwritten-formula": ("test_versions.py", "a published formula now holds a constant"),
    "tampered-tab": ("test_versions.py", "a tab differs and has no digests to name cells"),
    "missing-tab": ("test_versions.py", "a published tab was deleted"),
    "extra-tab": ("test_versions.py", "a Recon tab that no ledger entry publishes"),
    "entry-altered": ("test_versions.py", "a ledger row was edited"),
    "broken-chain": ("test_versions.py", "a ledger row no longer chains to the previous one"),
    "reordered": ("test_versions.py", "ledger rows were moved or repeated"),
    "missing-entry": ("test_versions.py", "a ledger row was deleted"),
    "invalid-event": ("test_versions.py", "an entry the ledger's event rules do not allow"),
    "hmac-mismatch": ("test_versions.py", "a row written or edited without the key"),
    "hmac-missing": ("test_versions.py", "an unsigned row in a keyed ledger"),
    "hmac-unchecked": ("test_versions.py", "hmacs present but no key given"),
    "swapped-tab": ("test_tamper.py", "a tab holds another version's content"),
    "foreign-tab": ("test_tamper.py", "a sealed tab copied in from another workbook"),
    "foreign-ledger": ("test_tamper.py", "ledger rows written in another workbook"),
    "behind-head": ("test_tamper.py", "the head kept outside the file is not in the ledger"),
    "inputs-changed": ("test_tamper.py", "the inputs differ from the latest version's"),
    "tab-hidden": ("test_tamper.py", "a published tab was hidden"),
    "tab-unprotected": ("test_tamper.py", "a published tab lost its protection"),
    "ledger-shown": ("test_roundtrip.py", "a spreadsheet app's save showed the ledger sheet"),
    # imports, at a source row or a key of the mapping file
    "mapping-invalid": ("test_import.py", "a mapping file or preset that cannot be used"),
    "source-column-missing": ("test_import.py", "a mapped column the source lacks"),
    "source-date-invalid": ("test_import.py", "a date or period that does not parse"),
    "source-number-invalid": ("test_import.py", "a value that is not a number"),
    "item-unmapped": ("test_import.py", "an item with no family"),
    "month-outside-horizon": ("test_import.py", "rows dated outside the plan's months"),
    "source-unreadable": ("test_import.py", "a source that is not a readable table"),
    # consolidation
    "workbook-unreadable": ("test_consolidate.py", "a unit's file it cannot read"),
    "fx-rate-missing": ("test_consolidate.py", "a currency and month without a rate"),
    "fx-rate-invalid": ("test_consolidate.py", "a row of the FX table that is no rate"),
}

# Codes kept in the catalogue that sopfin does not report as an issue today, and why.
# tests/test_error_catalogue.py checks that no module of sopfin uses them.
NOT_REPORTED = {
    "sheet-name-taken": "a user's sheet holding an output sheet's name stops the write as "
                        "SheetNameTakenError (exit 2, tests/test_xlsx_writer.py), before any "
                        "issue is listed",
}


def build(folder: Path = HERE) -> list[dict[str, str]]:
    """Write valid.xlsx, one workbook per case and catalogue.json; return the entries."""
    write_xlsx(folder / "valid.xlsx", base())
    entries = []
    for case in CASES:
        grids = base()
        case.mutate(grids)
        write_xlsx(folder / case.file, grids)
        entries.append({"file": case.file, "code": case.code, "severity": case.severity,
                        "cell": case.cell, "what": case.what, "message": case.message})
    (folder / "catalogue.json").write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
    return entries


if __name__ == "__main__":
    print(f"wrote {len(build())} cases to {HERE}")
