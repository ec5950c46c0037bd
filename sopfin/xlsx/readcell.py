"""What one worksheet cell reads back as, whichever reader found it.

Both readers of ``sopfin.xlsx.readback`` (the lxml one and the fast row scanner) hand the
parts of a ``<c>`` element to these functions, so they agree by construction: the value from
the cell type and its ``<v>`` / ``<is>`` texts (``cell_value``), the formula from its ``<f>``
with shared formulas moved and array ranges remembered (``FormulaState``), and the cell as it
is reported (``read_cell``): a ``FormulaCell`` for a formula cell, the plain value otherwise,
None for an empty cell.
"""

from __future__ import annotations

import re
from datetime import datetime

from sopfin.close.digests import FormulaCell
from sopfin.layout import column_index, column_letter
from sopfin.model import XlError

_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def cell_value(kind: str, v: str | None, inline: str | None, strings: list[str]) -> object:
    """The value of a cell of type ``kind`` (its ``t``) with ``<v>`` text ``v`` and inline
    string ``inline`` (None when the element is absent)."""
    if kind == "inlineStr":
        return inline if inline is not None else v
    if v is None:
        return None
    if kind == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            return XlError("#REF!")  # a dangling shared-string index: never a silent blank
    if kind == "str":
        return v
    if kind == "b":
        return v.strip() in ("1", "true")
    if kind == "e":
        return XlError(v.strip() or "#N/A")
    if kind == "d":
        try:
            return datetime.fromisoformat(v.strip())
        except ValueError:
            return v
    if not v.strip():
        return None
    try:
        return float(v)
    except ValueError:
        return v


def read_cell(value: object, formula: str | None) -> object:
    """The cell as reported: a formula cell keeps its cached value; an empty one is None."""
    if formula is not None:
        return FormulaCell(formula, value)
    if value is None or value == "":
        return None
    return value


def cell_ref_column(ref: str | None, previous: int) -> int:
    """The column of a cell from its ``r`` ('B7' -> 2), or the next column without one."""
    match = _REF.match(ref.upper()) if ref else None
    return column_index(match.group(1)) if match else previous + 1


class FormulaState:
    """The shared-formula masters and array-formula ranges of one sheet, met in document
    order: a dependent of a shared formula reads its master's formula moved by its offset,
    and a cell inside an array formula's range carries the array formula."""

    def __init__(self) -> None:
        self.shared: dict[str, tuple[int, int, str]] = {}  # si -> (row, col, master)
        self.arrays: list[tuple[int, int, int, int, str]] = []  # (r0, c0, r1, c1, formula)

    def formula(self, text: str, kind: str, si: str, ref: str | None, row: int,
                col: int) -> str:
        """The formula of an ``<f>`` with text ``text`` and attributes ``t`` (``kind``),
        ``si`` and ``ref``, found in cell (row, col)."""
        if kind == "shared":
            if text:
                self.shared[si] = (row, col, text)
                return text
            master = self.shared.get(si)
            if master is None:
                return ""  # a dependent before its master: still a formula cell
            return shift_formula(master[2], row - master[0], col - master[1])
        if kind == "array" and ref:
            bounds = ref.upper().replace("$", "").split(":")
            first = _REF.match(bounds[0])
            last = _REF.match(bounds[-1])
            if first and last:
                self.arrays.append((int(first.group(2)), column_index(first.group(1)),
                                    int(last.group(2)), column_index(last.group(1)), text))
        return text

    def in_array(self, row: int, col: int) -> str | None:
        """The array formula whose range holds (row, col), if any."""
        for r0, c0, r1, c1, text in self.arrays:
            if r0 <= row <= r1 and c0 <= col <= c1:
                return text
        return None


# --- moving a shared formula -----------------------------------------------------------------
# Skipped whole: string literals, quoted sheet names, structured references [..]. Moved:
# A1-style cell references and whole-column / whole-row ranges, unless anchored with '$'.
_TOKEN = re.compile(
    r'(?P<skip>"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|\[[^\]]*\])'
    r"|(?P<cols>(?<![\w.$])\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(!]))"
    r"|(?P<rows>(?<![\w.$:])\$?[0-9]+:\$?[0-9]+(?![\w.(]))"
    r"|(?P<cell>(?<![\w.])(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)(?![\w(!]))")


def _move_col(token: str, d: int) -> str:
    if token.startswith("$") or not d:
        return token
    return column_letter(max(1, column_index(token) + d))


def _move_row(token: str, d: int) -> str:
    if token.startswith("$") or not d:
        return token
    return str(max(1, int(token) + d))


def shift_formula(formula: str, d_row: int, d_col: int) -> str:
    """``formula`` as it reads ``d_row`` rows down and ``d_col`` columns right of its master."""
    def move(m: re.Match[str]) -> str:
        if m.group("skip"):
            return m.group(0)
        if m.group("cols"):
            a, b = m.group("cols").split(":")
            return f"{_move_col(a, d_col)}:{_move_col(b, d_col)}"
        if m.group("rows"):
            a, b = m.group("rows").split(":")
            return f"{_move_row(a, d_row)}:{_move_row(b, d_row)}"
        col_anchor, col, row_anchor, row = m.group(5, 6, 7, 8)
        if column_index(col) > 16384:
            return m.group(0)
        new_col = col if col_anchor else column_letter(max(1, column_index(col) + d_col))
        new_row = row if row_anchor else str(max(1, int(row) + d_row))
        return f"{col_anchor}{new_col}{row_anchor}{new_row}"

    return _TOKEN.sub(move, formula)
