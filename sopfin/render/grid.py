"""The grid of an output sheet: title and header rows, key columns, lead columns (Check,
Total, Opening), one column per month, and the sections of rows a sheet is made of.

Row positions are allocated before any formula is written, so that sheets can reference each
other's rows (the Revenue sheet reads family shipments from the Inventory sheet, which reads
family demand back from the Revenue sheet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from string import Formatter

import numpy as np

from sopfin.layout import column_letter
from sopfin.render.refs import CHECK_OK
from sopfin.sheetspec import Block, FormulaGrid, Formulas, SheetSpec, Style

TITLE_ROW = 1


@dataclass(frozen=True)
class Section:
    """A contiguous run of ``count`` item rows from ``first``, and the row of their total."""

    first: int
    count: int
    total: int | None = None

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def row(self, i: int) -> int:
        return self.first + i

    @property
    def total_row(self) -> int:
        """The row of the total, for a section allocated with one."""
        if self.total is None:
            raise ValueError(f"the section from row {self.first} has no total row")
        return self.total

    @property
    def rows(self) -> range:
        return range(self.first, self.first + self.count)


@dataclass
class Grid:
    """One output sheet being laid out. Columns: keys, lead columns, then one per period.

    ``months`` are the period headers: months, and on the Summary quarters and years too.
    """

    name: str
    key_headers: tuple[str, ...]
    lead_headers: tuple[str, ...]
    months: tuple[str, ...]
    header_row: int = 2
    blocks: list[Block] = field(default_factory=list)
    cursor: int = 0

    def __post_init__(self) -> None:
        if not self.cursor:
            self.cursor = self.header_row + 1
        start = len(self.key_headers) + len(self.lead_headers) + 1
        self.month_cols = tuple(column_letter(start + j) for j in range(len(self.months)))
        self.first_month_index = start

    # -- columns -----------------------------------------------------------------------------
    def lead(self, header: str) -> int:
        """1-based column index of a lead column (e.g. 'Check')."""
        return len(self.key_headers) + self.lead_headers.index(header) + 1

    def lead_col(self, header: str) -> str:
        return column_letter(self.lead(header))

    @property
    def prev_cols(self) -> tuple[str, ...]:
        """For each month, the column before it (the lead column left of the first month)."""
        before = column_letter(self.first_month_index - 1)
        return (before,) + self.month_cols[:-1]

    # -- rows --------------------------------------------------------------------------------
    def allocate(self, count: int, total: bool = True, gap: int = 1) -> Section:
        """Reserve ``count`` item rows (and a total row), followed by ``gap`` blank rows."""
        section = Section(self.cursor, count, self.cursor + count if total else None)
        self.cursor += count + (1 if total else 0) + gap
        return section

    def skip(self, rows: int = 1) -> None:
        self.cursor += rows

    # -- cells -------------------------------------------------------------------------------
    def title(self, text: str) -> None:
        self.blocks.append(Block(TITLE_ROW, 1, [[text]], style=Style.TITLE))

    def header(self) -> None:
        keys = list(self.key_headers) + list(self.lead_headers)
        self.blocks.append(Block(self.header_row, 1, [keys], style=Style.HEADER))
        if self.months:
            self.blocks.append(Block(self.header_row, self.first_month_index,
                                     [list(self.months)], style=Style.MONTH_HEADER))

    def put(self, row: int, col: int, values: object, formulas: object = None,
            style: Style | None = None) -> None:
        """A rectangle of cells at (row, col); skipped when empty."""
        if _is_empty(values):
            return
        self.blocks.append(Block(row, col, values, formulas, style))

    def put_keys(self, first: int, keys: Sequence[Sequence[str]], style: Style = Style.TEXT,
                 ) -> None:
        """The key columns of a run of rows, one array for the whole run (rows of equal
        width; anything else is placed as given)."""
        if not len(keys):
            return
        table = np.array(keys, dtype=object)
        self.put(first, 1, table if table.ndim == 2 else [list(k) for k in keys], style=style)

    def put_checks(self, first: int, checks: Sequence[str | None]) -> None:
        """The Check column: a key-check formula per row (cached 'ok'), blank where none."""
        if not checks or all(c is None for c in checks):
            return
        formulas = np.empty((len(checks), 1), dtype=object)
        formulas[:, 0] = checks
        values = np.full(formulas.shape, None, dtype=object)
        values[formulas.astype(bool)] = CHECK_OK
        self.put(first, self.lead("Check"), values, formulas, Style.TEXT)

    def put_months(self, first: int, formulas: Formulas, values: np.ndarray,
                   style: Style) -> None:
        if not _is_empty(formulas):
            self.put(first, self.first_month_index, values, formulas, style)

    def put_column(self, first: int, col: int, formulas: Sequence[str | None],
                   values: Sequence[object], style: Style) -> None:
        if formulas:
            self.put(first, col, [[v] for v in values], [[f] for f in formulas], style)

    def spec(self, freeze_cols: int, widths: Mapping[int, float] | None = None,
             freeze_rows: int | None = None) -> SheetSpec:
        """The finished sheet, frozen under the header (or ``freeze_rows``) and right of
        ``freeze_cols``."""
        col_widths = {i + 1: max(10.0, len(h) + 2.0) for i, h in enumerate(self.key_headers)}
        for h in self.lead_headers:
            col_widths[self.lead(h)] = 12.0
        for j in range(len(self.months)):
            col_widths[self.first_month_index + j] = 13.0
        col_widths.update(widths or {})
        return SheetSpec(self.name, blocks=tuple(self.blocks), owned=True, col_widths=col_widths,
                         freeze=(freeze_rows or self.header_row, freeze_cols))


def _is_empty(values: object) -> bool:
    """True for a rectangle with no cells (arrays by their shape, nothing converted)."""
    shape = getattr(values, "shape", None)
    if shape is None:
        shape = np.asarray(values, dtype=object).shape
    return 0 in shape


def fill(template: str, count: int, rows: Mapping[str, Sequence[object]],
         cols: Mapping[str, Sequence[str]], first: str | None = None,
         ) -> Formulas:
    """Formulas for a (count x months) grid from one template.

    Row placeholders take ``rows[name][i]``; column placeholders take ``cols[name][j]``.
    ``first`` is an optional different template for the first month. Plain ``{name}``
    templates give a ``FormulaGrid`` (no string per cell until one is asked for); anything
    ``str.format`` needs to handle gives the strings.
    """
    months = len(next(iter(cols.values()))) if cols else 0
    out = np.empty((count, months), dtype=object)
    if not count or not months:
        return out
    per_month = [{n: cols[n][j] for n in cols} for j in range(months)]
    compiled = _percent_templates(template, rows, per_month)
    compiled_first = (compiled if first is None else
                      _percent_templates(first, rows, per_month[:1]))
    if compiled is None or compiled_first is None:
        return _fill_by_format(template, count, rows, cols, first, out, per_month)
    (names, texts), (first_names, first_texts) = compiled, compiled_first
    first_part = None if first is None else (first_texts[0],
                                             tuple(rows[n] for n in first_names))
    return FormulaGrid(tuple(texts), tuple(rows[n] for n in names), count, first_part)


def _percent_templates(template: str, rows: Mapping[str, Sequence[object]],
                       per_month: Sequence[Mapping[str, str]],
                       ) -> tuple[list[str], list[str]] | None:
    """The template once per month as a ``%`` format with the month's columns filled in and
    ``%s`` for each row placeholder (their names in order); None when it uses anything but
    plain ``{name}`` placeholders, which ``str.format`` then handles. ``'%s' % x`` and
    ``'{}'.format(x)`` both give ``str(x)`` for the values placed here."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    names: list[str] = []
    texts = ["" for _ in per_month]
    for literal, name, spec, conversion in parts:
        literal = literal.replace("%", "%%")
        texts = [t + literal for t in texts]
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            return None
        if name in per_month[0]:
            texts = [t + str(m[name]).replace("%", "%%") for t, m in
                     zip(texts, per_month, strict=True)]
        elif name in rows:
            names.append(name)
            texts = [t + "%s" for t in texts]
        else:
            return None
    return names, texts


