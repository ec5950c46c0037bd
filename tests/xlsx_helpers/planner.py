"""Edits a planner makes in a spreadsheet program, made with openpyxl (which, like Excel, saves
the whole file again)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from sopfin import layout


def add_family(path: Path, old: str = "PMP-100", new: str = "PMP-099") -> None:
    """A copy of family ``old``'s rows on every input sheet, appended under the name ``new``."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.title not in layout.INPUT_SHEET_NAMES:
            continue
        header = [c.value for c in ws[1]]
        if "Family" not in header:
            continue
        at = header.index("Family")
        for row in list(ws.iter_rows(min_row=2, values_only=True)):
            if row[at] == old:
                ws.append([new if v == old else v for v in row])
    wb.save(path)


def type_over(path: Path, edits: dict[tuple[str, str], object]) -> dict[str, object]:
    """Type values over cells (sheet, cell) and save; returns {'Sheet!A1': what was there}."""
    wb = openpyxl.load_workbook(path)
    before = {}
    for (sheet, cell), value in edits.items():
        before[f"{sheet}!{cell}"] = wb[sheet][cell].value
        wb[sheet][cell] = value
    wb.save(path)
    return before
