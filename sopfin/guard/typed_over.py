"""No silent overrides: find sopfin formula cells that someone typed over, by comparing a sheet
with the fresh render. ``sopfin.guard.edits`` uses this for sheets written before rows carried
fingerprints (``sopfin.guard.fingerprints``, which also reads a render row by row through
``SpecRows``); sheets with fingerprints are checked against what was written instead.

Every computed cell sopfin writes is a formula. A cell of an output sheet that now holds a
constant (or another formula) where sopfin's render has a formula is a finance number that
differs from the dollarized plan without a name, an owner or a reason: it is reported with its
cell, the formula it should hold and what was found.

Only rows whose labels (the text cells sopfin wrote, e.g. scenario, family, measure) are
unchanged are compared, so a plan that changed shape since the last dollarize (a new family
shifts every row below it) is not mistaken for tampering.

The sheets are compared row by row as they are read (``Workbook.read_cell_rows``), so a large
sheet is never held whole. A row is first compared in one go: its formulas joined into one
string, as found and as rendered, and its labels; only a row that differs there is compared
cell by cell, which is what decides the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import numpy as np

from sopfin.close.records import silent_override
from sopfin.guard.respelling import canonical_formula
from sopfin.layout import cell_name, column_letter
from sopfin.model import CellRef, Issue, IssueCode
from sopfin.sheetspec import FormulaGrid, SheetSpec
from sopfin.workbook import FORMULA_SEP, CellRow, CellsRow, rows_of_cells

RESTORE_FORMULA = ("put the change on sheet Overrides with an owner and a reason, and run "
                   "sopfin dollarize to restore the formula")

Expected = dict[int, tuple[object, str | None]]  # col -> (value, formula or None)


class _JoinedGrid:
    """A ``FormulaGrid`` block's rows as single strings (``FormulaGrid.joined_row``), or None
    for a row whose formulas are not all text."""

    def __init__(self, grid: FormulaGrid) -> None:
        self.grid = grid

    @classmethod
    def of(cls, formulas: object) -> _JoinedGrid | None:
        return cls(formulas) if isinstance(formulas, FormulaGrid) else None

    def row(self, i: int) -> str | None:
        try:
            return self.grid.joined_row(i, FORMULA_SEP)
        except (TypeError, ValueError, KeyError):
            return None  # formats the row-wise join cannot take: formulas one by one

    def rows(self, start: int, stop: int) -> list[str | None]:
        """``row`` of rows start..stop-1, joined a block of rows at a time where it can be."""
        try:
            return list(self.grid.joined_rows(start, stop, FORMULA_SEP))
        except (TypeError, ValueError, KeyError):
            return [self.row(i) for i in range(start, stop)]


class _Band:
    """Rows covered by the same blocks, and what is the same for each of them: in a band
    whose formulas all come from ``FormulaGrid``s (``grids`` set), the formula columns."""

    __slots__ = ("blocks", "f_cols", "grids", "labels", "overlap")

    def __init__(self, spec: SpecRows, blocks: tuple[int, ...]) -> None:
        self.blocks = blocks
        spans = sorted((spec.blocks[b].col, spec.blocks[b].col + spec.widths[b] - 1)
                       for b in blocks if spec.widths[b])
        self.overlap = any(a[1] >= b[0] for a, b in zip(spans, spans[1:], strict=False))
        self.grids: list[tuple[int, _JoinedGrid]] | None = []
        self.labels: list[int] = []  # blocks of plain values that may hold labels
        self.f_cols: list[str] = []
        for b in blocks:
            block = spec.blocks[b]
            joined = spec.joined[b]
            if joined is not None:
                self.grids.append((block.row, joined))
                self.f_cols += spec.letters[b]
            elif block.formulas is not None:
                self.grids = None  # formulas one by one
                return
            elif not spec.numeric[b]:
                self.labels.append(b)


class SpecRows:
    """A sheet spec row by row. Rows come in bands covered by the same blocks; nothing is
    built per cell until a row is asked for."""

    def __init__(self, spec: SheetSpec) -> None:
        self.blocks = list(spec.blocks)
        self.shapes = shapes = [_shape(block) for block in self.blocks]
        self.widths = [w for _, w in shapes]
        self.letters = [[column_letter(block.col + j) for j in range(w)]
                        for block, (_, w) in zip(self.blocks, shapes, strict=True)]
        self.joined = [_JoinedGrid.of(block.formulas) for block in self.blocks]
        self.numeric = [isinstance(block.values, np.ndarray)
                        and block.values.dtype.kind in "biufcmM" for block in self.blocks]
        self.bands = _bands(self.blocks, shapes)
        self._values: dict[int, np.ndarray] = {}
        self._formulas: dict[int, Any] = {}

    def rows(self) -> Iterator[tuple[int, _Band]]:
        """Each row of the spec, ascending, with its band."""
        for start, stop, blocks in self.bands:
            band = _Band(self, blocks)
            for row in range(start, stop):
                yield row, band

    def _value_row(self, b: int, i: int) -> list[Any]:
        """Row i of block b's values, as the cells hold them. Numbers are taken a row at a
        time; other blocks (labels, mostly narrow) are converted once."""
        row: list[Any]
        if self.numeric[b]:
            row = self.blocks[b].values[i].tolist()
            return row
        grid = self._values.get(b)
        if grid is None:
            grid = self._values[b] = np.asarray(self.blocks[b].values, dtype=object)
        row = grid[i].tolist()
        return row

    def _formula_row(self, b: int, i: int) -> list[Any] | None:
        formulas = self.blocks[b].formulas
        if formulas is None:
            return None
        if isinstance(formulas, FormulaGrid):
            return formulas.row(i)
        grid = self._formulas.get(b)
        if grid is None:
            grid = self._formulas[b] = np.asarray(formulas, dtype=object)
        row: list[Any] = grid[i].tolist()
        return row

    def cells(self, row: int, blocks: Sequence[int]) -> Expected:
        """Every non-empty cell sopfin renders on ``row``, in block order."""
        out: Expected = {}
        for b in blocks:
            block = self.blocks[b]
            i = row - block.row
            values = self._value_row(b, i)
            formulas = self._formula_row(b, i)
            for j in range(len(values)):
                formula = formulas[j] if formulas is not None else None
                value = values[j]
                if formula or value is not None:
                    out[block.col + j] = (value, formula or None)
        return out

    def summary(self, row: int, band: _Band,
                ) -> tuple[list[str], str, list[str], list[str]] | None:
        """(formula columns, their formulas joined, label columns, labels) of ``row``; None
        when only the cell-by-cell comparison can tell (blocks overlap, or a formula that is
        empty, not text, starts with '=' or holds FORMULA_SEP)."""
        if band.overlap:
            return None
        parts: Sequence[str | None]
        if band.grids is not None:
            f_cols = band.f_cols
            parts = [grid.row(row - top) for top, grid in band.grids]
            if None in parts:
                return None
            l_cols, labels = self._labels(row, band.labels)
        else:
            found = self._row_parts(row, band.blocks)
            if found is None:
                return None
            f_cols, parts, l_cols, labels = found
        joined = FORMULA_SEP.join(cast(Sequence[str], parts))  # no None left
        if f_cols and (joined.count(FORMULA_SEP) != len(f_cols) - 1
                       or joined.startswith(("=", FORMULA_SEP)) or joined.endswith(FORMULA_SEP)
                       or f"{FORMULA_SEP}=" in joined or FORMULA_SEP * 2 in joined):
            return None
        return f_cols, joined, l_cols, labels

    def _labels(self, row: int, blocks: Sequence[int]) -> tuple[list[str], list[str]]:
        """The label columns and labels of ``row`` in blocks of plain values."""
        l_cols: list[str] = []
        labels: list[str] = []
        for b in blocks:
            letters = self.letters[b]
            for j, value in enumerate(self._value_row(b, row - self.blocks[b].row)):
                if isinstance(value, str) and value:
                    l_cols.append(letters[j])
                    labels.append(value)
        return l_cols, labels

    def _row_parts(self, row: int, blocks: Sequence[int],
                   ) -> tuple[list[str], list[str], list[str], list[str]] | None:
        """``summary``'s parts for a row some of whose formulas come one by one."""
        f_cols: list[str] = []
        parts: list[str] = []
        l_cols: list[str] = []
        labels: list[str] = []
        for b in blocks:
            i = row - self.blocks[b].row
            joined = self.joined[b]
            if joined is not None:
                found = joined.row(i)
                if found is None:
                    return None
                f_cols += self.letters[b]
                parts.append(found)
                continue
            f_row = self._formula_row(b, i)
            if f_row is None and self.numeric[b]:
                continue  # numbers only
            if f_row is not None and all(f_row) and len(f_row) == self.widths[b]:
                try:
                    parts.append(FORMULA_SEP.join(f_row))  # every cell a formula
                except TypeError:
                    return None  # a formula that is not text
                f_cols += self.letters[b]
                continue
            v_row = None if self.numeric[b] else self._value_row(b, i)
            for j, letter in enumerate(self.letters[b]):
                formula = f_row[j] if f_row is not None else None
                if formula:
                    if not isinstance(formula, str):
                        return None
                    f_cols.append(letter)
                    parts.append(formula)
                elif v_row is not None and isinstance(v_row[j], str) and v_row[j]:
                    l_cols.append(letter)
                    labels.append(v_row[j])
        return f_cols, parts, l_cols, labels


