"""sopfin's worksheet functions, registered with xlwings (classic xlwings UDFs, Windows).

Thin wrappers over ``sopfin.excel.functions``: each reads its ranges as 2-D lists with Excel
errors as text (``ndim=2, err_to_str=True``), calls the plain function and returns its grid,
which Excel's dynamic arrays spill. The docstring is the description in Excel's function
wizard; each argument's ``doc`` is its help line. Nothing raised ever reaches the cell as a
traceback: a fault inside the engine becomes one ``#SOPFIN:`` line as well.

Spilling uses Excel's native dynamic arrays (Excel 365 / 2021 and later), so no
``@xw.ret(expand="table")``: xlwings documents that legacy resizing for older Excel versions
only, and it rewrites the calling cell as an array formula, which native spilling does not
need. In Excel 2016/2019 enter the function as an array formula over the result's size.

Import them into a workbook with xlwings' "Import Functions" (UDF module ``sopfin.excel.udfs``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw

from sopfin.excel import functions as f

CATEGORY = "S&OP Finance"
_RANGE = {"ndim": 2, "err_to_str": True}
_OPTIONAL = {"err_to_str": True}
_DAYS_DOC = "Optional: days in each month, one cell or one row (default 30)."


def _safe(call: Callable[[], Any]) -> Any:
    """The function's result, or one readable line for an unexpected fault."""
    try:
        return call()
    except Exception as exc:  # a fault must not surface in a cell as a traceback
        return f"{f.PREFIX}internal error ({type(exc).__name__}: {exc})"


@xw.func(category=CATEGORY)
@xw.arg("units", doc="Units shipped: a range (rows x months).", **_RANGE)
@xw.arg("prices", doc="Net selling price per unit, the same shape as units.", **_RANGE)
def SOP_REVENUE(units, prices):  # noqa: N802 - Excel function names are upper case
    """Revenue = units x price, cell by cell, spilled in the shape of units."""
    return _safe(lambda: f.sop_revenue(units, prices))


@xw.func(category=CATEGORY)
@xw.arg("units", doc="Units shipped: a range (rows x months).", **_RANGE)
@xw.arg("std_cost", doc="Standard cost per unit: same shape as units, one column (a cost "
                        "per row) or one cell.", **_RANGE)
@xw.arg("planned_variances", doc="Optional: planned variances in currency, the same shape "
                                 "as units (added to COGS).", **_RANGE)
def SOP_COGS(units, std_cost, planned_variances=None):  # noqa: N802
    """COGS = units x standard cost + planned variances, spilled in the shape of units."""
    return _safe(lambda: f.sop_cogs(units, std_cost, planned_variances))


@xw.func(category=CATEGORY)
@xw.arg("opening", doc="Opening units on hand: one cell per row of production.", **_RANGE)
@xw.arg("production", doc="Planned production in units (rows x months).", **_RANGE)
@xw.arg("shipments", doc="Units shipped (rows x months), the same shape as production.",
        **_RANGE)
def SOP_INVENTORY(opening, production, shipments):  # noqa: N802
    """End-of-month inventory units: opening + production - shipments, rolled forward."""
    return _safe(lambda: f.sop_inventory(opening, production, shipments))


@xw.func(category=CATEGORY)
@xw.arg("inventory_value", doc="Inventory value at the end of each month (rows x months).",
        **_RANGE)
@xw.arg("opening_value", doc="Optional: inventory value before the first month, one cell "
                             "per row; without it the first month is blank.", **_RANGE)
def SOP_INVCASH(inventory_value, opening_value=None):  # noqa: N802
    """Cash effect of inventory: -(value - previous month's value), month by month."""
    return _safe(lambda: f.sop_invcash(inventory_value, opening_value))


@xw.func(category=CATEGORY)
@xw.arg("inventory_value", doc="Inventory value at the end of each month.", **_RANGE)
@xw.arg("cogs", doc="COGS of each month, the same shape as inventory_value.", **_RANGE)
@xw.arg("days", doc=_DAYS_DOC, **_RANGE)
def SOP_DIO(inventory_value, cogs, days=None):  # noqa: N802
    """Days of inventory = inventory value / COGS x days; blank where COGS is 0."""
    return _safe(lambda: f.sop_dio(inventory_value, cogs, days))


