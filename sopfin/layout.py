"""Every sheet name, header and position sopfin reads or writes, in one place.

Input sheets belong to the user: sopfin creates them empty (``sopfin new`` / ``sopfin init``)
and afterwards only reads them. Output sheets belong to sopfin: it regenerates them on every
run and marks them as its own, so it never overwrites a sheet it did not write.

Every input table starts in cell A1 with a header row; data rows follow from row 2 and the
first blank row ends the table. Key columns come first, then (for monthly tables) one column
per month whose header is the text ``YYYY-MM``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_ROW = 1
FIRST_DATA_ROW = 2
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class InputSheet:
    """The shape of one user-owned input table."""

    name: str
    keys: tuple[str, ...]  # required key column headers, in order
    optional_keys: tuple[str, ...] = ()  # key headers that may be present (after `keys`)
    values: tuple[str, ...] = ()  # fixed value column headers (non-monthly tables)
    monthly: bool = False  # True: value columns are one per month, header 'YYYY-MM'
    help: str = ""
    optional_after_values: bool = False  # the blank plan puts the optional keys last
    # value headers that may be present (after `values`); not part of the plan's table
    optional_values: tuple[str, ...] = ()


SETTINGS = "Settings"
FAMILIES = "Families"
DEMAND = "Demand"
PRICES = "Prices"
SUPPLY = "Supply"
OPENING_INVENTORY = "OpeningInventory"
STD_COST = "StdCost"
PLANNED_VARIANCES = "PlannedVariances"
BUDGET = "Budget"
# StdCost's optional standards behind the cost per unit (sopfin.plan.cost_sheets reads them):
# material quantity per unit and price, labour hours per unit and rate, variable overhead per
# labour hour, and the month's budgeted fixed overhead (currency) and output (units).
STD_COST_STANDARDS = ("MaterialQty", "MaterialPrice", "LabourHours", "LabourRate",
                      "VariableOverheadRate", "FixedOverheadBudget", "BudgetOutput")

OPEX = "Opex"

# Budget and Actuals rows of measure opex name an Opex line by these keys (Family blank).
OPEX_LINE_KEYS = ("Department", "Account")
OPEX_MEASURE = "opex"
# What an Opex line's Driver may name: a plan quantity the output sheets compute. units_shipped
# and average_inventory_units are of a family (DriverOf) or of all; revenue of a channel or of
# all. Rate is $ per unit for the units, a fraction (5% = 0.05) for revenue.
OPEX_DRIVERS = ("units_shipped", "revenue", "average_inventory_units")
# An Opex line's optional head count (a number, 0 or more): a department's is its lines' sum.
OPEX_HEADCOUNT = "Headcount"

# Settings is a two-column list (Setting | Value) with a Help column, not a keyed table.
SETTINGS_HEADERS = ("Setting", "Value", "Help")

INPUT_SHEETS: tuple[InputSheet, ...] = (
    InputSheet(FAMILIES, keys=("Family", "Name", "ProductLine", "UoM", "Active"),
               help="One row per product family. Active is TRUE/FALSE (blank = TRUE)."),
    InputSheet(DEMAND, keys=("Scenario", "Family"), optional_keys=("Channel",), monthly=True,
               help="Unconstrained demand in units, by scenario, family and (optional) channel."),
    InputSheet(PRICES, keys=("Family",), optional_keys=("Channel",), monthly=True,
               help="Net selling price per unit. Per channel when Demand has channels."),
    InputSheet(SUPPLY, keys=("Scenario", "Family"), monthly=True,
               help="Planned production in units, by scenario and family."),
    InputSheet(OPENING_INVENTORY, keys=("Family",), values=("Units",),
               help="Units on hand at the start of the first period."),
    InputSheet(STD_COST, keys=("Family",), values=("Material", "Labour", "Overhead"),
               optional_keys=("EffectiveFrom",), optional_values=STD_COST_STANDARDS,
               help="Standard cost per unit. EffectiveFrom (YYYY-MM, blank = from the start) "
                    "lets a cost change land mid-horizon. The optional standards behind it "
                    "(MaterialQty x MaterialPrice, LabourHours x LabourRate, "
                    "VariableOverheadRate per labour hour, FixedOverheadBudget and "
                    "BudgetOutput per month) give the close its cost variances."),
    InputSheet(PLANNED_VARIANCES, keys=("Scenario", "Family", "Type"), monthly=True,
               help="Planned period costs in currency (overtime, expedite, ppv, ...)."),
    InputSheet(BUDGET, keys=("Family", "Measure"), optional_keys=("Channel", *OPEX_LINE_KEYS),
               monthly=True,
               help="Annual operating plan by family and (optional) channel: Measure is "
                    "units, revenue or cogs; opex rows leave Family blank and name a Department "
                    "and Account."),
    InputSheet(OPEX, keys=("Scenario", "Department", "Account"),
               optional_keys=("Driver", "DriverOf", "Rate", OPEX_HEADCOUNT), monthly=True,
               help="Planned operating expenses by scenario, department and account: amounts "
                    "per month, or a Rate on a Driver (units_shipped, revenue, "
                    "average_inventory_units) of one family or channel (DriverOf; blank = all). "
                    "Headcount (optional) is the people on the line; allocate --by headcount "
                    "shares a budget by department in proportion to it."),
)
# Finance inputs (optional, user-owned): named overrides, gap-closure actions, actuals for
# closed months, and finance's own forecast (checked for silent overrides).
OVERRIDES = "Overrides"
ACTIONS = "Actions"
ACTUALS = "Actuals"
FORECAST = "Forecast"
ACTUAL_COSTS = "ActualCosts"

FINANCE_SHEETS: tuple[InputSheet, ...] = (
    InputSheet(OVERRIDES, keys=("Id", "Scenario", "Family", "Month", "Measure"),
               values=("Amount", "Owner", "Reason", "ApprovedBy"),
               help="Named adjustments on top of the dollarized plan: Measure is revenue or "
                    "cogs, Amount in currency (+ raises it). Owner and Reason are required."),
    InputSheet(ACTIONS, keys=("Id", "Scenario", "Description", "Owner"),
               values=("RevenueImpact", "MarginImpact", "Probability"),
               optional_keys=("Start", "End"), optional_after_values=True,
               help="Gap-closure actions: impact in currency, spread evenly over the months "
                    "from Start to End (YYYY-MM; blank = the horizon's first or last month), "
                    "probability 0-1 (blank = 1)."),
    InputSheet(ACTUALS, keys=("Family", "Measure"), optional_keys=("Channel", *OPEX_LINE_KEYS),
               monthly=True,
               help="Actuals for closed months by family and (optional) channel: Measure is "
                    "units, revenue or cogs (opex by Department and Account, Family blank); "
                    "leave open months blank."),
    InputSheet(FORECAST, keys=("Scenario", "Family", "Measure"), monthly=True,
               help="Finance's forecast by family (revenue, cogs): any cell that differs from "
                    "the dollarized plan plus overrides by more than the materiality "
                    "threshold is flagged."),
    InputSheet(ACTUAL_COSTS, keys=("Family", "Month"),
               values=("UnitsProduced", "MaterialQtyUsed", "MaterialQtyPurchased",
                       "MaterialCost", "LabourHoursPaid", "LabourHoursWorked", "LabourCost",
                       "VariableOverheadCost", "FixedOverheadCost"),
               help="Actual production cost of a closed month by family: MaterialCost is "
                    "what the purchases cost (what the material used cost when "
                    "MaterialQtyPurchased is blank); LabourHoursWorked blank = hours paid. "
                    "The close explains it against StdCost's standards."),
)
FINANCE_BY_NAME = {s.name: s for s in FINANCE_SHEETS}

INPUT_BY_NAME = {s.name: s for s in INPUT_SHEETS}
INPUT_SHEET_NAMES = (SETTINGS,) + tuple(s.name for s in INPUT_SHEETS)
FINANCE_SHEET_NAMES = tuple(s.name for s in FINANCE_SHEETS)
# What `sopfin new` / `sopfin init` create, in this order.
PLAN_SHEET_NAMES = INPUT_SHEET_NAMES + FINANCE_SHEET_NAMES

BUDGET_MEASURES = ("units", "revenue", "cogs")
OVERRIDE_MEASURES = ("revenue", "cogs")
ACTUAL_MEASURES = ("units", "revenue", "cogs")
VARIANCE_TYPES_KNOWN = ("overtime", "expedite", "ppv")

# Output sheets: owned and regenerated by sopfin.
REVENUE = "Revenue"
COGS = "COGS"
INVENTORY = "Inventory"
CASH = "Cash"
SUMMARY = "Summary"
PNL = "P&L"
ISSUES = "Issues"
OUTPUT_SHEET_NAMES = (REVENUE, COGS, INVENTORY, CASH, SUMMARY, PNL, ISSUES)
# Output sheets whose rows carry a fingerprint of what sopfin wrote (sopfin.guard.fingerprints),
# so a typed-over cell is found before the sheet is rewritten. Issues holds no figures.
FINGERPRINTED_SHEETS = (REVENUE, COGS, INVENTORY, CASH, SUMMARY, PNL)

# Hidden, sheet-scoped defined name that marks a sheet as written (and owned) by sopfin.
# The consolidated workbook (``sopfin consolidate``): a new workbook of these sheets only.
CONSOLIDATED_SUMMARY = "Summary"
CONSOLIDATED_BRIDGE = "Bridge"
CONSOLIDATED_UNITS = "Units"
CONSOLIDATED_ISSUES = "Issues"
CONSOLIDATED_SHEET_NAMES = (CONSOLIDATED_SUMMARY, CONSOLIDATED_BRIDGE, CONSOLIDATED_UNITS,
                            CONSOLIDATED_ISSUES)
FX = "FX"  # the exchange-rate sheet of an --fx workbook
FX_HEADERS = ("Currency", "Month", "Average", "Closing")

OWNER_MARK_NAME = "_sopfin_owned"
# Hidden, workbook-scoped defined name holding the workbook's identity (a random UUID written
# at its first close). A copied sheet does not carry it, so the ledger's entries, which
# record it, tell a history copied in from another workbook.
WORKBOOK_ID_NAME = "_sopfin_workbook_id"
# How spreadsheet apps spell its value after a save: sopfin and Excel write TRUE, LibreOffice
# TRUE() (and unhides the name), Excel's object model reports =TRUE.
_OWNER_MARK_VALUE = re.compile(r"=?\s*TRUE\s*(\(\s*\))?", re.IGNORECASE)


def is_owner_mark_value(text: str | None) -> bool:
    """True for the owner mark's value in any spelling a rewrite leaves (TRUE, TRUE(), =TRUE)."""
    return text is not None and _OWNER_MARK_VALUE.fullmatch(text.strip()) is not None

