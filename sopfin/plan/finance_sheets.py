"""The optional finance sheets -> records: named overrides, gap-closure actions, actuals for
closed months and finance's own forecast. Pure: it takes the raw grids the edge read.

The sheet shapes are ``sopfin.layout.FINANCE_SHEETS``; the header, key and table-end rules are
those of the plan's input tables (``sopfin.plan.read``). Where these sheets differ:

* Every sheet is optional; an absent sheet gives no records and no issue.
* Overrides: ``Id`` is required and unique; ``Scenario`` must be in Settings, ``Family`` on
  Families, ``Month`` in the horizon (text 'YYYY-MM' or a date cell, read as its month),
  ``Measure`` revenue or cogs, ``Amount`` a number (a blank amount is an error, not 0).
  Any of these wrong is ``override-invalid`` at its cell. ``Owner`` or ``Reason`` blank is
  ``override-incomplete``: an override nobody owns or explains is exactly what the sheet
  exists to prevent. ``ApprovedBy`` may be blank. A row with any error is left out.
* Actions: ``Scenario`` must be in Settings; impacts are numbers (blank = 0);
  ``Probability`` is a number from 0 to 1 (blank = 1; Excel stores 50% as 0.5), anything
  else is ``probability-invalid``. A row with any error is left out.
* Actuals and Forecast: monthly. A blank cell is an open (or not forecast) month and reads as
  NaN, never 0. Measures: units, revenue or cogs on Actuals; revenue or cogs on Forecast.
  Unknown families, scenarios and measures and repeated key rows are errors; the row is left
  out of the table.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, SupportsInt, cast

import numpy as np

from sopfin import layout
from sopfin.close.records import Action, FinanceInputs, Override
from sopfin.layout import InputSheet, column_letter
from sopfin.model import CellRef, Issue, IssueCode, Keys, Plan, Severity, Table, XlError, sheet_row
from sopfin.plan.channels import plan_channels, unknown_channel
from sopfin.plan.cost_sheets import read_costs
from sopfin.plan.headers import key_name, read_header
from sopfin.plan.issue_log import IssueLog
from sopfin.plan.opex_checks import unknown_opex_line
from sopfin.plan.read import body_grid, read_keys, read_numbers, split_opex_rows, table_end

_MONTH_OR_DATE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))(?:-\d{2}(?:[T ].*)?)?$")
FORECAST_MEASURES = layout.OVERRIDE_MEASURES


def parse_finance(raw: Mapping[str, Any], plan: Plan) -> tuple[FinanceInputs, list[Issue]]:
    """Raw sheets (objects with ``.rows``, as from ``sopfin.xlsx.read``) -> (records, issues)."""
    log = IssueLog()
    checks = _Known(plan)
    sheets = {name: _read(raw.get(name), layout.FINANCE_BY_NAME[name], plan.months, log)
              for name in layout.FINANCE_SHEET_NAMES}
    overrides = _overrides(sheets[layout.OVERRIDES], checks, log)
    actions = _actions(sheets[layout.ACTIONS], checks, log)
    actuals = _monthly(sheets[layout.ACTUALS], checks, log,
                       (*layout.ACTUAL_MEASURES, layout.OPEX_MEASURE))
    forecast = _monthly(sheets[layout.FORECAST], checks, log, FORECAST_MEASURES)
    costs, standards = read_costs(sheets[layout.ACTUAL_COSTS], raw.get(layout.STD_COST), plan,
                                  checks, log)
    family_actuals, opex_actuals = (split_opex_rows(actuals) if actuals is not None
                                    else (None, None))
    return FinanceInputs(overrides, actions, family_actuals, forecast, costs, standards,
                         opex_actuals=opex_actuals), log.issues()


# ----------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class _Sheet:
    """One finance sheet as read: key texts, the raw value cells, and where they sit."""

    spec: InputSheet
    keys: Keys  # one column per key (key_name), plus 'row'
    keep: np.ndarray  # rows still valid
    key_cols: dict[str, str]  # layout header -> column letter
    value_names: tuple[str, ...]
    value_cols: tuple[str, ...]
    cells: np.ndarray  # (rows, values) raw value cells
    last_row: int

    def where(self, i: int, column: str) -> CellRef:
        return CellRef(self.spec.name, f"{column}{sheet_row(self.keys, i)}")

    def key_cell(self, i: int, header: str) -> CellRef:
        return self.where(i, self.key_cols[header])

    def value_cell(self, i: int, name: str) -> CellRef:
        return self.where(i, self.value_cols[self.value_names.index(name)])

    def value(self, i: int, name: str) -> object:
        return self.cells[i, self.value_names.index(name)]


def _read(sheet: Any, spec: InputSheet, months: tuple[str, ...], log: IssueLog) -> _Sheet | None:
    if sheet is None:
        return None
    rows = sheet.rows
    columns, ok = read_header(spec, list(rows[0]) if rows else [], months, log)
    if not columns.keys or not ok:
        return None
    end = table_end(rows, columns.width)
    grid, sheet_rows = body_grid(rows, columns.width, end)
    keys, keep = read_keys(grid, sheet_rows, spec, columns, log)
    return _Sheet(spec=spec, keys=keys, keep=keep,
                  key_cols={h: column_letter(c + 1) for h, c in columns.keys.items()},
                  value_names=columns.value_names,
                  value_cols=tuple(column_letter(c + 1) for c in columns.value_idx),
                  cells=grid[:, list(columns.value_idx)], last_row=end)


class _Known:
    """The plan's families, scenarios and months, and the issue each unknown one gets."""

    def __init__(self, plan: Plan) -> None:
        self.families = list(dict.fromkeys(plan.families.keys["family"]))
        self.scenarios = list(plan.scenarios)
        self.months = tuple(plan.months)
        self.has_channel, self.channels = plan.has_channel, plan_channels(plan)
        self.plan = plan

    def channel(self, name: str, where: CellRef) -> Issue | None:
        if name in self.channels:
            return None
        if not self.has_channel:
            return Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR, where,
                         f"{where.sheet} has a Channel column but Demand does not, so no row "
                         "can match the plan's sales",
                         f"add a Channel column to Demand after Family, or delete it from "
                         f"{where.sheet}")
        return unknown_channel(where.sheet, where, name, self.channels)

    def family(self, name: str, where: CellRef, code: IssueCode) -> Issue | None:
        if name in self.families:
            return None
        return Issue(code, Severity.ERROR, where,
                     f"the family {name!r} is not on sheet Families",
                     "add it on sheet Families or correct the spelling"
                     + _suggest(name, self.families))

    def scenario(self, name: str, where: CellRef, code: IssueCode) -> Issue | None:
        if name in self.scenarios:
            return None
        return Issue(code, Severity.ERROR, where,
                     f"the scenario {name!r} is not in Settings 'Scenarios' "
                     f"({', '.join(self.scenarios)})",
                     "add it to 'Scenarios' on Settings or correct the spelling"
                     + _suggest(name, self.scenarios))

    def measure(self, name: str, allowed: Sequence[str], where: CellRef,
                code: IssueCode, what: str) -> Issue | None:
        if name in allowed:
            return None
        return Issue(code, Severity.ERROR, where,
                     f"unknown {what} measure {name!r}; expected one of {', '.join(allowed)}",
                     "correct the measure, or delete the row")


