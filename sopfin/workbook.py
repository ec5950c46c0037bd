"""The one seam between the pipeline and a workbook: a file on disk or a book open in Excel.

The pipeline talks only to this protocol. ``sopfin.xlsx.adapter.FileWorkbook`` implements it
on an .xlsx/.xlsm file (lossless package writer, atomic save); ``sopfin.excel.live.LiveWorkbook``
implements it on an open workbook through xlwings. Both take the same ``SheetSpec``s, so the
same plan gives the same sheet contents either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast, runtime_checkable

from sopfin.close.digests import FormulaCell
from sopfin.sheetspec import SheetSpec

FORMULA_SEP = "\x00"  # joins formulas in ``CellRow.joined_formulas``: no formula holds it
_REF = re.compile(r"^([A-Z]{1,3})(0|[1-9][0-9]*)$")
T = TypeVar("T")


class CellRow(Protocol):
    """One row of a sheet as read back, for comparing it with what sopfin wrote.

    ``joined_formulas`` is the cheap question (a row read from a file answers it without
    decoding any cell); ``values`` and ``cells`` give the cells exactly as
    ``Workbook.read_cells`` would, keyed by column letters.
    """

    @property
    def number(self) -> int:
        """The 1-based row number."""
        ...

    def joined_formulas(self, columns: Sequence[str]) -> str | None:
        """The formulas of ``columns`` joined by FORMULA_SEP, as far as they are known at a
        glance. When the result equals ``FORMULA_SEP.join(formulas)`` for non-empty
        ``formulas`` (none holding FORMULA_SEP), each column holds exactly that formula (as
        stored, without '='). A cell without a formula, or one not known cheaply, gives an
        empty entry; None says the row cannot tell (e.g. it has no cell in a column)."""
        ...

    def values(self, columns: Sequence[str]) -> list[object]:
        """The cells of ``columns`` (FormulaCell, plain value, or None when empty)."""
        ...

    def cells(self) -> Mapping[str, object]:
        """Every non-empty cell of the row: {column letters: value or FormulaCell}."""
        ...


class CellsRow:
    """A ``CellRow`` over decoded cells ({column letters: value or FormulaCell})."""

    __slots__ = ("_cells", "number")

    def __init__(self, number: int, cells: Mapping[str, object]) -> None:
        self.number = number
        self._cells = cells

    def joined_formulas(self, columns: Sequence[str]) -> str | None:
        out = []
        for column in columns:
            cell = self._cells.get(column)
            formula = cell.formula if isinstance(cell, FormulaCell) else None
            out.append(formula if isinstance(formula, str) else "")
        return FORMULA_SEP.join(out)

    def values(self, columns: Sequence[str]) -> list[object]:
        return [self._cells.get(c) for c in columns]

    def cells(self) -> Mapping[str, object]:
        return self._cells


def rows_of_cells(cells: Mapping[str, object]) -> list[CellsRow]:
    """{cell ref: value} (as ``read_cells`` gives) -> its rows in row order. Keys that are not
    plain references ('B7', no leading zero) name no cell a spec can have: left out."""
    rows: dict[int, dict[str, object]] = {}
    for ref, value in cells.items():
        match = _REF.match(ref)
        if match:
            rows.setdefault(int(match.group(2)), {})[match.group(1)] = value
    return [CellsRow(n, rows[n]) for n in sorted(rows)]


@runtime_checkable
class GridRows(Protocol):
    """Rows of a sheet (``Workbook.read_cell_rows``) that can also be read as one grid of
    cached values from A1, '' for an empty cell: faster for a large sheet of values. None
    when the sheet is not one to read that way; its rows then say what it holds."""

    def grid(self) -> list[list[object]] | None: ...


class RawGrid(Protocol):
    """One sheet as a grid from A1, as ``Workbook.read_raw_sheets`` gives it (what the
    plan parser reads, ``sopfin.plan.read.SheetGrid``)."""

    @property
    def name(self) -> str: ...

    @property
    def rows(self) -> list[list[object]]: ...


class SheetGuardView(Protocol):
    """How a published tab stands: its state and whether sheet protection is on."""

    @property
    def state(self) -> str: ...

    @property
    def protected(self) -> bool: ...


class WriteOutcome(Protocol):
    """What a write reports back: warnings for the user (e.g. metadata it could not keep)."""

    @property
    def warnings(self) -> tuple[str, ...]: ...


Cells = Mapping[str, object]  # {cell ref: value or FormulaCell}


@dataclass(frozen=True)
class Reseal:
    """One sheet of a write made again once the others are deflated: ``sheet`` is called
    with their digests ({sheet name: part digest}, ``sopfin.xlsx.partdigest``) and the stored
    digests of every sheet part the write stores ({sheet name: entry digest}) and returns
    the spec that replaces the one named ``name``, with the same state and styles (the
    ledger, whose new entry records the digest of the tab it publishes). A workbook without
    part digests (a book open in Excel) writes the spec as given."""

    name: str
    sheet: Callable[[Mapping[str, str], Mapping[str, str]], SheetSpec]


@runtime_checkable
class Workbook(Protocol):
    """What the pipeline needs from a workbook."""

    @property
    def name(self) -> str:
        """A short name for messages ('Plan.xlsx')."""
        ...

    def snapshot(self) -> Workbook:
        """The workbook as one command sees it: read once (a file's package is read in one
        open), every later question answered from that read (``WorkbookSnapshot``), and writes
        refused if the workbook changed since."""
        ...

    def check_writable(self) -> None:
        """Raise a ``sopfin.xlsx.errors.WorkbookError`` if sheets cannot be written."""
        ...

    def sheet_names(self) -> list[str]:
        ...

    def owned_sheet_names(self) -> set[str]:
        ...

    def sheet_states(self) -> dict[str, str]:
        """{sheet name: 'visible', 'hidden' or 'veryHidden'}."""
        ...

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawGrid]:
        """Named sheets as grids from A1; Excel error cells as ``sopfin.model.XlError``;
        missing sheets absent."""
        ...

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        """Named sheets as {cell ref: value}, formula cells as
        ``sopfin.close.digests.FormulaCell(formula, cached value)``; for verify and for
        finding typed-over formulas."""
        ...

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, Iterable[CellRow]]:
        """Named sheets as their rows (``CellRow``s), streamed: a sheet is read while its
        rows are iterated, and can be iterated again. Rows come in the order the sheet
        stores them: ascending, unless an unusual file repeats or reorders row numbers (its
        later non-empty cells then win, as in ``read_cells``). Missing sheets are absent.
        For comparing large output sheets without holding every cell at once."""
        ...

    def workbook_id(self) -> str | None:
        """The workbook's identity (``layout.WORKBOOK_ID_NAME``), None before its first
        close."""
        ...

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, SheetGuardView]:
        """For the named sheets: their state (visible, hidden, veryHidden) and whether
        sheet protection is on."""
        ...

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        """The named sheets known at a glance to be exactly as sopfin last wrote them (so no
        cell can have been edited since); empty when that cannot be told cheaply."""
        ...

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        """{sheet name: digest of its part as stored} (``sopfin.xlsx.partdigest``) for the
        named sheets; empty when the workbook has no parts (a book open in Excel)."""
        ...

    def entry_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        """{sheet name: digest of its part's zip entry as stored, compressed bytes and all}
        (``sopfin.xlsx.partdigest.entry_digest``): no inflating; empty when the workbook has
        no parts (a book open in Excel)."""
        ...

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None,
                     reseal: Reseal | None = None) -> WriteOutcome:
        """Add or replace these sheets, all or nothing; ``states`` sets the state of sopfin's
        own sheets that are not rewritten ({name: state}; others are left alone); record
        ``workbook_id`` as the workbook's identity in the same save if it has none;
        ``reseal`` makes one of ``specs`` again from the digests of the others' parts."""
        ...


class WorkbookSnapshot:
    """A workbook as one command sees it (think of a ledger loaded once): the sheet list and
    states, the owned sheets, the identity, and every sheet a step asked for, each read once
    from ``reader`` and then answered from memory. ``reader`` is a workbook bound to one read
    of the package (``FileWorkbook.snapshot``) or a book open in Excel. Writes go to
    ``reader``, which refuses them when the file changed since its read; a snapshot is spent
    by its write (the command's last step)."""

    def __init__(self, reader: Workbook) -> None:
        self.reader = reader
        self._raw: dict[str, RawGrid | None] = {}
        self._cells: dict[str, Cells | None] = {}
        self._digests: dict[str, str | None] = {}
        self._entries: dict[str, str | None] = {}
        self._facts: dict[str, object] = {}

    @property
    def name(self) -> str:
        return self.reader.name

    def snapshot(self) -> WorkbookSnapshot:
        return self

    def _fact(self, key: str, read: Callable[[], object]) -> object:
        if key not in self._facts:
            self._facts[key] = read()
        return self._facts[key]

    def check_writable(self) -> None:
        self._fact("writable", self.reader.check_writable)

    def sheet_names(self) -> list[str]:
        return list(cast(list[str], self._fact("names", self.reader.sheet_names)))

    def owned_sheet_names(self) -> set[str]:
        return set(cast(set[str], self._fact("owned", self.reader.owned_sheet_names)))

    def sheet_states(self) -> dict[str, str]:
        return dict(cast(dict[str, str], self._fact("states", self.reader.sheet_states)))

    def workbook_id(self) -> str | None:
        return cast("str | None", self._fact("id", self.reader.workbook_id))

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawGrid]:
        return _remembered(self._raw, names, self.reader.read_raw_sheets)

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        return _remembered(self._cells, names, self.reader.read_cells)

    def forget_raw_sheets(self, names: Iterable[str]) -> None:
        """Let go of the grids of ``names`` a step no longer needs (the input sheets once
        parsed and fingerprinted: the largest thing a command holds); a later ask reads them
        again from the same read of the package."""
        for name in names:
            self._raw.pop(name, None)

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, Iterable[CellRow]]:
        return self.reader.read_cell_rows(names)  # streamed from the one read, not held

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, SheetGuardView]:
        return self.reader.sheet_guards(names)

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        return self.reader.sheets_as_written(names)

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return _remembered(self._digests, names, self.reader.part_digests)

    def entry_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return _remembered(self._entries, names, self.reader.entry_digests)

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None,
                     reseal: Reseal | None = None) -> WriteOutcome:
        return self.reader.write_sheets(specs, states, workbook_id=workbook_id, reseal=reseal)


def _remembered(memo: dict[str, T | None], names: Iterable[str],
                read: Callable[[list[str]], Mapping[str, T]]) -> dict[str, T]:
    """The named sheets from ``memo``, reading those not asked for before in one call
    (a sheet the workbook lacks is remembered as absent)."""
    wanted = list(dict.fromkeys(names))
    new = [n for n in wanted if n not in memo]
    if new:
        found = read(new)
        memo.update({n: found.get(n) for n in new})
    return {n: value for n in wanted if (value := memo[n]) is not None}
