"""The consolidated workbook's sheets as SheetSpecs: Summary, Bridge, Units and Issues.

Figures come from the fact store's queries, already in the reporting currency; the sheets
write them as cached values, with the gaps, the gross margin and the totals as formulas over
them, so the workbook recalculates to the same figures in any spreadsheet application.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sopfin import layout
from sopfin.model import Issue, Severity
from sopfin.sheetspec import Block, SheetSpec, Style

TITLE_ROW, STATUS_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 4, 5
TOTAL_LABEL = "Total"


@dataclass(frozen=True)
class Column:
    header: str
    field: str = ""  # the query's column; '' for a formula-only column
    formula: str = ""  # '%(r)d' is the row; letters name this sheet's columns
    total: str = "sum"  # 'sum' of the unit rows, 'same' formula as a row, '' nothing
    style: Style = Style.MONEY_WHOLE


SUMMARY_COLUMNS = (
    Column("Unit", "unit", style=Style.TEXT, total=""),
    Column("Currency", "currency", style=Style.TEXT, total=""),
    Column("Revenue", "revenue"),
    Column("Budget revenue", "budget_revenue"),
    Column("Revenue gap", "revenue_gap", "C%(r)d-D%(r)d", total="same"),
    Column("COGS", "cogs"),
    Column("Budget COGS", "budget_cogs"),
    Column("Gross margin", "gross_margin", "C%(r)d-F%(r)d", total="same"),
    Column("Budget gross margin", "budget_gross_margin", "D%(r)d-G%(r)d", total="same"),
    Column("Gross margin gap", "gross_margin_gap", "H%(r)d-I%(r)d", total="same"),
    Column("GM %", "gm_pct", 'IF(C%(r)d=0,"",H%(r)d/C%(r)d)', total="same",
           style=Style.PERCENT),
    Column("Units shipped", "units", style=Style.UNITS),
    Column("Budget units", "budget_units", style=Style.UNITS),
    Column("Inventory value (closing)", "inventory_value"),
    Column("Translation difference", "translation_difference"),
)
MONTH_COLUMNS = (
    Column("Month", "month", style=Style.TEXT, total=""),
    Column("Revenue", "revenue"),
    Column("Budget revenue", "budget_revenue"),
    Column("Revenue gap", "revenue_gap", "B%(r)d-C%(r)d", total="same"),
    Column("COGS", "cogs"),
    Column("Budget COGS", "budget_cogs"),
    Column("Gross margin", "gross_margin", "B%(r)d-E%(r)d", total="same"),
    Column("Inventory value (closing)", "inventory_value", total=""),
)
BRIDGE_COLUMNS = (
    Column("Unit", "unit", style=Style.TEXT, total=""),
    Column("Budget revenue", "budget_revenue"),
    Column("Price", "price"),
    Column("Quantity", "quantity"),
    Column("Mix", "mix"),
    Column("New families", "new"),
    Column("Discontinued families", "discontinued"),
    Column("Other", "other"),
    Column("Overrides", "overrides"),
    Column("Plan revenue", "plan_revenue"),
    Column("Check (0)", "check", "ROUND(B%(r)d+SUM(C%(r)d:I%(r)d)-J%(r)d,2)", total="same",
           style=Style.MONEY),
)
UNIT_COLUMNS = ("Unit", "File", "Currency", "Scenario", "First month", "Last month", "Status",
                "Latest version", "Version status", "Ledger head", "Issues", "Errors")
ISSUE_COLUMNS = ("Unit", "Severity", "Code", "Location", "Message", "Fix")


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()  # a numpy scalar
    return value


def table_blocks(columns: Sequence[Column], rows: Sequence[dict[str, object]], top: int,
                 total: dict[str, object] | None = None) -> tuple[list[Block], int]:
    """Header at ``top``, one row per record, then the total row (sums of the rows as
    formulas); returns the blocks and the next free row."""
    blocks = [Block(top, 1, [[c.header for c in columns]], style=Style.HEADER_WRAP)]
    first, last = top + 1, top + len(rows)
    records = list(rows) + ([total] if total is not None else [])
    for j, col in enumerate(columns):
        letter = layout.column_letter(j + 1)
        values, formulas = [], []
        for k, record in enumerate(records):
            r = first + k
            values.append([_cell(record.get(col.field))])
            is_total = total is not None and k == len(rows)
            if is_total and col.total == "sum":
                formulas.append([f"SUM({letter}{first}:{letter}{last})" if rows else None])
            elif col.formula and (not is_total or col.total == "same"):
                formulas.append([col.formula % {"r": r}])
            else:
                formulas.append([None])
        if records:
            bold = _bold(col.style)
            styles = [[bold if total is not None and k == len(rows) else col.style]
                      for k in range(len(records))]
            blocks.append(Block(first, j + 1, values, formulas=formulas, style=styles))
    return blocks, first + len(records) + 1


def _bold(style: Style) -> Style:
    return {Style.MONEY_WHOLE: Style.MONEY_WHOLE_BOLD, Style.MONEY: Style.MONEY_BOLD,
            Style.UNITS: Style.UNITS_BOLD, Style.PERCENT: Style.PERCENT_BOLD}.get(style,
                                                                                 Style.HEADER)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def with_derived(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Query rows plus the figures the sheet's formulas compute, as their cached values."""
    out = []
    for record in _records(frame):
        rev, cogs = record.get("revenue"), record.get("cogs")
        if rev is not None and "budget_revenue" in record:
            record["revenue_gap"] = rev - record["budget_revenue"]
        if rev is not None and cogs is not None:
            record["gross_margin"] = rev - cogs
        if "budget_gross_margin" in record and "gross_margin" in record:
            record["gross_margin_gap"] = record["gross_margin"] - record["budget_gross_margin"]
            record["gm_pct"] = record["gross_margin"] / rev if rev else None
        out.append(record)
    return out


