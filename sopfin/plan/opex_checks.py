"""Validation of operating expenses: the Opex sheet's lines, their drivers and rates, and the
opex rows of Budget (Actuals' opex rows are checked as they are read, with
``unknown_opex_line``).

An Opex line is (scenario, department, account), unique per scenario. A line either types its
amounts in the month columns, or names a Driver (``layout.OPEX_DRIVERS``) with a Rate and,
optionally, the family or channel it is of (DriverOf); a driver line's month cells are
ignored, with a warning when one holds a number. Budget and Actuals carry opex without a
scenario, one row per (department, account), each naming a line of sheet Opex.
"""

from __future__ import annotations

import numpy as np

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table, sheet_row
from sopfin.plan.issue_log import suggest_name as _suggest

_FAMILY_DRIVERS = ("units_shipped", "average_inventory_units")


def _cell(table: Table, i: int, key: str) -> CellRef:
    col = table.key_col(key) if key in table.key_names else table.key_cols[0]
    return CellRef(table.sheet, f"{col}{sheet_row(table.keys, i)}")


def opex_lines(plan: Plan) -> dict[str, list[str]]:
    """Department -> its accounts on sheet Opex, in sheet order (any scenario)."""
    out: dict[str, list[str]] = {}
    if plan.opex is None:
        return out
    for dept, account in zip(plan.opex.keys["department"], plan.opex.keys["account"],
                             strict=True):
        accounts = out.setdefault(str(dept), [])
        if account not in accounts:
            accounts.append(str(account))
    return out


def unknown_opex_line(plan: Plan, department: str, account: str, department_cell: CellRef,
                      account_cell: CellRef) -> Issue | None:
    """The issue of an opex row (Budget, Actuals) whose line is not on sheet Opex, or None."""
    lines = opex_lines(plan)
    if department not in lines:
        return Issue(IssueCode.UNKNOWN_DEPARTMENT, Severity.ERROR, department_cell,
                     f"the department {department!r} has no line on sheet Opex",
                     "add its lines on sheet Opex or correct the spelling"
                     + _suggest(department, lines))
    if account not in lines[department]:
        return Issue(IssueCode.UNKNOWN_ACCOUNT, Severity.ERROR, account_cell,
                     f"the account {account!r} is not a line of department {department!r} on "
                     f"sheet Opex ({', '.join(lines[department])})",
                     "add the line on sheet Opex or correct the spelling"
                     + _suggest(account, lines[department]))
    return None


def check_opex_scenarios(plan: Plan) -> list[Issue]:
    table = plan.opex
    if table is None:
        return []
    known = plan.scenarios
    return [Issue(IssueCode.UNKNOWN_SCENARIO, Severity.ERROR, _cell(table, i, "scenario"),
                  f"the scenario {name!r} is not in Settings 'Scenarios' ({', '.join(known)})",
                  "add it to 'Scenarios' on Settings or correct the spelling"
                  + _suggest(name, known))
            for i, name in enumerate(table.keys["scenario"]) if name not in known]


def _duplicates(table: Table | None, names: tuple[str, ...], at: str) -> list[Issue]:
    if table is None or len(table) < 2:
        return []
    first: dict[tuple[str, ...], int] = {}
    issues = []
    for i, key in enumerate(zip(*(table.keys[n] for n in names), strict=True)):
        if key in first:
            described = ", ".join(f"{n} {v!r}" for n, v in zip(names, key, strict=True))
            issues.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR, _cell(table, i, at),
                                f"the keys {described} are already on row {first[key]}",
                                "merge the two rows into one, or correct the keys"))
        first.setdefault(key, sheet_row(table.keys, i))
    return issues


def check_opex_duplicates(plan: Plan) -> list[Issue]:
    return (_duplicates(plan.opex, ("scenario", "department", "account"), "department")
            + _duplicates(plan.opex_budget, ("department", "account"), "department"))


