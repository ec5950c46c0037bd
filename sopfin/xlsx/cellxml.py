"""Cells -> the XML of worksheet rows: the part of the sheet writer that sees every cell.

Millions of cells pass through here, so rows are built with list comprehensions and
``str.join``. Float blocks (the usual case: a family x month grid of figures, with or without
formulas) take a fast path, and a ``FormulaGrid`` block is formatted a whole row at a time;
blocks of labels are escaped once per distinct label; anything else goes through a per-cell
dispatch. Strings are inline (``t="inlineStr"``), so the workbook's shared-string table is
never touched.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sopfin.layout import column_letter
from sopfin.sheetspec import Block, FormulaGrid, Style
from sopfin.xlsx import rowxml
from sopfin.xlsx.floattext import value_texts
from sopfin.xlsx.gridrows import REPR, _GridRows, number_classes

MAX_STRING = 32767  # Excel's limit on the characters of one cell
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(s: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return s if s.isprintable() else _ILLEGAL_XML.sub("", s)


def escape_text(s: str) -> str:
    return clean_text(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(s: str) -> str:
    return (escape_text(s).replace('"', "&quot;").replace("\n", "&#10;")
            .replace("\r", "&#13;").replace("\t", "&#9;"))


def _number(v: Any) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    text = float.__repr__(float(v))
    return text[:-2] if text.endswith(".0") else text


def _is_error(v: Any) -> bool:
    code = getattr(v, "code", None)
    return isinstance(code, str) and code.startswith("#")


def _cell(ref: str, s: str, v: Any) -> str:
    """One plain value cell; '' for an empty (None / NaN) cell."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (float, np.floating)):
        if v != v:
            return ""
        if math.isinf(v):
            return f'<c r="{ref}"{s} t="e"><v>#NUM!</v></c>'
        return f'<c r="{ref}"{s}><v>{_number(v)}</v></c>'
    if isinstance(v, (int, np.integer)):
        return f'<c r="{ref}"{s}><v>{int(v)}</v></c>'
    if _is_error(v):
        return f'<c r="{ref}"{s} t="e"><v>{escape_text(v.code)}</v></c>'
    text = str(v)
    if not text:
        return f'<c r="{ref}"{s}/>' if s else ""
    text = escape_text(text[:MAX_STRING])
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _formula_cell(ref: str, s: str, formula: str, v: Any) -> str:
    """A formula cell with its cached result; a missing result caches a blank string."""
    f = escape_text(formula)
    if v is None or (isinstance(v, (float, np.floating)) and v != v):
        return f'<c r="{ref}"{s} t="str"><f>{f}</f><v></v></c>'
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}"{s} t="b"><f>{f}</f><v>{int(v)}</v></c>'
    if isinstance(v, (float, np.floating)) and math.isinf(v):
        return f'<c r="{ref}"{s} t="e"><f>{f}</f><v>#NUM!</v></c>'
    if isinstance(v, (int, float, np.integer, np.floating)):
        return f'<c r="{ref}"{s}><f>{f}</f><v>{_number(v)}</v></c>'
    if _is_error(v):
        return f'<c r="{ref}"{s} t="e"><f>{f}</f><v>{escape_text(v.code)}</v></c>'
    return f'<c r="{ref}"{s} t="str"><f>{f}</f><v>{escape_text(str(v))}</v></c>'


def _formula_text(x: Any) -> str | None:
    """Formula text without a leading '='; None for 'no formula' (None, '', NaN)."""
    if not isinstance(x, str) or not x:
        return None
    return x[1:] if x[0] == "=" else x


def _formula_xml(x: Any) -> str | None:
    """``_formula_text`` with ``&``, ``<`` and ``>`` escaped for the fast float path."""
    if not isinstance(x, str) or not x:
        return None
    if x[0] == "=":
        x = x[1:]
    if "&" in x or "<" in x or ">" in x:
        return x.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return x


