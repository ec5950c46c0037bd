"""SheetSpec -> worksheet part XML (SpreadsheetML ``CT_Worksheet``), streamed as UTF-8 chunks.

The cells of each row come from ``sopfin.xlsx.cellxml``; here they are put in row order,
encoded once per window of rows, and wrapped in the sheet's views, columns, protection,
hyperlinks and drawing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from sopfin.layout import cell_name
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style
from sopfin.xlsx import rowxml
from sopfin.xlsx.cellxml import (
    _LabelRow,
    _PreparedBlock,
    _shape_of,
    clean_text,
    escape_attr,
    escape_text,
    prepare_block,
)
from sopfin.xlsx.pagexml import print_elements, sheet_properties

__all__ = ["block_styles", "check_blocks", "clean_text", "escape_attr", "escape_text",
           "worksheet_chunks", "worksheet_xml"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ROW_WINDOW = 2048  # rows rendered and encoded per chunk
MAX_ROWS, MAX_COLUMNS, MAX_FORMULA = 1_048_576, 16_384, 8_192  # Excel's limits
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]*)$")


def block_styles(blocks: Sequence[Block]) -> set[Style]:
    """Every named style the blocks use."""
    used: set[Style] = set()
    for block in blocks:
        if isinstance(block.style, Style):
            used.add(block.style)
        elif block.style is not None:
            cells = np.asarray(block.style, dtype=object).ravel().tolist()
            try:
                distinct = set(cells)
            except TypeError:  # an unhashable style: Style() below says what is wrong
                distinct = cells  # type: ignore[assignment]
            used.update(Style(x) for x in distinct if x is not None)
    return used


@dataclass(frozen=True)
class _Placed:
    """A block where it sits on the sheet. Its cells are prepared (``prepare_block``: arrays
    normalised, labels escaped, formulas compiled) only when the rows being written reach it,
    and let go after its last row, so a sheet's prepared blocks are never all held at once."""

    row0: int
    row1: int
    col0: int
    col1: int
    size: int  # cells
    block: Block

    @classmethod
    def of(cls, block: Block, shape: tuple[int, ...]) -> _Placed:
        return cls(block.row, block.row + shape[0] - 1, block.col, block.col + shape[1] - 1,
                   shape[0] * shape[1], block)


def _placed(block: Block) -> _Placed:
    values = block.values
    shape = values.shape if isinstance(values, np.ndarray) and values.ndim == 2 else \
        _shape_of(values, "values", block)
    return _Placed.of(block, shape)


class ExcelLimitError(ValueError):
    """A sheet would pass Excel's grid (1,048,576 rows, 16,384 columns) or hold a formula
    longer than Excel's 8,192 characters."""


def check_blocks(spec: SheetSpec) -> None:
    """Raise ValueError for malformed blocks (shapes, overlaps) and ExcelLimitError for what
    Excel cannot hold, before anything is written."""
    boxes = []
    for block in spec.blocks:
        shape = _shape_of(block.values, "values", block)
        _check_excel_limits(spec.name, block, shape)
        for what, data in (("formulas", block.formulas), ("style", block.style)):
            if data is not None and not isinstance(data, Style):
                other = _shape_of(data, what, block)
                if other != shape:
                    raise ValueError(f"sheet {spec.name!r}, block at row {block.row}, col "
                                     f"{block.col}: {what} shape {other} differs from values "
                                     f"shape {shape}")
        if block.row < 1 or block.col < 1:
            raise ValueError(f"sheet {spec.name!r}: blocks start at row/col 1, got "
                             f"({block.row}, {block.col})")
        boxes.append(_Placed.of(block, shape))
    _check_overlaps([b for b in boxes if b.size])


