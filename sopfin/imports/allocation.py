"""``sopfin allocate``: a top-down amount spread over the families' Budget rows (or, for opex,
the departments' and their accounts') in proportion to a driver, for the months of a window,
to the cent; written as Budget cells (or shown).

read the plan -> the driver's weights per family (department) and month -> ``sopfin.allocate``
(largest remainder; for departments then over each one's accounts,
``sopfin.imports.department_allocation``; on a Budget kept by channel, each family's then over
its channels, ``sopfin.imports.channel_allocation``) -> place the lines on Budget (the
window's months of that measure replaced) -> write, or with ``dry_run`` only say what would
change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sopfin import layout
from sopfin.close.window import WindowError, parse_window
from sopfin.engine.allocate import allocate, allocate_to_lines, split_to_lines
from sopfin.engine.dollarize import dollarize
from sopfin.engine.results import Dollarized
from sopfin.imports.channel_allocation import (
    budget_by_channel,
    channel_mix,
    no_channel,
    split_equally,
)
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
    opex_rows_with_channel,
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
# Where a families driver with nothing to weigh is reported: the sheet its figures come from.
FAMILY_DRIVER_SHEETS = {"equal": layout.FAMILIES, "budget_units": layout.BUDGET,
                        "revenue": layout.DEMAND, "prior_actuals": layout.ACTUALS}


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
    # families into a Budget by channel: family -> channel -> month -> cents
    channels: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    # the families whose channels had no figures of the driver in a month of their share
    split_equally: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, object]]:
        """The Budget rows the allocation fills, each with its keys (None where the row has
        no such key: Family on an opex row, Channel on a Budget without channels) and its
        cents by month."""
        if self.to == "departments":
            return [_row(None, None, dept, account, months)
                    for dept, accounts in self.accounts.items()
                    for account, months in accounts.items()]
        if self.channels:
            return [_row(family, channel, None, None, months)
                    for family, channels in self.channels.items()
                    for channel, months in channels.items()]
        return [_row(family, None, None, None, months) for family, months in self.cells.items()]


def _row(family: str | None, channel: str | None, department: str | None,
         account: str | None, months: dict[str, float]) -> dict[str, object]:
    return {"family": family, "channel": channel, "department": department,
            "account": account, "months": months}


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
        key_names = ("family", "measure", "channel") if out.channels else ("family", "measure")
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
    """The families' Budget cells, by the driver (and, on a Budget by channel, beneath each
    family its channels'); None with the issue when it cannot."""
    revenue = _plan_revenue(plan) if out.driver == "revenue" else None
    weights = _weights(plan, read, out.driver, months, out.measure, revenue)
    try:
        out.cells = allocate(out.amount, weights, months)  # type: ignore[assignment]
    except ValueError as exc:
        out.issues.append(_cannot(out, exc, CellRef(FAMILY_DRIVER_SHEETS[out.driver])))
        return None
    if budget_by_channel(plan):
        return _channel_lines(out, plan, read, months, revenue)
    return tuple(ImportLine((family, out.measure), m, v)
                 for family, row in out.cells.items() for m, v in row.items())


def _channel_lines(out: AllocationOutcome, plan: Plan, read: object, months: tuple[str, ...],
                   revenue: Dollarized | None) -> tuple[ImportLine, ...] | None:
    """Each family's cents of a month over its channels (``channel_allocation``)."""
    actuals = getattr(getattr(read, "finance", None), "actuals", None)
    mix = channel_mix(plan, actuals, out.driver, months, out.measure, revenue)
    missing = no_channel(plan, out.cells, mix)
    if missing:
        out.issues += missing
        return None
    shares = {f: row for f, row in out.cells.items() if f in mix}
    out.channels = split_to_lines(shares, mix)
    out.split_equally = tuple(split_equally(shares, mix))
    return tuple(ImportLine((family, out.measure, channel), m, v)
                 for family, channels in out.channels.items()
                 for channel, row in channels.items() for m, v in row.items())


def _department_lines(out: AllocationOutcome, plan: Plan, read: object,
                      months: tuple[str, ...]) -> tuple[ImportLine, ...] | None:
    """The departments' opex Budget cells, a row per department and account (Family blank),
    by the driver; None with the issue when it cannot."""
    by_channel = opex_rows_with_channel(plan)
    if by_channel:
        out.issues += by_channel
        return None
    opex_actuals = getattr(getattr(read, "finance", None), "opex_actuals", None)
    weights = department_weights(plan, opex_actuals, out.driver, months)
    if isinstance(weights, Issue):
        out.issues.append(weights)
        return None
    try:
        out.accounts = allocate_to_lines(out.amount, weights.departments, weights.accounts,
                                         months)
    except ValueError as exc:
        out.issues.append(_cannot(out, exc, driver_cell(plan, out.driver)))
        return None
    out.cells = {dept: {m: round(sum(row[m] for row in accounts.values()), 2) for m in months}
                 for dept, accounts in out.accounts.items()}
    return tuple(ImportLine(("", out.measure, dept, account), m, v)
                 for dept, accounts in out.accounts.items()
                 for account, row in accounts.items() for m, v in row.items())


def _cannot(out: AllocationOutcome, exc: ValueError, where: CellRef) -> Issue:
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR, where,
                 f"cannot allocate to {out.to} by {out.driver}: {exc}",
                 "choose another driver (--by equal always works)")


def _weights(plan: Plan, read: object, by: str, months: tuple[str, ...], measure: str,
             revenue: Dollarized | None) -> dict[str, list[float]]:
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
    d = revenue or _plan_revenue(plan)
    by_family = d.fam["revenue"][0]
    return {f: [float(by_family[i, j]) for j in cols] for i, f in enumerate(d.families)}


def _plan_revenue(plan: Plan) -> Dollarized:
    """The plan dollarized in its reconciled scenario (revenue by family and by channel)."""
    d, _ = dollarize(plan, [plan.settings.reconciled_scenario])
    return d


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
        beneath = out.accounts.get(family) or out.channels.get(family, {})
        for line, cells in beneath.items():
            lines.append(f"    {line:<18} {sum(cells.values()):>12,.2f}")
    if out.split_equally:
        lines.append(f"  split equally over their channels where {out.driver} has no figure "
                     f"by channel: {', '.join(out.split_equally)}")
    if out.recorded is not None:
        lines.append(RECORDED)
    return lines
