"""``sopfin allocate``: a top-down amount spread over the families' Budget rows (or, for opex,
the departments' and their accounts') in proportion to a driver, for the months of a window,
to the cent; written as Budget cells (or shown).

read the plan -> the driver's weights per family (department) and month -> ``sopfin.allocate``
(largest remainder; for departments then over each one's accounts,
``sopfin.imports.department_allocation``) -> place the lines on Budget (the window's months of
that measure replaced) -> write, or with ``dry_run`` only say what would change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sopfin import layout
from sopfin.close.window import WindowError, parse_window
from sopfin.engine.allocate import allocate, allocate_to_lines
from sopfin.engine.dollarize import dollarize
from sopfin.imports.command import (
    RECORDED,
    ImportUsageError,
    SheetWrite,
    read_once,
    write_placement,
)
from sopfin.imports.department_allocation import (
    DEPARTMENT_DRIVERS,
    department_weights,
    driver_cell,
)
from sopfin.imports.origin import Origin
from sopfin.imports.placement import place_import
from sopfin.imports.transform import ImportLine, ImportResult
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, has_errors
from sopfin.pipeline import check_with_finance
from sopfin.workbook import WorkbookSnapshot

DRIVERS = ("equal", "budget_units", "revenue", "prior_actuals")
MEASURES = layout.BUDGET_MEASURES
TARGETS = ("families", "departments")


@dataclass
class AllocationOutcome(SheetWrite):
    workbook: Path
    amount: float
    measure: str
    driver: str
    window: str = ""
    months: tuple[str, ...] = ()
    # family (department) -> month -> cents
    cells: dict[str, dict[str, float]] = field(default_factory=dict)
    to: str = "families"
    # departments: department -> account -> month -> cents
    accounts: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


def run_allocate(workbook: str | Path, *, amount: float, measure: str, to: str, by: str,
                 window: str = "Horizon", dry_run: bool = False,
                 origin: Origin | None = None) -> AllocationOutcome:
    """Allocate ``amount``; unless ``dry_run`` write the Budget cells and record the write on
    ``_Imports`` as ``origin`` says (default: ``sopfin allocate`` by the OS user)."""
    workbook = Path(workbook)
    _check_usage(measure, to, by)
    out = AllocationOutcome(workbook, amount, measure, by, to=to)
    with read_once(workbook) as book:
        _allocate(out, book, window, dry_run, origin or Origin(command="allocate"))
    return out


def _check_usage(measure: str, to: str, by: str) -> None:
    """The combinations allocate refuses before reading anything (``ImportUsageError``)."""
    if to not in TARGETS:
        raise ImportUsageError(f"--to {to!r}: allocate to {' or '.join(TARGETS)}")
    if to == "departments" and measure != layout.OPEX_MEASURE:
        raise ImportUsageError(f"--measure {measure!r} --to departments: departments carry "
                               "opex; use --measure opex, or --to families")
    if to == "families" and measure not in MEASURES:
        raise ImportUsageError(f"--measure {measure!r}: Budget rows by family take "
                               f"{', '.join(MEASURES)}"
                               + ("; opex goes --to departments" if measure == "opex" else ""))
    drivers = DEPARTMENT_DRIVERS if to == "departments" else DRIVERS
    if by not in drivers:
        raise ImportUsageError(f"--by {by!r}: drivers to {to} are {', '.join(drivers)}")


def _allocate(out: AllocationOutcome, book: WorkbookSnapshot, window: str, dry_run: bool,
              origin: Origin) -> None:
    amount, measure, by = out.amount, out.measure, out.driver
    read = check_with_finance(book)
    if read.plan is None or has_errors(read.issues):
        out.issues = list(read.issues)
        return
    plan = read.plan
    by_channel = _budget_by_channel(plan)
    if by_channel is not None:
        out.issues.append(by_channel)
        return
    try:
        win = parse_window(window, plan.months, plan.settings.fiscal_year_start,
                           plan.settings.current_cycle)
    except WindowError as exc:
        raise ImportUsageError(str(exc)) from None
    out.window, out.months = win.label, win.months
    if out.to == "departments":
        if plan.opex is None or not len(plan.opex):
            raise ImportUsageError("allocating opex to departments needs an Opex sheet with "
                                   "the departments' lines, and this workbook has none")
        lines = _department_lines(out, plan, read, win.months)
        key_names: tuple[str, ...] = ("family", "measure", "department", "account")
    else:
        lines = _family_lines(out, plan, read, win.months)
        key_names = ("family", "measure")
    if lines is None:
        return
    result = ImportResult(f"allocate {amount:,.2f} by {by}", "", layout.BUDGET,
                          key_names, lines=lines, months=win.months,
                          totals={measure: sum(ln.value for ln in lines)})
    budget = read.raw.get(layout.BUDGET)
    if budget is None:
        out.issues.append(Issue(IssueCode.MISSING_SHEET, Severity.ERROR, CellRef(layout.BUDGET),
                                "the workbook has no sheet 'Budget'", "add it (sopfin init)"))
        return
    out.placement, issues = place_import(budget.rows, result, plan.months)
    out.issues += issues
    if out.placement is None or has_errors(out.issues) or dry_run:
        return
    write_placement(out, book, layout.BUDGET, result, origin,
                    len({ln.keys for ln in lines}))


def _family_lines(out: AllocationOutcome, plan: Plan, read: object, months: tuple[str, ...]
                  ) -> tuple[ImportLine, ...] | None:
    """The families' Budget cells, by the driver; None with the issue when it cannot."""
    weights = _weights(plan, read, out.driver, months, out.measure)
    try:
        out.cells = allocate(out.amount, weights, months)  # type: ignore[assignment]
    except ValueError as exc:
        out.issues.append(_cannot(out.driver, exc, CellRef(layout.BUDGET)))
        return None
    return tuple(ImportLine((family, out.measure), m, v)
                 for family, row in out.cells.items() for m, v in row.items())


