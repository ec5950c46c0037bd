"""The live adapter: the ``sopfin.workbook.Workbook`` protocol on a book open in Excel.

``LiveWorkbook(xw.Book.caller())`` lets the pipeline run on the workbook the user has open,
through xlwings, with the same ``SheetSpec``s the file writer takes.

In bulk. A sheet is read with one ``.value`` of the rectangle from A1 to the last used cell
(``ndim=2, err_to_str=True``: Excel errors arrive as '#N/A' and become ``XlError``). Each
block is written with one assignment: ``.value`` for a block of plain values, ``.formula``
for a block with formulas ('=' prefixed, plain cells of the block given as constants).
Text is written with Excel's leading apostrophe so that '2027-01' or 'TRUE' stay text.
Formats are applied per block (or per run of equal styles in a row).

All or nothing. Everything that can be checked is checked before the first write: sheet
names, block shapes and overlaps, states, and that no user sheet would be overwritten
(``SheetNameTakenError``). Then sheets are added and written with screen updating and
calculation off. If anything fails midway, the sheets added are deleted and each replaced
sopfin sheet gets back the values and formulas it had (its formats are sopfin's own and are
redrawn on the next run). Replaced sheets are written in place, not swapped for new ones,
so formulas elsewhere that point at them keep pointing at them.

What goes through ``.api`` (Excel's object model, no xlwings wrapper in classic xlwings):
each feature has its own ``api_*`` function in ``sopfin.excel.live_api``, and nothing else
touches ``.api``; writing a sheet is ``sopfin.excel.live_write``.
The workbook is never saved unless ``save=True``.

Limits: a hashed protection password (``SheetProtection.hash_value``) cannot be handed to
Excel's ``Protect``, which takes the password itself, so such a sheet is protected without a
password and the report says so; charts are not drawn (reported too). The page setup goes
through Excel's ``PageSetup`` object (``sopfin.excel.live_page``), best effort: where Excel does not
take it (an application without that object model), the report says so and the sheet is
written without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sopfin.close.digests import FormulaCell
from sopfin.excel.live_api import (
    api_hide_name,
    api_protected,
    api_structure_protected,
    api_very_hidden,
    api_visibility,
)
from sopfin.excel.live_write import Undo, quiet_app, write_sheet
from sopfin.layout import OWNER_MARK_NAME, WORKBOOK_ID_NAME, cell_name, is_owner_mark_value
from sopfin.model import XlError
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import Cells, CellsRow, Reseal, WorkbookSnapshot, rows_of_cells
from sopfin.xlsx.errors import SheetNameTakenError, StructureProtectedError
from sopfin.xlsx.lock import exclusive
from sopfin.xlsx.read import RawSheet
from sopfin.xlsx.writeplan import check_spec

ERROR_CODES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!",
    "#PYTHON!"})


@dataclass(frozen=True)
class LiveSheetGuard:
    state: str
    protected: bool


@dataclass(frozen=True)
class LiveWriteReport:
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    saved: bool = False


class LiveWorkbook:
    """The ``Workbook`` protocol over an xlwings ``Book`` (or anything with its interface)."""

    def __init__(self, book: Any, *, save: bool = False) -> None:
        self.book = book
        self.save = save

    @property
    def name(self) -> str:
        return str(self.book.name)

    def snapshot(self) -> WorkbookSnapshot:
        """The book as one command sees it: each sheet and fact read from Excel once (the
        whole command runs while the button holds the book)."""
        return WorkbookSnapshot(self)

    def check_writable(self) -> None:
        if api_structure_protected(self.book):
            raise StructureProtectedError(self.name)

    def exclusive(self) -> AbstractContextManager[None]:
        """While a button runs, hold sopfin's lock file beside the book's file (when it has
        one on this computer), so a command-line run on the same file waits or refuses."""
        path = getattr(self.book, "fullname", None)
        if isinstance(path, str) and os.path.isfile(path):
            return exclusive(path)
        return nullcontext()

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def owned_sheet_names(self) -> set[str]:
        return {s.name for s in self.book.sheets if _is_owned(s)}

    def sheet_states(self) -> dict[str, str]:
        return {s.name: api_visibility(s) for s in self.book.sheets}

    def _sheets(self, names: Iterable[str]) -> list[Any]:
        by_name = {s.name: s for s in self.book.sheets}
        return [by_name[n] for n in dict.fromkeys(names) if n in by_name]

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawSheet]:
        return {s.name: RawSheet(s.name, [[_read_value(v) for v in row]
                                          for row in _whole(s).options(
                                              ndim=2, err_to_str=True).value])
                for s in self._sheets(names)}

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        out: dict[str, Cells] = {}
        for sheet in self._sheets(names):
            rng = _whole(sheet)
            values = rng.options(ndim=2, err_to_str=True).value
            formulas = _rows2d(rng.formula)
            cells: dict[str, object] = {}
            for i, (vrow, frow) in enumerate(zip(values, formulas, strict=True)):
                for j, (v, f) in enumerate(zip(vrow, frow, strict=True)):
                    if isinstance(f, str) and f.startswith("="):
                        cells[cell_name(i + 1, j + 1)] = FormulaCell(f[1:], _read_value(v))
                    elif v is not None:
                        cells[cell_name(i + 1, j + 1)] = _read_value(v)
            out[sheet.name] = cells
        return out

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, list[CellsRow]]:
        """The sheets as rows; Excel hands over a whole sheet at once, so they are read
        with ``read_cells`` and split into rows."""
        return {name: rows_of_cells(cells) for name, cells in self.read_cells(names).items()}

    def workbook_id(self) -> str | None:
        for name in self.book.names:
            if str(name.name).lower() == WORKBOOK_ID_NAME.lower():
                text = str(name.refers_to).lstrip("=").strip()
                return text.strip('"') or None
        return None

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, LiveSheetGuard]:
        return {s.name: LiveSheetGuard("visible" if s.visible else "hidden",
                                       api_protected(s))
                for s in self._sheets(names)}

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        """A book open in Excel may have been edited anywhere: every sheet is read."""
        return set()

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return {}  # a book open in Excel has no stored parts: every check reads the cells

    def entry_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return {}

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None,
                     reseal: Reseal | None = None) -> LiveWriteReport:
        """Add or replace these sheets, all or nothing (see the module docstring); ``states``
        puts sopfin's own sheets that are not rewritten back to a state; ``workbook_id`` is
        recorded as the workbook's identity in the same save if it has none; ``reseal`` is
        not applied (no part digests here: the specs are written as given)."""
        specs = list(specs)
        if not specs:
            return LiveWriteReport((), ())
        _restore_states(self.book, specs, states or {})
        self.check_writable()
        existing = {s.name.casefold(): s for s in self.book.sheets}
        replace = self._check(specs, existing)
        undo = Undo()
        active = self.book.sheets.active
        warnings: list[str] = []
        with quiet_app(self.book.app):
            try:
                targets = []
                for spec in specs:
                    sheet = replace.get(spec.name)
                    if sheet is None:
                        sheet = self._add_sheet(spec)
                        undo.added.append(sheet)
                    else:
                        undo.keep(sheet)
                        sheet.clear()
                    targets.append(sheet)
                for spec, sheet in zip(specs, targets, strict=True):
                    warnings += write_sheet(sheet, spec)
                if workbook_id and self.workbook_id() is None:
                    api_hide_name(self.book.names.add(WORKBOOK_ID_NAME, f'="{workbook_id}"'))
                chosen = [t for s, t in zip(specs, targets, strict=True) if s.selected]
                active = chosen[-1] if chosen else active  # e.g. the new Recon tab
            except BaseException:
                undo.rollback()
                raise
            finally:
                active.activate()
        if self.save:
            self.book.save()
        return LiveWriteReport(tuple(s.name for s in specs if s.name not in replace),
                               tuple(s.name for s in specs if s.name in replace),
                               tuple(warnings), self.save)

    def _check(self, specs: Sequence[SheetSpec], existing: Mapping[str, Any]) -> dict[str, Any]:
        """Every check before the first write; the owned sheets to replace, by spec name."""
        seen: set[str] = set()
        replace: dict[str, Any] = {}
        for spec in specs:
            check_spec(spec, seen)
            sheet = existing.get(spec.name.casefold())
            if sheet is not None:
                owned = _is_owned(sheet)
                if not (spec.owned and owned):
                    raise SheetNameTakenError(self.name, sheet.name, by_sopfin=owned)
                replace[spec.name] = sheet
        return replace

    def _add_sheet(self, spec: SheetSpec) -> Any:
        sheets = self.book.sheets
        sheet = sheets.add(spec.name, after=sheets[len(sheets) - 1])
        if spec.owned:
            api_hide_name(sheet.names.add(OWNER_MARK_NAME, "=TRUE"))
        return sheet


# ----------------------------------------------------------------------------- reading
def _whole(sheet: Any) -> Any:
    """The rectangle from A1 to the last used cell (a grid from A1, like the file reader)."""
    last = sheet.used_range.last_cell
    return sheet.range((1, 1), (last.row, last.column))


def _rows2d(value: Any) -> list[list[Any]]:
    if not isinstance(value, list | tuple):
        return [[value]]
    if value and not isinstance(value[0], list | tuple):
        return [list(value)]
    return [list(r) for r in value]


def _read_value(v: Any) -> Any:
    if isinstance(v, str):
        if v in ERROR_CODES:
            return XlError(v)
        return v if v else None
    return v


def _is_owned(sheet: Any) -> bool:
    for name in sheet.names:
        local = str(name.name).rsplit("!", 1)
        if (len(local) == 2 and local[1].lower() == OWNER_MARK_NAME.lower()
                and is_owner_mark_value(str(name.refers_to))):
            return True
    return False


def _restore_states(book: Any, specs: Sequence[SheetSpec], states: Mapping[str, str]) -> None:
    """Set the state of the owned sheets named in ``states`` that ``specs`` do not rewrite."""
    rewritten = {s.name.casefold() for s in specs}
    for sheet in book.sheets:
        wanted = states.get(sheet.name)
        if wanted is None or sheet.name.casefold() in rewritten or not _is_owned(sheet):
            continue
        if wanted == "veryHidden":
            api_very_hidden(sheet)
        else:
            sheet.visible = wanted == "visible"


