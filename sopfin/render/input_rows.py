"""The ``_Inputs`` sheet: very hidden, rewritten at every close, a short digest of each
non-empty row of each input sheet as the latest version was published on.

Row 1 holds ``INPUT_ROWS_MARKER`` and the inputs hash of that version; each further row a
sheet name and up to ``PER_CELL`` ``row:digest`` pairs (a sheet with more rows continues on
the next row). The ledger entry's ``input_sheets`` is the authority (it is hashed and signed);
these digests only say which rows of a changed sheet differ, so a wrong or missing sheet can
only make verify name fewer rows, never hide a change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from sopfin import layout
from sopfin.sheetspec import Block, SheetSpec, Style

INPUT_ROWS_MARKER = "sopfin-input-rows/1"
PER_CELL = 1500  # 'row:digest ' pairs per cell: at most 17 characters each, under 32,767
_PAIR = re.compile(r"^([1-9][0-9]{0,6}):([0-9a-f]{8})$")


def render_input_rows(inputs_hash: str, rows: Mapping[str, Mapping[int, str]]) -> SheetSpec:
    lines: list[list[object]] = [[INPUT_ROWS_MARKER, inputs_hash]]
    for sheet in sorted(rows):
        pairs = [f"{r}:{d}" for r, d in sorted(rows[sheet].items())]
        for start in range(0, len(pairs), PER_CELL):
            lines.append([sheet, " ".join(pairs[start:start + PER_CELL])])
    return SheetSpec(layout.INPUT_ROWS, [Block(1, 1, np.array(lines, dtype=object),
                                               style=Style.TEXT)],
                     owned=True, state="veryHidden")


def parse_input_rows(grid: Sequence[Sequence[object]],
                     ) -> tuple[str, dict[str, dict[int, str]]] | None:
    """(inputs hash, {sheet: {row: digest}}) from the sheet's raw rows; None if unreadable."""
    if not grid or len(grid[0]) < 2 or grid[0][0] != INPUT_ROWS_MARKER:
        return None
    out: dict[str, dict[int, str]] = {}
    for line in grid[1:]:
        if len(line) < 2 or not isinstance(line[0], str) or not isinstance(line[1], str):
            continue
        for pair in line[1].split():
            match = _PAIR.match(pair)
            if match is None:
                return None
            out.setdefault(line[0], {})[int(match.group(1))] = match.group(2)
    return str(grid[0][1]), out
