"""The Recon tab's frame: its fixed rows and columns (the header block, the hidden helper and
hash columns, widths), how a value becomes a cell (``cell_value``: numbers as float, NaN as
empty, text as it reads back), and ``Tab``, the tab being laid out from a cursor."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sopfin import layout
from sopfin.money import to_cents
from sopfin.sheetspec import (
    Block,
    Link,
    Style,
)

HEADER_FIRST_ROW = 4


HEADER_LABELS = ("Version", "Cycle", "Status at publish", "Published (UTC)", "Author",
                 "Input hash", "Previous hash", "Own hash")


FULL_HASH_COL = 25  # Y, hidden: the hashes whole; column B shows their first characters


HELPER_COL = 20  # T..X, hidden: the waterfall's chart label, base, increase, decrease, total


HELPER_HEADERS = ("Chart label", "Waterfall base", "Increase", "Decrease", "Total")


HIDDEN_COLS = tuple(range(HELPER_COL, FULL_HASH_COL + 1))


OWN_HASH_ROW = HEADER_FIRST_ROW + HEADER_LABELS.index("Own hash")


RECON_HASH_CELL = layout.cell_name(OWN_HASH_ROW, FULL_HASH_COL)  # the own hash, whole


RECON_HASH_SHORT_CELL = layout.cell_name(OWN_HASH_ROW, 2)  # and its first characters


OWN_HASH_CELLS = (RECON_HASH_CELL, RECON_HASH_SHORT_CELL)  # the cells the hash cannot cover


BRIDGE_HEADERS = ("Line", "Amount", "Owner", "Note")


CHART_ANCHOR_COL, CHART_WIDTH, CHART_HEIGHT = 4, 8, 22  # E..L, 0-based columns, rows


PRINT_LAST_COL = 12  # L: the printed width (the widest summary table, the chart)


WIDTHS = {1: 34.0, 2: 18.0, 3: 16.0, 4: 28.0, **{c: 13.0 for c in range(5, 15)}}


GREEN, RED, BLUE = "FF70AD47", "FFC00000", "FF1F4E79"


SNAPSHOT_TITLE = "Plan of record"


SNAPSHOT_BAND = 12  # months per band of the snapshot: the tab stays left of the digest column


TAB_COLOR = "FF375623"


PVM_COLUMNS = ("price", "joint", "quantity", "mix", "mix_between", "mix_within", "volume",
               "cost", "total")


SCENARIO_LABELS = {
    "revenue": "Revenue", "budget_revenue": "Budget revenue", "revenue_gap": "Revenue gap",
    "gross_margin": "Gross margin", "budget_gross_margin": "Budget GM",
    "gross_margin_gap": "GM gap", "inventory_value": "Inventory (end)",
    "inventory_cash": "Inventory cash", "budget_inventory_cash": "Budget inventory cash",
    "cash_vs_budget": "Cash vs budget", "revenue_at_risk": "Revenue at risk",
}


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


MAX_TEXT = 32767


def written_text(text: str) -> str:
    """A string as it reads back from the workbook: XML-illegal characters dropped, line ends
    normalised (XML parsers turn CR LF into LF), Excel's 32,767-character limit applied."""
    text = ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:MAX_TEXT]


def cell_value(v: object) -> object:
    """A Python value for a cell: numbers as float, NaN as empty, text cleaned."""
    if type(v) is float or type(v) is np.float64:  # most cells; NaN and inf are empty
        number = float(v)
        return number if number - number == 0.0 else None
    if type(v) is str and v.isascii() and v.isprintable() and len(v) <= MAX_TEXT:
        return v or None  # nothing for written_text to clean
    if type(v).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if v is None or isinstance(v, (bool, np.bool_)):
        return None if v is None else bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        number = float(v)
        return number if math.isfinite(number) else None
    if isinstance(v, str):
        return written_text(v) or None
    return written_text(str(v)) or None


def money_cell(v: object) -> float | None:
    number = cell_value(v)
    return float(to_cents(number)) if isinstance(number, float) else None


@dataclass
class Tab:
    """The tab being laid out: blocks appended row by row from a cursor."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    cursor: int = 1
    links: list[Link] = field(default_factory=list)

    def row(self, values: Sequence[object], styles: Style | Sequence[Style | None] | None = None,
            row: int | None = None, col: int = 1) -> int:
        at = self.cursor if row is None else row
        cells = [cell_value(v) for v in values]
        if styles is None or isinstance(styles, Style):
            styles = [styles] * len(cells)
        self.blocks.append(Block(at, col, np.array([cells], dtype=object),
                                 style=np.array([list(styles)], dtype=object)))
        if row is None:
            self.cursor += 1
        return at

    def block(self, values: np.ndarray, styles: np.ndarray) -> None:
        """Rows of cells already as ``row`` takes them, from the cursor down, in column A on."""
        self.blocks.append(Block(self.cursor, 1, values, style=styles))
        self.cursor += len(values)

    def skip(self, n: int = 1) -> None:
        self.cursor += n

    def section(self, title: str, headers: Sequence[str]) -> None:
        self.row([title], Style.TITLE)
        self.row(headers, Style.HEADER_WRAP)

    def none(self, text: str = "none") -> None:
        self.row([text], Style.NOTE)

    def ref(self, col: int, first: int, last: int) -> str:
        letter = layout.column_letter(col)
        quoted = "'" + self.name.replace("'", "''") + "'"
        return f"{quoted}!${letter}${first}:${letter}${last}"


def money_text(amount: float, currency: str, signed: bool = False) -> str:
    """'$248.0M', '-$12.5K', 'EUR 950'; the sign leads, the symbol or code follows."""
    symbol = SYMBOLS.get(currency.upper(), f"{currency} " if currency else "")
    value = abs(float(to_cents(amount)))
    body = f"{math.floor(value + 0.5):,}"
    if math.floor(value + 0.5) >= 1000:
        for size, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "B")):
            tenths = math.floor(value / size * 10 + 0.5 + 1e-9)  # half away from zero
            body = f"{tenths / 10:,.1f}{suffix}"
            if tenths < 10_000:  # below 1,000.0 of this unit
                break
    sign = "-" if amount < 0 and body.strip("0.,KMB") else ("+" if signed and amount > 0 else "")
    return f"{sign}{symbol}{body}"
