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
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity
from sopfin.plan.headers import header_key, key_name
from sopfin.plan.issue_log import IssueLog
from sopfin.plan.overflow import FIX, MAX_AMOUNT
from sopfin.plan.read import SheetGrid, read_numbers

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
    rows = _Rows(sheet)
    names = sheet.value_names
    figures, bad = _numbers(sheet.cells, np.array(rows.sheet_rows),
                            [layout.column_index(c) - 1 for c in sheet.value_cols], names,
                            layout.ACTUAL_COSTS, log)
    others = [j for j, n in enumerate(names) if n not in BLANK_MEANS_NOT_GIVEN]
    figures[:, others] = np.nan_to_num(figures[:, others], nan=0.0)
    with np.errstate(invalid="ignore"):
        out_of_range = (figures < 0) | (figures >= MAX_AMOUNT)
        overworked = figures[:, names.index("labour_hours_worked")] > \
            figures[:, names.index("labour_hours_paid")]
    keep = sheet.keep & ~bad.any(axis=1)
    months = [_month_of(text) for text in rows.month_texts]
    seen: dict[tuple[str, str], int] = {}
    families, horizon = set(known.families), set(known.months)
    flagged = np.asarray(out_of_range.any(axis=1), dtype=bool)
    for i in np.flatnonzero(keep).tolist():
        found = _key_issues(rows, i, months[i], known, (families, horizon), seen)
        if flagged[i]:
            found += [_size_issue(rows.value_cell(i, j), names[j], figures[i, j])
                      for j in np.flatnonzero(out_of_range[i]).tolist()]
        if overworked[i]:
            found.append(_overworked(rows, i, figures[i]))
        real = [x for x in found if x is not None]
        log.extend(real)
        keep[i] = not real
    picked = np.flatnonzero(keep).tolist()
    return ActualCosts(families=tuple(rows.families[i] for i in picked),
                       months=tuple(months[i] or "" for i in picked),
                       figures={n: figures[picked, j] for j, n in enumerate(names)},
                       where=tuple(rows.family_cell(i) for i in picked))


class _Rows:
    """The sheet's keys and cell addresses as plain lists."""

    def __init__(self, sheet: _Sheet) -> None:
        keys = sheet.keys
        self.families = [str(x) for x in keys["family"].tolist()]
        self.month_texts = [str(x) for x in keys["month"].tolist()]
        self.sheet_rows = [int(x) for x in keys["row"].tolist()]
        self.family_col, self.month_col = sheet.key_cols["Family"], sheet.key_cols["Month"]
        self.value_cols = sheet.value_cols
        self.names = sheet.value_names

    def family_cell(self, i: int) -> CellRef:
        return CellRef(layout.ACTUAL_COSTS, f"{self.family_col}{self.sheet_rows[i]}")

    def month_cell(self, i: int) -> CellRef:
        return CellRef(layout.ACTUAL_COSTS, f"{self.month_col}{self.sheet_rows[i]}")

    def value_cell(self, i: int, j: int) -> CellRef:
        return CellRef(layout.ACTUAL_COSTS, f"{self.value_cols[j]}{self.sheet_rows[i]}")


def _month_of(text: str) -> str | None:
    """'2027-03', or a date cell's '2027-03-01...', -> '2027-03'."""
    found = _MONTH_OR_DATE.match(text.strip())
    return found.group(1) if found else None


def _key_issues(rows: _Rows, i: int, month: str | None, known: _Known,
                sets: tuple[set[str], set[str]],
                seen: dict[tuple[str, str], int]) -> list[Issue | None]:
    """Family on Families, month in the horizon, (family, month) once."""
    families, horizon = sets
    family = rows.families[i]
    found = [known.family(family, rows.family_cell(i), IssueCode.UNKNOWN_FAMILY)
             if family not in families else None]
    if month not in horizon:
        text = rows.month_texts[i]
        found.append(Issue(IssueCode.MONTH_OUTSIDE_HORIZON, Severity.ERROR, rows.month_cell(i),
                           f"the month is {repr(text) if text else 'blank'}, not a month of "
                           f"the plan horizon ({known.months[0]} to {known.months[-1]})",
                           "type a closed month of the horizon as the text YYYY-MM"))
    elif (family, month) in seen:
        found.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR, rows.family_cell(i),
                           f"the family {family!r} already has actual costs for {month} on "
                           f"row {seen[(family, month)]}",
                           "merge the two rows into one, or correct the family or month"))
    else:
        seen[(family, month)] = rows.sheet_rows[i]
    return found


def _overworked(rows: _Rows, i: int, row: np.ndarray) -> Issue:
    worked = row[rows.names.index("labour_hours_worked")]
    paid = row[rows.names.index("labour_hours_paid")]
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                 rows.value_cell(i, rows.names.index("labour_hours_worked")),
                 f"labour hours worked ({worked:g}) exceed the hours paid ({paid:g})",
                 "correct the hours; leave LabourHoursWorked blank when every hour paid was "
                 "worked")


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
    flat = cells.ravel()
    kinds = np.fromiter(map(type, flat), dtype=object, count=flat.size)
    # Elementwise comparisons of the cells' types over an object array (not a type test).
    number = (kinds == float) | (kinds == int)  # noqa: E721
    blank = kinds == type(None)  # noqa: E721
    for k in np.flatnonzero(kinds == str).tolist():  # noqa: E721
        blank[k] = not flat[k].strip()
    values[blank.reshape(cells.shape)] = np.nan
    return values, ~(number | blank).reshape(cells.shape)


# ----------------------------------------------------------------------------- standards
def read_standards(grid: SheetGrid | None, plan: Plan, log: IssueLog) -> Standards | None:
    """The standards of each ``plan.std_cost`` row (all blank when StdCost has no standard
    column); None when the StdCost grid was not read."""
    if grid is None:
        return None
    rows = list(grid.rows)
    header = list(rows[0]) if rows else []
    width = next((i for i, v in enumerate(header) if v is None or not str(v).strip()),
                 len(header))
    at = {header_key(v): i for i, v in enumerate(header[:width])}
    cols = {key_name(h): at[header_key(h)] for h in layout.STD_COST_STANDARDS
            if header_key(h) in at}
    sheet_rows = plan.std_cost.keys["row"].astype(np.int64)
    if not cols:
        return Standards({key_name(h): np.full(len(sheet_rows), np.nan)
                          for h in layout.STD_COST_STANDARDS})
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
    family and element, at the first such cost cell. Nothing to say without the standards
    (StdCost not read)."""
    if costs is None or standards is None or not costs.families:
        return []
    rows = standards_in_force(plan, costs)
    out: list[Issue] = []
    told: set[tuple[str, str]] = set()
    for element, needs in ELEMENT_STANDARDS.items():
        complete = standards.complete(element, rows)
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