def _formula_texts(formulas: np.ndarray, escape: bool) -> np.ndarray:
    """``_formula_text`` of every cell ('' for no formula), XML-escaped when ``escape`` (the
    fast path writes them as they are). A grid of strings is done in one pass over one
    joined string; anything else cell by cell."""
    flat = formulas.ravel().tolist()
    types = set(map(type, flat))
    if types <= {str, type(None)} and flat:
        texts = [x or "" for x in flat] if type(None) in types else flat
        joined = "\x00".join(texts)
        if "\x00" not in "".join(texts):
            joined = ("\x00" + joined).replace("\x00=", "\x00")[1:]
            if escape and ("&" in joined or "<" in joined or ">" in joined):
                joined = joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out = np.empty(len(flat), dtype=object)
            out[:] = joined.split("\x00")
            return out.reshape(formulas.shape)
    text = _formula_xml if escape else _formula_text
    out = np.empty(len(flat), dtype=object)
    out[:] = [text(x) or "" for x in flat]
    return out.reshape(formulas.shape)


def _as_2d(data: Any, what: str, block: Block) -> np.ndarray:
    arr = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=object)
    if arr.ndim != 2:
        raise ValueError(f"block at row {block.row}, col {block.col}: {what} must be 2-D")
    return arr


@dataclass
class _PreparedBlock:
    """A block with its arrays normalised and its per-column cell openings precomputed."""

    row0: int
    row1: int
    col0: int
    col1: int
    values: np.ndarray
    formulas: np.ndarray | None
    style_attr: str  # ' s="N"' for a whole-block style, '' for none
    cell_styles: np.ndarray | None  # per-cell ' s="N"' strings when styled cell by cell
    letters: list[str]
    fast: bool  # float values, one style
    grid: _GridRows | None = None  # formulas kept as a FormulaGrid (fast blocks only)
    texts: dict[str, str] | None = None  # a block of non-empty strings: each one escaped
    columns: tuple[rowxml.Column, ...] | None = None  # for the compiled formatter
    # a fast block's formulas as written, for the compiled formatter (which escapes them):
    # the array, and its rows by block row
    written: np.ndarray | None = None
    explicit: dict[int, list[Any]] | None = None

    def rows(self, r0: int, r1: int) -> list[str]:
        """Cell XML of rows r0..r1 (inclusive, sheet row numbers), one string per row."""
        i0, i1 = r0 - self.row0, r1 - self.row0 + 1
        numbers = range(r0, r1 + 1)
        if self.columns is not None and rowxml.enabled():
            grid = self.grid
            return rowxml.rows(self.columns, self.style_attr, grid.args if grid else (),
                               self.values[i0:i1], r0, i0,
                               grid.grid.explicit if grid else self.explicit)
        if self.written is not None:  # prepared for the compiled formatter, since turned off
            self.formulas = _formula_texts(self.written, escape=True)
            self.written = self.explicit = self.columns = None
        if self.grid is not None:
            return self._grid_rows(numbers, i0)
        values = self.values[i0:i1].tolist()
        if self.fast and self.formulas is None:
            return self._number_rows(numbers, values)
        if self.texts is not None:
            if rowxml.enabled():
                return rowxml.label_rows(self.letters, self.style_attr, values, r0, self.texts)
            return self._text_rows(numbers, values)
        formulas: list[Any] = (self.formulas[i0:i1].tolist() if self.formulas is not None
                               else [None] * len(values))
        if self.fast:
            return self._formula_rows(numbers, values, formulas)
        if self.formulas is not None and self.cell_styles is None:
            texts = _text_result_rows(self.letters, self.style_attr, numbers, values, formulas)
            if texts is not None:
                return texts
        styles = (self.cell_styles[i0:i1].tolist() if self.cell_styles is not None
                  else [[self.style_attr] * len(self.letters)] * len(values))
        if self.formulas is None and rowxml.enabled():
            return rowxml.mixed_rows(self.letters, values, styles, r0, _cell)
        out = []
        for r, vrow, frow, srow in zip(numbers, values, formulas, styles, strict=True):
            rs = str(r)
            frow = frow if frow is not None else [None] * len(vrow)
            out.append("".join([
                _formula_cell(col + rs, s, f, v) if f else _cell(col + rs, s, v)
                for col, v, f, s in zip(self.letters, vrow, frow, srow, strict=True)]))
        return out

    def _text_rows(self, numbers: range, values: list[list[str]]) -> list[str]:
        """Rows of a block of non-empty strings in one style (keys, labels)."""
        assert self.texts is not None
        texts = self.texts
        return _inline_rows(self.letters, self.style_attr, numbers,
                            [[texts[v] for v in row] for row in values])

    def _number_rows(self, numbers: range, values: list[list[float]]) -> list[str]:
        opens = [f'<c r="{col}' for col in self.letters]
        tail = f'"{self.style_attr}><v>'
        return ["".join([f"{o}{rs}{tail}{v!r}</v></c>"
                         for o, v in zip(opens, row, strict=True) if v == v])
                .replace(".0</v>", "</v>")
                for rs, row in zip(map(str, numbers), values, strict=True)]

    def _grid_rows(self, numbers: range, i0: int) -> list[str]:
        """Rows of a FormulaGrid block: one ``%`` format per row, the values written by orjson
        (``sopfin.xlsx.floattext``) or else each formatted by its number class (see
        ``number_classes``); a row with a blank (NaN) result goes cell by cell."""
        grid = self.grid
        assert grid is not None
        window = self.values[i0:i0 + len(numbers)]
        texts = value_texts(window)
        if texts is not None and all(texts[1]) and not grid.grid.explicit:
            return grid.text_rows(numbers, i0, texts[0])
        values = window.tolist()
        classes = number_classes(window)
        blank = np.isnan(window).any(axis=1).tolist()
        uniform = (classes == classes[:, :1]).all(axis=1).tolist()
        out = []
        for k, (rs, vrow, crow) in enumerate(zip(map(str, numbers), values, classes.tolist(),
                                                 strict=True)):
            if texts is not None and texts[1][k] and i0 + k not in grid.grid.explicit:
                out.append(grid.text_row(rs, i0 + k, texts[0], k))
                continue
            if blank[k] or i0 + k in grid.grid.explicit:
                out.extend(self._formula_rows(range(int(rs), int(rs) + 1), [vrow],
                                              [grid.escaped_row(i0 + k)]))
                continue
            fmt = (grid.row_formats[crow[0]] if uniform[k] else
                   "".join([f[c] for f, c in zip(grid.cell_formats, crow, strict=True)]))
            xml = fmt % grid.pick([rs, *grid.arg_row(i0 + k), *vrow])
            out.append(xml.replace(".0</v>", "</v>") if REPR in crow else xml)
        return out

    def _formula_rows(self, numbers: range, values: list[list[float]],
                      formulas: list[list[Any]]) -> list[str]:
        opens = [f'<c r="{col}' for col in self.letters]
        s = self.style_attr
        tail, tail_f, tail_blank = f'"{s}><v>', f'"{s}><f>', f'"{s} t="str"><f>'
        out = []
        for rs, vrow, frow in zip(map(str, numbers), values, formulas, strict=True):
            out.append("".join([  # formulas arrive escaped (prepare_block)
                (f"{o}{rs}{tail_f}{f}</f><v>{v!r}</v></c>" if v == v else
                 f"{o}{rs}{tail_blank}{f}</f><v></v></c>")
                if f else (f"{o}{rs}{tail}{v!r}</v></c>" if v == v else "")
                for o, v, f in zip(opens, vrow, frow, strict=True)]).replace(".0</v>", "</v>"))
        return out


