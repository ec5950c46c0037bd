"""Operating expenses: plan, budget and actual per opex line (department x account) and month,
and their totals by department and period.

A line's plan is either its typed amounts on sheet Opex, or its Rate times its driver, a plan
quantity dollarize computes (``layout.OPEX_DRIVERS``): units shipped or average inventory units
(start + end over 2) of one family or of all, revenue of one channel or of all (the output
sheets' dollarized revenue, before named overrides). Budget and actual come from the opex rows
of Budget and Actuals (no scenario). A month is closed for opex when Actuals holds an opex
figure in it (for revenue and COGS, a family figure: the close's rule); the latest estimate
is the actual in a closed month (0 for a line without one) and the plan after.

Shapes (S scenarios, L lines, D departments, M months): plan (S, L, M); budget, actual (L, M);
by department (S, D, M) or (D, M).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from sopfin import layout
from sopfin.calendar import fiscal_quarters, fiscal_years
from sopfin.engine.results import Array, Dollarized
from sopfin.model import Plan, Table

if TYPE_CHECKING:
    import pandas as pd

OpexBasis = Literal["plan", "budget", "actual", "latest_estimate", "variance"]
OPEX_BASES: tuple[OpexBasis, ...] = get_args(OpexBasis)
Driver = Literal["units_shipped", "revenue", "average_inventory_units"]
DRIVERS: tuple[Driver, ...] = get_args(Driver)
assert DRIVERS == layout.OPEX_DRIVERS, "the drivers are the layout's contract"


@dataclass(frozen=True)
class Opex:
    """Every opex line's figures, lines grouped by department in sheet order."""

    months: tuple[str, ...]
    scenarios: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]  # (department, account)
    departments: tuple[str, ...]
    department_of_line: np.ndarray  # (L,) index into departments
    plan: Array  # (S, L, M)
    budget: Array  # (L, M)
    actual: Array  # (L, M), NaN in open months
    closed: np.ndarray  # (M,) bool
    plan_row: np.ndarray  # (S, L) row of plan.opex the line reads per scenario (-1: none)

    @property
    def latest_estimate(self) -> Array:
        """(S, L, M): the actual in a closed month (0 where none was booked), the plan after."""
        booked = np.nan_to_num(self.actual)
        return np.where(self.closed[None, None, :], booked[None], self.plan)

    def by_line(self, basis: OpexBasis) -> Array:
        """(S, L, M) figures of ``basis`` (budget and actual repeated per scenario)."""
        s = len(self.scenarios)
        if basis == "plan":
            return self.plan
        if basis == "latest_estimate":
            return self.latest_estimate
        if basis == "variance":
            return self.plan - self.budget[None]
        per_line = self.budget if basis == "budget" else self.actual
        return np.repeat(per_line[None], s, axis=0)

    def by_department(self, basis: OpexBasis) -> Array:
        """(S, D, M) totals of each department (NaN actuals count 0)."""
        lines = np.nan_to_num(self.by_line(basis))
        out = np.zeros((len(self.departments), lines.shape[0], len(self.months)))
        np.add.at(out, self.department_of_line, lines.transpose(1, 0, 2))
        return out.transpose(1, 0, 2)


def plan_opex(plan: Plan, d: Dollarized, opex_actuals: Table | None = None) -> Opex:
    """The plan's opex for the dollarized scenarios ``d``: per line, typed or driven."""
    table = plan.opex
    lines, departments, dept_of = _lines(table, plan.opex_budget)
    index = {line: k for k, line in enumerate(lines)}
    shape = (len(d.scenarios), len(lines), len(d.months))
    values, plan_row = np.zeros(shape), np.full(shape[:2], -1, dtype=np.int64)
    if table is not None and len(table):
        scenario_of = {s: k for k, s in enumerate(d.scenarios)}
        amounts = line_amounts(table, d)
        for r, (scenario, dept, account) in enumerate(zip(
                table.keys["scenario"], table.keys["department"], table.keys["account"],
                strict=True)):
            s = scenario_of.get(str(scenario))
            if s is not None:
                values[s, index[(str(dept), str(account))]] = amounts[s, r]
                plan_row[s, index[(str(dept), str(account))]] = r
    budget = _by_line(plan.opex_budget, index, len(d.months), fill=0.0)
    actual = _by_line(opex_actuals, index, len(d.months), fill=np.nan)
    return Opex(months=d.months, scenarios=d.scenarios, lines=lines, departments=departments,
                department_of_line=dept_of, plan=values, budget=budget, actual=actual,
                closed=closed_months(d.months, opex_actuals),
                plan_row=plan_row)