_FORMATTER = Formatter()


def _fill_by_format(template: str, count: int, rows: Mapping[str, Sequence[object]],
                    cols: Mapping[str, Sequence[str]], first: str | None, out: np.ndarray,
                    per_month: list[dict[str, str]]) -> np.ndarray:
    escaped = {n: "{" + n + "}" for n in cols}
    for i in range(count):
        row_args = {name: values[i] for name, values in rows.items()}
        row_template = template.format(**row_args, **escaped)
        row_first = first.format(**row_args, **escaped) if first is not None else row_template
        out[i, :] = [row_template.format_map(m) for m in per_month]
        out[i, 0] = row_first.format_map(per_month[0])
    return out


def sum_rows(section: Section, cols: Sequence[str]) -> np.ndarray:
    """The total row of a section: SUM of its item rows per month (``0`` when it has none)."""
    if section.count == 0:
        return np.array([["0" for _ in cols]], dtype=object)
    return np.array([[f"SUM({c}{section.first}:{c}{section.last})" for c in cols]],
                    dtype=object)


def total_values(values: np.ndarray) -> np.ndarray:
    """Engine values of a total row: the sum over item rows (NaN items count as zero)."""
    if values.shape[0] == 0:
        return np.zeros((1, values.shape[1]))
    return np.asarray(np.nansum(values, axis=0, keepdims=True))


BOLD = {Style.UNITS: Style.UNITS_BOLD, Style.MONEY: Style.MONEY_BOLD,
        Style.MONEY_WHOLE: Style.MONEY_WHOLE_BOLD, Style.PERCENT: Style.PERCENT_BOLD}


def put_section(grid: Grid, section: Section, keys: Sequence[Sequence[str]],
                formulas: Formulas, values: np.ndarray, style: Style, *,
                total_key: Sequence[str] | None = None,
                checks: Sequence[str | None] | None = None,
                cols: Sequence[str] | None = None) -> None:
    """Item rows of a section, and its total row (SUM of the items per month) if it has one.

    ``cols`` limits the total row to the first months' columns (default: all month columns).
    """
    grid.put_keys(section.first, keys)
    if checks is not None:
        grid.put_checks(section.first, checks)
    grid.put_months(section.first, formulas, values, style)
    if section.total is not None and total_key is not None:
        grid.put_keys(section.total, [total_key])
        grid.put_months(section.total, sum_rows(section, cols or grid.month_cols),
                        total_values(values),
                        BOLD.get(style, style))


def put_row_totals(grid: Grid, section: Section, values: np.ndarray, style: Style,
                   header: str = "Total") -> None:
    """The Total lead column of a section: SUM over the months of each row (and total row)."""
    first, last = grid.month_cols[0], grid.month_cols[-1]
    col = grid.lead(header)
    sums = np.nansum(values, axis=1) if values.size else np.zeros(section.count)
    rows = list(section.rows)
    if rows:
        grid.put(section.first, col, sums.reshape(-1, 1).astype(float),
                 FormulaGrid((f"SUM({first}%s:{last}%s)",), (rows, rows), len(rows)), style)
    if section.total is not None:
        r = section.total
        grid.put_column(r, col, [f"SUM({first}{r}:{last}{r})"], [float(np.nansum(values))],
                        BOLD.get(style, style))
