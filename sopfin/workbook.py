"""The one seam between the pipeline and a workbook: a file on disk or a book open in Excel.

The pipeline talks only to this protocol. ``sopfin.xlsx.adapter.FileWorkbook`` implements it
on an .xlsx/.xlsm file (lossless package writer, atomic save); ``sopfin.live.LiveWorkbook``
implements it on an open workbook through xlwings. Both take the same ``SheetSpec``s, so the
same plan gives the same sheet contents either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from sopfin.sheetspec import SheetSpec


@runtime_checkable
class Workbook(Protocol):
    """What the pipeline needs from a workbook."""

    @property
    def name(self) -> str:
        """A short name for messages ('Plan.xlsx')."""
        ...

    def check_writable(self) -> None:
        """Raise a ``sopfin.xlsx.errors.WorkbookError`` if sheets cannot be written."""
        ...

    def sheet_names(self) -> list[str]:
        ...

    def owned_sheet_names(self) -> set[str]:
        ...

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, Any]:
        """Named sheets as grids from A1 (objects with ``.name`` and ``.rows``); Excel error
        cells as ``sopfin.model.XlError``; missing sheets absent."""
        ...

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Mapping[str, Any]]:
        """Named sheets as {cell ref: value}, formula cells as
        ``sopfin.versions.FormulaCell(formula, cached value)``; for verify and for finding
        typed-over formulas."""
        ...

    def write_sheets(self, specs: Sequence[SheetSpec]) -> Any:
        """Add or replace these sheets, all or nothing."""
        ...
