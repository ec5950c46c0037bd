"""Writing a ``SheetSpec`` into a sheet open in Excel: each block in one assignment (values,
or formulas with the block's plain cells as constants), formats per block or per run of equal
styles, then the sheet's features through ``sopfin.excel.live_api``; and what to put back
when a write fails midway (``Undo``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from sopfin.excel.live_api import (
    api_bottom_border,
    api_freeze,
    api_protect,
    api_row_outline,
    api_tab_color,
    api_very_hidden,
    rgb,
)
from sopfin.excel.live_page import apply_page_setup
from sopfin.layout import cell_name
from sopfin.sheetspec import STYLE_FORMATS, Block, SheetSpec, Style

UNHASHED_PROTECTION = ("sheet '{}': protected without its password (Excel's object model "
                       "takes a password, not its hash)")


class Undo:
    """What to put back if a write fails midway."""

    def __init__(self) -> None:
        self.added: list[Any] = []
        self.kept: list[tuple[Any, str, Any]] = []

    def keep(self, sheet: Any) -> None:
        used = sheet.used_range
        self.kept.append((sheet, used.address, used.formula))

    def rollback(self) -> None:
        for sheet in reversed(self.added):
            sheet.delete()
        for sheet, address, formulas in self.kept:
            sheet.clear()
            sheet.range(address).formula = formulas


@contextmanager
def quiet_app(app: Any):
    """Screen updating and automatic calculation off while writing; restored after."""
    updating, calculation = app.screen_updating, app.calculation
    app.screen_updating = False
    app.calculation = "manual"
    try:
        yield
    finally:
        app.calculation = calculation
        app.screen_updating = updating


def _cell_value(v: Any) -> tuple[Any, bool]:
    """(what to assign, whether it needs ``.formula``) for one plain cell value."""
    if v is None:
        return None, False
    if isinstance(v, bool | np.bool_):
        return bool(v), False
    if isinstance(v, int | np.integer):
        return int(v), False
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return None, False
        if math.isinf(v):
            return "=#NUM!", True
        return float(v), False
    code = getattr(v, "code", None)
    if isinstance(code, str) and code.startswith("#"):
        return f"={code}", True  # an error constant can only be entered as a formula
    text = str(v)
    return (f"'{text}" if text else None), False


def block_payload(block: Block) -> tuple[str, list[list[Any]]]:
    """('value' | 'formula', the 2-D list to assign to the block's range in one go)."""
    values = np.asarray(block.values, dtype=object)
    formulas = None if block.formulas is None else np.asarray(block.formulas, dtype=object)
    grid, needs_formula = [], formulas is not None
    for i, row in enumerate(values.tolist()):
        out = []
        for j, v in enumerate(row):
            f = formulas[i, j] if formulas is not None else None
            if isinstance(f, str) and f:
                out.append(f if f.startswith("=") else f"={f}")
                continue
            cell, as_formula = _cell_value(v)
            needs_formula |= as_formula
            out.append(cell)
        grid.append(out)
    return ("formula" if needs_formula else "value"), grid


def write_sheet(sheet: Any, spec: SheetSpec) -> list[str]:
    warnings = []
    for block in spec.blocks:
        shape = np.asarray(block.values, dtype=object).shape
        if not shape[0] or not shape[1]:
            continue
        rng = sheet.range((block.row, block.col),
                          (block.row + shape[0] - 1, block.col + shape[1] - 1))
        kind, grid = block_payload(block)
        if kind == "formula":
            rng.formula = grid
        else:
            rng.value = grid
        _format_block(sheet, block, shape)
    for col, width in spec.col_widths.items():
        sheet.range((1, col)).column_width = width
    for col in spec.hidden_cols:
        sheet.range((1, col)).column_width = 0  # a column of width 0 is hidden
    shown = _cell_texts(spec)
    for link in spec.links:
        sheet.range(link.cell).add_hyperlink(f"#{link.target}", shown.get(
            link.cell.replace("$", "").upper(), link.target), link.tooltip or None)
    api_row_outline(sheet, outline_runs(spec.row_outline))
    if spec.tab_color:
        api_tab_color(sheet, spec.tab_color)
    if spec.freeze and any(spec.freeze):
        sheet.visible = True  # only a visible sheet can be activated to freeze its panes
        api_freeze(sheet, *spec.freeze)
    if spec.state == "hidden":
        sheet.visible = False
    elif spec.state == "veryHidden":
        api_very_hidden(sheet)
    else:
        sheet.visible = True
    if spec.protection is not None:
        api_protect(sheet)
        if spec.protection.hash_value:
            warnings.append(UNHASHED_PROTECTION.format(spec.name))
    if spec.charts:
        warnings.append(f"sheet '{spec.name}': {len(spec.charts)} chart(s) not drawn in the "
                        "open workbook; run the file path (sopfin CLI) for charts")
    if spec.page is not None:
        warnings += apply_page_setup(sheet, spec)
    return warnings


def outline_runs(row_outline: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """A sheet's row outline (row -> level) as runs of consecutive rows at one level:
    (first row, last row, level)."""
    runs: list[tuple[int, int, int]] = []
    for row in sorted(row_outline):
        level = row_outline[row]
        if runs and runs[-1][1] == row - 1 and runs[-1][2] == level:
            runs[-1] = (runs[-1][0], row, level)
        else:
            runs.append((row, row, level))
    return runs


def _cell_texts(spec: SheetSpec) -> dict[str, str]:
    """Cell ref -> text of the cells that carry a link (what the link shows)."""
    wanted = {link.cell.replace("$", "").upper() for link in spec.links}
    out: dict[str, str] = {}
    for block in spec.blocks:
        for i, row in enumerate(np.asarray(block.values, dtype=object).tolist()):
            for j, v in enumerate(row):
                ref = cell_name(block.row + i, block.col + j)
                if ref in wanted and v is not None:
                    out[ref] = str(v)
    return out


def _format_block(sheet: Any, block: Block, shape: tuple[int, int]) -> None:
    if block.style is None:
        return
    if isinstance(block.style, Style):
        runs = [(block.row, block.col, block.row + shape[0] - 1, block.col + shape[1] - 1,
                 block.style)]
    else:
        runs = _style_runs(block)
    for r0, c0, r1, c1, style in runs:
        _apply_style(sheet.range((r0, c0), (r1, c1)), style)


def _style_runs(block: Block) -> list[tuple[int, int, int, int, Style]]:
    """Per-cell styles as rectangles: runs of one style along a row, merged down columns
    where consecutive rows have the same run."""
    runs: list[tuple[int, int, int, int, Style]] = []
    open_runs: dict[tuple[int, int, Style], int] = {}
    styles = np.asarray(block.style, dtype=object).tolist()
    for i, row in enumerate(styles + [[]]):
        here: list[tuple[int, int, Style]] = []
        j = 0
        while j < len(row):
            k = j
            while k + 1 < len(row) and row[k + 1] == row[j]:
                k += 1
            if row[j] is not None:
                here.append((j, k, Style(row[j])))
            j = k + 1
        for key in list(open_runs):
            if key not in here:
                top = open_runs.pop(key)
                runs.append((block.row + top, block.col + key[0], block.row + i - 1,
                             block.col + key[1], key[2]))
        for key in here:
            open_runs.setdefault(key, i)
    return runs


def _apply_style(rng: Any, style: Style) -> None:
    fmt = STYLE_FORMATS[style]
    if "num_fmt" in fmt:
        rng.number_format = fmt["num_fmt"]
    if fmt.get("bold"):
        rng.font.bold = True
    if fmt.get("italic"):
        rng.font.italic = True
    if "size" in fmt:
        rng.font.size = fmt["size"]
    if "color" in fmt:
        rng.font.color = rgb(fmt["color"])
    if "fill" in fmt:
        rng.color = rgb(fmt["fill"])
    if "align" in fmt:
        rng.horizontal_alignment = fmt["align"]
    if fmt.get("border_bottom"):
        api_bottom_border(rng)