def check_opex_drivers(plan: Plan) -> list[Issue]:
    """Each driver line names a known driver, of a family or channel the plan has, with a
    Rate; a Rate needs a Driver; a driver line's typed months are ignored (warning)."""
    table = plan.opex
    if table is None:
        return []
    issues: list[Issue] = []
    for i in range(len(table)):
        keys = table.keys.row_of(i)
        driver, rate = str(keys["driver"]), str(keys["rate"])
        if not driver:
            if rate:
                issues.append(Issue(IssueCode.RATE_INVALID, Severity.ERROR, _cell(table, i, "rate"),
                                    "the line has a Rate but no Driver",
                                    "name the Driver it applies to "
                                    f"({', '.join(layout.OPEX_DRIVERS)}), or clear the Rate"))
            continue
        issues += _driver_issues(plan, table, i, driver, str(keys["driver_of"]), rate)
    return issues


def _driver_issues(plan: Plan, table: Table, i: int, driver: str, scope: str,
                   rate: str) -> list[Issue]:
    if driver not in layout.OPEX_DRIVERS:
        return [Issue(IssueCode.UNKNOWN_DRIVER, Severity.ERROR, _cell(table, i, "driver"),
                      f"unknown driver {driver!r}; expected one of "
                      f"{', '.join(layout.OPEX_DRIVERS)}",
                      "correct the driver" + _suggest(driver, layout.OPEX_DRIVERS))]
    issues = []
    known = driver_scopes(plan, driver)
    if scope and scope not in known:
        what = "family" if driver in _FAMILY_DRIVERS else "channel"
        issues.append(Issue(IssueCode.UNKNOWN_DRIVER, Severity.ERROR, _cell(table, i, "driver_of"),
                            f"{driver} is of a {what}, and the plan has no {what} {scope!r}",
                            f"name a {what} of the plan, or leave DriverOf blank for all"
                            + _suggest(scope, known)))
    if not rate:
        issues.append(Issue(IssueCode.RATE_INVALID, Severity.ERROR, _cell(table, i, "driver"),
                            f"the {driver} line has no Rate",
                            "type the Rate ($ per unit, or a fraction of revenue: 5% = 0.05)"))
    typed = np.flatnonzero(table.values[i] != 0)
    if len(typed):
        j = int(typed[0])
        where = CellRef(table.sheet, f"{table.value_cols[j]}{sheet_row(table.keys, i)}")
        issues.append(Issue(IssueCode.VALUE_INVALID, Severity.WARNING, where,
                            f"the line is driven by {driver}, so the amount typed for "
                            f"{table.value_names[j]} is ignored",
                            "clear the month cells of a driver line, or clear its Driver"))
    return issues


def driver_scopes(plan: Plan, driver: str) -> list[str]:
    """What DriverOf may name for ``driver``: the plan's families or its channels."""
    if driver in _FAMILY_DRIVERS:
        return [str(f) for f in plan.families.keys["family"]]
    return list(dict.fromkeys(str(c) for c in plan.demand.keys["channel"] if c))


def check_opex_budget_lines(plan: Plan) -> list[Issue]:
    table = plan.opex_budget
    if table is None:
        return []
    issues = []
    for i in range(len(table)):
        issue = unknown_opex_line(plan, str(table.keys["department"][i]),
                                  str(table.keys["account"][i]),
                                  _cell(table, i, "department"), _cell(table, i, "account"))
        if issue is not None:
            issues.append(issue)
    return issues


def check_opex_headcount(plan: Plan) -> list[Issue]:
    """A line's Headcount is a number of people: 0 or more (blank = none)."""
    table = plan.opex
    if table is None or "headcount" not in table.key_names:
        return []
    return [Issue(IssueCode.VALUE_INVALID, Severity.ERROR, _cell(table, i, "headcount"),
                  f"Headcount must be 0 or more, found {heads}",
                  "type the number of people on the line, or leave it blank")
            for i, heads in enumerate(table.keys["headcount"]) if heads and float(heads) < 0]


def headcount_by_department(plan: Plan, scenario: str) -> dict[str, float]:
    """Department -> the sum of its ``scenario`` lines' Headcount (blank counts 0), for every
    department with a line on sheet Opex."""
    out = dict.fromkeys(opex_lines(plan), 0.0)
    table = plan.opex
    if table is None or "headcount" not in table.key_names:
        return out
    for s, dept, heads in zip(table.keys["scenario"], table.keys["department"],
                              table.keys["headcount"], strict=True):
        if s == scenario and heads:
            out[str(dept)] += float(heads)
    return out


OPEX_CHECKS = (check_opex_scenarios, check_opex_duplicates, check_opex_drivers,
               check_opex_budget_lines, check_opex_headcount)