_SEPARATOR = "\ue000"  # joins cell texts to be escaped in one pass: escaping leaves it alone


def _text_result_rows(letters: list[str], style_attr: str, numbers: range,
                      values: list[list[Any]], formulas: list[list[Any]]) -> list[str] | None:
    """Rows of formula cells whose cached results are text or missing (a Check column's
    ``ok``) and of empty cells (no formula, no value), in one style, as ``_formula_cell``
    writes them; every formula and every result escaped in one pass. None when a cell is
    anything else (or a text holds the separator): the cell-by-cell path writes it."""
    results: list[str] = []
    taken: list[str] = []
    for vrow, frow in zip(values, formulas, strict=True):
        for v, f in zip(vrow, frow, strict=True):
            if f:
                if v is None:
                    results.append("")
                elif type(v) is str:
                    results.append(v)
                else:
                    return None
                taken.append(f)
            elif v is not None:
                return None
    escaped_f, escaped_v = _escaped_run(taken), _escaped_run(results)
    if escaped_f is None or escaped_v is None:
        return None
    opens = [f'<c r="{col}' for col in letters]
    head = f'"{style_attr} t="str"><f>'
    fs, vs = iter(escaped_f), iter(escaped_v)
    return ["".join([f"{o}{rs}{head}{next(fs)}</f><v>{next(vs)}</v></c>"
                     for o, f in zip(opens, frow, strict=True) if f])
            for rs, frow in zip(map(str, numbers), formulas, strict=True)]


