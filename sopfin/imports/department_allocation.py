"""``sopfin allocate --measure opex --to departments``: what each department and each of its
accounts weighs, by the driver the user names.

Two levels, as an FP&A budget is built. The departments (those with a line on sheet Opex)
share the amount by the driver:

- ``equal``: alike, the months alike;
- ``headcount``: in proportion to their heads (the sum of their Opex lines' Headcount in the
  reconciled scenario), the months alike;
- ``prior_actuals``: in proportion to their opex actuals (Actuals' opex rows, every closed
  month), the months alike;
- ``revenue`` / ``budget_units``: the months follow the plan's revenue (the reconciled
  scenario) or the Budget's units, summed over the families; in each month the departments
  share in proportion to their plan opex over the window (a monthly profile common to all).

Beneath a department its share of a month goes to its accounts (its Opex lines) in proportion
to their prior actuals for ``prior_actuals``, and to their plan opex over the window (the
reconciled scenario) for every other driver; equally where those are all zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.engine.dollarize import dollarize
from sopfin.engine.opex import Opex, plan_opex
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table, sheet_row
from sopfin.plan.opex_checks import headcount_by_department

DEPARTMENT_DRIVERS = ("equal", "headcount", "prior_actuals", "revenue", "budget_units")


@dataclass(frozen=True)
class DepartmentWeights:
    """The departments' weights (one per window month) and their accounts' mix."""

    departments: dict[str, list[float]]
    accounts: dict[str, dict[str, float]]  # department -> account -> weight


def department_weights(plan: Plan, opex_actuals: Table | None, by: str,
                       months: tuple[str, ...]) -> DepartmentWeights | Issue:
    """The weights of ``by`` over the window ``months``; or the issue (with its cell) that
    leaves nothing to weigh by: no Headcount column, no opex actuals."""
    scenario = plan.settings.reconciled_scenario
    d, _ = dollarize(plan, [scenario])
    opex = plan_opex(plan, d, opex_actuals)
    cols = [plan.months.index(m) for m in months]
    plan_by_line = opex.plan[0][:, cols].sum(axis=1)
    actual_by_line = np.nan_to_num(opex.actual).sum(axis=1)
    line_weight = actual_by_line if by == "prior_actuals" else plan_by_line
    accounts = _account_mix(opex, line_weight)
    departments = list(accounts)
    flat = [1.0] * len(months)
    if by == "equal":
        return DepartmentWeights({k: flat for k in departments}, accounts)
    if by == "headcount":
        if _headcount_column(plan) is None:
            return _no_headcount()
        heads = headcount_by_department(plan, scenario)
        return DepartmentWeights({k: [heads.get(k, 0.0)] * len(months) for k in departments},
                                 accounts)
    if by == "prior_actuals":
        if not np.isfinite(opex.actual).any():
            return _no_actuals()
        return DepartmentWeights({k: [sum(_weights_of(opex, actual_by_line, k))] * len(months)
                                  for k in departments}, accounts)
    profile = _profile(plan, d.fam["revenue"][0] if by == "revenue" else None, cols)
    return DepartmentWeights({k: [sum(_weights_of(opex, plan_by_line, k)) * p for p in profile]
                              for k in departments}, accounts)


def driver_cell(plan: Plan, by: str) -> CellRef:
    """Where a driver that weighs nothing is reported: the Headcount header, or sheet Opex."""
    column = _headcount_column(plan) if by == "headcount" else None
    return CellRef(layout.OPEX, f"{column}1" if column else "")


def opex_rows_with_channel(plan: Plan) -> list[Issue]:
    """On a Budget kept by channel the opex rows leave Channel blank (opex is by department
    and account): each one that names a channel is an error at its Channel cell, since
    allocate could not tell whether the departments' figure belongs on it."""
    table = plan.opex_budget
    if table is None or "channel" not in table.key_names:
        return []
    column = table.key_col("channel")
    keys = table.keys
    return [Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                  CellRef(layout.BUDGET, f"{column}{sheet_row(keys, i)}"),
                  f"the opex row of {keys['department'][i]} {keys['account'][i]} names channel "
                  f"{channel!r}: allocating to departments fills opex rows by department and "
                  "account, which have no channel",
                  "clear the Channel cell of the opex row")
            for i, channel in enumerate(keys["channel"].tolist()) if channel]


def _headcount_column(plan: Plan) -> str | None:
    table = plan.opex
    name = layout.OPEX_HEADCOUNT.lower()
    return table.key_col(name) if table is not None and name in table.key_names else None


def _account_mix(opex: Opex, line_weight: np.ndarray) -> dict[str, dict[str, float]]:
    """Department -> account -> the line's weight (0 or more), in sheet order."""
    out: dict[str, dict[str, float]] = {dept: {} for dept in opex.departments}
    for (dept, account), weight in zip(opex.lines, line_weight, strict=True):
        out[dept][account] = max(float(weight), 0.0)
    return out


def _weights_of(opex: Opex, line_weight: np.ndarray, department: str) -> list[float]:
    return [max(float(w), 0.0) for (dept, _), w in zip(opex.lines, line_weight, strict=True)
            if dept == department]


def _profile(plan: Plan, revenue: np.ndarray | None, cols: list[int]) -> list[float]:
    """The window's months weighed by the plan's revenue (families summed) or, with no
    revenue given, by the Budget's units."""
    if revenue is not None:
        return [max(float(revenue[:, j].sum()), 0.0) for j in cols]
    budget = plan.budget
    if not len(budget):
        return [0.0] * len(cols)
    units = (budget.keys["measure"] == "units").astype(bool)
    values = np.nan_to_num(budget.values[units])
    return [max(float(values[:, j].sum()), 0.0) for j in cols]


def _no_headcount() -> Issue:
    return Issue(IssueCode.MISSING_COLUMN, Severity.ERROR, CellRef(layout.OPEX, "A1"),
                 "allocating by headcount needs a Headcount column on sheet Opex, and it has "
                 "none", "add a Headcount column after the key columns with each line's heads, "
                 "or allocate by another driver")


def _no_actuals() -> Issue:
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR, CellRef(layout.ACTUALS),
                 "allocating by prior_actuals needs opex actuals, and Actuals has no opex "
                 "figure", "add the departments' opex rows to Actuals (measure opex), or "
                 "allocate by another driver")
