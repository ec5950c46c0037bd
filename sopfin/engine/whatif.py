"""What-if: the plan with some demand, supply or price cells changed, nothing written.

A change names its sheet (Demand, Supply or Prices), the row's keys (scenario, family, and
channel where the sheet has one) and the month, and gives the new value. Every change that
names no row of the plan is an issue; the plan itself is never modified (a changed copy is
returned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table

SHEETS = {layout.DEMAND: "demand", layout.SUPPLY: "supply", layout.PRICES: "prices"}


def apply_changes(plan: Plan, changes: Sequence[Mapping[str, object]]
                  ) -> tuple[Plan, list[Issue]]:
    tables = {attr: getattr(plan, attr) for attr in SHEETS.values()}
    values = {attr: t.values.copy() for attr, t in tables.items()}
    issues: list[Issue] = []
    for n, change in enumerate(changes, start=1):
        sheet = str(change.get("sheet", ""))
        attr = SHEETS.get(sheet)
        if attr is None:
            issues.append(_issue(n, sheet or "(none)", f"change #{n}: sheet {sheet!r} cannot be "
                                 "changed", "use Demand, Supply or Prices"))
            continue
        row, col, problem = _locate(tables[attr], change, plan.months)
        if problem:
            issues.append(_issue(n, sheet, f"change #{n}: {problem}",
                                 "name a row and month the plan has"))
            continue
        value = change.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool) or \
                not np.isfinite(value) or value < 0:
            issues.append(_issue(n, sheet, f"change #{n}: the value must be a number of 0 or "
                                 f"more, found {value!r}", "send a number"))
            continue
        values[attr][row, col] = float(value)
    if issues:
        return plan, issues
    changed = {attr: replace(tables[attr], values=v) for attr, v in values.items()}
    return replace(plan, **changed), []


def _issue(n: int, sheet: str, message: str, fix: str) -> Issue:
    return Issue(IssueCode.VALUE_INVALID, Severity.ERROR, CellRef(sheet), message, fix)


def _locate(table: Table, change: Mapping[str, object], months: Sequence[str]
            ) -> tuple[int, int, str]:
    month = str(change.get("month", ""))
    if month not in table.value_names:
        return 0, 0, f"no month {month!r} in the plan ({months[0]} to {months[-1]})"
    mask = np.ones(len(table), dtype=bool)
    for key in table.key_names:
        wanted = str(change.get(key, "") or "")
        if key == "channel" and not wanted:
            continue
        mask &= table.keys[key] == wanted
    rows = np.flatnonzero(mask)
    named = ", ".join(f"{k}={change.get(k, '')!r}" for k in table.key_names)
    if len(rows) == 0:
        return 0, 0, f"no row of {table.sheet} with {named}"
    if len(rows) > 1:
        return 0, 0, f"{len(rows)} rows of {table.sheet} match {named}; name the channel"
    return int(rows[0]), table.value_names.index(month), ""