def _escaped_run(texts: list[str]) -> list[str] | None:
    """``escape_text`` of each of ``texts``, done on them joined; None when one holds the
    separator."""
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != max(len(texts) - 1, 0):
        return None
    return escape_text(joined).split(_SEPARATOR) if texts else []


@dataclass(frozen=True)
class _LabelRow:
    """A one-row block of labels in one style (a Recon tab has thousands: a title, a heading,
    a note), its cells written when it is prepared."""

    xml: str

    def rows(self, r0: int, r1: int) -> list[str]:
        return [self.xml]


def prepare_block(block: Block, xf: Mapping[Style, int]) -> _PreparedBlock | _LabelRow:
    values = _as_2d(block.values, "values", block)
    if values.dtype.kind in "US":
        values = values.astype(object)
    n_rows, n_cols = values.shape
    style_attr, cell_styles = "", None
    if isinstance(block.style, Style):
        style_attr = f' s="{xf[block.style]}"' if xf[block.style] else ""
    elif block.style is not None:
        styles = _as_2d(block.style, "style", block)
        if styles.shape != values.shape:
            raise ValueError(f"block at row {block.row}, col {block.col}: style shape "
                             f"{styles.shape} differs from values shape {values.shape}")
        attr = _style_attrs(tuple(xf.items()))
        cell_styles = np.array([[attr[x] if x in attr else attr[Style(x)] for x in row]
                                for row in styles.tolist()], dtype=object).reshape(values.shape)
    if n_rows == 1 and block.formulas is None and values.dtype == object and cell_styles is None:
        labels = _label_row(block, values[0].tolist(), style_attr)
        if labels is not None:
            return labels
    fast = values.dtype.kind == "f" and cell_styles is None and _no_infinity(values)
    formulas = grid = written = explicit = None
    letters = list(_letters(block.col, n_cols))
    if block.formulas is not None:
        shape = _shape_of(block.formulas, "formulas", block)
        if shape != values.shape:
            raise ValueError(f"block at row {block.row}, col {block.col}: formulas shape "
                             f"{shape} differs from values shape {values.shape}")
        if fast and isinstance(block.formulas, FormulaGrid):
            grid = _GridRows.compile(block.formulas, letters, style_attr)
        if grid is None:
            written = _as_2d(block.formulas, "formulas", block)
            if fast and rowxml.enabled():
                explicit = dict(enumerate(written.tolist()))
            else:
                formulas, written = _formula_texts(written, escape=fast), None
    if values.dtype.kind in "iub":
        values = values.astype(object)
    texts = (_escaped_texts(values) if formulas is None and cell_styles is None
             and values.dtype == object else None)
    columns = (grid.columns if grid is not None else
               rowxml.plain_columns(letters) if fast and formulas is None else None)
    return _PreparedBlock(block.row, block.row + n_rows - 1, block.col, block.col + n_cols - 1,
                          values, formulas, style_attr, cell_styles, letters, fast, grid, texts,
                          columns, written, explicit)