def line_amounts(table: Table, d: Dollarized) -> Array:
    """(S, R, M): each Opex row's monthly amount per scenario, its typed months, or its Rate
    times its driver (a row's amount is used only for its own scenario)."""
    out = np.repeat(table.values[None, :, :len(d.months)], len(d.scenarios), axis=0)
    for r, (driver, scope, rate) in enumerate(zip(
            table.keys["driver"], table.keys["driver_of"], table.keys["rate"], strict=True)):
        if driver in DRIVERS and rate:
            out[:, r] = float(rate) * driver_values(d, driver, str(scope))
    return out


def driver_values(d: Dollarized, driver: str, scope: str) -> Array:
    """(S, M) the driver's quantity: of family or channel ``scope``, or of all ('')."""
    out: Array
    if driver == "revenue":
        channels = d.lines["channel"].tolist()
        of = np.array([str(c) == scope for c in channels], dtype=bool) if scope else \
            np.ones(len(channels), dtype=bool)
        out = d.line["revenue"][:, of].sum(axis=1)
        return out
    if driver == "units_shipped":
        units = d.fam["shipments_units"]
    else:
        units = (d.fam["start_units"] + d.fam["end_units"]) / 2
    out = units[:, list(d.families).index(scope)] if scope else units.sum(axis=1)
    return out


def closed_months(months: tuple[str, ...], *actuals: Table | None) -> np.ndarray:
    """(M,) True where any of ``actuals`` holds a figure in the month."""
    closed = np.zeros(len(months), dtype=bool)
    for table in actuals:
        if table is not None and len(table):
            closed[:table.values.shape[1]] |= np.isfinite(table.values).any(axis=0)
    return closed


def _lines(table: Table | None, budget: Table | None,
           ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], np.ndarray]:
    """Lines in sheet order grouped by department (first appearance), the departments, and
    each line's department index."""
    seen: dict[str, list[str]] = {}
    for source in (table, budget):
        if source is None:
            continue
        for dept, account in zip(source.keys["department"], source.keys["account"],
                                 strict=True):
            accounts = seen.setdefault(str(dept), [])
            if str(account) not in accounts:
                accounts.append(str(account))
    departments = tuple(seen)
    lines = tuple((dept, a) for dept in departments for a in seen[dept])
    dept_of = np.array([departments.index(dept) for dept, _ in lines], dtype=np.int64)
    return lines, departments, dept_of


def _by_line(table: Table | None, index: dict[tuple[str, str], int], months: int,
             fill: float) -> Array:
    out = np.full((len(index), months), fill)
    if table is None:
        return out
    for r, key in enumerate(zip(table.keys["department"], table.keys["account"], strict=True)):
        k = index.get((str(key[0]), str(key[1])))
        if k is not None:
            row = table.values[r, :months]
            out[k] = np.where(np.isnan(out[k]), row, out[k] + np.nan_to_num(row))
    return out


def opex_frame(o: Opex, fiscal_year_start: int = 1) -> pd.DataFrame:
    """Tidy opex by department and period: one row per (scenario, department, period) with
    every basis as a column; periods are the months, fiscal quarters and fiscal years. What
    reports of cost by department (the API, the close) read."""
    import pandas as pd

    quarters = fiscal_quarters(o.months, fiscal_year_start)
    years = fiscal_years(o.months, fiscal_year_start)
    spans = [(m, [j]) for j, m in enumerate(o.months)]
    for periods in (quarters, years):
        spans += [(label, list(range(periods.first[k], periods.last[k] + 1)))
                  for k, label in enumerate(periods.labels)]
    by_basis = {b: o.by_department(b) for b in OPEX_BASES}
    rows = []
    for s, scenario in enumerate(o.scenarios):
        for k, dept in enumerate(o.departments):
            for label, cols in spans:
                row: dict[str, object] = {"scenario": scenario, "department": dept,
                                          "period": label}
                row.update({b: float(by_basis[b][s, k, cols].sum()) for b in OPEX_BASES})
                rows.append(row)
    return pd.DataFrame(rows, columns=["scenario", "department", "period", *OPEX_BASES])
