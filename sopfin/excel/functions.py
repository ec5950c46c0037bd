"""The worksheet functions as plain Python: ranges in, a grid (or one error text) out.

``sopfin.excel.udfs`` registers each of these with xlwings; nothing here imports xlwings, so
every function is called and tested as ordinary Python. A range arrives as a scalar, a list
(one row or column) or a list of rows; Excel error cells arrive as their text ('#N/A').

Conventions (where the issue leaves a choice):

* Blank cells count as 0, as they do on the input sheets. Text, booleans, dates and Excel
  errors are refused with the first offending cell named (row/column within the argument).
* Units, prices, standard costs and opening units cannot be negative (the plan checks refuse
  them too); planned variances, inventory values and COGS may be.
* Every answer is a 2-D list, spilled by Excel. A result that has no value (a ratio over a
  zero, the first month's inventory cash without an opening value) is ``""``, a blank-looking
  cell, never a silent 0.
* Bad input gives one text, ``#SOPFIN: <what is wrong>``, in the calling cell.
* ``SOP_INVCASH(values, [opening])``: cash effect of the inventory build, -(value - previous
  value), month by month. The month before the first is ``opening`` when given (the engine
  uses the opening units at the first month's standard cost); without it the first month is
  blank.
* ``SOP_DIO(values, cogs, [days])``: inventory value / COGS x days. ``days`` defaults to 30
  per month; pass one row of calendar days (one per month) to match the engine exactly.
* ``SOP_DSO(receivables, revenue, [days])`` and ``SOP_DPO(payables, cost, [days])``: the same
  as ``SOP_DIO`` for receivables over revenue and payables over cost (COGS, production cost
  or purchases). ``SOP_CCC(inventory_value, cogs, receivables, revenue, payables, [days])``:
  DIO + DSO - DPO with payables over COGS, as ``sopfin.working_capital_days``; blank where
  COGS or revenue is 0.
* ``SOP_GAP(plan, budget)``: gap = plan - budget and gap % = gap / |budget| (blank where the
  budget is 0). A column (or one cell) gives two columns, gap and gap %; a row gives two rows;
  a block gives the gap block with the gap % block to its right.
* ``SOP_PVM``: items are named by position (1, 2, ...), since their labels sit beside the
  ranges; an item whose units and price are both blank on one side is absent from that side
  (a ``new`` or ``discontinued`` item).
* ``SOP_MATVAR``, ``SOP_LABVAR``, ``SOP_OHVAR``: the standard-cost variances of
  ``sopfin.variances`` (positive favourable), a header row of their names and one row of
  figures, or one row per family when an argument is a row or column of family values (a
  single cell applies to every family).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

import numpy as np
import pandas as pd

from sopfin.close.ledger import PUBLISH, current_status
from sopfin.engine import variances
from sopfin.engine.bridge import BASES, MIX_METHODS, pvm
from sopfin.engine.working_capital import working_capital_days
from sopfin.model import XlError
from sopfin.render.ledger import parse_ledger

PREFIX = "#SOPFIN: "
DEFAULT_DIO_DAYS = 30.0
HASH_PREFIX = 8
ERROR_CODES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!",
    "#PYTHON!"})
PVM_HEADERS = {"price": "Price", "quantity": "Quantity", "mix": "Mix", "volume": "Volume",
               "cost": "Cost", "total": "Total", "status": "Status"}

Grid = list[list[Any]]


class InputError(ValueError):
    """Bad input to a worksheet function: its message goes into the cell."""


def cell_function(func: Callable[..., Grid]) -> Callable[..., Grid | str]:
    """Turn an ``InputError`` into the one-line error text of the cell."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Grid | str:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            return f"{PREFIX}{exc}"

    return wrapper


# ----------------------------------------------------------------------------- input grids
def is_error_text(value: object) -> bool:
    return isinstance(value, XlError) or (isinstance(value, str) and value in ERROR_CODES)


