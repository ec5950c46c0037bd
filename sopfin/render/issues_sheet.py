"""The Issues sheet: every open issue with a link to its cell, or one row saying there are
none. The sheet always exists once sopfin has run, so a clean plan shows that it is clean.
"""

from __future__ import annotations

from collections.abc import Sequence

from sopfin import layout
from sopfin.model import CellRef, Issue, Severity
from sopfin.render.refs import sheet_prefix
from sopfin.sheetspec import Block, Link, SheetSpec, Style

HEADERS = ("Severity", "Code", "Location", "Message", "Fix")
TITLE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3
LOCATION_COL = HEADERS.index("Location") + 1
NO_ISSUES = "No open issues: the plan passed every check."
WIDTHS = {1: 10.0, 2: 26.0, 3: 22.0, 4: 80.0, 5: 60.0}


def link_target(where: CellRef) -> str:
    """Hyperlink target of an issue's location: the cell, or A1 of a sheet-wide issue."""
    return f"{sheet_prefix(where.sheet)}{where.cell or 'A1'}"


def _order(issues: Sequence[Issue]) -> list[Issue]:
    """Errors first, then warnings, each in the order they were found."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1}
    return sorted(issues, key=lambda i: rank.get(i.severity, 2))


def render_issues(issues: Sequence[Issue], title: str) -> SheetSpec:
    blocks = [Block(TITLE_ROW, 1, [[title]], style=Style.TITLE),
              Block(HEADER_ROW, 1, [list(HEADERS)], style=Style.HEADER)]
    if not issues:
        blocks.append(Block(FIRST_ROW, 1, [[NO_ISSUES]], style=Style.NOTE))
        return SheetSpec(layout.ISSUES, blocks=tuple(blocks), owned=True, col_widths=WIDTHS,
                         freeze=(HEADER_ROW, 0))
    ordered = _order(issues)
    severity_styles = [[Style.ERROR if i.severity is Severity.ERROR else Style.WARNING]
                       for i in ordered]
    blocks.append(Block(FIRST_ROW, 1, [[i.severity.value] for i in ordered],
                        style=severity_styles))
    blocks.append(Block(FIRST_ROW, 2, [[i.code.value] for i in ordered], style=Style.TEXT))
    blocks.append(Block(FIRST_ROW, LOCATION_COL, [[str(i.where)] for i in ordered],
                        style=Style.LINK))
    blocks.append(Block(FIRST_ROW, LOCATION_COL + 1, [[i.message, i.fix] for i in ordered],
                        style=Style.TEXT))
    col = layout.column_letter(LOCATION_COL)
    links = [Link(f"{col}{FIRST_ROW + k}", link_target(i.where), f"Go to {i.where}")
             for k, i in enumerate(ordered) if isinstance(i.where, CellRef) and i.sheet]
    return SheetSpec(layout.ISSUES, blocks=tuple(blocks), owned=True, col_widths=WIDTHS,
                     freeze=(HEADER_ROW, 0), links=tuple(links))
