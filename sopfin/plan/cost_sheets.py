"""The ActualCosts sheet and StdCost's standards -> records for the close's cost variances,
with every problem at its cell. Pure: it takes the grids the edge read.

* ActualCosts (optional; ``layout.ACTUAL_COSTS``): one row per family and closed month.
  ``Family`` must be on Families (``unknown-family``), ``Month`` a month of the horizon (text
  YYYY-MM or a date cell; ``month-outside-horizon``), each (family, month) once
  (``duplicate-row``). Figures are numbers (``not-a-number``, ``excel-error``), none below
  zero (``negative-value``) or of 1e15 and more (``number-too-large``); a blank figure is 0,
  except MaterialQtyPurchased (blank: the material price variance is taken at usage,
  MaterialCost being what the material used cost) and LabourHoursWorked (blank: the hours
  paid; more than the hours paid is ``value-invalid``). A row with an error is left out, and
  so is a row whose variances overflow (``number-too-large``).
* StdCost's optional standards (``layout.STD_COST_STANDARDS``), per StdCost row: numbers, none
  below zero or of 1e15 and more; blank is "not given". Where the standards give a cost per
  unit that differs from the row's Material, Labour or Overhead by more than a cent, a
  ``std-cost-mismatch`` warning at that cell (Overhead: LabourHours x VariableOverheadRate +
  FixedOverheadBudget / BudgetOutput, checked when all four are given). A FixedOverheadBudget
  with no BudgetOutput or LabourHours to absorb it over is ``value-invalid``.
* A family-month with a cost for an element whose standards are not all given in the StdCost
  row in force is a ``standard-missing`` warning (once per family and element): that
  element's variances are left out for the family.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sopfin import layout
from sopfin.close.cost_variances import (
    ELEMENT_COST,
    ELEMENT_STANDARDS,
    ActualCosts,
    Standards,
    cost_variances,
    standards_in_force,
)
from sopfin.layout import column_letter
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, XlError
from sopfin.plan.overflow import FIX, MAX_AMOUNT
from sopfin.plan.read import IssueLog, SheetGrid, header_key, key_name, read_numbers

if TYPE_CHECKING:
    from sopfin.plan.finance_sheets import _Known, _Sheet

BLANK_MEANS_NOT_GIVEN = ("material_qty_purchased", "labour_hours_worked")
MISMATCH_TOLERANCE = 0.01 + 1e-9  # a cent, and float64's dust
# key name -> header, for messages: 'units_produced' -> 'UnitsProduced'
HEADERS = {key_name(h): h for h in (*layout.STD_COST_STANDARDS,
                                    *layout.FINANCE_BY_NAME[layout.ACTUAL_COSTS].values)}
_MONTH_OR_DATE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))(?:-\d{2}(?:[T ].*)?)?$")


def read_costs(sheet: _Sheet | None, std_cost: SheetGrid | None, plan: Plan, known: _Known,
               log: IssueLog) -> tuple[ActualCosts | None, Standards | None]:
    """ActualCosts and StdCost's standards, checked; rows whose variances cannot be computed
    (an hour or output figure so small that they overflow) are errors and left out."""
    costs = read_actual_costs(sheet, known, log)
    standards = read_standards(std_cost, plan, log)
    log.extend(missing_standards(plan, costs, standards))
    if costs is None or standards is None:
        return costs, standards
    overflowing = _uncomputable(plan, costs, standards, range(len(costs.months)))
    log.extend([Issue(IssueCode.NUMBER_TOO_LARGE, Severity.ERROR, costs.where[i],
                      f"the cost variances of {costs.families[i]!r} in {costs.months[i]} "
                      "overflow: a figure of the row or of its StdCost standards is far too "
                      "large, or an hour or output figure far too small", FIX)
                for i in overflowing])
    return costs.without(overflowing), standards


def _uncomputable(plan: Plan, costs: ActualCosts, standards: Standards,
                  rows: Sequence[int]) -> list[int]:
    """The rows whose variances the engine refuses (all at once first, then one by one)."""
    try:
        cost_variances(plan, costs.only(rows), standards, plan.months)
        return []
    except ValueError:
        if len(rows) == 1:
            return list(rows)
        return [i for r in rows for i in _uncomputable(plan, costs, standards, [r])]


# ----------------------------------------------------------------------------- ActualCosts
def read_actual_costs(sheet: _Sheet | None, known: _Known, log: IssueLog) -> ActualCosts | None:
    """The sheet's clean rows; None when the sheet is absent or its header is broken."""
    if sheet is None:
        return None
    names = sheet.value_names
    figures, bad = _numbers(sheet.cells, sheet.keys["row"].to_numpy(),
                            [layout.column_index(c) - 1 for c in sheet.value_cols], names,
                            layout.ACTUAL_COSTS, log)
    others = [j for j, n in enumerate(names) if n not in BLANK_MEANS_NOT_GIVEN]
    figures[:, others] = np.nan_to_num(figures[:, others], nan=0.0)
    keep, months = sheet.keep & ~bad.any(axis=1), []
    seen: dict[tuple[str, str], int] = {}
    for i in range(len(keep)):
        month = _month_of(str(sheet.keys.at[i, "month"]))
        months.append(month or "")
        if not keep[i]:
            continue
        found = _row_issues(sheet, i, month, figures[i], known, seen)
        log.extend(found)
        keep[i] = not found
    rows = np.flatnonzero(keep)
    return ActualCosts(
        families=tuple(str(sheet.keys.at[i, "family"]) for i in rows),
        months=tuple(months[i] for i in rows),
        figures={n: figures[rows, j] for j, n in enumerate(names)},
        where=tuple(sheet.key_cell(int(i), "Family") for i in rows))


