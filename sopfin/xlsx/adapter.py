"""The file adapter: the ``sopfin.workbook.Workbook`` protocol on an .xlsx/.xlsm file.

``FileWorkbook(path)`` answers each question by reading the file; ``snapshot()`` reads the
package once (``sopfin.xlsx.source.read_package``) and answers every question of a command
from those bytes, writing into them and refusing when the file changed on disk meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from sopfin.guard.ownership import proven_sheets
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import Cells, Reseal, Workbook, WorkbookSnapshot
from sopfin.xlsx.lock import exclusive
from sopfin.xlsx.read import RawSheet, read_raw_sheets
from sopfin.xlsx.readback import (
    SheetRows,
    read_cell_rows,
    read_cells,
    sheet_part_digests,
    sheets_as_written,
)
from sopfin.xlsx.source import PackageBytes, PackageSource, read_package
from sopfin.xlsx.writer import (
    SheetGuard,
    WriteReport,
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
    """A workbook file; with ``package``, bound to one read of it (see ``snapshot``)."""

    path: Path
    package: PackageBytes | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def source(self) -> PackageSource:
        """What the readers read: the bytes read once, or else the file."""
        return self.package if self.package is not None else self.path

    def snapshot(self) -> WorkbookSnapshot:
        """The workbook as read now, in one open of the file, for one command."""
        return WorkbookSnapshot(replace(self, package=read_package(self.path)))

    def check_writable(self) -> None:
        check_writable(self.source)

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the workbook's lock file for a whole read-modify-write."""
        return exclusive(self.path)

    def sheet_names(self) -> list[str]:
        return sheet_names(self.source)

    def owned_sheet_names(self) -> set[str]:
        """Sheets with sopfin's owner mark, and those whose content proves them sopfin's
        after a rewrite dropped the mark (``sopfin.guard.ownership``)."""
        return owned_sheet_names(self.source) | self._proven()

    def _proven(self) -> set[str]:
        return proven_sheets(self, owned_sheet_names(self.source, any_value=True))

    def sheet_states(self) -> dict[str, str]:
        return sheet_states(self.source)

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawSheet]:
        return read_raw_sheets(self.source, names)

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        return read_cells(self.source, names)

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, SheetRows]:
        return read_cell_rows(self.source, names)

    def workbook_id(self) -> str | None:
        return workbook_id(self.source)

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, SheetGuard]:
        return sheet_guards(self.source, names)

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        return sheets_as_written(self.source, names)

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return sheet_part_digests(self.source, names)

    def entry_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return sheet_part_digests(self.source, names, stored=True)

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None,
                     reseal: Reseal | None = None) -> WriteReport:
        return write_sheets(self.source, specs, states, adopt=self._proven(),
                            workbook_id=workbook_id, reseal=reseal)


def open_workbook(target: str | Path | Workbook) -> Workbook:
    """A path -> FileWorkbook; anything already implementing the protocol is returned as is."""
    if isinstance(target, str | Path):
        return FileWorkbook(Path(target))
    return target