def _bands(blocks: Sequence[Any], shapes: Sequence[tuple[int, int]],
           ) -> list[tuple[int, int, tuple[int, ...]]]:
    """(first row, end row, the blocks covering those rows in block order): a sweep over
    the blocks' starts and ends."""
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for b, (block, (height, _)) in enumerate(zip(blocks, shapes, strict=True)):
        if height > 0:
            starts.setdefault(block.row, []).append(b)
            ends.setdefault(block.row + height, []).append(b)
    cuts = sorted({*starts, *ends})
    active: set[int] = set()
    out = []
    for cut, following in zip(cuts, cuts[1:], strict=False):
        active.difference_update(ends.get(cut, ()))
        active.update(starts.get(cut, ()))
        if active:
            out.append((cut, following, tuple(sorted(active))))
    return out


def spec_rows(spec: SheetSpec) -> dict[int, Expected]:
    """row -> {col: (value, formula or None)} for every non-empty cell of a sheet spec."""
    rows = SpecRows(spec)
    return {row: rows.cells(row, band.blocks) for row, band in rows.rows()}


def _shape(block: Any) -> tuple[int, int]:
    values = block.values
    shape = values.shape if isinstance(values, np.ndarray) else np.shape(
        np.asarray(values, dtype=object))
    return (shape[0], shape[1]) if len(shape) == 2 else (shape[0] if shape else 0, 0)