def _suggest(name: str, known: Sequence[str]) -> str:
    same = [k for k in known if k.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "a blank cell"
    if isinstance(value, str):
        return f"the text {value.strip()!r}"
    return repr(_text(value))


def _text(value: object) -> str:
    """A text cell -> stripped text; numbers, booleans and dates as they read."""
    if value is None or isinstance(value, XlError):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _number(value: object) -> float | None:
    """A number cell -> float; None for anything else (text, booleans, dates, errors)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _excel_error(value: object, where: CellRef, name: str) -> Issue:
    return Issue(IssueCode.EXCEL_ERROR, Severity.ERROR, where,
                 f"expected {name}, found "
                 f"{value.described() if isinstance(value, XlError) else value}",
                 "fix the formula or the cell it refers to, or type the value")


# ----------------------------------------------------------------------------- overrides
def _overrides(sheet: _Sheet | None, known: _Known, log: IssueLog) -> tuple[Override, ...]:
    if sheet is None:
        return ()
    out: list[Override] = []
    first_row_of: dict[str, int] = {}
    for i in np.flatnonzero(sheet.keep).tolist():
        issues = _override_issues(sheet, i, known, first_row_of)
        log.extend(issues)
        if issues:
            continue
        k = sheet.keys.row_of(i)
        out.append(Override(
            id=k["id"], scenario=k["scenario"], family=k["family"],
            month=_month(k["month"]) or "", measure=k["measure"],
            amount=float(sheet.value(i, "amount")),  # type: ignore[arg-type]
            owner=_text(sheet.value(i, "owner")), reason=_text(sheet.value(i, "reason")),
            approved_by=_text(sheet.value(i, "approved_by")), where=sheet.key_cell(i, "Id"),
            amount_cell=sheet.value_cell(i, "amount")))
    return tuple(out)


def _month(text: str) -> str | None:
    found = _MONTH_OR_DATE.match(text)
    return found.group(1) if found else None


def _override_issues(sheet: _Sheet, i: int, known: _Known,
                     first_row_of: dict[str, int]) -> list[Issue]:
    k = sheet.keys.row_of(i)
    invalid = IssueCode.OVERRIDE_INVALID
    found: list[Issue | None] = []
    row = int(k["row"])
    if not k["id"]:
        found.append(Issue(invalid, Severity.ERROR, sheet.key_cell(i, "Id"),
                           "the override has no Id, so the bridge cannot name it",
                           "fill in a short unique Id such as OVR-001"))
    elif k["id"] in first_row_of:
        found.append(Issue(invalid, Severity.ERROR, sheet.key_cell(i, "Id"),
                           f"the override Id {k['id']!r} is already used on row "
                           f"{first_row_of[k['id']]}",
                           "give each override its own Id"))
    else:
        first_row_of[k["id"]] = row
    found.append(known.scenario(k["scenario"], sheet.key_cell(i, "Scenario"), invalid))
    found.append(known.family(k["family"], sheet.key_cell(i, "Family"), invalid))
    month = _month(k["month"])
    if month not in known.months:
        shown = "blank" if not k["month"] else repr(k["month"])
        found.append(Issue(invalid, Severity.ERROR, sheet.key_cell(i, "Month"),
                           f"the override month is {shown}, not a month of the plan horizon "
                           f"({known.months[0]} to {known.months[-1]})",
                           "type a month of the horizon as the text YYYY-MM"))
    found.append(known.measure(k["measure"], layout.OVERRIDE_MEASURES,
                               sheet.key_cell(i, "Measure"), invalid, "override"))
    found.append(_amount_issue(sheet, i))
    for name, header in (("owner", "Owner"), ("reason", "Reason")):
        value = sheet.value(i, name)
        if isinstance(value, XlError):
            found.append(_excel_error(value, sheet.value_cell(i, name), f"the {header}"))
        elif not _text(value):
            found.append(Issue(IssueCode.OVERRIDE_INCOMPLETE, Severity.ERROR,
                               sheet.value_cell(i, name),
                               f"the override {k['id'] or '(no Id)'!r} has no {header}: an "
                               "override must say who owns it and why it is there",
                               f"fill in the {header}, or delete the override"))
    return [issue for issue in found if issue is not None]


def _amount_issue(sheet: _Sheet, i: int) -> Issue | None:
    value = sheet.value(i, "amount")
    where = sheet.value_cell(i, "amount")
    if isinstance(value, XlError):
        return _excel_error(value, where, "an amount")
    if _number(value) is not None:
        return None
    return Issue(IssueCode.OVERRIDE_INVALID, Severity.ERROR, where,
                 f"the override Amount must be a number in currency, found {_shown(value)}",
                 "type the amount as a number (positive raises the measure, negative "
                 "lowers it)")


# ----------------------------------------------------------------------------- actions
def _actions(sheet: _Sheet | None, known: _Known, log: IssueLog) -> tuple[Action, ...]:
    if sheet is None:
        return ()
    out: list[Action] = []
    for i in np.flatnonzero(sheet.keep).tolist():
        k = sheet.keys.row_of(i)
        issues = [known.scenario(k["scenario"], sheet.key_cell(i, "Scenario"),
                                 IssueCode.UNKNOWN_SCENARIO)]
        revenue_impact, issue = _impact(sheet, i, "revenue_impact", "RevenueImpact")
        margin_impact, margin_issue = _impact(sheet, i, "margin_impact", "MarginImpact")
        issues += [issue, margin_issue]
        probability, issue = _probability(sheet, i)
        issues.append(issue)
        span, span_issues = _action_span(sheet, i, known.months)
        issues += span_issues
        real = [x for x in issues if x is not None]
        log.extend(real)
        if real:
            continue
        out.append(Action(id=k["id"], scenario=k["scenario"], description=k["description"],
                          owner=k["owner"], probability=probability,
                          where=sheet.key_cell(i, "Id"), revenue_impact=revenue_impact,
                          margin_impact=margin_impact, start=span["start"], end=span["end"]))
    return tuple(out)


def _action_span(sheet: _Sheet, i: int, months: tuple[str, ...]
                 ) -> tuple[dict[str, str], list[Issue]]:
    """Start and End -> 'YYYY-MM' or '' (blank); a cell that is no month, or an End before
    the Start, is an issue at its cell."""
    span: dict[str, str] = {}
    issues = []
    for name, header in (("start", "Start"), ("end", "End")):
        text = str(sheet.keys.row_of(i).get(name, "") or "") if header in sheet.key_cols else ""
        month = _month(text)
        if text and month is None:
            issues.append(Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                                sheet.key_cell(i, header),
                                f"{header} must be a month (YYYY-MM) or blank, found {text!r}",
                                f"type the month the action {name}s, e.g. {months[0]}, or "
                                "leave it blank"))
        span[name] = month or ""
    if span["start"] and span["end"] and span["end"] < span["start"]:
        issues.append(Issue(IssueCode.VALUE_INVALID, Severity.ERROR, sheet.key_cell(i, "End"),
                            f"the action ends ({span['end']}) before it starts "
                            f"({span['start']})", "correct Start or End"))
    return span, issues


def _impact(sheet: _Sheet, i: int, name: str, header: str) -> tuple[float, Issue | None]:
    value, where = sheet.value(i, name), sheet.value_cell(i, name)
    if _blank(value):
        return 0.0, None
    number = _number(value)
    if number is not None:
        return number, None
    if isinstance(value, XlError):
        return 0.0, _excel_error(value, where, f"a number for {header}")
    return 0.0, Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, where,
                      f"expected a number for {header}, found {_shown(value)}",
                      "type the impact in currency as a number, or leave the cell empty for 0")


def _probability(sheet: _Sheet, i: int) -> tuple[float, Issue | None]:
    value, where = sheet.value(i, "probability"), sheet.value_cell(i, "probability")
    if _blank(value):
        return 1.0, None
    if isinstance(value, XlError):
        return 1.0, _excel_error(value, where, "a probability")
    number = _number(value)
    if number is not None and 0.0 <= number <= 1.0:
        return number, None
    shown = f"{number:g}" if number is not None else _shown(value)
    hint = (f" (for {number:g}% type {number / 100:g} or {number:g}%)"
            if number is not None and 1.0 < number <= 100.0 else "")
    return 1.0, Issue(IssueCode.PROBABILITY_INVALID, Severity.ERROR, where,
                      f"the probability must be a number from 0 to 1, found {shown}",
                      f"type it as a fraction or a percentage{hint}, or leave it blank for "
                      "certain")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ----------------------------------------------------------------------------- monthly
def _negative_units(sheet: _Sheet, i: int, row: np.ndarray) -> list[Issue]:
    """Units sold or forecast cannot be below zero (returns go in revenue)."""
    return [Issue(IssueCode.NEGATIVE_VALUE, Severity.ERROR, sheet.value_cell(i, name),
                  f"units cannot be negative, found {row[j]:g} for {name}",
                  "enter 0 or a positive number (book returns in revenue)")
            for j, name in enumerate(sheet.value_names) if row[j] < 0]


def _opex_line_issue(sheet: _Sheet, i: int, plan: Plan) -> Issue | None:
    """An opex row of Actuals must name a line (Department, Account) of sheet Opex."""
    if "Department" not in sheet.key_cols or "Account" not in sheet.key_cols:
        return Issue(IssueCode.MISSING_COLUMN, Severity.ERROR, sheet.key_cell(i, "Measure"),
                     "an opex row needs the columns 'Department' and 'Account' after Measure",
                     "insert the two columns after Measure and fill them in")
    department, account = (str(sheet.keys[k][i]) for k in ("department", "account"))
    return unknown_opex_line(plan, department, account, sheet.key_cell(i, "Department"),
                             sheet.key_cell(i, "Account"))


def _monthly(sheet: _Sheet | None, known: _Known, log: IssueLog,
             measures: Sequence[str]) -> Table | None:
    """Actuals or Forecast -> Table with NaN for blank cells; bad rows are left out."""
    if sheet is None:
        return None
    spec = sheet.spec
    values = read_numbers(sheet.cells, sheet.keys["row"],
                          [layout.column_index(c) - 1 for c in sheet.value_cols],
                          sheet.value_names, spec.name, log)
    blank = np.vectorize(_blank, otypes=[bool])(sheet.cells) if sheet.cells.size else \
        np.zeros(sheet.cells.shape, dtype=bool)
    values[blank] = np.nan
    keep = sheet.keep.copy()
    present = present_keys(sheet)
    key_names = tuple(key_name(h) for h in present)
    checks: list[tuple[str, Callable[[str, CellRef], Issue | None]]] = [
        ("Family", lambda v, w: known.family(v, w, IssueCode.UNKNOWN_FAMILY)),
        ("Measure", lambda v, w: known.measure(v, measures, w, IssueCode.UNKNOWN_MEASURE,
                                                spec.name)),
    ]
    if "Scenario" in spec.keys:
        checks.insert(0, ("Scenario",
                          lambda v, w: known.scenario(v, w, IssueCode.UNKNOWN_SCENARIO)))
    if "Channel" in present:
        checks.append(("Channel", known.channel))
    seen: dict[tuple[str, ...], int] = {}
    for i in np.flatnonzero(keep).tolist():
        opex = sheet.keys["measure"][i] == layout.OPEX_MEASURE
        found = [check(str(sheet.keys[key_name(h)][i]), sheet.key_cell(i, h))
                 for h, check in checks if not (opex and h in ("Family", "Channel"))]
        if opex:
            found.append(_opex_line_issue(sheet, i, known.plan))
        real = [x for x in found if x is not None]
        key = tuple(str(sheet.keys[n][i]) for n in key_names)
        if not real and key in seen:
            described = ", ".join(f"{n} {v!r}" for n, v in zip(key_names, key, strict=True))
            real.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR, sheet.key_cell(i, "Family"),
                              f"the keys {described} are already on row {seen[key]}",
                              "merge the two rows into one, or correct the keys"))
        seen.setdefault(key, int(cast(SupportsInt, sheet.keys["row"][i])))
        if not real and sheet.keys["measure"][i] == "units":
            real += _negative_units(sheet, i, values[i])
        log.extend(real)
        keep[i] = not real
    names = list(dict.fromkeys(
        [*key_names, *(h.lower() for h in spec.optional_keys if h.lower() in sheet.keys)]))
    keys = sheet.keys.select([*names, "row"]).take(keep)
    return Table(sheet=spec.name, key_names=key_names, keys=keys,
                 value_names=sheet.value_names, values=np.ascontiguousarray(values[keep]),
                 key_cols=tuple(sheet.key_cols[h] for h in present),
                 value_cols=sheet.value_cols, first_row=layout.FIRST_DATA_ROW,
                 last_row=sheet.last_row)


def present_keys(sheet: _Sheet) -> tuple[str, ...]:
    """The sheet's key headers: the required ones, then the optional ones it has."""
    return sheet.spec.keys + tuple(h for h in sheet.spec.optional_keys if h in sheet.key_cols)
