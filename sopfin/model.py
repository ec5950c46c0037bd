"""Plain, immutable records of the core: where a value came from, what is wrong with it, and
the plan itself as aligned arrays that remember their source cells.

Nothing here imports a workbook or Excel library.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, SupportsInt, cast

import numpy as np

if TYPE_CHECKING:
    from sopfin.plan.settings import Settings


@dataclass(frozen=True, slots=True, order=True)
class CellRef:
    """A cell (or a whole sheet when ``cell`` is empty) in the plan workbook, or in another
    copy of it when ``book`` names that copy (verify comparing two files)."""

    sheet: str
    cell: str = ""
    book: str = ""

    def __str__(self) -> str:
        here = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{self.book}!{here}" if self.book else here


@dataclass(frozen=True, slots=True, order=True)
class PackagePart:
    """A part of the workbook's zip package, e.g. ``xl/workbook.xml``."""

    part: str

    def __str__(self) -> str:
        return self.part


@dataclass(frozen=True, slots=True, order=True)
class SourceRow:
    """A row (1-based, as a spreadsheet app numbers it) of a file imported into the plan,
    e.g. an ERP export, and the column the problem is in; row 0 is the file as a whole, and
    for a mapping file ``column`` holds the key (``columns.item``)."""

    source: str
    row: int = 0
    column: str = ""

    def __str__(self) -> str:
        if not self.row:
            return f"{self.source} [{self.column}]" if self.column else self.source
        return f"{self.source}:{self.row}" + (f" column {self.column}" if self.column else "")


Location = CellRef | PackagePart | SourceRow


# The code given to a formula cell saved without its result (a library that does not
# calculate, such as openpyxl, wrote the file): its value is unknown, so it is no blank.
NO_STORED_RESULT = "#NO-RESULT"


@dataclass(frozen=True, slots=True)
class XlError:
    """An Excel error value found in a cell (``#N/A``, ``#REF!``, ...), or a formula saved
    without its result (``NO_STORED_RESULT``). Never a number."""

    code: str

    def __str__(self) -> str:
        return self.code

    def described(self) -> str:
        """What the cell holds, for a message: 'the Excel error #N/A', or what to do about a
        formula without its result."""
        if self.code == NO_STORED_RESULT:
            return ("a formula saved without its result (a program that does not calculate "
                    "saved the workbook; open it in Excel or LibreOffice and save it)")
        return f"the Excel error {self.code}"


class Severity(enum.StrEnum):
    ERROR = "error"  # dollarize refuses to write
    WARNING = "warning"  # written, and listed on the Issues sheet