def _formula_of(found: object) -> str | None:
    formula = getattr(found, "formula", None)
    return str(formula).lstrip("=") if formula is not None else None


def _value_of(found: object) -> object:
    return getattr(found, "value", found)


def _is_label(found: object, label: str) -> bool:
    return _formula_of(found) is None and _value_of(found) == label


def _same_labels(expected: Expected, current: Mapping[str, object]) -> bool:
    for col, (value, formula) in expected.items():
        if formula is None and isinstance(value, str) and value \
                and not _is_label(current.get(column_letter(col)), value):
            return False
    return True


def _row_findings(sheet: str, row: int, expected: Expected,
                  current: Mapping[str, object]) -> Iterator[Issue]:
    for col, (_value, formula) in expected.items():
        if formula is None:
            continue
        ref = cell_name(row, col)
        found = current.get(column_letter(col))
        found_formula = _formula_of(found)
        if found_formula is None:
            shown = _value_of(found)
            yield silent_override(
                CellRef(sheet, ref), IssueCode.TYPED_OVER_FORMULA, f"={formula}", shown,
                f"sopfin's formula ={formula} was replaced by "
                f"{'nothing' if shown is None else repr(shown)}", RESTORE_FORMULA)
        elif canonical_formula(found_formula) != canonical_formula(str(formula)):
            yield silent_override(
                CellRef(sheet, ref), IssueCode.FORMULA_CHANGED, f"={formula}",
                f"={found_formula}", f"sopfin's formula ={formula} was changed to "
                f"={found_formula}", RESTORE_FORMULA)


