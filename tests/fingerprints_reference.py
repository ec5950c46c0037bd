"""The row fingerprints as they were computed before the columnar path, kept as the reference
the fast ones must match.

These are the render-side functions of ``sopfin.guard.fingerprints`` (now
``sopfin.guard.row_prints``) before rows were joined and hashed a band at a time: one digest
per row, each row's parts gathered cell by cell or row by row. Every fingerprint already
written on a sheet was made by them, so ``tests/test_fingerprints_fast.py`` asserts that
``print_texts`` gives the same texts. Do not optimise this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import cast

from sopfin.guard.fingerprints import MARK, _letter, _runs, digest
from sopfin.guard.typed_over import SpecRows, _Band
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import FORMULA_SEP


def _grid_row(spec: SpecRows, b: int, i: int) -> str | None:
    joined = spec.joined[b]
    assert joined is not None
    return joined.row(i)


def _constant(value: object) -> bool:
    if value is None or (isinstance(value, str) and not value):
        return False
    return not (isinstance(value, float) and math.isnan(value))


# A row's (formula columns, formulas, constant columns, constants).
RowParts = tuple[list[str], list[str], list[str], list[object]]


def _cell_parts(spec: SpecRows, b: int, i: int, values: list[object],
                out: RowParts) -> None:
    """Add row i of block b (its ``values``), a block that is not a formula grid, to (formula
    columns, formulas, constant columns, constants)."""
    f_cols, formulas, c_cols, consts = out
    row_formulas = spec._formula_row(b, i)
    if row_formulas is None:  # labels and numbers: '' and NaN (v != v) are empty cells
        for letter, value in zip(spec.letters[b], values, strict=True):
            if value is not None and value == value and value != "":
                c_cols.append(letter)
                consts.append(value)
        return
    for letter, formula, value in zip(spec.letters[b], row_formulas, values, strict=True):
        if formula:
            f_cols.append(letter)
            formulas.append(str(formula))
        elif _constant(value):
            c_cols.append(letter)
            consts.append(value)


def _from_cells(spec: SpecRows, row: int, blocks: Sequence[int],
                ) -> RowParts:
    """A row's parts from its cells, in column order (later blocks win where they overlap)."""
    out: RowParts = ([], [], [], [])
    cells = spec.cells(row, blocks)
    for col in sorted(cells):
        value, formula = cells[col]
        if formula:
            out[0].append(_letter(col))
            out[1].append(str(formula))
        elif _constant(value):
            out[2].append(_letter(col))
            out[3].append(value)
    return out


def _grid_rows(spec: SpecRows, b: int, start: int, stop: int) -> list[str | None]:
    """Rows start..stop-1 of formula grid b, each joined (None: one the join cannot take)."""
    top = spec.blocks[b].row
    return [_grid_row(spec, b, i) for i in range(start - top, stop - top)]


def _value_rows(spec: SpecRows, b: int, start: int, stop: int) -> list[list[object]]:
    """Rows start..stop-1 of block b's values, as the cells hold them."""
    top = spec.blocks[b].row
    rows: list[list[object]]
    if not spec.numeric[b]:
        spec._value_row(b, 0)  # converts the block once
        rows = spec._values[b][start - top:stop - top].tolist()
    else:
        rows = spec.blocks[b].values[start - top:stop - top].tolist()
    return rows


def _label_rows(spec: SpecRows, b: int, start: int, stop: int,
                ) -> list[list[tuple[str, object]]]:
    """Rows start..stop-1 of a block of plain values: (column, value) of each non-empty cell
    ('' and NaN, which is not equal to itself, are empty cells)."""
    letters = spec.letters[b]
    return [[(c, v) for c, v in zip(letters, row, strict=True)
             if v is not None and v == v and v != ""]
            for row in _value_rows(spec, b, start, stop)]


def _band_prints(spec: SpecRows, start: int, stop: int, blocks: tuple[int, ...],
                 ) -> Iterator[tuple[int, str]]:
    """(row, fingerprint text) of the rows start..stop-1, covered by the same blocks: the
    formula grids and label blocks a block of rows at a time, other formula blocks cell by
    cell."""
    band = _Band(spec, blocks)
    grids = [b for b in blocks if spec.joined[b] is not None] if not band.overlap else []
    labels = [b for b in blocks if b not in grids and spec.blocks[b].formulas is None]
    others = [b for b in blocks if b not in grids and b not in labels]
    grid_cols = [letter for b in grids for letter in spec.letters[b]]
    grid_runs = _runs(tuple(grid_cols))
    columns = [_grid_rows(spec, b, start, stop) for b in grids]
    label_rows = [_label_rows(spec, b, start, stop) for b in labels]
    values = [_value_rows(spec, b, start, stop) for b in others]
    for k, row in enumerate(range(start, stop)):
        parts = [texts[k] for texts in columns]
        joined = FORMULA_SEP.join(cast(list[str], parts)) if None not in parts else None
        if band.overlap or joined is None or "" in parts or (grid_cols and (
                joined.startswith(FORMULA_SEP) or joined.endswith(FORMULA_SEP)
                or FORMULA_SEP * 2 in joined)):
            f_cols, formulas, c_cols, consts = _from_cells(spec, row, blocks)
            f_runs = _runs(tuple(f_cols))
        else:
            pairs = [pair for rows in label_rows for pair in rows[k]]
            c_cols, consts = [c for c, _ in pairs], [v for _, v in pairs]
            f_cols, formulas = grid_cols, [joined] if grids else []
            f_runs = grid_runs
            if others:
                out = (list(grid_cols), formulas, c_cols, consts)
                for b, rows in zip(others, values, strict=True):
                    _cell_parts(spec, b, row - spec.blocks[b].row, rows[k], out)
                f_cols = out[0]
                f_runs = _runs(tuple(f_cols))
        if f_cols or c_cols:
            yield row, (f"{MARK}{f_runs};{_runs(tuple(c_cols))};"
                        f"{digest(FORMULA_SEP.join(formulas), consts)}")


def reference_print_texts(spec: SheetSpec) -> Iterator[tuple[int, str]]:
    """(row, fingerprint text) of every non-empty row of a rendered sheet, ascending."""
    rows = SpecRows(spec)
    for start, stop, blocks in rows.bands:
        yield from _band_prints(rows, start, stop, blocks)
