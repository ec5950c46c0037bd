"""Sheets as plain data: what a writer (the .xlsx package writer or the live xlwings adapter)
puts into a workbook. The renderer builds these; it never touches a file.

A sheet is a set of non-overlapping rectangular ``Block``s. A block holds a 2-D array of
values and, optionally, a same-shaped array of formulas: where a formula is given, the value
is the formula's cached result. Rectangles keep rendering vectorised: a whole family x month
grid is one block.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np


class Style(enum.StrEnum):
    """Named cell styles. The writer maps each to one cell format (number format, font, fill).

    Number formats are given as Excel format codes; ``bold`` for headers and totals.
    """

    TEXT = "text"
    TITLE = "title"  # large bold text
    NOTE = "note"  # grey italic text
    HEADER = "header"  # bold, bottom border, grey fill
    MONTH_HEADER = "month_header"  # bold, centred, grey fill, text
    INPUT_HEADER = "input_header"  # bold, blue fill: user-owned input headers
    UNITS = "units"  # #,##0
    UNITS_BOLD = "units_bold"
    MONEY = "money"  # #,##0.00 with negatives in parentheses
    MONEY_BOLD = "money_bold"
    MONEY_WHOLE = "money_whole"  # #,##0 with negatives in parentheses (summary level)
    MONEY_WHOLE_BOLD = "money_whole_bold"
    PRICE = "price"  # #,##0.00
    PERCENT = "percent"  # 0.0%
    PERCENT_BOLD = "percent_bold"
    DAYS = "days"  # 0.0
    LINK = "link"  # blue underlined (internal hyperlink)
    ERROR = "error"  # red bold text
    WARNING = "warning"  # dark-orange text
    WRAP = "wrap"  # text wrapped within its column (long labels)
    HEADER_WRAP = "header_wrap"  # a header wrapped within its column


STYLE_FORMATS: dict[Style, dict[str, Any]] = {
    Style.TEXT: {},
    Style.TITLE: {"bold": True, "size": 14},
    Style.NOTE: {"italic": True, "color": "FF595959"},
    Style.HEADER: {"bold": True, "fill": "FFD9D9D9", "border_bottom": True},
    Style.MONTH_HEADER: {"bold": True, "fill": "FFD9D9D9", "border_bottom": True,
                         "align": "center", "num_fmt": "@"},
    Style.INPUT_HEADER: {"bold": True, "fill": "FFDDEBF7", "border_bottom": True, "num_fmt": "@"},
    Style.UNITS: {"num_fmt": "#,##0"},
    Style.UNITS_BOLD: {"num_fmt": "#,##0", "bold": True},
    Style.MONEY: {"num_fmt": "#,##0.00;(#,##0.00)"},
    Style.MONEY_BOLD: {"num_fmt": "#,##0.00;(#,##0.00)", "bold": True},
    Style.MONEY_WHOLE: {"num_fmt": "#,##0;(#,##0)"},
    Style.MONEY_WHOLE_BOLD: {"num_fmt": "#,##0;(#,##0)", "bold": True},
    Style.PRICE: {"num_fmt": "#,##0.00"},
    Style.PERCENT: {"num_fmt": "0.0%"},
    Style.PERCENT_BOLD: {"num_fmt": "0.0%", "bold": True},
    Style.DAYS: {"num_fmt": "0.0"},
    Style.LINK: {"color": "FF0563C1", "underline": True},
    Style.ERROR: {"bold": True, "color": "FFC00000"},
    Style.WARNING: {"color": "FFC65911"},
    Style.WRAP: {"wrap": True},
    Style.HEADER_WRAP: {"bold": True, "fill": "FFD9D9D9", "border_bottom": True, "wrap": True},
}


@dataclass(frozen=True)
class Block:
    """A rectangle of cells whose top-left cell is (row, col), both 1-based.

    values:   2-D array-like (rows x cols). Entries: float/int, str, bool, None (empty cell).
              NaN floats are written as empty cells (or, for formulas, as a cached blank "").
    formulas: None, or a 2-D array-like of the same shape with formula text *without* the
              leading '=' (None/'' entries are plain values).
    style:    one Style for the whole block, or a 2-D array-like of Style/None.
    """

    row: int
    col: int
    values: Any
    formulas: Any = None
    style: Style | Any | None = None

    @property
    def shape(self) -> tuple[int, int]:
        arr = self.values if isinstance(self.values, np.ndarray) else np.asarray(
            self.values, dtype=object)
        if arr.ndim != 2:
            raise ValueError(f"Block at row {self.row}, col {self.col}: values must be 2-D")
        return arr.shape


_OTHER_CONVERSION = re.compile(r"%(?!s|%|\.0s)")  # a conversion that is not %s (or %%)


@dataclass(frozen=True, eq=False)
class FormulaGrid:
    """The formulas of a (rows x columns) rectangle built from one template, kept as the
    template and its row arguments instead of one string per cell (a large plan has millions).

    Cell (i, j) is ``texts[j] % tuple(a[i] for a in args)``: ``texts`` holds one ``%``-format
    per column (the column's letters already in, ``%s`` per row placeholder) and ``args`` one
    sequence per placeholder. ``first``, when given, is the first column's own format and
    arguments; rows that do not follow the template are given in ``explicit`` (their entries
    in ``args`` are ignored). ``np.asarray(grid)`` gives the strings, so it stands wherever a
    2-D array of formulas does; the package writer formats whole rows from it directly.
    """

    texts: tuple[str, ...]
    args: tuple[Sequence[object], ...]
    rows: int
    first: tuple[str, tuple[Sequence[object], ...]] | None = None
    explicit: Mapping[int, Sequence[str]] = field(default_factory=dict)  # rows not from texts

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, len(self.texts))

    @property
    def ndim(self) -> int:
        return 2

    @property
    def size(self) -> int:
        return self.rows * len(self.texts)

    def row(self, i: int) -> list[str]:
        """The formulas of row i."""
        if i in self.explicit:
            return list(self.explicit[i])
        values = tuple([a[i] for a in self.args])
        out = [t % values for t in self.texts]
        if self.first is not None and out:
            text, args = self.first
            out[0] = text % tuple([a[i] for a in args])
        return out

    def joined_row(self, i: int, sep: str) -> str:
        """Row i's formulas joined by ``sep``, as ``sep.join(self.row(i))`` but with the column
        formats joined once, so a row is a single ``%`` format (the typed-over check compares
        whole rows this way)."""
        if i in self.explicit:
            return sep.join(self.explicit[i])
        cached = self.__dict__.get("_joined")
        if cached is None or cached[0] != sep:
            texts = self.texts[1:] if self.first is not None else self.texts
            cached = (sep, sep.replace("%", "%%").join(texts), len(texts))
            object.__setattr__(self, "_joined", cached)
        _, fmt, repeat = cached
        joined = fmt % (tuple([a[i] for a in self.args]) * repeat)
        if self.first is None or not self.texts:
            return joined
        text, args = self.first
        head = text % tuple([a[i] for a in args])
        return f"{head}{sep}{joined}" if repeat else head

    def joined_rows(self, start: int, stop: int, sep: str) -> list[str]:
        """``joined_row`` of rows start..stop-1, the row arguments taken a column at a time
        (one ``%`` per row, no per-row lookups). Raises as ``joined_row`` would on a row."""
        n = stop - start
        if n <= 0 or any(not isinstance(a, list | tuple | np.ndarray) for a in self.args):
            return [self.joined_row(i, sep) for i in range(start, max(stop, start))]
        columns = [a[start:stop] for a in self.args]
        if any(len(c) != n for c in columns):
            return [self.joined_row(i, sep) for i in range(start, stop)]
        texts = self.texts[1:] if self.first is not None else self.texts
        fmt, repeat = sep.replace("%", "%%").join(texts), len(texts)
        if not _OTHER_CONVERSION.search(fmt):  # only %s: each value spelled once, as %s would
            columns = [list(map(str, c)) for c in columns]
        out = [fmt % (values * repeat) for values in zip(*columns, strict=True)] \
            if columns else [fmt % ()] * n
        if self.first is not None and self.texts:
            text, args = self.first
            heads = [text % tuple([a[i] for a in args]) for i in range(start, stop)]
            out = [f"{h}{sep}{j}" for h, j in zip(heads, out, strict=True)] if repeat else heads
        for i in self.explicit:
            if start <= i < stop:
                out[i - start] = sep.join(self.explicit[i])
        return out

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        out = np.empty(self.shape, dtype=object)
        for i in range(self.rows):
            out[i, :] = self.row(i)
        return out

    def tolist(self) -> list[list[str]]:
        return [self.row(i) for i in range(self.rows)]


# A rectangle of formulas: one string per cell, or a template grid standing for them.
Formulas: TypeAlias = FormulaGrid | np.ndarray


@dataclass(frozen=True)
class Link:
    """An internal hyperlink from ``cell`` (e.g. 'D5') to ``target`` (e.g. "Demand!F14")."""

    cell: str
    target: str
    tooltip: str = ""


@dataclass(frozen=True)
class SheetProtection:
    """Sheet protection. ``hash_value``/``salt_value`` are base64; algorithm as in ECMA-376
    agile encryption (e.g. 'SHA-512'). All None = protected without a password."""

    algorithm_name: str | None = None
    hash_value: str | None = None
    salt_value: str | None = None
    spin_count: int | None = None


@dataclass(frozen=True)
class ChartSeries:
    """One data series: ``values_ref`` is an absolute reference into the workbook
    (e.g. "'Recon v001'!$C$20:$C$31") and ``cached`` the values shown until recalculation.
    ``color`` is ARGB; None draws the series with no fill and no line (a waterfall's base)."""

    name: str
    values_ref: str
    cached: Sequence[float]
    color: str | None = None


@dataclass(frozen=True)
class ChartSpec:
    """A chart drawn on the sheet. ``kind`` 'stacked_column' (clustered columns stacked; a
    waterfall is an invisible base series plus up and down series). ``anchor`` is
    (from_col, from_row, to_col, to_row), 0-based cell corners."""

    title: str
    categories_ref: str
    categories: Sequence[str]
    series: Sequence[ChartSeries]
    anchor: tuple[int, int, int, int]
    kind: str = "stacked_column"
    number_format: str = "#,##0"
    value_axis_min: float | None = None  # None: the application scales the axis
    value_axis_title: str = ""  # e.g. what a value axis that does not start at zero starts at


def used_range(blocks: Sequence[Block]) -> tuple[int, int, int, int] | None:
    """(first_row, first_col, last_row, last_col) covering the non-empty blocks."""
    boxes = [(b.row, b.col, b.row + b.shape[0] - 1, b.col + b.shape[1] - 1)
             for b in blocks if b.shape[0] and b.shape[1]]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


@dataclass(frozen=True)
class PageSetup:
    """How a sheet prints. Rows and columns are 1-based; the writer turns ``area`` and the
    title rows and columns into the sheet's ``_xlnm.Print_Area`` and ``_xlnm.Print_Titles``
    names.

    fit_width/fit_height: pages wide and high the print area is scaled to (0 = as many as
                          needed); ``header``/``footer`` use Excel's codes (``&A`` sheet name,
                          ``&P`` page, ``&N`` pages, ``&L``/``&C``/``&R`` sections).
    area:       (first_row, first_col, last_row, last_col); None prints the used range.
    """

    landscape: bool = True
    fit_width: int = 1
    fit_height: int = 0
    title_rows: tuple[int, int] | None = None
    title_cols: tuple[int, int] | None = None
    area: tuple[int, int, int, int] | None = None
    header: str = ""
    footer: str = ""


@dataclass(frozen=True)
class SheetSpec:
    """One whole sheet, as sopfin wants it to be.

    owned: True for sopfin's output sheets (marked, replaced on every run). False for the
           input sheets that ``new``/``init`` create once and hand over to the user.
    """

    name: str
    blocks: Sequence[Block] = ()
    owned: bool = True
    col_widths: dict[int, float] = field(default_factory=dict)  # 1-based col -> width (chars)
    freeze: tuple[int, int] | None = None  # (rows, cols) frozen above/left of the panes
    tab_color: str | None = None  # ARGB, e.g. 'FF1F4E79'
    links: Sequence[Link] = ()
    state: str = "visible"  # visible | hidden | veryHidden
    protection: SheetProtection | None = None
    charts: Sequence[ChartSpec] = ()
    hidden_cols: Sequence[int] = ()  # 1-based columns written hidden
    page: PageSetup | None = None  # None: no page setup (the application's defaults)
    row_heights: Mapping[int, float] = field(default_factory=dict)  # 1-based row -> points
    row_outline: Mapping[int, int] = field(default_factory=dict)  # 1-based row -> level 1-7
    selected: bool = False  # the workbook opens on this sheet
    # Input sheets: the header row is a table the user fills in; no other meaning.
