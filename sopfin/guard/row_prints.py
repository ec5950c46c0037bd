"""The render side of row fingerprints (``sopfin.guard.fingerprints``): each row's text made
from a rendered sheet, a band of rows at a time, and the hidden column that holds them.

Rows covered by the same blocks (a band of ``SpecRows``) are taken together: a formula grid's
rows joined in one pass (``FormulaGrid.joined_rows``), a band of labels joined after one look at
its types, the key-check column beside the grids added without a pass per cell, and every
digest of the band encoded at once. A row the joins cannot take (a formula that is empty or
not text, blocks that overlap) is made from its cells. The texts are those a row-by-row pass
gives (``tests/fingerprints_reference.py`` keeps it; ``tests/test_fingerprints_fast.py``
compares them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import cast

import numpy as np

from sopfin.guard import compiled_prints
from sopfin.guard.fingerprints import (
    _CONST_SEP,
    MARK,
    _digest_text,
    _digests,
    _letter,
    _runs,
    canonical,
)
from sopfin.guard.typed_over import SpecRows, _Band
from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.workbook import FORMULA_SEP


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
    _formula_parts(spec.letters[b], row_formulas, values, out)


def _formula_parts(letters: Sequence[str], row_formulas: Sequence[object],
                   values: Sequence[object], out: RowParts) -> None:
    """Add a row of a block of formulas (one per cell, some empty) to ``out``."""
    f_cols, formulas, c_cols, consts = out
    for letter, formula, value in zip(letters, row_formulas, values, strict=True):
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


def _formula_rows(spec: SpecRows, b: int, start: int, stop: int) -> list[list[object]]:
    """Rows start..stop-1 of the formulas of block b (not a formula grid), one per cell."""
    top = spec.blocks[b].row
    spec._formula_row(b, 0)  # converts the block once
    rows: list[list[object]] = spec._formulas[b][start - top:stop - top].tolist()
    return rows


# What one row of a block of plain values adds: its constant columns, their canonical texts
# joined by _CONST_SEP, and how many there are.
Constants = tuple[tuple[str, ...], str, int]


def _label_parts(spec: SpecRows, b: int, start: int, stop: int) -> list[Constants]:
    """Rows start..stop-1 of a block of plain values ('' and NaN, which is not equal to
    itself, are empty cells). A row of non-empty text that needs no canonical form, nearly
    every row of labels, is taken whole: its texts joined once."""
    letters = tuple(spec.letters[b])
    width = len(letters)
    rows = _value_rows(spec, b, start, stop)
    texts = _joined_texts(rows) if not spec.numeric[b] else [None] * len(rows)
    out: list[Constants] = []
    for row, text in zip(rows, texts, strict=True):
        if text is not None:
            out.append((letters, text, width))
            continue
        pairs = [(c, v) for c, v in zip(letters, row, strict=True)
                 if v is not None and v == v and v != ""]
        out.append((tuple(c for c, _ in pairs),
                    _CONST_SEP.join([canonical(v) for _, v in pairs]), len(pairs)))
    return out


def _joined_texts(rows: list[list[object]]) -> list[str | None]:
    """``_joined_text`` of each row; the types of a band of rows of text checked at once."""
    if {type(v) for row in rows for v in row} != {str}:
        return [_joined_text(row) for row in rows]
    sep = _CONST_SEP
    return [None if not text or "\r" in text or text.startswith(sep) or text.endswith(sep)
            or sep * 2 in text else text
            for text in map(sep.join, cast(list[list[str]], rows))]


def _joined_text(row: Sequence[object]) -> str | None:
    """The cells of ``row`` joined by _CONST_SEP when each is non-empty text that is its own
    canonical form (no line end to normalise); None otherwise (or when that cannot be told
    from the joined text)."""
    if not all(type(v) is str for v in row):
        return None
    text = _CONST_SEP.join(cast(Sequence[str], row))
    if not text or "\r" in text or text.startswith(_CONST_SEP) or text.endswith(_CONST_SEP) \
            or _CONST_SEP * 2 in text:
        return None
    return text


# A row to fingerprint: the text before its digest, and what the digest hashes.
Pending = tuple[int, str, str]


def _pending(row: int, parts: RowParts) -> Pending | None:
    """A row from its parts (None: nothing sopfin wrote on it)."""
    f_cols, formulas, c_cols, consts = parts
    if not (f_cols or c_cols):
        return None
    return (row, f"{MARK}{_runs(tuple(f_cols))};{_runs(tuple(c_cols))};",
            _digest_text(FORMULA_SEP.join(formulas), consts))


def _grid_joins(spec: SpecRows, grids: Sequence[int], start: int, stop: int,
                ) -> list[str | None]:
    """Each row's formulas of the band's formula grids joined (None: a row whose formulas
    the join cannot take, or one with an empty formula, to be read cell by cell)."""
    n = stop - start
    if not grids:
        return [""] * n
    columns = []
    for b in grids:
        top = spec.blocks[b].row
        joined = spec.joined[b]
        assert joined is not None
        columns.append(joined.rows(start - top, stop - top))
    sep = FORMULA_SEP
    if len(columns) == 1:
        rows = columns[0]
    else:
        rows = [None if None in parts else sep.join(cast(tuple[str, ...], parts))
                for parts in zip(*columns, strict=True)]
        for k, parts in enumerate(zip(*columns, strict=True)):
            if "" in parts:
                rows[k] = None
    return [None if j is None or not j or j.startswith(sep) or j.endswith(sep)
            or sep * 2 in j else j for j in rows]


def _band_prints(spec: SpecRows, start: int, stop: int, blocks: tuple[int, ...],
                 ) -> list[Pending]:
    """The rows start..stop-1, covered by the same blocks, to fingerprint: the formula grids
    and label blocks a block of rows at a time, other formula blocks a row at a time, a row
    the joins cannot take (and every row where blocks overlap) cell by cell."""
    band = _Band(spec, blocks)
    if band.overlap:
        return [p for row in range(start, stop)
                if (p := _pending(row, _from_cells(spec, row, blocks))) is not None]
    grids = [b for b in blocks if spec.joined[b] is not None]
    labels = [b for b in blocks if b not in grids and spec.blocks[b].formulas is None]
    others = [b for b in blocks if b not in grids and b not in labels]
    grid_cols = [letter for b in grids for letter in spec.letters[b]]
    grid_runs = _runs(tuple(grid_cols))
    joins = _grid_joins(spec, grids, start, stop)
    constants = _band_constants([_label_parts(spec, b, start, stop) for b in labels],
                                stop - start)
    other_rows = [(spec.letters[b], _formula_rows(spec, b, start, stop),
                   _value_rows(spec, b, start, stop)) for b in others]
    every = all(_every_cell_a_formula(rows) for _, rows, _ in other_rows)
    f_runs = _runs(tuple([*grid_cols, *(c for letters, _, _ in other_rows for c in letters)]))
    out: list[Pending] = []
    for k, (joined, (c_cols, c_text, count)) in enumerate(zip(joins, constants, strict=True)):
        row = start + k
        if joined is None:
            found = _pending(row, _from_cells(spec, row, blocks))
        elif others and every:  # the other blocks' formulas, each cell's, follow the grids'
            formulas = [joined] if grids else []
            for _, formula_rows, _ in other_rows:
                formulas += cast(list[str], formula_rows[k])
            found = (row, f"{MARK}{f_runs};{_runs(c_cols)};",
                     f"{FORMULA_SEP.join(formulas).replace(' ', '')}{_CONST_SEP}{c_text}") \
                if f_runs or c_cols else None
        elif others:
            parts: RowParts = (list(grid_cols), [joined] if grids else [], list(c_cols), [])
            for letters, formula_rows, value_rows in other_rows:
                _formula_parts(letters, formula_rows[k], value_rows[k], parts)
            found = _pending_with(row, parts, c_text, count)
        elif grid_cols or c_cols:
            found = (row, f"{MARK}{grid_runs};{_runs(c_cols)};",
                     f"{joined.replace(' ', '')}{_CONST_SEP}{c_text}")
        else:
            found = None
        if found is not None:
            out.append(found)
    return out


def _every_cell_a_formula(rows: list[list[object]]) -> bool:
    """Every cell of these rows holds a formula as text."""
    return all(type(f) is str and f for row in rows for f in row)


def _pending_with(row: int, parts: RowParts, c_text: str, count: int) -> Pending | None:
    """A row whose constants so far are already canonical (``c_text``, ``count`` of them) and
    ``parts[3]`` the further constants."""
    f_cols, formulas, c_cols, consts = parts
    if not (f_cols or c_cols):
        return None
    texts = ([c_text] if count else []) + [canonical(v) for v in consts]
    return (row, f"{MARK}{_runs(tuple(f_cols))};{_runs(tuple(c_cols))};",
            FORMULA_SEP.join(formulas).replace(" ", "") + _CONST_SEP + _CONST_SEP.join(texts))


def _band_constants(parts: Sequence[list[Constants]], n: int) -> list[Constants]:
    """The label blocks' constants of each row, in block order."""
    if not parts:
        return [((), "", 0)] * n
    if len(parts) == 1:
        return parts[0]
    out: list[Constants] = []
    for row in zip(*parts, strict=True):
        cols = tuple(c for cs, _, _ in row for c in cs)
        out.append((cols, _CONST_SEP.join(t for _, t, count in row if count),
                    sum(count for _, _, count in row)))
    return out


