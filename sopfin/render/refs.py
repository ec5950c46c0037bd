"""References from output formulas back to the input cells they were computed from.

Every figure on an output sheet points at its input by a direct cell reference built from the
input table's provenance (``Demand!F14``). Excel's sort moves values, not references, so each
output row that reads an input row also carries a key check: a formula comparing the input
row's key cells to the keys seen at the last dollarize, which turns to ``RE-SORTED`` when the
user has re-sorted or re-keyed the input table since.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sopfin.model import Table
from sopfin.sheetspec import FormulaGrid

CHECK_OK = "ok"
CHECK_MOVED = "RE-SORTED"

_PLAIN_SHEET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_NUMERIC_KEY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@functools.cache
def sheet_prefix(sheet: str) -> str:
    """'Demand' -> 'Demand!'; names with spaces or punctuation are quoted."""
    if _PLAIN_SHEET.match(sheet) and not re.match(r"^[A-Za-z]{1,3}\d+$", sheet):
        return f"{sheet}!"
    return "'" + sheet.replace("'", "''") + "'!"


MAX_LITERAL = 255  # characters Excel allows in one string constant of a formula


def text_literal(text: str) -> str:
    """A string constant as written inside a formula: quotes doubled; a text whose constant
    would pass Excel's 255 characters is joined from shorter ones with '&'."""
    escaped = text.replace('"', '""')
    if len(escaped) <= MAX_LITERAL:
        return f'"{escaped}"'
    step = MAX_LITERAL // 2  # doubled quotes keep each piece within the limit
    pieces = ['"' + text[k:k + step].replace('"', '""') + '"' for k in range(0, len(text), step)]
    return "(" + "&".join(pieces) + ")"


def key_equals(cell: str, key: str) -> str:
    """A condition that holds when ``cell`` shows the key ``key``.

    Keys that look like numbers may be stored as numbers; ``&""`` compares their text.
    """
    if _NUMERIC_KEY.match(key):
        return f"{cell}&\"\"={text_literal(key)}"
    return f"{cell}={text_literal(key)}"


_CHECK_TAIL = f",{text_literal(CHECK_OK)},{text_literal(CHECK_MOVED)})"


def check_formula(conditions: Sequence[str]) -> str | None:
    """One key-check formula over all conditions of a row (None when there is nothing to check)."""
    unique = list(dict.fromkeys(conditions))
    if not unique:
        return None
    test = unique[0] if len(unique) == 1 else "AND(" + ",".join(unique) + ")"
    return "IF(" + test + _CHECK_TAIL


def _fold(text: str) -> str:
    return text.strip().lower()