def _month_of(text: str) -> str | None:
    """'2027-03', or a date cell's '2027-03-01...', -> '2027-03'."""
    found = _MONTH_OR_DATE.match(text.strip())
    return found.group(1) if found else None


def _row_issues(sheet: _Sheet, i: int, month: str | None, row: np.ndarray, known: _Known,
                seen: dict[tuple[str, str], int]) -> list[Issue]:
    family = str(sheet.keys.at[i, "family"])
    found = [known.family(family, sheet.key_cell(i, "Family"), IssueCode.UNKNOWN_FAMILY)]
    if month not in known.months:
        text = str(sheet.keys.at[i, "month"])
        found.append(Issue(IssueCode.MONTH_OUTSIDE_HORIZON, Severity.ERROR,
                           sheet.key_cell(i, "Month"),
                           f"the month is {repr(text) if text else 'blank'}, not a month of "
                           f"the plan horizon ({known.months[0]} to {known.months[-1]})",
                           "type a closed month of the horizon as the text YYYY-MM"))
    elif (family, month) in seen:
        found.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR, sheet.key_cell(i, "Family"),
                           f"the family {family!r} already has actual costs for {month} on "
                           f"row {seen[(family, month)]}",
                           "merge the two rows into one, or correct the family or month"))
    else:
        seen[(family, month)] = int(sheet.keys["row"].to_numpy()[i])
    found += [_size_issue(sheet.value_cell(i, name), name, row[j])
              for j, name in enumerate(sheet.value_names)]
    paid = row[sheet.value_names.index("labour_hours_paid")]
    worked = row[sheet.value_names.index("labour_hours_worked")]
    if worked > paid:
        found.append(Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                           sheet.value_cell(i, "labour_hours_worked"),
                           f"labour hours worked ({worked:g}) exceed the hours paid ({paid:g})",
                           "correct the hours; leave LabourHoursWorked blank when every hour "
                           "paid was worked"))
    return [x for x in found if x is not None]


def _size_issue(where: CellRef, name: str, value: float) -> Issue | None:
    """Below zero, or too large to compute with to the cent: an error at the cell."""
    shown = HEADERS.get(name, name)
    if value < 0:
        return Issue(IssueCode.NEGATIVE_VALUE, Severity.ERROR, where,
                     f"{shown} cannot be negative, found {value:g}",
                     "enter 0 or a positive number")
    if value >= MAX_AMOUNT:
        return Issue(IssueCode.NUMBER_TOO_LARGE, Severity.ERROR, where,
                     f"expected a number below {MAX_AMOUNT:g} in size for {shown}, found "
                     f"{value:g}, too large to compute with to the cent", FIX)
    return None


def _numbers(cells: np.ndarray, sheet_rows: np.ndarray, cols: Sequence[int],
             names: Sequence[str], sheet: str, log: IssueLog) -> tuple[np.ndarray, np.ndarray]:
    """Figures (NaN where blank) and where a cell is no number (reported by read_numbers)."""
    values = read_numbers(cells, sheet_rows, cols, [HEADERS.get(n, n) for n in names], sheet,
                          log)
    kinds = np.vectorize(_kind, otypes=[object])(cells) if cells.size else \
        np.zeros(cells.shape, dtype=object)
    values[kinds == "blank"] = np.nan
    return values, kinds == "bad"


