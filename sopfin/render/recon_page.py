"""The Recon tab as a reader meets it, on screen and on paper: hashes shown short with the
full value one click away, long labels wrapped, the waterfall's value axis honest about where
it starts, and the rows that print.

Pure layout helpers for ``sopfin.render.recon``; nothing here changes what the tab says.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np

from sopfin import layout
from sopfin.sheetspec import STYLE_FORMATS, Block, Link, Style

HASH_PREFIX = 12  # hex characters of a hash shown in the visible cell
CHART_LABEL_WIDTH, CHART_LABEL_LINES = 16, 3  # characters per line of a chart category
LINE_HEIGHT = 15.0  # points per line of wrapped text (Calibri 11)
MAX_ROW_HEIGHT = 409.0  # Excel's limit
WIDTH_SLACK = 1.15  # characters of text per character of column width, conservatively
WRAPPED = frozenset(s for s, fmt in STYLE_FORMATS.items() if fmt.get("wrap"))


def short_hash(value: str) -> str:
    """'bd4de2af462e…' for a hash; anything short enough is shown whole."""
    return value if len(value) <= HASH_PREFIX + 1 else f"{value[:HASH_PREFIX]}…"


def hash_link(sheet: str, row: int, short_col: int, full_col: int, value: str) -> Link:
    """A link from the short hash to the cell holding it whole, which shows in the formula
    bar once selected; the tooltip shows it on hover."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    return Link(layout.cell_name(row, short_col),
                f"{quoted}!{layout.cell_name(row, full_col)}", f"full hash: {value}")


def chart_label(label: str) -> str:
    """A bridge line's label for the chart's category axis: wrapped on words into short
    lines; a label longer than the lines allow ends in '…' (the bridge table has it whole)."""
    lines = textwrap.wrap(label, CHART_LABEL_WIDTH) or [""]
    if len(lines) > CHART_LABEL_LINES:
        lines = lines[:CHART_LABEL_LINES]
        lines[-1] = lines[-1][:CHART_LABEL_WIDTH - 1] + "…"
    return "\n".join(lines)


def axis_floor(levels: Sequence[float]) -> float | None:
    """Where the waterfall's value axis starts: 0 when the bars' levels reach zero or the
    steps are large against them; else a round number below the lowest level, so that the
    steps can be seen (the axis is then marked as not starting at zero). None: no levels."""
    if not levels:
        return None
    low, high = min(levels), max(levels)
    if low <= 0 or high == low or high - low >= low / 2:
        return 0.0
    step = 10.0 ** math.floor(math.log10(high - low))
    return max(0.0, math.floor((low - (high - low) / 2) / step) * step)


def wrapped_heights(blocks: Sequence[Block], widths: Mapping[int, float],
                    default_width: float = 8.7) -> dict[int, float]:
    """Row heights (points) for rows whose wrapped cells need more than one line."""
    lines: dict[int, int] = {}
    for block in blocks:
        if block.style is None or isinstance(block.style, Style):
            if block.style not in WRAPPED:
                continue
            styles = None
        else:
            styles = np.asarray(block.style, dtype=object)
            if WRAPPED.isdisjoint(styles.ravel().tolist()):
                continue
        values = np.asarray(block.values, dtype=object)
        for (i, j), value in np.ndenumerate(values):
            if not isinstance(value, str) or (styles is not None and styles[i, j] not in WRAPPED):
                continue
            width = widths.get(block.col + j, default_width) * WIDTH_SLACK
            needed = sum(max(1, math.ceil(len(part) / max(width - 1, 1.0)))
                         for part in value.split("\n"))
            row = block.row + i
            lines[row] = max(lines.get(row, 1), needed)
    return {row: min(MAX_ROW_HEIGHT, n * LINE_HEIGHT) for row, n in lines.items() if n > 1}


def last_row_before(blocks: Sequence[Block], row: int) -> int:
    """The last row, above ``row``, that holds a block."""
    ends = [b.row + b.shape[0] - 1 for b in blocks if b.row < row]
    return max(ends, default=1)