# Published versions: one frozen, protected tab per version, and the hidden ledger.
RECON_PREFIX = "Recon v"  # + three-digit version: 'Recon v001'
LEDGER = "_Ledger"
INPUT_ROWS = "_Inputs"  # very hidden: per-row digests of the inputs at the latest close
# Hidden (Format > Unhide shows it): one row per import into an input sheet, marked with the
# version whose close recorded it on the ledger.
IMPORTS = "_Imports"
IMPORTS_STATE = "hidden"
LEDGER_STATE = "veryHidden"  # out of the tab list and Format > Unhide; verify warns otherwise
# States sopfin puts its own sheets back to on every write (a spreadsheet app's save may
# have changed them).
OWN_SHEET_STATES = {LEDGER: LEDGER_STATE, INPUT_ROWS: "veryHidden", IMPORTS: IMPORTS_STATE}
RECON_DIGEST_COLUMN = "Z"  # hidden column of per-row cell digests on a recon tab


def recon_tab_name(version: int) -> str:
    return f"{RECON_PREFIX}{version:03d}"


def is_recon_name(name: str) -> bool:
    """'Recon v001' and the like: a published version's tab name."""
    tail = name[len(RECON_PREFIX):]
    return name.startswith(RECON_PREFIX) and tail.isdigit()


assert not set(INPUT_SHEET_NAMES) & set(OUTPUT_SHEET_NAMES), "input and output names collide"
assert not set(FINANCE_SHEET_NAMES) & (set(INPUT_SHEET_NAMES) | set(OUTPUT_SHEET_NAMES))


def column_letter(index: int) -> str:
    """1-based column index -> Excel column letters (1 -> A, 27 -> AA)."""
    if index < 1:
        raise ValueError(f"column index must be >= 1, got {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel column letters -> 1-based index (A -> 1, AA -> 27)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def cell_name(row: int, col: int) -> str:
    """(1-based row, 1-based col) -> 'B7'."""
    return f"{column_letter(col)}{row}"