def _band_texts(spec: SpecRows, start: int, stop: int, blocks: tuple[int, ...],
                grids: dict[int, compiled_prints.Template | None]) -> list[str | None]:
    """The fingerprint text of each row start..stop-1 (None: nothing sopfin wrote on it):
    compiled where it can be, the rows it leaves (or the whole band) the Python way."""
    texts = compiled_prints.band_texts(spec, start, stop, blocks, grids)
    left: list[tuple[int, int]] = []
    if texts is None:
        texts = [None] * (stop - start)
        left.append((start, stop))
    elif None in texts:  # the runs of rows left to the Python path
        first = None
        for row, text in enumerate([*texts, ""], start):
            if text is None and first is None:
                first = row
            elif text is not None and first is not None:
                left.append((first, row))
                first = None
    for first, end in left:
        pending = _band_prints(spec, first, end, blocks)
        digests = _digests([text for _, _, text in pending])
        for (row, head, _), found in zip(pending, digests, strict=True):
            texts[row - start] = head + found
    return texts


def _texts_by_band(spec: SheetSpec) -> tuple[SpecRows, Iterator[tuple[int, list[str | None]]]]:
    rows = SpecRows(spec)
    grids: dict[int, compiled_prints.Template | None] = {}
    return rows, ((start, _band_texts(rows, start, stop, blocks, grids))
                  for start, stop, blocks in rows.bands)