def _rows(value: Any) -> list[list[Any]]:
    """A scalar, a row or a list of rows -> a list of rows."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        return [[value]]
    if not value:
        return [[None]]
    if all(isinstance(v, list | tuple) for v in value):
        return [list(v) for v in value]
    return [list(value)]


def _where(i: int, j: int, shape: tuple[int, int]) -> str:
    if shape == (1, 1):
        return ""
    if shape[0] == 1:
        return f" at position {j + 1}"
    if shape[1] == 1:
        return f" at position {i + 1}"
    return f" at row {i + 1}, column {j + 1}"


_PLAIN = frozenset({float, int, type(None)})  # bool is its own type: never taken as a number


def numbers(value: Any, name: str, *, negative: bool = False) -> np.ndarray:
    """A range as a 2-D float64 array; blank is 0; anything else not a number is refused."""
    rows = _rows(value)
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        raise InputError(f"{name} is not a rectangular range")
    shape = (len(rows), width)
    if all(type(v) in _PLAIN for row in rows for v in row):  # the common case, vectorised
        fast = np.array(rows, dtype=np.float64)  # blanks (None) become NaN, then 0
        fast[np.isnan(fast)] = 0.0
        if np.isfinite(fast).all() and (negative or not (fast < 0).any()):
            return fast
    out = np.zeros(shape)  # the cell-by-cell path names the first offending cell
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            at = _where(i, j, shape)
            if v is None or v == "":
                continue
            if is_error_text(v):
                raise InputError(f"{name} has the Excel error {v}{at}")
            if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
                kind = "a date" if isinstance(v, dt.date | dt.datetime) else repr(v)
                raise InputError(f"{name} must be numbers; found {kind}{at}")
            number = float(v)
            if not np.isfinite(number):
                raise InputError(f"{name} has a value that is not finite{at}")
            if number < 0 and not negative:
                raise InputError(f"{name} cannot be negative; found {number:g}{at}")
            out[i, j] = number
    return out


def _shape_text(a: np.ndarray) -> str:
    return f"{a.shape[0]}x{a.shape[1]}"


def same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise InputError(f"{b_name} must be the same shape as {a_name} "
                         f"({_shape_text(a)} vs {_shape_text(b)})")


def per_row(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> np.ndarray:
    """``b`` broadcast to ``a``: same shape, one value per row (a column), or one cell."""
    if b.shape == a.shape or b.shape == (1, 1) or b.shape == (a.shape[0], 1):
        return np.broadcast_to(b, a.shape)
    raise InputError(f"{b_name} must be the same shape as {a_name}, one column with a value "
                     f"per row, or one cell ({_shape_text(a)} vs {_shape_text(b)})")


def _blank_nan(a: np.ndarray) -> Grid:
    """NaN -> '' (a blank-looking cell); -0.0 -> 0.0."""
    return [[("" if v != v else v + 0.0) for v in row] for row in a.tolist()]


# ----------------------------------------------------------------------------- the functions
@cell_function
def sop_revenue(units: Any, prices: Any) -> Grid:
    """Revenue: units shipped x net price, cell by cell."""
    q = numbers(units, "units")
    p = numbers(prices, "prices")
    same_shape(q, p, "units", "prices")
    return _blank_nan(q * p)


@cell_function
def sop_cogs(units: Any, std_cost: Any, planned_variances: Any = None) -> Grid:
    """COGS: units shipped x standard cost per unit, plus planned variances."""
    q = numbers(units, "units")
    cost = per_row(q, numbers(std_cost, "std_cost"), "units", "std_cost")
    cogs = q * cost
    if planned_variances is not None:
        var = numbers(planned_variances, "planned_variances", negative=True)
        same_shape(q, var, "units", "planned_variances")
        cogs = cogs + var
    return _blank_nan(cogs)


@cell_function
def sop_inventory(opening: Any, production: Any, shipments: Any) -> Grid:
    """End-of-month inventory units: opening + production - shipments, rolled forward."""
    made = numbers(production, "production")
    shipped = numbers(shipments, "shipments")
    same_shape(made, shipped, "production", "shipments")
    start = numbers(opening, "opening")
    if start.shape not in ((made.shape[0], 1), (1, 1)):
        raise InputError(f"opening must be one column with a value per row of production "
                         f"({made.shape[0]}x1 vs {_shape_text(start)})")
    return _blank_nan(start + np.cumsum(made - shipped, axis=1))


@cell_function
def sop_invcash(inventory_value: Any, opening_value: Any = None) -> Grid:
    """Cash effect of inventory: -(value - previous month's value), month by month."""
    value = numbers(inventory_value, "inventory_value", negative=True)
    if opening_value is None:
        previous = np.full((value.shape[0], 1), np.nan)
    else:
        previous = numbers(opening_value, "opening_value", negative=True)
        if previous.shape not in ((value.shape[0], 1), (1, 1)):
            raise InputError(f"opening_value must be one column with a value per row of "
                             f"inventory_value ({value.shape[0]}x1 vs "
                             f"{_shape_text(previous)})")
        previous = np.broadcast_to(previous, (value.shape[0], 1))
    before = np.concatenate((previous, value[:, :-1]), axis=1)
    return _blank_nan(-(value - before))


def _period_days(days: Any, shape: tuple[int, int], flow_name: str) -> np.ndarray:
    """Days in each period: 30 by default, one cell, one row (a value per column) or a grid."""
    period = np.full((1, 1), DEFAULT_DIO_DAYS) if days is None else numbers(days, "days")
    if period.shape not in ((1, 1), (1, shape[1]), shape):
        raise InputError(f"days must be one cell, one row with a value per column, or the "
                         f"shape of {flow_name} ({shape[0]}x{shape[1]} vs "
                         f"{_shape_text(period)})")
    return period


def _balance_and_flow(balance: Any, flow: Any, names: tuple[str, str]) -> tuple[np.ndarray, ...]:
    value = numbers(balance, names[0], negative=True)
    period_flow = numbers(flow, names[1], negative=True)
    same_shape(value, period_flow, *names)
    return value, period_flow


def _days_outstanding(balance: Any, flow: Any, days: Any, names: tuple[str, str]) -> Grid:
    """balance / flow x days, blank where the flow is 0."""
    value, period_flow = _balance_and_flow(balance, flow, names)
    period = _period_days(days, value.shape, names[1])
    out = np.full(value.shape, np.nan)
    np.divide(value, period_flow, out=out, where=period_flow != 0)
    return _blank_nan(out * period)


@cell_function
def sop_dio(inventory_value: Any, cogs: Any, days: Any = None) -> Grid:
    """Days of inventory: inventory value / COGS x days in the period (30 by default)."""
    return _days_outstanding(inventory_value, cogs, days, ("inventory_value", "cogs"))


@cell_function
def sop_dso(receivables: Any, revenue: Any, days: Any = None) -> Grid:
    """Days sales outstanding: receivables / revenue x days in the period (30 by default)."""
    return _days_outstanding(receivables, revenue, days, ("receivables", "revenue"))


@cell_function
def sop_dpo(payables: Any, cost: Any, days: Any = None) -> Grid:
    """Days payables outstanding: payables / cost (COGS, production cost or purchases) x
    days in the period (30 by default)."""
    return _days_outstanding(payables, cost, days, ("payables", "cost"))


@cell_function
def sop_ccc(inventory_value: Any, cogs: Any, receivables: Any, revenue: Any, payables: Any,
            days: Any = None) -> Grid:
    """Cash conversion cycle: DIO + DSO - DPO, payables on COGS (``working_capital_days``);
    blank where COGS or revenue is 0."""
    value, cost = _balance_and_flow(inventory_value, cogs, ("inventory_value", "cogs"))
    owed_to_us, sales = _balance_and_flow(receivables, revenue, ("receivables", "revenue"))
    owed, _ = _balance_and_flow(payables, cogs, ("payables", "cogs"))
    same_shape(value, sales, "inventory_value", "revenue")
    period = _period_days(days, value.shape, "cogs")
    cycle = working_capital_days(sales, cost, value, owed_to_us, owed, period)["ccc"]
    return _blank_nan(cycle)


@cell_function
def sop_gap(plan: Any, budget: Any) -> Grid:
    """Gap to budget (plan - budget) and gap % (gap / |budget|)."""
    p = numbers(plan, "plan", negative=True)
    b = numbers(budget, "budget", negative=True)
    same_shape(p, b, "plan", "budget")
    gap = p - b
    pct = np.full(gap.shape, np.nan)
    np.divide(gap, np.abs(b), out=pct, where=b != 0)
    if p.shape[0] == 1 and p.shape[1] > 1:  # a row: gap row above gap % row
        return _blank_nan(np.concatenate((gap, pct), axis=0))
    return _blank_nan(np.concatenate((gap, pct), axis=1))


def _flat(value: Any, name: str, *, negative: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A one-row or one-column range: its numbers and which cells were blank."""
    rows = _rows(value)
    a = numbers(value, name, negative=negative)
    if a.shape[0] != 1 and a.shape[1] != 1:
        raise InputError(f"{name} must be one row or one column, one cell per item "
                         f"(got {_shape_text(a)})")
    blank = np.array([[v is None or v == "" for v in row] for row in rows], dtype=bool)
    return a.ravel(), blank.ravel()


def _choice(value: Any, name: str, allowed: Sequence[str], default: str) -> str:
    if value is None or value == "":
        return default
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if text not in allowed:
        raise InputError(f"{name} must be one of {', '.join(allowed)}; found {value!r}")
    return text


def _side(units: Any, prices: Any, costs: Any, side: str, n: int | None) -> pd.DataFrame:
    q, q_blank = _flat(units, f"{side}_units")
    p, p_blank = _flat(prices, f"{side}_prices")
    if len(p) != len(q):
        raise InputError(f"{side}_prices must have one cell per item of {side}_units "
                         f"({len(q)} vs {len(p)})")
    if n is not None and len(q) != n:
        raise InputError(f"{side}_units must list the same items as budget_units "
                         f"({n} vs {len(q)})")
    frame = pd.DataFrame({"units": q, "price": p}, index=pd.RangeIndex(1, len(q) + 1))
    if costs is not None:
        c, _ = _flat(costs, f"{side}_unit_costs")
        if len(c) != len(q):
            raise InputError(f"{side}_unit_costs must have one cell per item ({len(q)} vs "
                             f"{len(c)})")
        frame["unit_cost"] = c
    return frame[~(q_blank & p_blank)]


@cell_function
def sop_pvm(budget_units: Any, budget_prices: Any, plan_units: Any, plan_prices: Any,
            basis: Any = None, mix_method: Any = None, budget_unit_costs: Any = None,
            plan_unit_costs: Any = None) -> Grid:
    """Price / volume / mix bridge from budget to plan, per item and in total."""
    basis = _choice(basis, "basis", BASES, "revenue")
    method = _choice(mix_method, "mix_method", MIX_METHODS, "individual")
    if basis == "margin" and (budget_unit_costs is None or plan_unit_costs is None):
        raise InputError("the margin basis needs budget_unit_costs and plan_unit_costs")
    budget = _side(budget_units, budget_prices, budget_unit_costs, "budget", None)
    n = len(_flat(budget_units, "budget_units")[0])
    plan = _side(plan_units, plan_prices, plan_unit_costs, "plan", n)
    try:
        table = pvm(budget, plan, basis=basis, mix_method=method)
    except ValueError as exc:
        raise InputError(str(exc).removeprefix("pvm: ")) from None
    header = ["Item"] + [PVM_HEADERS[c] for c in table.columns]
    body = [[item if isinstance(item, str) else int(item)] + [
        (v + 0.0) if isinstance(v, float) else v for v in row]
        for item, row in zip(table.index, table.itertuples(index=False), strict=True)]
    return [header] + body


# ----------------------------------------------------------------------------- cost variances
def _families(**named: Any) -> dict[str, Any]:
    """Each given argument as one value per family: one cell, or a row or column of n."""
    values = {k: _flat(x, k)[0] for k, x in named.items() if x is not None}
    n = max(len(a) for a in values.values())
    for name, a in values.items():
        if len(a) not in (1, n):
            raise InputError(f"{name} must be one cell or one cell per family ({n} vs {len(a)})")
    if n == 1:  # single cells: plain numbers, so errors name no family
        return {name: float(a[0]) for name, a in values.items()}
    return {name: np.broadcast_to(a, (n,)) for name, a in values.items()}


def _variance_table(compute: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> Grid:
    """The variances' names as the header row, then one row of figures per family."""
    try:
        figures = compute(*args, **kwargs)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    columns = [np.atleast_1d(v) + 0.0 for v in figures.values()]
    rows = zip(*(c.tolist() for c in columns), strict=True)
    return [list(figures)] + [list(row) for row in rows]


@cell_function
def sop_matvar(std_qty_per_unit: Any, std_price: Any, actual_output: Any, qty_used: Any,
               actual_cost: Any, qty_purchased: Any = None, purchase_cost: Any = None) -> Grid:
    """Material price, usage and total variances (``sopfin.variances.material``)."""
    a = _families(std_qty_per_unit=std_qty_per_unit, std_price=std_price,
                  actual_output=actual_output, qty_used=qty_used, actual_cost=actual_cost,
                  qty_purchased=qty_purchased, purchase_cost=purchase_cost)
    return _variance_table(variances.material, a["std_qty_per_unit"], a["std_price"],
                           a["actual_output"], a["qty_used"], a.get("actual_cost"),
                           qty_purchased=a.get("qty_purchased"),
                           purchase_cost=a.get("purchase_cost"))


@cell_function
def sop_labvar(std_hours_per_unit: Any, std_rate: Any, actual_output: Any, hours_paid: Any,
               actual_cost: Any, hours_worked: Any = None) -> Grid:
    """Labour rate, idle time, efficiency and total variances (``sopfin.variances.labour``)."""
    a = _families(std_hours_per_unit=std_hours_per_unit, std_rate=std_rate,
                  actual_output=actual_output, hours_paid=hours_paid, actual_cost=actual_cost,
                  hours_worked=hours_worked)
    return _variance_table(variances.labour, a["std_hours_per_unit"], a["std_rate"],
                           a["actual_output"], a["hours_paid"], a["actual_cost"],
                           hours_worked=a.get("hours_worked"))


@cell_function
def sop_ohvar(std_hours_per_unit: Any, std_rate: Any, actual_output: Any, hours_worked: Any,
              actual_cost: Any, budget_output: Any = None, budget_fixed_cost: Any = None,
              actual_fixed_cost: Any = None) -> Grid:
    """Variable overhead variances (``variable_<key>``), and with the three fixed-overhead
    arguments the fixed overhead ones over the same hours (``fixed_<key>``)."""
    a = _families(std_hours_per_unit=std_hours_per_unit, std_rate=std_rate,
                  actual_output=actual_output, hours_worked=hours_worked,
                  actual_cost=actual_cost, budget_output=budget_output,
                  budget_fixed_cost=budget_fixed_cost, actual_fixed_cost=actual_fixed_cost)
    table = _variance_table(variances.variable_overhead, a["std_hours_per_unit"],
                            a["std_rate"], a["actual_output"], a["hours_worked"],
                            a["actual_cost"])
    table[0] = [f"variable_{k}" for k in table[0]]
    fixed = [k for k in ("budget_output", "budget_fixed_cost", "actual_fixed_cost") if k in a]
    if not fixed:
        return table
    if len(fixed) < 3:
        raise InputError("the fixed overhead needs budget_output, budget_fixed_cost and "
                         "actual_fixed_cost")
    more = _variance_table(variances.fixed_overhead, a["budget_output"], a["std_hours_per_unit"],
                           a["budget_fixed_cost"], a["actual_output"], a["hours_worked"],
                           a["actual_fixed_cost"])
    more[0] = [f"fixed_{k}" for k in more[0]]
    return [left + right for left, right in zip(table, more, strict=True)]


# ----------------------------------------------------------------------------- versions
@cell_function
def sop_version(ledger_rows: Sequence[Sequence[Any]] | None) -> Grid:
    """The latest published version: its label, status and the start of its content hash."""
    try:
        entries = parse_ledger(ledger_rows) if ledger_rows else []
    except ValueError as exc:
        raise InputError(f"the version ledger cannot be read: {exc}") from None
    published = [e for e in entries if e.event == PUBLISH]
    if not published:
        raise InputError("no published version in this workbook yet")
    latest = max(published, key=lambda e: e.version)
    status = current_status(entries)
    return [[f"v{latest.version:03d}", status.get(latest.version, ""),
             latest.recon_hash[:HASH_PREFIX]]]