@dataclass(frozen=True)
class InputRows:
    """One input table, indexed by its key columns, able to write references to its cells.

    Keys match exactly (as the engine matches them), except the ``folded`` key names, which
    match ignoring case and surrounding spaces (e.g. Budget's Measure).
    """

    table: Table
    key_names: tuple[str, ...]  # the Plan key names that identify a row (e.g. scenario, family)
    folded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        index: dict[tuple[str, ...], list[int]] = {}
        columns = []
        for name in self.key_names:
            texts = self.table.keys[name].astype(str).tolist()
            columns.append([_fold(t) for t in texts] if name in self.folded else texts)
        for i, key in enumerate(zip(*columns, strict=True)):
            index.setdefault(key, []).append(i)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_rows", [int(r) for r in self.table.keys["row"].tolist()])
        object.__setattr__(self, "_texts", {n: [str(v) for v in self.table.keys[n].tolist()]
                                            for n in self.table.keys.columns if n != "row"})

    def find_all(self, *key: str) -> list[int]:
        """Positions of every row with these keys, in sheet order (additive tables sum them)."""
        wanted = tuple(_fold(k) if n in self.folded else k
                       for n, k in zip(self.key_names, key, strict=True))
        return list(self._index.get(wanted, ()))  # type: ignore[attr-defined]

    def sheet_row(self, i: int) -> int:
        return self._rows[i]  # type: ignore[attr-defined,no-any-return]

    def cell(self, i: int, j: int) -> str:
        """Reference to value j of row i, e.g. 'Demand!F14'."""
        return f"{sheet_prefix(self.table.sheet)}{self.table.value_cols[j]}{self.sheet_row(i)}"

    def cells(self, i: int) -> list[str]:
        """References to every value of row i, in value order (the months, for monthly tables)."""
        prefix, row = sheet_prefix(self.table.sheet), self.sheet_row(i)
        return [f"{prefix}{col}{row}" for col in self.table.value_cols]

    def sum_cells(self, rows: Sequence[int]) -> list[str]:
        """Per value column, the sum of those rows' cells ('0' when there are no rows)."""
        if not rows:
            return ["0"] * len(self.table.value_cols)
        per_row = [self.cells(i) for i in rows]
        return ["+".join(parts) for parts in zip(*per_row, strict=True)]

    def refs(self, rows_of_items: Sequence[Sequence[int]]) -> FormulaGrid:
        """Per item, ``sum_cells`` of its rows: an (items x value columns) grid of formulas,
        one reference per column template with the sheet row as its argument; items reading
        no row or several rows are spelled out."""
        prefix = sheet_prefix(self.table.sheet).replace("%", "%%")
        texts = tuple(f"{prefix}{col}%s" for col in self.table.value_cols)
        rows = [self.sheet_row(r[0]) if len(r) == 1 else 0 for r in rows_of_items]
        explicit = {k: self.sum_cells(r) for k, r in enumerate(rows_of_items) if len(r) != 1}
        return FormulaGrid(texts, (rows,), len(rows_of_items), explicit=explicit)

    def has_key_column(self, name: str) -> bool:
        return name in self.table.key_names and bool(self.table.key_col(name))

    def key_conditions(self, i: int, names: Iterable[str] | None = None) -> list[str]:
        """Conditions that row i still holds the keys it held at the last dollarize."""
        columns = [self._condition_column(n) for n in (self.key_names if names is None
                                                         else names)]
        return [c[i] for c in columns if c is not None]  # None: a key the sheet does not have

    def _condition_column(self, name: str) -> list[str] | None:
        """Key ``name``'s condition for every row (None when the sheet has no such column),
        built a whole column at a time, once per name: the cell reference's head is shared by
        the column and the literal by every row showing the same key."""
        found: dict[str, list[str] | None] = self.__dict__.setdefault("_condition_columns", {})
        if name not in found:
            found[name] = None
            if self.has_key_column(name):
                texts: list[str] = self._texts[name]  # type: ignore[attr-defined]
                tails = {t: key_equals("", t) for t in set(texts)}
                head = f"{sheet_prefix(self.table.sheet)}${self.table.key_col(name)}$"
                rows: list[int] = self._rows  # type: ignore[attr-defined]
                found[name] = [f"{head}{r}{tails[t]}" for r, t in zip(rows, texts, strict=True)]
        return found[name]

    def _row_checks(self) -> list[str | None]:
        """The key check of every row on its own (what ``rows_check([i])`` gives), built once."""
        found: list[str | None] | None = self.__dict__.get("_row_check_column")
        if found is None:
            names = [n for n in self.key_names if self._condition_column(n) is not None]
            columns = [cast(list[str], self._condition_column(n)) for n in names]
            if not columns:
                found = [None] * len(self._rows)  # type: ignore[attr-defined]
            elif len(columns) == 1:
                found = ["IF(" + c + _CHECK_TAIL for c in columns[0]]
            elif len({self.table.key_col(n) for n in names}) == len(names):
                # conditions on different cells differ, so none is dropped as a repeat
                found = ["IF(AND(" + ",".join(conds) + ")" + _CHECK_TAIL
                         for conds in zip(*columns, strict=True)]
            else:
                found = [check_formula(conds) for conds in zip(*columns, strict=True)]
            object.__setattr__(self, "_row_check_column", found)
        return found

    def rows_check(self, rows: Sequence[int]) -> str | None:
        """One key check over several rows (None when there are none)."""
        if len(rows) == 1:
            return self._row_checks()[rows[0]]  # the common case, built a column at a time
        return check_formula([c for i in rows for c in self.key_conditions(i)])

    def literal_condition(self, i: int, name: str, literal: str) -> str | None:
        """Condition that key ``name`` of row i equals a literal already in formula syntax."""
        if not self.has_key_column(name):
            return None
        col = self.table.key_col(name)
        return f"{sheet_prefix(self.table.sheet)}${col}${self.sheet_row(i)}={literal}"