def _split_total(rows: list[dict[str, object]],
                 ) -> tuple[list[dict[str, object]], dict[str, object] | None]:
    """The units' rows and the total row (the query's row without a unit)."""
    units = [r for r in rows if isinstance(r["unit"], str)]
    total = next((r for r in rows if not isinstance(r["unit"], str)), None)
    return units, total


def status_line(included: int, total: int, reporting: str) -> tuple[str, Style]:
    if included == total:
        return (f"Complete: all {total} business unit(s) included, in {reporting}.", Style.NOTE)
    return (f"INCOMPLETE: {total - included} of {total} business unit(s) left out of the "
            "figures for errors; see Units and Issues.", Style.ERROR)


def summary_sheet(summary: pd.DataFrame, monthly: pd.DataFrame, currencies: dict[str, str],
                  reporting: str, status: tuple[str, Style]) -> SheetSpec:
    units, total = _split_total(with_derived(summary))
    for r in units:
        r["currency"] = currencies.get(str(r["unit"]), "")
    if total is not None:
        total["unit"], total["currency"] = TOTAL_LABEL, reporting
    blocks = [Block(TITLE_ROW, 1, [[f"Consolidated plan against budget ({reporting})"]],
                    style=Style.TITLE),
              Block(STATUS_ROW, 1, [[status[0]]], style=status[1])]
    body, nxt = table_blocks(SUMMARY_COLUMNS, units, HEADER_ROW, total)
    blocks += body
    blocks.append(Block(nxt + 1, 1, [[f"By month, all included units ({reporting})"]],
                        style=Style.TITLE))
    by_month, _ = table_blocks(MONTH_COLUMNS, with_derived(monthly), nxt + 2)
    blocks += by_month
    return SheetSpec(layout.CONSOLIDATED_SUMMARY, blocks=tuple(blocks),
                     col_widths={1: 22.0, **{j: 15.0 for j in range(2, 16)}},
                     freeze=(HEADER_ROW, 1))


def bridge_sheet(bridge: pd.DataFrame, reporting: str) -> SheetSpec:
    units, total = _split_total(_records(bridge))
    for r in [*units, *([total] if total is not None else [])]:
        r["check"] = 0.0
    if total is not None:
        total["unit"] = TOTAL_LABEL
    blocks = [Block(TITLE_ROW, 1, [[f"Revenue bridge from budget to plan by business unit "
                                    f"({reporting})"]], style=Style.TITLE),
              Block(STATUS_ROW, 1, [["Budget + price + quantity + mix + new + discontinued "
                                     "+ other + overrides = plan, per unit."]],
                    style=Style.NOTE)]
    body, _ = table_blocks(BRIDGE_COLUMNS, units, HEADER_ROW, total)
    return SheetSpec(layout.CONSOLIDATED_BRIDGE, blocks=tuple(blocks + body),
                     col_widths={1: 22.0, **{j: 15.0 for j in range(2, 12)}},
                     freeze=(HEADER_ROW, 1))


def units_sheet(units: pd.DataFrame, status: tuple[str, Style]) -> SheetSpec:
    rows = []
    for u in units.to_dict("records"):
        state = "included" if u["included"] else "LEFT OUT: see Issues"
        rows.append([u["unit"], u["path"], u["currency"], u["scenario"], u["first_month"],
                     u["last_month"], state, u["version"], u["version_status"],
                     u["ledger_head"], int(u["issues"]), int(u["errors"])])
    blocks = [Block(TITLE_ROW, 1, [["Business units"]], style=Style.TITLE),
              Block(STATUS_ROW, 1, [[status[0]]], style=status[1]),
              Block(HEADER_ROW, 1, [list(UNIT_COLUMNS)], style=Style.HEADER)]
    if rows:
        blocks.append(Block(FIRST_ROW, 1, [[_cell(v) for v in r] for r in rows],
                            style=Style.TEXT))
    widths = {1: 22.0, 2: 40.0, 7: 22.0, 10: 66.0}
    return SheetSpec(layout.CONSOLIDATED_UNITS, blocks=tuple(blocks),
                     col_widths={j: widths.get(j, 13.0) for j in range(1, 13)},
                     freeze=(HEADER_ROW, 1))


def issues_sheet(issues: Sequence[tuple[str, Issue]]) -> SheetSpec:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1}
    ordered = sorted(issues, key=lambda ui: rank.get(ui[1].severity, 2))
    blocks = [Block(TITLE_ROW, 1, [["Issues of the business units and the FX table"]],
                    style=Style.TITLE),
              Block(HEADER_ROW, 1, [list(ISSUE_COLUMNS)], style=Style.HEADER)]
    if not ordered:
        blocks.append(Block(FIRST_ROW, 1, [["No issues: every unit passed every check."]],
                            style=Style.NOTE))
    else:
        blocks.append(Block(FIRST_ROW, 1, [[unit, i.severity.value, i.code.value,
                                            str(i.where), i.message, i.fix]
                                           for unit, i in ordered], style=Style.TEXT))
    return SheetSpec(layout.CONSOLIDATED_ISSUES, blocks=tuple(blocks),
                     col_widths={1: 22.0, 2: 10.0, 3: 22.0, 4: 18.0, 5: 90.0, 6: 60.0},
                     freeze=(HEADER_ROW, 0))
