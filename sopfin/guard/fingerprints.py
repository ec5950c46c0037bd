"""What sopfin last wrote on an output sheet, kept in the sheet itself: one fingerprint per row.

Every row sopfin writes on a formula sheet (``layout.FINGERPRINTED_SHEETS``) carries, in one
hidden column right of the sheet's content, a short text::

    sopfin-row/1 5-28;1-3;Hq0b6Xw2Jd1m

the columns that hold sopfin's formulas (``5-28``: E to AB), the columns that hold its constants
(labels, the days of a month) and a digest of those formulas and constants as written. Only
formulas and values enter the digest, never XML details, so a re-save in Excel, LibreOffice or
openpyxl keeps every fingerprint valid; formulas are compared without spaces.

A row is checked in one go (``RowPrint.matches``): the row's formulas in the listed columns
joined (``CellRow.joined_formulas``, no cell decoded for a row the scanner read) and its few
constants, hashed once. Because the fingerprint records what was written, not what the next
render would write, a plan that changed shape since (a new family shifts every row below it)
does not make an unchanged row look typed over.
"""

from __future__ import annotations

import base64
import hashlib
import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import cast

import numpy as np

from sopfin.guard.typed_over import SpecRows, _Band
from sopfin.layout import column_index, column_letter
from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.workbook import FORMULA_SEP

MARK = "sopfin-row/1 "  # every fingerprint text starts with it
_CONST_SEP = "\x1f"


def canonical(value: object) -> str:
    """A constant as the digest sees it: numbers to 12 significant digits (another
    application's re-save may print a double differently), booleans as TRUE/FALSE, text with
    line ends normalised, an empty cell as ''."""
    if type(value) is str:
        return value if "\r" not in value else value.replace("\r\n", "\n").replace("\r", "\n")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        number = float(value)
        return "" if math.isnan(number) else format(number, ".12g")
    text = getattr(value, "formula", None)
    if text is not None:  # a formula where a constant was written
        return f"={text}"
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def digest(joined_formulas: str, constants: Sequence[object]) -> str:
    """12 characters: the row's formulas (FORMULA_SEP-joined, spaces removed) and constants."""
    text = _digest_text(joined_formulas, constants)
    raw = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=9).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii")


@lru_cache(maxsize=4096)
def _runs(columns: tuple[str, ...]) -> str:
    """Column letters -> '5-28,30' (1-based indices, ascending runs joined by '-')."""
    out: list[str] = []
    indices = [_index(c) for c in columns]
    start = 0
    for k in range(1, len(indices) + 1):
        if k == len(indices) or indices[k] != indices[k - 1] + 1:
            first, last = indices[start], indices[k - 1]
            out.append(str(first) if first == last else f"{first}-{last}")
            start = k
    return ",".join(out)


_index = cache(column_index)
_letter = cache(column_letter)


@lru_cache(maxsize=4096)
def _columns(runs: str) -> tuple[str, ...]:
    """'5-28,30' -> the column letters, in order. Raises ValueError on anything else."""
    if not runs:
        return ()
    out: list[str] = []
    for run in runs.split(","):
        first, _, last = run.partition("-")
        a, b = int(first), int(last or first)
        if not 1 <= a <= b <= 16384:
            raise ValueError(runs)
        out += [_letter(c) for c in range(a, b + 1)]
    return tuple(out)


def _text(formula_columns: tuple[str, ...], constant_columns: tuple[str, ...],
          row_digest: str) -> str:
    return f"{MARK}{_runs(formula_columns)};{_runs(constant_columns)};{row_digest}"


@dataclass(frozen=True)
class RowPrint:
    """What sopfin wrote on one row: its formula columns, its constant columns, their digest."""

    formulas: tuple[str, ...]
    constants: tuple[str, ...]
    digest: str

    def text(self) -> str:
        return _text(self.formulas, self.constants, self.digest)

    @classmethod
    def parse(cls, text: object) -> RowPrint | None:
        """The fingerprint a cell holds; None when it holds none (or a damaged one)."""
        if not isinstance(text, str) or not text.startswith(MARK):
            return None
        parts = text[len(MARK):].split(";")
        if len(parts) != 3 or len(parts[2]) != 12:
            return None
        try:
            return cls(_columns(parts[0]), _columns(parts[1]), parts[2])
        except ValueError:
            return None

    def matches(self, joined: str | None, constants: Sequence[object]) -> bool:
        """Do these formulas (joined as ``CellRow.joined_formulas`` gives them) and constants
        give this fingerprint's digest?"""
        return joined is not None and digest(joined, constants) == self.digest