class IssueCode(enum.StrEnum):
    """Stable codes for every problem sopfin reports: in the plan, in the finance inputs, in
    what was typed over, and in the ledger and the published tabs. Each has a catalogue entry
    in tests/errors (a failing workbook, or the test that produces it)."""

    # workbook / sheet structure
    MISSING_SHEET = "missing-sheet"  # a sheet the plan needs is not in the workbook
    MISSING_COLUMN = "missing-column"  # a column the table needs is absent or misspelt
    UNKNOWN_COLUMN = "unknown-column"  # a column the table does not have (ignored), or one twice
    MONTH_HEADER_INVALID = "month-header-invalid"  # a month column header that is not YYYY-MM
    MONTHS_OUT_OF_ORDER = "months-out-of-order"  # the month columns are not in the horizon's order
    MONTHS_MISSING = "months-missing"  # a month of the horizon has no column
    # settings
    SETTING_INVALID = "setting-invalid"  # a setting value that cannot be read; its default applies
    SETTING_UNKNOWN = "setting-unknown"  # a Settings row sopfin does not know; ignored
    # cell values
    NOT_A_NUMBER = "not-a-number"  # text, or a number typed as text, where a number belongs
    EXCEL_ERROR = "excel-error"  # an Excel error value, or a formula saved without its result
    NEGATIVE_VALUE = "negative-value"  # a unit, price or cost below zero
    BLANK_KEY = "blank-key"  # a key cell (scenario, family, channel, ...) left blank
    TEXT_TOO_LONG = "text-too-long"  # a key longer than a formula's string constant allows
    VALUE_INVALID = "value-invalid"  # a flag or month cell that is not one of its allowed values
    # keys and references
    UNKNOWN_FAMILY = "unknown-family"  # a family that is not on sheet Families
    DUPLICATE_FAMILY = "duplicate-family"  # a family listed twice on sheet Families
    DUPLICATE_ROW = "duplicate-row"  # two rows with the same keys; nothing is summed silently
    INACTIVE_FAMILY_HAS_DEMAND = "inactive-family-has-demand"  # demand for an inactive family
    UNKNOWN_SCENARIO = "unknown-scenario"  # a scenario not listed in Settings
    SCENARIO_MISSING = "scenario-missing"  # a scenario in Settings without Demand or Supply rows
    CHANNEL_MISMATCH = "channel-mismatch"  # Prices, Budget or Actuals disagree with Demand
    UNKNOWN_MEASURE = "unknown-measure"  # a measure that Budget or a finance sheet does not take
    UNKNOWN_DEPARTMENT = "unknown-department"  # an opex row names a department not on Opex
    UNKNOWN_ACCOUNT = "unknown-account"  # an opex row names an account not on Opex
    UNKNOWN_DRIVER = "unknown-driver"  # an Opex Driver or DriverOf the plan has not
    RATE_INVALID = "rate-invalid"  # a driver line without a Rate, or a Rate alone
    # coverage
    MISSING_PRICE = "missing-price"  # demand in a month without a price for its channel
    MISSING_STD_COST = "missing-std-cost"  # no standard cost in force from a first active month
    STANDARD_MISSING = "standard-missing"  # an actual cost whose StdCost standards are not given
    STD_COST_MISMATCH = "std-cost-mismatch"  # StdCost's standards give another cost per unit
    # results
    NEGATIVE_INVENTORY = "negative-inventory"  # unconstrained shipments take inventory below zero
    STRANDED_STOCK = "stranded-stock"  # stock of a family with no demand in the stranded horizon
    NUMBER_TOO_LARGE = "number-too-large"  # an input of 1e15 or more, or a result overflowing
    # finance inputs and silent overrides
    OVERRIDE_INCOMPLETE = "override-incomplete"  # no owner or no reason
    OVERRIDE_INVALID = "override-invalid"  # unknown measure/month/family/scenario, bad amount
    PROBABILITY_INVALID = "probability-invalid"  # an Actions probability outside 0 to 1
    SILENT_OVERRIDE = "silent-override"  # a sopfin formula typed over, or Forecast off plan
    TYPED_OVER = "typed-over"  # dollarize found a cell changed since sopfin wrote it
    EDIT_DISCARDED = "edit-discarded"  # dollarize --discard-edits overwrote such a cell
    # how a silent override was found (``Issue.kind`` of a silent-override or typed-over)
    TYPED_OVER_FORMULA = "typed-over-formula"  # a sopfin formula now holds a constant
    FORMULA_CHANGED = "formula-changed"  # a sopfin formula was rewritten
    CONSTANT_CHANGED = "constant-changed"  # a label or constant sopfin wrote was changed
    ROW_CHANGED = "row-changed"  # a row sopfin wrote changed, its cell cannot be named
    FORECAST_DIFFERS = "forecast-differs"  # a Forecast cell is off the plan plus overrides
    # workbook ownership
    SHEET_NAME_TAKEN = "sheet-name-taken"  # a sheet of the user's bears a name sopfin writes
    # the version ledger and the published tabs (verify)
    TAMPERED_CELL = "tampered-cell"  # a recon cell differs from its published digest
    OVERWRITTEN_FORMULA = "overwritten-formula"  # a published formula now holds a constant
    TAMPERED_TAB = "tampered-tab"  # a recon tab differs, and its cells cannot be named
    MISSING_TAB = "missing-tab"  # a published recon tab is gone from the workbook
    EXTRA_TAB = "extra-tab"  # a recon tab no ledger entry publishes
    ENTRY_ALTERED = "entry-altered"  # a ledger row no longer matches its entry_hash
    BROKEN_CHAIN = "broken-chain"  # prev_hash is not the previous row's entry_hash
    REORDERED = "reordered"  # seq numbers out of order or repeated
    MISSING_ENTRY = "missing-entry"  # a seq number is absent: a row was deleted
    INVALID_EVENT = "invalid-event"  # an event the ledger's rules do not allow
    HMAC_MISMATCH = "hmac-mismatch"  # a ledger row whose hmac the key does not reproduce
    HMAC_MISSING = "hmac-missing"  # no hmac on a row of a ledger whose other rows have one
    HMAC_UNCHECKED = "hmac-unchecked"  # hmacs present but no key, or no hmac at all
    SWAPPED_TAB = "swapped-tab"  # a recon tab holds another version's published content
    FOREIGN_TAB = "foreign-tab"  # a sealed recon tab that this ledger did not publish
    FOREIGN_LEDGER = "foreign-ledger"  # entries published in another workbook
    BEHIND_HEAD = "behind-head"  # a head kept outside the workbook is not in the ledger
    INPUTS_CHANGED = "inputs-changed"  # the inputs differ from those of the latest version
    TAB_HIDDEN = "tab-hidden"  # a published tab is no longer visible
    TAB_UNPROTECTED = "tab-unprotected"  # a published tab lost its sheet protection
    LEDGER_SHOWN = "ledger-shown"  # the ledger sheet is not very hidden (an app's save)
    # imports (located at a source row, or at a key of the mapping file)
    MAPPING_INVALID = "mapping-invalid"  # the mapping file (or preset) cannot be used
    SOURCE_COLUMN_MISSING = "source-column-missing"  # a mapped column is not in the source
    SOURCE_DATE_INVALID = "source-date-invalid"  # a date or period that does not parse
    SOURCE_NUMBER_INVALID = "source-number-invalid"  # a value that is not a number
    ITEM_UNMAPPED = "item-unmapped"  # an item with no family in the mapping
    MONTH_OUTSIDE_HORIZON = "month-outside-horizon"  # a row dated outside the plan's months
    SOURCE_UNREADABLE = "source-unreadable"  # the file is not a table sopfin can read
    IMPORT_LOG_UNREADABLE = "import-log-unreadable"  # a row of _Imports that is no import record
    # consolidation of many workbooks
    WORKBOOK_UNREADABLE = "workbook-unreadable"  # a business unit's file cannot be read
    FX_RATE_MISSING = "fx-rate-missing"  # no rate for a currency and month a unit needs
    FX_RATE_INVALID = "fx-rate-invalid"  # a row of the FX table that is no rate


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem sopfin reports, at its location: a cell, a package part or a source row.

    ``message`` says what is wrong (expected vs found); ``fix`` says how to fix it. A problem
    about a published version carries it in ``version`` (0: none, or the ledger as a whole).
    A cell found changed carries what sopfin expected there and what it ``found``, and in
    ``kind`` the check that found it (``typed-over-formula``, ``forecast-differs``, ...).
    """

    code: IssueCode
    severity: Severity
    where: Location
    message: str
    fix: str = ""
    more: int = 0  # > 0: this issue stands for that many further issues like the ones listed
    version: int = 0
    kind: IssueCode | None = None
    expected: object = None
    found: object = None

    @property
    def count(self) -> int:
        """How many issues this one stands for."""
        return self.more or 1

    @property
    def sheet(self) -> str:
        """The sheet of the issue's cell; '' for a package part or a source row."""
        return self.where.sheet if isinstance(self.where, CellRef) else ""

    @property
    def text(self) -> str:
        """What is wrong, then the fix: `<what is wrong>; <how to fix it>`."""
        return f"{self.message}; {self.fix}" if self.fix else self.message

    def located(self, workbook: str = "") -> str:
        """`Plan.xlsx!Demand!F14: <what is wrong>; <how to fix it>` (no closing period)."""
        book = "" if isinstance(self.where, SourceRow) else workbook  # not inside the book
        loc = "!".join(p for p in (book, str(self.where)) if p)
        return f"{loc}: {self.text}" if loc else self.text

    def format(self, workbook: str = "") -> str:
        """`Plan.xlsx!Demand!F14: <what is wrong>; <how to fix it>.`"""
        text = self.located(workbook)
        return text if text.endswith(".") else text + "."

    def to_dict(self) -> dict[str, str]:
        where = self.where
        out = {
            "code": self.code.value,
            "severity": self.severity.value,
            "sheet": self.sheet,
            "cell": where.cell if isinstance(where, CellRef) else "",
            "message": self.message,
            "fix": self.fix,
        }
        if not isinstance(where, CellRef):
            out["location"] = str(where)
        return out


