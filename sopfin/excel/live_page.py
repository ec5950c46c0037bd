"""A SheetSpec's page setup on a sheet open in Excel, through Excel's ``PageSetup`` object.

Best effort: the object model is Excel's (Windows COM; on macOS xlwings hands over an
AppleScript reference that does not take these assignments), so any failure is reported as a
warning and the sheet stays written without a page setup. Setting ``PrintArea`` and
``PrintTitleRows``/``PrintTitleColumns`` makes Excel write the sheet's ``_xlnm.Print_Area``
and ``_xlnm.Print_Titles`` names itself, replacing the old ones.
"""

from __future__ import annotations

import re
from typing import Any

from sopfin.layout import column_letter
from sopfin.sheetspec import PageSetup, SheetSpec, used_range

XL_PORTRAIT, XL_LANDSCAPE = 1, 2
_SECTION = re.compile(r"&([LCR])")


def header_sections(text: str) -> dict[str, str]:
    """'&Lleft&Ccentre&Rright' -> {'L': 'left', 'C': 'centre', 'R': 'right'}; text before any
    section code is centred, as Excel does; '&&' (a literal '&') is kept."""
    out = {"L": "", "C": "", "R": ""}
    current, start, i = "C", 0, 0
    while i < len(text):
        if text.startswith("&&", i):
            i += 2
            continue
        m = _SECTION.match(text, i)
        if m is not None:
            out[current] += text[start:i]
            current, start = m.group(1), m.end()
            i = m.end()
            continue
        i += 1
    out[current] += text[start:]
    return out


def apply_page_setup(sheet: Any, spec: SheetSpec) -> list[str]:
    """Apply ``spec.page`` to ``sheet``; warnings for what Excel did not take."""
    page = spec.page
    if page is None:
        return []
    try:
        _api_page_setup(sheet, page, used_range(spec.blocks))
    except Exception as exc:  # noqa: BLE001 (any object-model failure is reported, not raised)
        return [f"sheet '{spec.name}': page setup not applied in the open workbook ({exc}); "
                "run the file path (sopfin CLI) for it"]
    return []


def _api_page_setup(sheet: Any, page: PageSetup,
                    used: tuple[int, int, int, int] | None) -> None:
    setup = sheet.api.PageSetup
    setup.Orientation = XL_LANDSCAPE if page.landscape else XL_PORTRAIT
    setup.Zoom = False  # required before FitToPagesWide/Tall take effect
    setup.FitToPagesWide = page.fit_width or False
    setup.FitToPagesTall = page.fit_height or False
    area = page.area or used
    if area is not None:
        r0, c0, r1, c1 = area
        setup.PrintArea = f"${column_letter(c0)}${r0}:${column_letter(c1)}${r1}"
    if page.title_rows is not None:
        setup.PrintTitleRows = f"${page.title_rows[0]}:${page.title_rows[1]}"
    if page.title_cols is not None:
        c0, c1 = page.title_cols
        setup.PrintTitleColumns = f"${column_letter(c0)}:${column_letter(c1)}"
    for where, text in (("Header", page.header), ("Footer", page.footer)):
        for code, part in header_sections(text).items():
            side = {"L": "Left", "C": "Center", "R": "Right"}[code]
            setattr(setup, f"{side}{where}", part)