def _kind(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "blank"
    if isinstance(value, bool | XlError) or not isinstance(value, int | float):
        return "bad"
    return "number"


# ----------------------------------------------------------------------------- standards
def read_standards(grid: SheetGrid | None, plan: Plan, log: IssueLog) -> Standards | None:
    """The standards of each ``plan.std_cost`` row; None when StdCost has no standard column."""
    rows = list(grid.rows) if grid is not None else []
    header = list(rows[0]) if rows else []
    width = next((i for i, v in enumerate(header) if v is None or not str(v).strip()),
                 len(header))
    at = {header_key(v): i for i, v in enumerate(header[:width])}
    cols = {key_name(h): at[header_key(h)] for h in layout.STD_COST_STANDARDS
            if header_key(h) in at}
    if not cols:
        return None
    sheet_rows = plan.std_cost.keys["row"].to_numpy(dtype=np.int64)
    cells = np.empty((len(sheet_rows), len(cols)), dtype=object)
    for i, r in enumerate(sheet_rows.tolist()):
        line = list(rows[r - 1]) if r - 1 < len(rows) else []
        cells[i, :] = [line[c] if c < len(line) else None for c in cols.values()]
    names = list(cols)
    values, bad = _numbers(cells, sheet_rows, list(cols.values()), names, layout.STD_COST, log)
    values[bad] = np.nan
    for i, j in zip(*np.nonzero((values < 0) | (values >= MAX_AMOUNT)), strict=True):
        issue = _size_issue(_cell(cols[names[j]], sheet_rows[i]), names[j], values[i, j])
        log.extend([issue] if issue is not None else [])
        values[i, j] = np.nan
    figures = {n: values[:, names.index(n)] if n in cols else np.full(len(sheet_rows), np.nan)
               for n in (key_name(h) for h in layout.STD_COST_STANDARDS)}
    _absorption_issues(figures, cols, sheet_rows, log)
    log.extend(_mismatches(plan, figures, sheet_rows))
    return Standards(figures)


def _cell(col: int, row: int) -> CellRef:
    return CellRef(layout.STD_COST, f"{column_letter(col + 1)}{row}")


def _absorption_issues(figures: dict[str, np.ndarray], cols: dict[str, int],
                       sheet_rows: np.ndarray, log: IssueLog) -> None:
    """A fixed overhead budget needs an output and hours to absorb it over."""
    budget = figures["fixed_overhead_budget"]
    for name in ("budget_output", "labour_hours"):
        zero = (budget > 0) & (figures[name] == 0)
        for i in np.flatnonzero(zero).tolist():
            log.add(Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                          _cell(cols[name], int(sheet_rows[i])),
                          f"{HEADERS[name]} is 0, so the fixed overhead budget "
                          f"({budget[i]:g}) cannot be absorbed per unit",
                          "type the month's budgeted output and the labour hours per unit"))
        figures["fixed_overhead_budget"] = np.where(zero, np.nan, figures["fixed_overhead_budget"])


def _mismatches(plan: Plan, s: dict[str, np.ndarray], sheet_rows: np.ndarray) -> list[Issue]:
    """Where the standards give another cost per unit than Material, Labour or Overhead."""
    table = plan.std_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = {
            "material": s["material_qty"] * s["material_price"],
            "labour": s["labour_hours"] * s["labour_rate"],
            "overhead": s["labour_hours"] * s["variable_overhead_rate"]
            + s["fixed_overhead_budget"] / s["budget_output"],
        }
    out = []
    for name, standard in implied.items():
        given = table.values[:, table.value_names.index(name)] if len(table.values) else \
            np.zeros(0)
        off = np.isfinite(standard) & (np.abs(standard - given) > MISMATCH_TOLERANCE)
        for i in np.flatnonzero(off).tolist():
            out.append(Issue(IssueCode.STD_COST_MISMATCH, Severity.WARNING,
                             CellRef(layout.STD_COST, f"{table.value_col(name)}{sheet_rows[i]}"),
                             f"{name.capitalize()} is {given[i]:,.2f} per unit but its "
                             f"standards give {standard[i]:,.2f}",
                             "correct the standards or the cost per unit: the cost variances "
                             "are computed from the standards"))
    return out


# ----------------------------------------------------------------------------- coverage
def missing_standards(plan: Plan, costs: ActualCosts | None,
                      standards: Standards | None) -> list[Issue]:
    """A cost on ActualCosts whose element has no complete standards in force: once per
    family and element, at the first such cost cell."""
    if costs is None or not costs.families:
        return []
    rows = standards_in_force(plan, costs)
    out: list[Issue] = []
    told: set[tuple[str, str]] = set()
    for element, needs in ELEMENT_STANDARDS.items():
        complete = standards.complete(element, rows) if standards is not None else \
            np.zeros(len(rows), dtype=bool)
        spent = costs.figures[ELEMENT_COST[element]] > 0
        for i in np.flatnonzero(spent & ~complete).tolist():
            family = costs.families[i]
            key = (family, element if rows[i] >= 0 else "")  # no row: one warning in all
            if key in told:
                continue
            told.add(key)
            out.append(_missing(costs, i, element, needs, int(rows[i])))
    return out


def _missing(costs: ActualCosts, i: int, element: str, needs: Sequence[str],
             std_row: int) -> Issue:
    family, month = costs.families[i], costs.months[i]
    if std_row < 0:
        return Issue(IssueCode.STANDARD_MISSING, Severity.WARNING, costs.where[i],
                     f"the family {family!r} has actual costs in {month} but no StdCost row "
                     "in force, so its cost variances are left out",
                     "add a StdCost row for the family, with its standards")
    what = element.replace("_", " ")
    headers = ", ".join(h for h in layout.STD_COST_STANDARDS if key_name(h) in needs)
    return Issue(IssueCode.STANDARD_MISSING, Severity.WARNING, costs.where[i],
                 f"the family {family!r} has a {what} cost in {month} but its StdCost row "
                 f"in force does not give all of {headers}, so its {what} variances are left "
                 "out", f"fill in {headers} on StdCost for the family")