def has_errors(issues: list[Issue] | tuple[Issue, ...]) -> bool:
    return any(i.severity is Severity.ERROR for i in issues)


@dataclass(frozen=True)
class Keys:
    """The key columns of a table: one numpy array per name, all of one length (text keys
    as object arrays of str, ``row`` as int64)."""

    columns_by_name: Mapping[str, np.ndarray]

    @classmethod
    def of(cls, columns: Mapping[str, Iterable[object] | np.ndarray],
           row: Iterable[int] | np.ndarray) -> Keys:
        """Text columns plus the 1-based sheet rows."""
        data = {name: text_column(values) for name, values in columns.items()}
        data["row"] = np.asarray(list(row) if not isinstance(row, np.ndarray) else row,
                                 dtype=np.int64)
        return cls(data)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns_by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns_by_name

    def __len__(self) -> int:
        return len(next(iter(self.columns_by_name.values()), ()))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.columns_by_name)

    def take(self, rows: np.ndarray) -> Keys:
        """The rows picked by a boolean mask or by positions, in that order."""
        return Keys({n: c[rows] for n, c in self.columns_by_name.items()})

    def select(self, names: Iterable[str]) -> Keys:
        return Keys({n: self.columns_by_name[n] for n in names})

    def row_of(self, i: int) -> dict[str, Any]:
        """Data row ``i`` as name -> value (text keys are str, ``row`` an int)."""
        return {n: c[i] for n, c in self.columns_by_name.items()}

    def isin(self, name: str, wanted: Iterable[object]) -> np.ndarray:
        """Per row, whether column ``name`` holds one of ``wanted``."""
        found = set(wanted)
        column = self.columns_by_name[name]
        return np.fromiter((v in found for v in column), dtype=bool, count=len(column))

    def positions_by(self, name: str) -> dict[object, np.ndarray]:
        """Each value of column ``name`` (in order of first appearance) -> its row positions."""
        groups: dict[object, list[int]] = {}
        for i, v in enumerate(self.columns_by_name[name].tolist()):
            groups.setdefault(v, []).append(i)
        return {v: np.asarray(rows, dtype=np.int64) for v, rows in groups.items()}

    def equals(self, other: Keys) -> bool:
        return self.columns == other.columns and all(
            np.array_equal(c, other[n]) for n, c in self.columns_by_name.items())


