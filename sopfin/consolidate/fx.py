"""The FX table: monthly average and closing rates from each functional currency to the
reporting currency, one row per currency and month.

    Currency | Month   | Average | Closing
    EUR      | 2027-01 |  1.0850 |  1.0910

A rate is how many units of the reporting currency one unit of the currency buys. The table
comes from a sheet ``FX`` of a workbook or from a CSV file with the same header; the file is
read at the edge (``sopfin.consolidate.sources``), the rows are parsed here. Every row that is
not a rate is an issue at its cell; the rows that are rates are kept.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.plan.settings import SettingValueError, parse_month

RATE_COLUMNS = ("currency", "month", "average", "closing")


@dataclass(frozen=True)
class FxTable:
    """The rates as a frame (columns ``RATE_COLUMNS``; a blank rate is NaN) and where the
    table came from, for messages."""

    rates: pd.DataFrame
    source: str = ""

    @classmethod
    def empty(cls) -> FxTable:
        return cls(pd.DataFrame({"currency": pd.Series(dtype=object),
                                 "month": pd.Series(dtype=object),
                                 "average": pd.Series(dtype="float64"),
                                 "closing": pd.Series(dtype="float64")}))


def _invalid(sheet: str, row: int, col: int, message: str, fix: str) -> Issue:
    return Issue(IssueCode.FX_RATE_INVALID, Severity.ERROR,
                 CellRef(sheet, layout.cell_name(row, col)), message, fix)


def _header_columns(header: Sequence[object]) -> dict[str, int]:
    names = [str(h).strip().casefold() if h is not None else "" for h in header]
    return {name: names.index(name) for name in RATE_COLUMNS if name in names}


def _rate(value: object) -> float | None:
    """A positive finite number, NaN for a blank cell, None for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).replace(",", "") if isinstance(value, str)
                       else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _month(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.date | str):
        try:
            return parse_month(value)
        except SettingValueError:
            return None
    return None


def parse_fx(rows: Sequence[Sequence[object]], sheet: str = layout.FX,
             source: str = "") -> tuple[FxTable, list[Issue]]:
    """Rows of an FX table, header first, -> the rates and an issue for every row that is no
    rate: a blank or unknown currency, a month not YYYY-MM, a rate that is not a positive
    number, a currency and month given twice."""
    if not rows or not _header_columns(rows[0]).keys() >= set(RATE_COLUMNS):
        found = ", ".join(str(h) for h in (rows[0] if rows else ()) if h is not None)
        return FxTable.empty(), [_invalid(
            sheet, 1, 1, f"the FX table needs the columns {', '.join(layout.FX_HEADERS)}; "
            f"found {found or 'no header'}",
            "put the header in row 1 and one rate per currency and month below it")]
    cols = _header_columns(rows[0])
    kept: dict[tuple[str, str], tuple[float, float]] = {}
    issues: list[Issue] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: (row[i] if i < len(row) else None) for name, i in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        issue, rate = _parse_row(cells, cols, sheet, number, kept)
        if issue is not None:
            issues.append(issue)
        elif rate is not None:
            kept[rate[0]] = rate[1]
    frame = pd.DataFrame([(c, m, a, z) for (c, m), (a, z) in kept.items()],
                         columns=list(RATE_COLUMNS))
    if frame.empty:
        return FxTable.empty(), issues
    return FxTable(frame.astype({"average": "float64", "closing": "float64"}), source), issues


def _parse_row(cells: dict[str, object], cols: dict[str, int], sheet: str, row: int,
               kept: dict[tuple[str, str], tuple[float, float]],
               ) -> tuple[Issue | None, tuple[tuple[str, str], tuple[float, float]] | None]:
    currency = str(cells["currency"] or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        return _invalid(sheet, row, cols["currency"] + 1,
                        f"expected a 3-letter currency code such as EUR, found "
                        f"{cells['currency']!r}", "type the ISO 4217 code"), None
    month = _month(cells["month"])
    if month is None:
        return _invalid(sheet, row, cols["month"] + 1,
                        f"expected a month as YYYY-MM, found {cells['month']!r}",
                        "type the month as text such as 2027-01"), None
    rates = []
    for name in ("average", "closing"):
        rate = _rate(cells[name])
        if rate is None:
            return _invalid(sheet, row, cols[name] + 1,
                            f"the {name} rate of {currency} {month} must be a positive number, "
                            f"found {cells[name]!r}",
                            f"type how many reporting-currency units one {currency} buys"), None
        rates.append(rate)
    if (currency, month) in kept:
        return _invalid(sheet, row, cols["currency"] + 1,
                        f"{currency} {month} is given twice", "keep one row per currency and "
                        "month"), None
    return None, ((currency, month), (rates[0], rates[1]))


def missing_rate_issue(unit: str, currency: str, month: str, kind: str, reporting: str,
                       source: str) -> Issue:
    """The error for a unit whose figures need a rate the FX table does not give."""
    where = CellRef(layout.FX) if source else CellRef(layout.SETTINGS)
    table = f"the FX table {source} has" if source else "no FX table was given (--fx): there is"
    return Issue(IssueCode.FX_RATE_MISSING, Severity.ERROR, where,
                 f"{table} no {kind} rate for {currency} {month} ({unit} plans in "
                 f"{currency}; the consolidation is in {reporting})",
                 f"add the row {currency} | {month} | average | closing to the FX table")