def _unchanged(spec: SpecRows, row: int, band: _Band, current: CellRow) -> bool:
    """The quick comparison: True only when the row holds every label and exactly every
    formula the spec renders there (so the cell-by-cell comparison would find nothing)."""
    summary = spec.summary(row, band)
    if summary is None:
        return False
    f_cols, joined, l_cols, labels = summary
    if current.joined_formulas(f_cols) != joined:
        return False
    return all(map(_is_label, current.values(l_cols), labels))


def _findings(name: str, spec: SpecRows, row: int, band: _Band,
              current: CellRow) -> list[Issue]:
    if _unchanged(spec, row, band, current):
        return []
    expected = spec.cells(row, band.blocks)
    cells = current.cells()
    if not _same_labels(expected, cells):
        return []
    return list(_row_findings(name, row, expected, cells))


class _OutOfOrder(Exception):
    """The sheet repeats or reorders row numbers: compare it merged instead."""


def _compare(name: str, spec: SpecRows, rows: Iterable[CellRow],
             has_cells: bool = False) -> list[Issue]:
    """Walk the spec's rows and the sheet's rows together (both ascending). A sheet without
    any non-empty cell (``has_cells`` says so up front when known) is new or emptied, not
    typed over: it gives no findings."""
    findings: list[Issue] = []
    last = 0
    wanted = spec.rows()
    want = next(wanted, None)
    for current in rows:
        number = current.number
        if number <= last:
            raise _OutOfOrder(name)
        last = number
        while want is not None and want[0] < number:
            findings += _findings(name, spec, *want, CellsRow(want[0], {}))
            want = next(wanted, None)
        if want is not None and want[0] == number:
            findings += _findings(name, spec, *want, current)
            want = next(wanted, None)
        if not has_cells:
            has_cells = bool(current.cells())
    while want is not None:
        findings += _findings(name, spec, *want, CellsRow(want[0], {}))
        want = next(wanted, None)
    return findings if has_cells else []


def merged_rows(rows: Iterable[CellRow]) -> list[CellsRow]:
    """The rows of a sheet that repeats or reorders row numbers, merged in document order
    (later non-empty cells win) and sorted."""
    cells: dict[int, dict[str, object]] = {}
    for row in rows:
        cells.setdefault(row.number, {}).update(row.cells())
    return [CellsRow(n, cells[n]) for n in sorted(cells)]


def typed_over_formulas(specs: Sequence[SheetSpec],
                        current: Mapping[str, Iterable[CellRow] | Mapping[str, object]],
                        ) -> list[Issue]:
    """Cells of the output sheets in ``current`` where the freshly rendered ``specs`` hold a
    formula but the workbook holds something else. ``current`` maps a sheet name to its rows
    (``Workbook.read_cell_rows``) or to its cells ({ref: value or FormulaCell},
    ``Workbook.read_cells``); a sheet absent or without cells is new: nothing typed over."""
    findings: list[Issue] = []
    for spec in specs:
        sheet = current.get(spec.name)
        if sheet is None:
            continue
        has_cells = False
        if isinstance(sheet, Mapping):
            rows: Iterable[CellRow] = rows_of_cells(sheet)
            has_cells = bool(sheet)
        else:
            rows = list(sheet) if iter(sheet) is sheet else sheet  # read twice if out of order
        expected = SpecRows(spec)
        try:
            findings += _compare(spec.name, expected, rows, has_cells)
        except _OutOfOrder:
            findings += _compare(spec.name, expected, merged_rows(rows), has_cells)
    return findings