def _check_excel_limits(sheet: str, block: Block, shape: tuple[int, ...]) -> None:
    last_row, last_col = block.row + shape[0] - 1, block.col + shape[1] - 1
    if last_row > MAX_ROWS or last_col > MAX_COLUMNS:
        raise ExcelLimitError(f"sheet {sheet!r} would reach row {last_row:,} and column "
                              f"{last_col:,}; Excel has {MAX_ROWS:,} rows and {MAX_COLUMNS:,} "
                              "columns")
    if block.formulas is not None:
        longest = longest_formula(block.formulas)
        if longest > MAX_FORMULA:
            raise ExcelLimitError(f"sheet {sheet!r}: a formula from row {block.row:,} on would "
                                  f"be {longest:,} characters long; Excel allows "
                                  f"{MAX_FORMULA:,}")


def longest_formula(formulas: object) -> int:
    """The length of the longest formula in a block (for a FormulaGrid, an upper bound: each
    template with every placeholder given its widest argument)."""
    if isinstance(formulas, FormulaGrid):
        explicit = max((len(f) for row in formulas.explicit.values() for f in row if f),
                       default=0)
        bound = (max(map(len, formulas.texts)) + sum(map(_widest, formulas.args))
                 if formulas.texts else 0)  # the row arguments measured once for every column
        if formulas.first is not None:
            text, args = formulas.first
            bound = max(bound, len(text) + sum(map(_widest, args)))
        return max(explicit, bound)
    rows = isinstance(formulas, list) and all(isinstance(r, list | tuple) for r in formulas)
    flat = (list(itertools.chain.from_iterable(cast(list[list[object]], formulas))) if rows
            else np.asarray(formulas, dtype=object).ravel().tolist())
    return max((len(f) for f in flat if isinstance(f, str)), default=0)


def _widest(values: Sequence[object]) -> int:
    """How many characters the widest of ``values`` takes in a formula."""
    if not len(values):
        return 0
    if isinstance(values, range | np.ndarray) and np.issubdtype(np.asarray(values[:1]).dtype,
                                                                 np.integer):
        return len(str(max(abs(int(np.min(values))), abs(int(np.max(values)))))) + 1
    listed = values if isinstance(values, list) else list(values)
    if set(map(type, listed)) == {int}:
        return len(str(max(max(cast(list[int], listed)), -min(cast(list[int], listed))))) + 1
    return max(map(len, map(str, listed)))


def _check_overlaps(blocks: Sequence[_Placed]) -> None:
    """Sweep down the rows: each block is compared only with the earlier-starting blocks
    whose rows still reach it, so a sheet of thousands of row blocks costs n log n."""
    active: list[int] = []
    for i in sorted(range(len(blocks)), key=lambda k: (blocks[k].row0, k)):
        b = blocks[i]
        active = [j for j in active if blocks[j].row1 >= b.row0]
        for j in active:
            a = blocks[j]
            if a.col0 <= b.col1 and b.col0 <= a.col1:
                a, b = (a, b) if j < i else (b, a)
                raise ValueError(f"blocks at {cell_name(a.row0, a.col0)} and "
                                 f"{cell_name(b.row0, b.col0)} overlap")
        active.append(i)