def _no_infinity(values: np.ndarray) -> bool:
    """Whether a float array holds no infinity: its sum is finite (no infinity, no NaN),
    which costs no array of flags, or else no cell is infinite."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(values.sum())) or not np.isinf(values).any()


def _label_row(block: Block, cells: list[Any], style_attr: str) -> _LabelRow | None:
    """The one row of a block of labels (non-empty strings), each escaped as ``_cell``
    writes it; None when it holds anything else."""
    if not all(type(v) is str and v for v in cells):
        return None
    letters = list(_letters(block.col, len(cells)))
    return _LabelRow(_inline_rows(letters, style_attr, range(block.row, block.row + 1),
                                  [[_escaped_label(v) for v in cells]])[0])


def _inline_rows(letters: list[str], style_attr: str, numbers: range,
                 escaped: list[list[str]]) -> list[str]:
    """Rows of inline-string cells in one style, their texts already escaped."""
    opens = [f'<c r="{col}' for col in letters]
    tail = f'"{style_attr} t="inlineStr"><is><t xml:space="preserve">'
    return ["".join([f"{o}{rs}{tail}{t}</t></is></c>" for o, t in zip(opens, row, strict=True)])
            for rs, row in zip(map(str, numbers), escaped, strict=True)]


@functools.lru_cache(maxsize=256)
def _letters(col0: int, n: int) -> tuple[str, ...]:
    """The letters of n columns from col0: a sheet of many small blocks asks for the same few."""
    return tuple(column_letter(c) for c in range(col0, col0 + n))


@functools.lru_cache(maxsize=16)
def _style_attrs(xf: tuple[tuple[Style, int], ...]) -> dict[Style | None, str]:
    """Each style's ``s`` attribute (a StrEnum: its value finds it too), '' for None."""
    attr: dict[Style | None, str] = {st: f' s="{k}"' for st, k in xf}
    attr[None] = ""
    return attr


def _escaped_texts(values: np.ndarray) -> dict[str, str] | None:
    """Each distinct value of an all-string block (no empty strings), XML-escaped as ``_cell``
    writes it; None when the block holds anything else."""
    try:
        distinct = set(values.ravel().tolist())
    except TypeError:  # an unhashable value: not a block of strings
        return None
    if set(map(type, distinct)) - {str} or "" in distinct:
        return None
    if len(distinct) == 1:  # a one-cell block, or one label repeated
        label = next(iter(distinct))
        return {label: _escaped_label(label)}
    if rowxml.enabled():
        labels = list(distinct)
        return dict(zip(labels, rowxml.escape_labels(labels, _escaped_label), strict=True))
    return {v: _escaped_label(v) for v in distinct}


@functools.lru_cache(maxsize=1 << 16)
def _escaped_label(v: str) -> str:
    """A label as ``_cell`` writes it; the same keys recur on every sheet of a plan."""
    return escape_text(v[:MAX_STRING])


def _shape_of(data: Any, what: str, block: Block) -> tuple[int, ...]:
    """The shape of a block's array-like (a FormulaGrid without building its strings, rows
    of equal length whose first row holds no sequence without building their array: the
    shape ``_as_2d`` gives them)."""
    if isinstance(data, FormulaGrid):
        return data.shape
    if isinstance(data, list) and data and all(isinstance(row, list | tuple) for row in data):
        widths = set(map(len, data))
        if len(widths) == 1 and not any(isinstance(v, list | tuple | np.ndarray)
                                        for v in data[0]):
            return (len(data), widths.pop())
    return _as_2d(data, what, block).shape
