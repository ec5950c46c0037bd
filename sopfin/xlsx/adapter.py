"""The file adapter: the ``sopfin.workbook.Workbook`` protocol on an .xlsx/.xlsm file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sopfin.guard.ownership import proven_sheets
from sopfin.sheetspec import SheetSpec
from sopfin.xlsx.lock import exclusive
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.writer import (
    SheetGuard,
    check_writable,
    owned_sheet_names,
    sheet_guards,
    sheet_names,
    sheet_states,
    workbook_id,
    write_sheets,
)


@dataclass(frozen=True)
class FileWorkbook:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def check_writable(self) -> None:
        check_writable(self.path)

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the workbook's lock file for a whole read-modify-write."""
        return exclusive(self.path)

    def sheet_names(self) -> list[str]:
        return sheet_names(self.path)

    def owned_sheet_names(self) -> set[str]:
        """Sheets with sopfin's owner mark, and those whose content proves them sopfin's
        after a rewrite dropped the mark (``sopfin.guard.ownership``)."""
        return owned_sheet_names(self.path) | proven_sheets(
            self, owned_sheet_names(self.path, any_value=True))

    def sheet_states(self) -> dict[str, str]:
        return sheet_states(self.path)

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, Any]:
        return read_raw_sheets(self.path, names)

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Mapping[str, Any]]:
        from sopfin.xlsx.readback import read_cells  # the XML cell reader (formulas included)

        return read_cells(self.path, names)

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, Iterable[Any]]:
        from sopfin.xlsx.readback import read_cell_rows  # streamed rows, for large sheets

        return read_cell_rows(self.path, names)

    def workbook_id(self) -> str | None:
        return workbook_id(self.path)

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, SheetGuard]:
        return sheet_guards(self.path, names)

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        from sopfin.xlsx.readback import sheets_as_written

        return sheets_as_written(self.path, names)

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None) -> Any:
        return write_sheets(self.path, specs, states,
                            adopt=proven_sheets(self, owned_sheet_names(self.path, any_value=True)),
                            workbook_id=workbook_id)


def open_workbook(target: str | Path | Any) -> Any:
    """A path -> FileWorkbook; anything already implementing the protocol is returned as is."""
    if isinstance(target, str | Path):
        return FileWorkbook(Path(target))
    return target