@xw.func(category=CATEGORY)
@xw.arg("receivables", doc="Receivables at the end of each month (rows x months).", **_RANGE)
@xw.arg("revenue", doc="Revenue of each month, the same shape as receivables.", **_RANGE)
@xw.arg("days", doc=_DAYS_DOC, **_RANGE)
def SOP_DSO(receivables, revenue, days=None):  # noqa: N802
    """Days sales outstanding = receivables / revenue x days; blank where revenue is 0."""
    return _safe(lambda: f.sop_dso(receivables, revenue, days))


@xw.func(category=CATEGORY)
@xw.arg("payables", doc="Payables at the end of each month (rows x months).", **_RANGE)
@xw.arg("cost", doc="COGS, production cost or purchases of each month, the same shape as "
                    "payables.", **_RANGE)
@xw.arg("days", doc=_DAYS_DOC, **_RANGE)
def SOP_DPO(payables, cost, days=None):  # noqa: N802
    """Days payables outstanding = payables / cost x days; blank where the cost is 0."""
    return _safe(lambda: f.sop_dpo(payables, cost, days))


@xw.func(category=CATEGORY)
@xw.arg("inventory_value", doc="Inventory value at the end of each month.", **_RANGE)
@xw.arg("cogs", doc="COGS of each month, the same shape as inventory_value.", **_RANGE)
@xw.arg("receivables", doc="Receivables at the end of each month, the same shape.", **_RANGE)
@xw.arg("revenue", doc="Revenue of each month, the same shape.", **_RANGE)
@xw.arg("payables", doc="Payables at the end of each month, the same shape.", **_RANGE)
@xw.arg("days", doc=_DAYS_DOC, **_RANGE)
def SOP_CCC(inventory_value, cogs, receivables, revenue, payables, days=None):  # noqa: N802
    """Cash conversion cycle = DIO + DSO - DPO (payables on COGS), blank on a zero flow."""
    return _safe(lambda: f.sop_ccc(inventory_value, cogs, receivables, revenue, payables,
                                   days))


@xw.func(category=CATEGORY)
@xw.arg("budget_units", doc="Budget units, one cell per item (a row or a column).", **_RANGE)
@xw.arg("budget_prices", doc="Budget price per unit, one cell per item.", **_RANGE)
@xw.arg("plan_units", doc="Plan units, one cell per item, in the same item order.", **_RANGE)
@xw.arg("plan_prices", doc="Plan price per unit, one cell per item.", **_RANGE)
@xw.arg("basis", doc="Optional: revenue (default) or margin.", **_OPTIONAL)
@xw.arg("mix_method", doc="Optional: individual (default) or weighted_average.", **_OPTIONAL)
@xw.arg("budget_unit_costs", doc="Optional (margin basis): budget standard cost per unit.",
        **_RANGE)
@xw.arg("plan_unit_costs", doc="Optional (margin basis): plan standard cost per unit.",
        **_RANGE)
def SOP_PVM(budget_units, budget_prices, plan_units, plan_prices, basis=None,  # noqa: N802
            mix_method=None, budget_unit_costs=None, plan_unit_costs=None):
    """Price / volume / mix bridge from budget to plan: one row per item plus Total."""
    return _safe(lambda: f.sop_pvm(budget_units, budget_prices, plan_units, plan_prices,
                                   basis, mix_method, budget_unit_costs, plan_unit_costs))


@xw.func(category=CATEGORY)
@xw.arg("plan", doc="Plan figures: a cell, a row or a range.", **_RANGE)
@xw.arg("budget", doc="Budget figures, the same shape as plan.", **_RANGE)
def SOP_GAP(plan, budget):  # noqa: N802
    """Gap to budget (plan - budget) and gap % (gap / |budget|, blank where budget is 0)."""
    return _safe(lambda: f.sop_gap(plan, budget))


_FAMILY = "one cell, or a row or column with one cell per family"


@xw.func(category=CATEGORY)
@xw.arg("std_qty_per_unit", doc=f"Standard material quantity per unit made: {_FAMILY}.",
        **_RANGE)