def _department_lines(out: AllocationOutcome, plan: Plan, read: object,
                      months: tuple[str, ...]) -> tuple[ImportLine, ...] | None:
    """The departments' opex Budget cells, a row per department and account (Family blank),
    by the driver; None with the issue when it cannot."""
    opex_actuals = getattr(getattr(read, "finance", None), "opex_actuals", None)
    weights = department_weights(plan, opex_actuals, out.driver, months)
    if isinstance(weights, Issue):
        out.issues.append(weights)
        return None
    try:
        out.accounts = allocate_to_lines(out.amount, weights.departments, weights.accounts,
                                         months)
    except ValueError as exc:
        out.issues.append(_cannot(out.driver, exc, driver_cell(plan, out.driver)))
        return None
    out.cells = {dept: {m: round(sum(row[m] for row in accounts.values()), 2) for m in months}
                 for dept, accounts in out.accounts.items()}
    return tuple(ImportLine(("", out.measure, dept, account), m, v)
                 for dept, accounts in out.accounts.items()
                 for account, row in accounts.items() for m, v in row.items())


def _cannot(by: str, exc: ValueError, where: CellRef) -> Issue:
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR, where,
                 f"cannot allocate by {by}: {exc}",
                 "choose another driver (--by equal always works)")


def _budget_by_channel(plan: Plan) -> Issue | None:
    """Allocation writes Budget rows by family: a Budget with a Channel column would need a
    row per family and channel, which allocate does not choose for the user."""
    budget = plan.budget
    if "channel" not in budget.key_names:
        return None
    column = budget.key_cols[budget.key_names.index("channel")]
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR, CellRef(layout.BUDGET, f"{column}1"),
                 "allocate writes Budget rows by family, and this Budget has a Channel column: "
                 "the amount would need splitting over channels as well",
                 "allocate into a copy whose Budget is by family, or enter the channel rows on "
                 "Budget (or import them with sopfin import)")


def _weights(plan: Plan, read: object, by: str, months: tuple[str, ...], measure: str
             ) -> dict[str, list[float]]:
    """Family -> one weight per window month: 1 each (equal), the budget's units by month,
    the plan's revenue by month (its reconciled scenario), or the family's actuals of the
    measure over the closed months (a flat profile)."""
    families = list(plan.families.keys["family"])
    active = plan.families.keys["active"] != "FALSE"
    cols = [plan.months.index(m) for m in months]
    if by == "equal":
        return {f: [1.0] * len(months) for f, a in zip(families, active, strict=True) if a}
    if by == "budget_units":
        return _table_weights(plan.budget, "units", families, cols)
    if by == "prior_actuals":
        actuals = getattr(getattr(read, "finance", None), "actuals", None)
        if actuals is None:
            return {}
        totals = _table_weights(actuals, measure, families,
                                list(range(len(actuals.value_names))))
        return {f: [sum(w)] * len(months) for f, w in totals.items()}
    d, _ = dollarize(plan, [plan.settings.reconciled_scenario])
    revenue = d.fam["revenue"][0]
    return {f: [float(revenue[i, j]) for j in cols] for i, f in enumerate(d.families)}


def _table_weights(table: object, measure: str, families: list[str], cols: list[int]
                   ) -> dict[str, list[float]]:
    keys = table.keys  # type: ignore[attr-defined]
    values = np.nan_to_num(table.values, nan=0.0)  # type: ignore[attr-defined]
    out: dict[str, list[float]] = {}
    for i in range(len(keys)):
        if keys["measure"][i] != measure or keys["family"][i] not in families:
            continue
        row = [max(float(values[i, j]), 0.0) for j in cols]
        prior = out.get(keys["family"][i], [0.0] * len(cols))
        out[keys["family"][i]] = [a + b for a, b in zip(prior, row, strict=True)]
    return out


def allocation_lines(out: AllocationOutcome, *, dry_run: bool) -> list[str]:
    total = sum(v for row in out.cells.values() for v in row.values())
    verb = "would set" if dry_run else "set" if out.written else "found (no change)"
    lines = [f"{out.workbook.name}: {out.amount:,.2f} of {out.measure} over {out.window} by "
             f"{out.driver}: {len(out.cells)} {out.to}, sum {total:,.2f}; Budget cells {verb}: "
             f"{len(out.placement.cells) if out.placement else 0}"]
    for family, row in out.cells.items():
        lines.append(f"  {family:<12} {sum(row.values()):>16,.2f}")
        for account, cells in out.accounts.get(family, {}).items():
            lines.append(f"    {account:<18} {sum(cells.values()):>12,.2f}")
    if out.recorded is not None:
        lines.append(RECORDED)
    return lines
