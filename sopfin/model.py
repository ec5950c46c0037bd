"""Plain, immutable records of the core: where a value came from, what is wrong with it, and
the plan itself as aligned arrays that remember their source cells.

Nothing here imports a workbook or Excel library.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, SupportsInt, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sopfin.plan.settings import Settings


@dataclass(frozen=True, slots=True, order=True)
class CellRef:
    """A cell (or a whole sheet when ``cell`` is empty) in the plan workbook."""

    sheet: str
    cell: str = ""

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet


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
    """Stable codes for problems in the user's data. Each has a catalogue entry in tests."""

    # workbook / sheet structure
    MISSING_SHEET = "missing-sheet"
    MISSING_COLUMN = "missing-column"
    UNKNOWN_COLUMN = "unknown-column"
    MONTH_HEADER_INVALID = "month-header-invalid"
    MONTHS_OUT_OF_ORDER = "months-out-of-order"
    MONTHS_MISSING = "months-missing"
    # settings
    SETTING_INVALID = "setting-invalid"
    SETTING_UNKNOWN = "setting-unknown"
    # cell values
    NOT_A_NUMBER = "not-a-number"
    EXCEL_ERROR = "excel-error"
    NEGATIVE_VALUE = "negative-value"
    BLANK_KEY = "blank-key"
    TEXT_TOO_LONG = "text-too-long"  # a key longer than a formula's string constant allows
    VALUE_INVALID = "value-invalid"  # a flag or month cell that is not one of its allowed values
    # keys and references
    UNKNOWN_FAMILY = "unknown-family"
    DUPLICATE_FAMILY = "duplicate-family"
    DUPLICATE_ROW = "duplicate-row"
    INACTIVE_FAMILY_HAS_DEMAND = "inactive-family-has-demand"
    UNKNOWN_SCENARIO = "unknown-scenario"
    SCENARIO_MISSING = "scenario-missing"
    CHANNEL_MISMATCH = "channel-mismatch"
    UNKNOWN_MEASURE = "unknown-measure"
    # coverage
    MISSING_PRICE = "missing-price"
    MISSING_STD_COST = "missing-std-cost"
    # results
    NEGATIVE_INVENTORY = "negative-inventory"
    NUMBER_TOO_LARGE = "number-too-large"  # an input of 1e15 or more, or a result overflowing
    # finance inputs and silent overrides
    OVERRIDE_INCOMPLETE = "override-incomplete"  # no owner or no reason
    OVERRIDE_INVALID = "override-invalid"  # unknown measure/month/family/scenario, bad amount
    PROBABILITY_INVALID = "probability-invalid"
    SILENT_OVERRIDE = "silent-override"  # a sopfin formula typed over, or a forecast cell off
    TYPED_OVER = "typed-over"  # dollarize found a cell changed since sopfin wrote it
    EDIT_DISCARDED = "edit-discarded"  # dollarize --discard-edits overwrote such a cell
    # workbook ownership
    SHEET_NAME_TAKEN = "sheet-name-taken"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in the user's data, located at a cell.

    ``message`` says what is wrong (expected vs found); ``fix`` says how to fix it.
    """

    code: IssueCode
    severity: Severity
    where: CellRef
    message: str
    fix: str = ""
    more: int = 0  # > 0: this issue stands for that many further issues like the ones listed

    @property
    def count(self) -> int:
        """How many issues this one stands for."""
        return self.more or 1

    def format(self, workbook: str = "") -> str:
        """`Plan.xlsx!Demand!F14: <what is wrong>; <how to fix it>.`"""
        loc = f"{workbook}!{self.where}" if workbook else str(self.where)
        text = f"{loc}: {self.message}"
        if self.fix:
            text += f"; {self.fix}"
        if not text.endswith("."):
            text += "."
        return text

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "sheet": self.where.sheet,
            "cell": self.where.cell,
            "message": self.message,
            "fix": self.fix,
        }


def has_errors(issues: list[Issue] | tuple[Issue, ...]) -> bool:
    return any(i.severity is Severity.ERROR for i in issues)


def sheet_row(keys: pd.DataFrame, i: int) -> int:
    """The 1-based sheet row of data row ``i`` of a table's keys (its ``row`` column)."""
    return int(cast(SupportsInt, keys["row"].iat[i]))


@dataclass(frozen=True)
class Table:
    """One input table as aligned arrays, with the cell each value came from.

    ``keys`` has one column per key (strings, stripped; '' when blank) plus ``row``: the
    1-based sheet row of each data row. ``values`` is float64 of shape (len(keys),
    len(value_names)); value j of row i sits in cell ``value_cols[j] + str(row)``.
    """

    sheet: str
    key_names: tuple[str, ...]
    keys: pd.DataFrame
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
      budget: family, measure (units | revenue | cogs)
    Monthly tables have value_names == months.
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
    has_channel: bool = False  # True when the Demand sheet has a Channel column
    source: str = ""  # the workbook's file name, for messages
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.settings.scenarios)
