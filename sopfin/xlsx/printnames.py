"""The print area and print titles of sopfin's sheets, as workbook-level defined names.

Excel keeps both as sheet-scoped built-in names in workbook.xml (``_xlnm.Print_Area`` and
``_xlnm.Print_Titles`` with ``localSheetId`` = the sheet's position). Every write replaces
the names of the sheets it writes: the old ones at those positions are removed (whoever wrote
them, sopfin or a spreadsheet application that re-saved the file) and the new ones added, so
a rewrite never duplicates them. Names of the user's sheets are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sopfin.layout import column_letter
from sopfin.sheetspec import PageSetup, SheetSpec, used_range
from sopfin.xlsx.package import prefix_of
from sopfin.xlsx.registry import _add_defined_names

PRINT_AREA = "_xlnm.Print_Area"
PRINT_TITLES = "_xlnm.Print_Titles"
PRINT_NAMES = (PRINT_AREA, PRINT_TITLES)


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def print_area(spec: SheetSpec, page: PageSetup) -> str | None:
    """The ``_xlnm.Print_Area`` formula: the page's area, else the used range."""
    box = page.area or used_range(spec.blocks)
    if box is None:
        return None
    r0, c0, r1, c1 = box
    return (f"{_quoted(spec.name)}!${column_letter(c0)}${r0}:"
            f"${column_letter(c1)}${r1}")


def print_titles(spec: SheetSpec, page: PageSetup) -> str | None:
    """The ``_xlnm.Print_Titles`` formula: title columns first, then title rows (as Excel
    writes it)."""
    parts = []
    if page.title_cols is not None:
        c0, c1 = page.title_cols
        parts.append(f"{_quoted(spec.name)}!${column_letter(c0)}:${column_letter(c1)}")
    if page.title_rows is not None:
        r0, r1 = page.title_rows
        parts.append(f"{_quoted(spec.name)}!${r0}:${r1}")
    return ",".join(parts) or None


def sheet_print_names(spec: SheetSpec) -> list[tuple[str, str]]:
    """(name, formula) of the print names the spec asks for."""
    if spec.page is None:
        return []
    out = [(PRINT_AREA, print_area(spec, spec.page)),
           (PRINT_TITLES, print_titles(spec, spec.page))]
    return [(name, formula) for name, formula in out if formula]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def replace_print_names(text: str, written: Mapping[int, SheetSpec]) -> str:
    """workbook.xml with the print names at the positions of ``written`` (position -> spec)
    replaced by what the specs ask for."""
    if not written:
        return text
    p = prefix_of(text, "workbook")
    text = _remove_print_names(text, p, set(written))
    names = "".join(
        f'<{p}definedName name="{name}" localSheetId="{position}">{_escape(formula)}'
        f"</{p}definedName>"
        for position, spec in sorted(written.items())
        for name, formula in sheet_print_names(spec))
    return _add_defined_names(text, p, names) if names else text


def _remove_print_names(text: str, p: str, positions: set[int]) -> str:
    ep = re.escape(p)
    element = re.compile(rf"<{ep}definedName(?=\s)([^>]*?)(?:/>|>(.*?)</{ep}definedName>)",
                         re.DOTALL)

    def visit(m: re.Match[str]) -> str:
        attrs = m.group(1)
        name = re.search(r'\sname="([^"]*)"', attrs)
        local = re.search(r'\slocalSheetId="(\d+)"', attrs)
        if (name is not None and local is not None and int(local.group(1)) in positions
                and name.group(1).lower() in {n.lower() for n in PRINT_NAMES}):
            return ""
        return m.group(0)

    return element.sub(visit, text)


def positions_of(specs: Sequence[SheetSpec], replaced: Mapping[str, int],
                 first_new: int) -> dict[int, SheetSpec]:
    """Position -> spec of every written sheet: replaced ones where they are, added ones
    after the ``first_new - 1`` sheets already listed, in the order given."""
    out: dict[int, SheetSpec] = {}
    added = 0
    for spec in specs:
        key = spec.name.casefold()
        if key in replaced:
            out[replaced[key]] = spec
        else:
            out[first_new + added] = spec
            added += 1
    return out
