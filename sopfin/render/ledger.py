"""The version ledger as a sheet: ``_Ledger``, very hidden, one row per entry.

Row 1 holds ``versions.LEDGER_COLUMNS``; entry i sits on row ``FIRST_DATA_ROW + i``, which is
where ``versions.verify_ledger`` points its findings. ``seq`` and ``version`` are whole
numbers; every other field is written as text, so a timestamp never becomes a date serial, a
cycle '2027-03' never a date and a hash of digits never a number. ``parse_ledger`` is the
inverse, from the raw grid a reader gives back (None for an empty cell, floats for numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin import layout
from sopfin.close.ledger import (
    LEDGER_COLUMNS,
    LEDGER_COLUMNS_V1,
    LEDGER_COLUMNS_V2,
    LEDGER_COLUMNS_V3,
    LEDGER_SHEET,
    LedgerEntry,
)
from sopfin.sheetspec import Block, SheetSpec, Style

INT_FIELDS = ("seq", "version")
WIDTHS = {"seq": 6.0, "event": 10.0, "version": 8.0, "cycle": 10.0, "timestamp": 22.0,
          "author": 16.0, "status": 10.0, "note": 30.0}
HASH_WIDTH = 20.0

assert layout.LEDGER == LEDGER_SHEET, "one name for the ledger sheet"


def render_ledger(entries: Sequence[LedgerEntry]) -> SheetSpec:
    """The whole ledger sheet for ``entries``, in ledger order."""
    blocks = [Block(layout.HEADER_ROW, 1, np.array([list(LEDGER_COLUMNS)], dtype=object),
                    style=Style.HEADER)]
    if entries:
        rows = [[_cell(name, getattr(e, name)) for name in LEDGER_COLUMNS] for e in entries]
        blocks.append(Block(layout.FIRST_DATA_ROW, 1, np.array(rows, dtype=object),
                            style=Style.TEXT))
    widths = {k + 1: WIDTHS.get(name, HASH_WIDTH) for k, name in enumerate(LEDGER_COLUMNS)}
    return SheetSpec(layout.LEDGER, blocks, owned=True, col_widths=widths, freeze=(1, 0),
                     state=layout.LEDGER_STATE)


def _cell(name: str, value: object) -> object:
    if name in INT_FIELDS:
        return int(value)  # type: ignore[call-overload]
    return "" if value is None else str(value)


def parse_ledger(rows: Sequence[Sequence[object]]) -> list[LedgerEntry]:
    """Entries from the sheet's raw rows (row 1 = header). Empty rows are skipped.

    A ledger written before the identity columns (header ``LEDGER_COLUMNS_V1``) or before
    the tab part digests (``LEDGER_COLUMNS_V2``) or the stored digests (``LEDGER_COLUMNS_V3``)
    reads with those fields empty. Raises
    ValueError, naming the cell, for any other header or a seq / version that is not a whole
    number.
    """
    if not rows:
        raise ValueError(f"{layout.LEDGER}!A1: the ledger has no header row")
    header = _trimmed(rows[0])
    columns = tuple(_text(v) for v in header)
    if columns not in (LEDGER_COLUMNS, LEDGER_COLUMNS_V3, LEDGER_COLUMNS_V2, LEDGER_COLUMNS_V1):
        raise ValueError(f"{layout.LEDGER}!A1: expected the header "
                         f"{', '.join(LEDGER_COLUMNS)}; found {header!r}")
    out = []
    for i, row in enumerate(rows[1:], start=layout.FIRST_DATA_ROW):
        cells = list(row) + [None] * (len(columns) - len(row))
        if all(_text(v) == "" for v in cells):
            continue
        extra = [v for v in cells[len(columns):] if _text(v) != ""]
        if extra:
            raise ValueError(f"{layout.LEDGER}!{layout.cell_name(i, len(columns) + 1)}: "
                             f"the ledger has {len(columns)} columns; found {extra!r} "
                             "beyond them")
        fields = {name: (_whole(v, i, k) if name in INT_FIELDS else _text(v))
                  for k, (name, v) in enumerate(zip(columns, cells, strict=False))}
        out.append(LedgerEntry(**fields))  # type: ignore[arg-type]
    return out


def _trimmed(row: Sequence[object]) -> list[object]:
    cells = list(row)
    while cells and _text(cells[-1]) == "":
        cells.pop()
    return cells


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _whole(value: object, row: int, index: int) -> int:
    ref = f"{layout.LEDGER}!{layout.cell_name(row, index + 1)}"
    if isinstance(value, bool):
        raise ValueError(f"{ref}: {LEDGER_COLUMNS[index]} must be a whole number; "
                         f"found {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"{ref}: {LEDGER_COLUMNS[index]} must be a whole number; found {value!r}")