def _sheet_rows(placed: list[_Placed], xf: Mapping[Style, int],
                heights: Mapping[int, float] | None = None,
                outline: Mapping[int, int] | None = None) -> Iterator[bytes]:
    """``<row>`` elements in row order, UTF-8, one chunk per window of rows; a row given a
    height in ``heights`` (points) is written with it, a row given a level in ``outline`` is
    grouped at that outline level (its summary row below it). A row no block writes a cell
    in is left out. Each block is prepared when the first window reaching it is written and
    let go after the last."""
    heights = heights or {}
    outline = outline or {}
    blocks = [b for b in sorted(placed, key=lambda b: b.col0) if b.size]
    if not blocks:
        return
    top, bottom = min(b.row0 for b in blocks), max(b.row1 for b in blocks)
    windows = _windows(blocks, top)
    prepared: dict[int, _PreparedBlock | _LabelRow] = {}
    for n, w0 in enumerate(range(top, bottom + 1, ROW_WINDOW)):
        w1 = min(w0 + ROW_WINDOW - 1, bottom)
        live = [(k, blocks[k]) for k in windows.get(n, ())]
        spans = [(max(w0, b.row0) - w0, _prepared(prepared, k, b, xf).rows(
            max(w0, b.row0), min(w1, b.row1))) for k, b in live]
        for k, b in live:
            if b.row1 <= w1:
                del prepared[k]
        if rowxml.enabled() and not heights and not outline:
            yield rowxml.window_xml(spans, w0, w1 - w0 + 1)
            continue
        yield "".join([f'<row r="{r}"{_height(heights.get(r))}{_outline(outline.get(r))}>'
                       f"{xml}</row>" for r, xml in enumerate(_joined(spans, w1 - w0 + 1),
                                                              start=w0) if xml]).encode("utf-8")


