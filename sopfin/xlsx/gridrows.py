"""A ``FormulaGrid`` block compiled for the sheet writer: one ``%`` format per sheet row (the
Python path of ``sopfin.xlsx.cellxml``) and the per-column plan of the compiled row formatter
(``sopfin.xlsx.rowxml``), with the number classes that let the Python path spell most cached
values without ``repr``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sopfin.sheetspec import FormulaGrid
from sopfin.xlsx import rowxml


def _escape_formula(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped, as the fast path writes formula text."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


# Number classes of a cached value, and the %-format that writes each exactly as repr() then
# dropping a trailing '.0' would (the cell-by-cell path): whole numbers, one decimal, two
# decimals (cents), anything else. The first three are exact for |x| < 1e12 (the cents grid is
# far coarser than a float's spacing there) and several times faster than repr. READY takes a
# value already written as its cell text (``sopfin.xlsx.floattext``).
WHOLE, TENTHS, CENTS, REPR, READY = 0, 1, 2, 3, 4
_VALUE_FORMATS = ("%d", "%.1f", "%.2f", "%r", "%s")


def number_classes(values: np.ndarray) -> np.ndarray:
    """The number class of each value (REPR for NaN, -0.0, large or non-cent values)."""
    with np.errstate(invalid="ignore", over="ignore"):
        cents = np.rint(values * 100.0)
        exact = ((cents / 100.0 == values) & (np.abs(values) < 1e12)
                 & ~((values == 0) & np.signbit(values)))
        return np.where(~exact, REPR, np.where(cents % 100 == 0, WHOLE,
                                               np.where(cents % 10 == 0, TENTHS, CENTS)))


@dataclass
class _GridRows:
    """A FormulaGrid compiled into one ``%`` format per sheet row: every cell's reference,
    formula and cached value, so a row is one format call. Arguments are XML-escaped once."""

    grid: FormulaGrid
    cell_formats: list[tuple[str, ...]]  # per column, the cell's format for each number class
    row_formats: tuple[str, ...]  # the whole row's format when every value has one class
    pick: Any  # operator.itemgetter over [row number, *arguments, *values]
    args: tuple[list[str], ...]
    columns: tuple[rowxml.Column, ...] | None  # the compiled formatter's plan, if it can

    @classmethod
    def compile(cls, grid: FormulaGrid, letters: Sequence[str], style_attr: str,
                ) -> _GridRows | None:
        """None when a formula could come out empty or start with '=' (the cell-by-cell path
        handles those)."""
        first_text, first_args = grid.first if grid.first is not None else (None, ())
        texts = [first_text if j == 0 and first_text is not None else t
                 for j, t in enumerate(grid.texts)]
        if not texts or any(t.startswith("=") or not t.replace("%s", "") for t in texts):
            return None
        args = tuple(_escaped_column(a) for a in (*grid.args, *first_args))
        n_args, n_first = len(grid.args), len(first_args)
        cells, plan, columns = [], [], []
        for j, text in enumerate(texts):
            own = (range(1 + n_args, 1 + n_args + n_first) if j == 0 and first_text is not None
                   else range(1, 1 + n_args))
            head = f'<c r="{letters[j]}%s"{style_attr}><f>{_escape_formula(text)}</f><v>'
            cells.append(tuple(f"{head}{v}</v></c>" for v in _VALUE_FORMATS))
            plan += [0, *own, 1 + n_args + n_first + j]
            columns.append(rowxml.template_column(letters[j], text, [k - 1 for k in own],
                                                  _escape_formula))
        rows = tuple("".join(c[k] for c in cells) for k in range(len(_VALUE_FORMATS)))
        compiled = tuple(c for c in columns if c is not None)
        return cls(grid, cells, rows, operator.itemgetter(*plan), args,
                   compiled if len(compiled) == len(columns) else None)

    def arg_row(self, i: int) -> list[object]:
        return [a[i] for a in self.args]

    def text_row(self, rs: str, i: int, texts: list[str], k: int) -> str:
        """Row i (sheet row ``rs``) from its values' cell texts, row k of the flat ``texts``."""
        n = len(self.cell_formats)
        return self.row_formats[READY] % self.pick([rs, *[a[i] for a in self.args],
                                                    *texts[k * n:(k + 1) * n]])

    def text_rows(self, numbers: range, i0: int, texts: list[str]) -> list[str]:
        """Rows i0... (sheet rows ``numbers``) from their values' cell texts, ``texts`` flat
        and row-major; none of them explicit."""
        fmt, pick, args, n = self.row_formats[READY], self.pick, self.args, len(self.cell_formats)
        return [fmt % pick([rs, *[a[i] for a in args], *texts[k:k + n]])
                for i, rs, k in zip(range(i0, i0 + len(numbers)), map(str, numbers),
                                    range(0, len(texts), n), strict=True)]

    def escaped_row(self, i: int) -> list[str]:
        """Row i's formulas as the cell-by-cell path takes them (see ``_formula_texts``)."""
        return [_escape_formula(f[1:] if f.startswith("=") else f) for f in self.grid.row(i)]


def _escaped_column(values: Sequence[object]) -> list[str]:
    """A column of row arguments as the text ``%s`` makes of each (``str``), XML-escaped.
    Made once: each argument is placed in every column of its row."""
    out = list(map(str, values.tolist() if isinstance(values, np.ndarray) else values))
    joined = "".join(out)
    if "&" in joined or "<" in joined or ">" in joined:
        out = [_escape_formula(v) for v in out]
    return out