def print_texts(spec: SheetSpec) -> Iterator[tuple[int, str]]:
    """(row, fingerprint text) of every non-empty row of a rendered sheet, ascending."""
    for start, texts in _texts_by_band(spec)[1]:
        for k, text in enumerate(texts):
            if text is not None:
                yield start + k, text


def _last_column(rows: SpecRows) -> int:
    last = 0
    for block, (height, width) in zip(rows.blocks, rows.shapes, strict=True):
        if height and width:
            last = max(last, block.col + width - 1)
    return last


def with_fingerprints(spec: SheetSpec) -> SheetSpec:
    """The sheet with its fingerprint column added (hidden, right of its content)."""
    rows, bands = _texts_by_band(spec)
    col = _last_column(rows) + 1
    blocks = list(spec.blocks)
    top = 0
    run: list[str] = []  # one block per run of consecutive rows
    for start, texts in bands:
        if None not in texts:  # a band without a gap: joins the run or starts one
            if run and start != top + len(run):
                blocks.append(_print_block(top, col, run))
                run = []
            if not run:
                top = start
            run += cast(list[str], texts)
            continue
        for row, text in enumerate(texts, start):
            if text is None:
                continue
            if run and row != top + len(run):
                blocks.append(_print_block(top, col, run))
                run = []
            if not run:
                top = row
            run.append(text)
    if not run:
        return spec
    blocks.append(_print_block(top, col, run))
    return replace(spec, blocks=tuple(blocks), hidden_cols=(*spec.hidden_cols, col))


def _print_block(row: int, col: int, texts: list[str]) -> Block:
    values = np.empty((len(texts), 1), dtype=object)  # no list per row: large sheets
    values[:, 0] = texts
    return Block(row, col, values, style=Style.NOTE)