def text_column(values: Iterable[object] | np.ndarray) -> np.ndarray:
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def sheet_row(keys: Keys, i: int) -> int:
    """The 1-based sheet row of data row ``i`` of a table's keys (its ``row`` column)."""
    return int(cast(SupportsInt, keys["row"][i]))


@dataclass(frozen=True)
class Table:
    """One input table as aligned arrays, with the cell each value came from.

    ``keys`` has one column per key (strings, stripped; '' when blank) plus ``row``: the
    1-based sheet row of each data row. ``values`` is float64 of shape (len(keys),
    len(value_names)); value j of row i sits in cell ``value_cols[j] + str(row)``.
    """

    sheet: str
    key_names: tuple[str, ...]
    keys: Keys
    value_names: tuple[str, ...]
    values: np.ndarray
    key_cols: tuple[str, ...]  # column letters of the key columns, aligned with key_names
    value_cols: tuple[str, ...]  # column letters of the value columns, aligned with value_names
    first_row: int  # first data row (header is first_row - 1)
    last_row: int  # last data row (== first_row - 1 when the table is empty)

    def __len__(self) -> int:
        return len(self.keys)

    def ref(self, i: int, j: int | None = None) -> CellRef:
        """The cell of row i's value j, or of row i's first key when j is None."""
        row = sheet_row(self.keys, i)
        col = self.key_cols[0] if j is None else self.value_cols[j]
        return CellRef(self.sheet, f"{col}{row}")

    def key_col(self, name: str) -> str:
        return self.key_cols[self.key_names.index(name)]

    def value_col(self, name: str) -> str:
        return self.value_cols[self.value_names.index(name)]


@dataclass(frozen=True)
class Plan:
    """A validated plan: settings plus every input table, ready to dollarize.

    Key columns per table (all str):
      families: family, name, product_line, uom, active ('TRUE'/'FALSE' normalised)
      demand: scenario, family, channel ('' when the sheet has no Channel column)
      prices: family, channel ('' when the sheet has no Channel column)
      supply: scenario, family
      opening: family                       values: ('units',)
      std_cost: family, effective_from ('' = from the start, else 'YYYY-MM'),
                effective_from_literal (how to write the cell's value in a formula:
                '""', '"2027-03"' or a date serial like '46447')
                                            values: ('material', 'labour', 'overhead')
      variances: scenario, family, type
      budget: family, measure (units | revenue | cogs), channel, department, account ('' when
              the column is absent)
      opex: scenario, department, account, driver, driver_of, rate ('' when absent; the
            text of the Rate cell); values: months (ignored on a driver line)
      opex_budget: the Budget rows of measure opex (keys as budget)
    Monthly tables have value_names == months. ``opex`` and ``opex_budget`` are None for a
    plan built without them (no Opex sheet, no opex budget).
    """

    settings: Settings
    months: tuple[str, ...]
    families: Table
    demand: Table
    prices: Table
    supply: Table
    opening: Table
    std_cost: Table
    variances: Table
    budget: Table
    opex: Table | None = None
    opex_budget: Table | None = None
    has_channel: bool = False  # True when the Demand sheet has a Channel column
    source: str = ""  # the workbook's file name, for messages
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.settings.scenarios)
