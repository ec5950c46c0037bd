"""What goes through ``.api``, Excel's object model, which classic xlwings does not wrap:
one function per feature (tab colour, freeze panes, very hidden, protection, the row outline,
a bottom border, a hidden name), and nothing else in sopfin touches ``.api``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

XL_SHEET_VERY_HIDDEN = 2
VISIBILITY = {0: "hidden", XL_SHEET_VERY_HIDDEN: "veryHidden"}  # else visible (-1)
XL_EDGE_BOTTOM, XL_CONTINUOUS = 9, 1


def rgb(argb: str) -> tuple[int, int, int]:
    hex6 = argb[-6:]
    return int(hex6[0:2], 16), int(hex6[2:4], 16), int(hex6[4:6], 16)


def api_structure_protected(book: Any) -> bool:
    return bool(book.api.ProtectStructure)


def api_hide_name(name: Any) -> None:
    name.api.Visible = False


def api_tab_color(sheet: Any, argb: str) -> None:
    r, g, b = rgb(argb)
    sheet.api.Tab.Color = r + g * 256 + b * 65536  # Excel colours are BGR integers


def api_freeze(sheet: Any, rows: int, cols: int) -> None:
    sheet.activate()
    window = sheet.book.app.api.ActiveWindow
    window.FreezePanes = False
    window.SplitColumn = cols
    window.SplitRow = rows
    window.FreezePanes = True


def api_very_hidden(sheet: Any) -> None:
    sheet.api.Visible = XL_SHEET_VERY_HIDDEN


def api_protected(sheet: Any) -> bool:
    """Worksheet.ProtectContents; True when the platform's object model cannot tell, so
    verify never warns about protection it could not read."""
    try:
        value = sheet.api.ProtectContents
    except Exception:  # noqa: BLE001 - any COM/AppleScript failure means "unknown"
        return True
    return value if isinstance(value, bool) else True


def api_visibility(sheet: Any) -> str:
    return VISIBILITY.get(sheet.api.Visible, "visible")


def api_row_outline(sheet: Any, runs: Sequence[tuple[int, int, int]]) -> None:
    """The sheet's row groups, as the file's outlineLevel: a previous run's groups cleared,
    then each run of rows set to its level (Excel counts an ungrouped row as level 1, so a
    row at the file's level k is at OutlineLevel k + 1). Summary rows stay below their
    detail, Excel's default, as the P&L puts a department's total under its accounts."""
    sheet.api.Cells.ClearOutline()
    for first, last, level in runs:
        sheet.api.Rows(f"{first}:{last}").OutlineLevel = level + 1


def api_protect(sheet: Any) -> None:
    sheet.api.Protect(DrawingObjects=True, Contents=True, Scenarios=True)


def api_bottom_border(rng: Any) -> None:
    rng.api.Borders(XL_EDGE_BOTTOM).LineStyle = XL_CONTINUOUS