def _windows(blocks: list[_Placed], top: int) -> dict[int, list[int]]:
    """{window number: the numbers of the blocks with rows in it, in order}: each block is
    placed once in every window it reaches, not every block looked at for every window (a
    Recon tab has tens of thousands of one-row blocks)."""
    out: dict[int, list[int]] = {}
    for k, b in enumerate(blocks):
        for n in range((b.row0 - top) // ROW_WINDOW, (b.row1 - top) // ROW_WINDOW + 1):
            out.setdefault(n, []).append(k)
    return out


def _prepared(prepared: dict[int, _PreparedBlock | _LabelRow], k: int, placed: _Placed,
              xf: Mapping[Style, int]) -> _PreparedBlock | _LabelRow:
    """Block ``k`` prepared, once."""
    block = prepared.get(k)
    if block is None:
        block = prepared[k] = prepare_block(placed.block, xf)
    return block


def _joined(spans: list[tuple[int, list[str]]], n: int) -> list[str]:
    """The cells of n rows, one string per row ('' for a row without cells), from each
    block's (offset of its first row, one string per row), in the order of ``spans``."""
    parts: list[list[str]] = [[] for _ in range(n)]
    for off, rows in spans:
        for k, xml in enumerate(rows, start=off):
            parts[k].append(xml)
    return list(map("".join, parts))


def _height(points: float | None) -> str:
    return "" if points is None else f' ht="{float(points)!r}" customHeight="1"'


def _outline(level: int | None) -> str:
    return f' outlineLevel="{int(level)}"' if level else ""


def _format_pr(outline: Mapping[int, int]) -> str:
    """``<sheetFormatPr>``, with the deepest row outline level when rows are grouped."""
    deepest = max(outline.values(), default=0)
    level = f' outlineLevelRow="{deepest}"' if deepest else ""
    return f'<sheetFormatPr defaultRowHeight="15"{level}/>'


def _dimension(blocks: list[_Placed]) -> str:
    live = [b for b in blocks if b.size]
    if not live:
        return "A1"
    top = cell_name(min(b.row0 for b in live), min(b.col0 for b in live))
    bottom = cell_name(max(b.row1 for b in live), max(b.col1 for b in live))
    return top if top == bottom else f"{top}:{bottom}"


def _sheet_view(freeze: tuple[int, int] | None, selected: bool = False) -> str:
    rows, cols = freeze or (0, 0)
    view = '<sheetView tabSelected="1" workbookViewId="0"' if selected else \
        '<sheetView workbookViewId="0"'
    if rows <= 0 and cols <= 0:
        return f'<sheetViews>{view}/></sheetViews>'
    pane = "bottomRight" if rows and cols else ("bottomLeft" if rows else "topRight")
    top_left = cell_name(rows + 1, cols + 1)
    split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
    selections = "".join(f'<selection pane="{p}"/>' for p in
                         (("topRight", "bottomLeft") if rows and cols else ()))
    return (f'<sheetViews>{view}><pane{split} topLeftCell="{top_left}" '
            f'activePane="{pane}" state="frozen"/>{selections}<selection pane="{pane}" '
            f'activeCell="{top_left}" sqref="{top_left}"/></sheetView></sheetViews>')


DEFAULT_COL_WIDTH = 8.7109375  # Calibri 11: what Excel writes for an unsized column


def _cols(widths: Mapping[int, float], hidden: Sequence[int] = ()) -> str:
    """``<cols>``: one ``<col>`` per sized or hidden column (1-based), in column order."""
    hidden_set = set(hidden)
    if any(c < 1 for c in [*widths, *hidden_set]):
        raise ValueError("column numbers start at 1")
    if not widths and not hidden_set:
        return ""
    cols = []
    for c in sorted(set(widths) | hidden_set):
        width = float(widths.get(c, DEFAULT_COL_WIDTH))
        flag = ' hidden="1"' if c in hidden_set else ""
        cols.append(f'<col min="{c}" max="{c}" width="{width!r}"{flag} customWidth="1"/>')
    return f"<cols>{''.join(cols)}</cols>"


def _protection(spec: SheetSpec) -> str:
    p = spec.protection
    if p is None:
        return ""
    attrs = "".join(f' {name}="{escape_attr(str(v))}"' for name, v in (
        ("algorithmName", p.algorithm_name), ("hashValue", p.hash_value),
        ("saltValue", p.salt_value), ("spinCount", p.spin_count)) if v is not None)
    return f'<sheetProtection{attrs} sheet="1" objects="1" scenarios="1"/>'


def _hyperlinks(spec: SheetSpec) -> str:
    if not spec.links:
        return ""
    out = []
    for link in spec.links:
        m = _CELL_REF.match(link.cell)
        if m is None:
            raise ValueError(f"sheet {spec.name!r}: link cell {link.cell!r} is not a cell "
                             "reference like 'D5'")
        ref = f"{m.group(1).upper()}{m.group(2)}"
        tip = f' tooltip="{escape_attr(link.tooltip)}"' if link.tooltip else ""
        out.append(f'<hyperlink ref="{ref}" location="{escape_attr(link.target)}"{tip}/>')
    return f"<hyperlinks>{''.join(out)}</hyperlinks>"


def worksheet_chunks(spec: SheetSpec, xf: Mapping[Style, int],
                     drawing_rid: str | None = None) -> Iterator[bytes]:
    """The worksheet part for ``spec`` as UTF-8 chunks; ``xf`` maps styles to cellXfs and
    ``drawing_rid`` is the relationship id of the sheet's drawing (its charts), if any."""
    blocks = [_placed(b) for b in spec.blocks]
    _check_overlaps(blocks)
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{sheet_properties(spec)}'
            f'<dimension ref="{_dimension(blocks)}"/>{_sheet_view(spec.freeze, spec.selected)}'
            f'{_format_pr(spec.row_outline)}{_cols(spec.col_widths, spec.hidden_cols)}'
            "<sheetData>")
    yield head.encode("utf-8")
    yield from _sheet_rows(blocks, xf, spec.row_heights, spec.row_outline)
    tail = (f"</sheetData>{_protection(spec)}{_hyperlinks(spec)}{print_elements(spec)}"
            f"{_drawing(drawing_rid)}</worksheet>")
    yield tail.encode("utf-8")


def _drawing(rid: str | None) -> str:
    # CT_Worksheet: drawing follows pageMargins, pageSetup and headerFooter
    return f'<drawing r:id="{escape_attr(rid)}"/>' if rid else ""


def worksheet_xml(spec: SheetSpec, xf: Mapping[Style, int],
                  drawing_rid: str | None = None) -> bytes:
    """The whole worksheet part in one piece (small sheets, tests)."""
    return b"".join(worksheet_chunks(spec, xf, drawing_rid))
