"""Numbers too large to compute: inputs beyond MAX_AMOUNT, and results that overflow.

Units or prices near 1e308 multiply to infinity, and infinity minus infinity is not a
number; Excel shows ``#NUM!`` for both, and a published version could not be hashed. So an
input number of 1e15 or more in size (where float64 no longer holds cents), infinity or NaN
is an error at its cell (``check_number_sizes``, one of the checks). As a second guard, after
dollarize, every family and line measure and the budget are checked: the first month of each
(scenario, family) whose result is not finite becomes one error, located at the largest of the
input cells that feed that family up to that month (units, prices, costs, opening units,
variances, budget), and naming the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from sopfin.engine.results import Dollarized
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table

MAX_AMOUNT = 1e15  # beyond this a float64 no longer holds cents
NAMED_CELLS = 3  # input cells named in one message, largest first
ISSUES_PER_TABLE = 20
FIX = "correct the value (a typo or a wrong unit is the usual cause)"
RESULT_FIX = "correct the largest of these values (a typo or a wrong unit is the usual cause)"


def check_number_sizes(plan: Plan) -> list[Issue]:
    """An input number that is not finite (a cell holding 1e309 or NaN, which Excel cannot
    store) or of MAX_AMOUNT or more in size: an error at that cell."""
    issues = []
    tables = (plan.demand, plan.prices, plan.supply, plan.opening, plan.std_cost,
              plan.variances, plan.budget, plan.opex, plan.opex_budget)
    for table in [t for t in tables if t is not None]:
        with np.errstate(invalid="ignore"):
            rows, cols = np.nonzero(~(np.abs(table.values) < MAX_AMOUNT))
        for i, j in list(zip(rows.tolist(), cols.tolist(), strict=True))[:ISSUES_PER_TABLE]:
            value = float(table.values[i, j])
            why = ("which is not a finite number" if not math.isfinite(value) else
                   "too large to compute with to the cent")
            issues.append(Issue(
                IssueCode.NUMBER_TOO_LARGE, Severity.ERROR, table.ref(i, j),
                f"expected a number below {MAX_AMOUNT:g} in size for "
                f"{table.value_names[j]}, found {value:g}, {why}", FIX))
    return issues


def not_finite_results(plan: Plan, d: Dollarized) -> list[Issue]:
    """One error per (scenario, family) with a measure that is not a finite number."""
    issues = []
    for s, f, t, measure in _first_not_finite(d):
        scenario = d.scenarios[s] if s >= 0 else ""
        family = d.families[f]
        cells = _largest_inputs(plan, scenario, family, t)
        where = cells[0][0] if cells else CellRef(plan.demand.sheet)
        named = ", ".join(f"{ref} ({value:.6g})" for ref, value in cells)
        source = named or "the input sheets"
        place = f" in scenario {scenario!r}" if scenario else " in the budget"
        issues.append(Issue(
            IssueCode.NUMBER_TOO_LARGE, Severity.ERROR, where,
            f"{measure.replace('_', ' ')} of family {family!r}{place} for {d.months[t]} is "
            f"too large to compute (it is not a finite number); it comes from {source}",
            RESULT_FIX))
    return issues


def _first_not_finite(d: Dollarized) -> Iterator[tuple[int, int, int, str]]:
    """(scenario or -1 for the budget, family, first month, measure) of each non-finite
    (scenario, family)."""
    seen: set[tuple[int, int]] = set()
    fam_of_line = d.lines["fam_idx"]
    # In the order dollarize computes them (a TypedDict's values are typed as objects).
    arrays: list[tuple[str, np.ndarray, np.ndarray | None]] = [
        (name, np.asarray(values), None) for name, values in d.fam.items()]
    arrays += [(name, np.asarray(values), fam_of_line) for name, values in d.line.items()]
    arrays += [(f"budget {name}", np.asarray(values)[None], None)
               for name, values in d.budget.items()]
    for name, values, families in arrays:
        bad = ~np.isfinite(values)
        if not bad.any():
            continue
        for s, k, t in zip(*np.nonzero(bad), strict=True):
            s = -1 if name.startswith("budget") else int(s)
            f = int(families[k]) if families is not None else int(k)
            if (s, f) not in seen:
                seen.add((s, f))
                yield s, f, int(t), name


def _largest_inputs(plan: Plan, scenario: str, family: str,
                    month: int) -> list[tuple[CellRef, float]]:
    """The input cells of ``family`` (in ``scenario``, through ``month``), largest first."""
    found: list[tuple[float, CellRef, float]] = []
    monthly = (plan.demand, plan.supply, plan.prices, plan.variances, plan.budget)
    for table in (*monthly, plan.std_cost, plan.opening):
        last = month + 1 if table in monthly else len(table.value_names)
        for i in _rows_of(table, scenario, family):
            for j in range(min(last, table.values.shape[1])):
                value = float(table.values[i, j])
                if value:
                    size = abs(value) if value == value else float("inf")
                    found.append((size, table.ref(i, j), value))
    found.sort(key=lambda item: item[0], reverse=True)
    return [(ref, value) for _, ref, value in found[:NAMED_CELLS]]


def _rows_of(table: Table, scenario: str, family: str) -> list[int]:
    if not len(table) or "family" not in table.keys:
        return []
    mask = (table.keys["family"] == family).astype(bool)
    if scenario and "scenario" in table.keys:
        mask = mask & (table.keys["scenario"] == scenario).astype(bool)
    return np.flatnonzero(mask).tolist()