@xw.arg("std_price", doc="Standard price per unit of material.", **_RANGE)
@xw.arg("actual_output", doc="Units actually made.", **_RANGE)
@xw.arg("qty_used", doc="Material quantity actually used.", **_RANGE)
@xw.arg("actual_cost", doc="Actual cost of the material used (ignored when the price "
                           "variance is taken at purchase).", **_RANGE)
@xw.arg("qty_purchased", doc="Optional: quantity bought, for the price variance at purchase.",
        **_RANGE)
@xw.arg("purchase_cost", doc="Optional: what the quantity bought cost.", **_RANGE)
def SOP_MATVAR(std_qty_per_unit, std_price, actual_output, qty_used,  # noqa: N802
               actual_cost, qty_purchased=None, purchase_cost=None):
    """Material variances, positive favourable: price, usage and total, one row per family."""
    return _safe(lambda: f.sop_matvar(std_qty_per_unit, std_price, actual_output, qty_used,
                                      actual_cost, qty_purchased, purchase_cost))


@xw.func(category=CATEGORY)
@xw.arg("std_hours_per_unit", doc=f"Standard labour hours per unit made: {_FAMILY}.",
        **_RANGE)
@xw.arg("std_rate", doc="Standard wage rate per hour.", **_RANGE)
@xw.arg("actual_output", doc="Units actually made.", **_RANGE)
@xw.arg("hours_paid", doc="Labour hours paid.", **_RANGE)
@xw.arg("actual_cost", doc="Actual wage bill for the hours paid.", **_RANGE)
@xw.arg("hours_worked", doc="Optional: hours worked, when some paid hours were idle.",
        **_RANGE)
def SOP_LABVAR(std_hours_per_unit, std_rate, actual_output, hours_paid,  # noqa: N802
               actual_cost, hours_worked=None):
    """Labour variances, positive favourable: rate, idle time, efficiency and total."""
    return _safe(lambda: f.sop_labvar(std_hours_per_unit, std_rate, actual_output, hours_paid,
                                      actual_cost, hours_worked))


@xw.func(category=CATEGORY)
@xw.arg("std_hours_per_unit", doc=f"Standard hours per unit made: {_FAMILY}.", **_RANGE)
@xw.arg("std_rate", doc="Variable overhead absorbed per hour worked.", **_RANGE)
@xw.arg("actual_output", doc="Units actually made.", **_RANGE)
@xw.arg("hours_worked", doc="Hours actually worked.", **_RANGE)
@xw.arg("actual_cost", doc="Actual variable overhead.", **_RANGE)
@xw.arg("budget_output", doc="Optional: budgeted units, for the fixed overhead.", **_RANGE)
@xw.arg("budget_fixed_cost", doc="Optional: budgeted fixed overhead.", **_RANGE)
@xw.arg("actual_fixed_cost", doc="Optional: actual fixed overhead.", **_RANGE)
def SOP_OHVAR(std_hours_per_unit, std_rate, actual_output, hours_worked,  # noqa: N802
              actual_cost, budget_output=None, budget_fixed_cost=None, actual_fixed_cost=None):
    """Overhead variances, positive favourable: variable, and fixed with its volume split."""
    return _safe(lambda: f.sop_ohvar(std_hours_per_unit, std_rate, actual_output, hours_worked,
                                     actual_cost, budget_output, budget_fixed_cost,
                                     actual_fixed_cost))


@xw.func(category=CATEGORY, volatile=True)
def SOP_VERSION(caller):  # noqa: N802 - xlwings passes the calling range as ``caller``
    """This workbook's latest published version: version, status and hash prefix."""
    return _safe(lambda: f.sop_version(_ledger_rows(caller.sheet.book)))


def _ledger_rows(book: Any) -> list[list[Any]]:
    from sopfin import layout
    from sopfin.excel.live import LiveWorkbook

    raw = LiveWorkbook(book).read_raw_sheets([layout.LEDGER]).get(layout.LEDGER)
    return raw.rows if raw is not None else []


UDFS = (SOP_REVENUE, SOP_COGS, SOP_INVENTORY, SOP_INVCASH, SOP_DIO, SOP_DSO, SOP_DPO, SOP_CCC,
        SOP_PVM, SOP_GAP, SOP_MATVAR, SOP_LABVAR, SOP_OHVAR, SOP_VERSION)