# --- the render side ---------------------------------------------------------------------------
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


def _digest_text(joined_formulas: str, constants: Sequence[object]) -> str:
    return joined_formulas.replace(" ", "") + _CONST_SEP + _CONST_SEP.join(
        map(canonical, constants))


def _digests(texts: Sequence[str]) -> list[str]:
    """``digest``'s 12 characters for each text: 9-byte digests encode to 12 base64
    characters with no padding, so the whole band is encoded at once."""
    blake2b = hashlib.blake2b
    raw = b"".join([blake2b(t.encode("utf-8", "surrogatepass"), digest_size=9).digest()
                    for t in texts])
    encoded = base64.urlsafe_b64encode(raw).decode("ascii")
    return [encoded[k:k + 12] for k in range(0, len(encoded), 12)]


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


def print_texts(spec: SheetSpec) -> Iterator[tuple[int, str]]:
    """(row, fingerprint text) of every non-empty row of a rendered sheet, ascending."""
    rows = SpecRows(spec)
    for start, stop, blocks in rows.bands:
        pending = _band_prints(rows, start, stop, blocks)
        digests = _digests([text for _, _, text in pending])
        for (row, head, _), found in zip(pending, digests, strict=True):
            yield row, head + found


def _last_column(spec: SheetSpec) -> int:
    last = 0
    for block in spec.blocks:
        height, width = block.shape
        if height and width:
            last = max(last, block.col + width - 1)
    return last


def with_fingerprints(spec: SheetSpec) -> SheetSpec:
    """The sheet with its fingerprint column added (hidden, right of its content)."""
    col = _last_column(spec) + 1
    blocks = list(spec.blocks)
    top = 0
    texts: list[str] = []
    for row, text in print_texts(spec):  # one block per run of consecutive rows
        if texts and row != top + len(texts):
            blocks.append(_print_block(top, col, texts))
            texts = []
        if not texts:
            top = row
        texts.append(text)
    if not texts:
        return spec
    blocks.append(_print_block(top, col, texts))
    return replace(spec, blocks=tuple(blocks), hidden_cols=(*spec.hidden_cols, col))


def _print_block(row: int, col: int, texts: list[str]) -> Block:
    values = np.empty((len(texts), 1), dtype=object)  # no list per row: large sheets
    values[:, 0] = texts
    return Block(row, col, values, style=Style.NOTE)


def _is_print_block(block: Block) -> bool:
    values = block.values
    if not isinstance(values, np.ndarray) or values.dtype != object or values.ndim != 2 \
            or values.shape[1] != 1 or not values.shape[0]:
        return False
    first = values[0, 0]
    return isinstance(first, str) and first.startswith(MARK)


def without_fingerprints(spec: SheetSpec) -> SheetSpec:
    """The sheet as rendered before ``with_fingerprints``."""
    blocks = [b for b in spec.blocks if not _is_print_block(b)]
    if len(blocks) == len(spec.blocks):
        return spec
    hidden = {b.col for b in spec.blocks if _is_print_block(b)}
    return replace(spec, blocks=tuple(blocks),
                   hidden_cols=tuple(c for c in spec.hidden_cols if c not in hidden))


def rendered_prints(spec: SheetSpec) -> dict[int, RowPrint]:
    """row -> fingerprint, read from the fingerprint blocks of a rendered sheet."""
    out: dict[int, RowPrint] = {}
    for block in spec.blocks:
        if _is_print_block(block):
            for i, (text,) in enumerate(block.values):
                found = RowPrint.parse(text)
                if found is not None:
                    out[block.row + i] = found
    return out
