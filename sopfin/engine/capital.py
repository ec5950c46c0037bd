"""The plan's working capital and trapped stock, from the dollarized figures and Settings.

``working_capital_plan`` and ``inventory_exposure`` are the maths; this module feeds them the
plan's arrays and says which month a figure stands for:

``capital_plan(d, dso, dpo)``
    Per scenario and month (every family together): receivables (DSO days of the month's
    revenue), payables (DPO days of the month's production cost), inventory value, net
    working capital, its change and the cash effect of working capital. Before the horizon,
    receivables and payables stand at the first month's level and inventory at its opening
    value, so the first month's change is the inventory build alone.

``exposure(d, months_ahead, target_days)``
    Per scenario, family and month: days of supply, stranded and excess stock in units and
    dollars (``sopfin.engine.stranded``).

``as_at(months, window_months, months_ahead)``
    The month a window's stranded and excess figures are read at: its last month, or the last
    month the plan can judge (the horizon's end less the stranded horizon) when that is
    earlier; None when the plan can judge no month.

``stranded_warnings(plan, d)``
    One ``stranded-stock`` warning per family holding stock with no demand in the following
    months, at the family's cell on sheet Families.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.engine.results import Array, Dollarized
from sopfin.engine.stranded import inventory_exposure, stranded_units
from sopfin.engine.working_capital import working_capital_plan
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity

CAPITAL_MEASURES = ("receivables", "payables", "inventory", "net_working_capital", "change",
                    "cash_effect")
EXPOSURE_MEASURES = ("days_of_supply", "stranded_units", "stranded_value", "excess_units",
                     "excess_value")


@dataclass(frozen=True)
class CapitalPlan:
    """Working capital per scenario and month, (S, M) each; the flows it is built from."""

    revenue: Array
    production_cost: Array
    cogs: Array
    receivables: Array
    payables: Array
    inventory: Array
    net_working_capital: Array
    change: Array
    cash_effect: Array
    opening: Array  # (S,) net working capital before the first month


def capital_plan(d: Dollarized, dso: float, dpo: float) -> CapitalPlan:
    """The plan's working capital by scenario and month (see the module docstring)."""
    revenue = np.asarray(d.fam["revenue"].sum(axis=1), dtype=np.float64)
    cost = np.asarray(d.fam["production_cost"].sum(axis=1), dtype=np.float64)
    inventory = np.asarray(d.fam["inventory_value"].sum(axis=1), dtype=np.float64)
    days = np.asarray(d.days_in_month, dtype=np.float64)
    first = working_capital_plan(revenue[:, :1], cost[:, :1], inventory[:, :1], days[:1],
                                 dso=dso, dpo=dpo)
    opening = (first["receivables"][:, 0] - first["payables"][:, 0]
               + np.asarray(d.opening_value, dtype=np.float64).sum(axis=1))
    wc = working_capital_plan(revenue, cost, inventory, days, dso=dso, dpo=dpo, opening=opening)
    return CapitalPlan(revenue=revenue, production_cost=cost,
                       cogs=np.asarray(d.fam["cogs"].sum(axis=1), dtype=np.float64),
                       receivables=wc["receivables"], payables=wc["payables"],
                       inventory=wc["inventory"], net_working_capital=wc["net_working_capital"],
                       change=wc["change"], cash_effect=wc["cash_effect"], opening=opening)


def exposure(d: Dollarized, months_ahead: int, target_days: float) -> dict[str, Array]:
    """Days of supply, stranded and excess stock per scenario, family and month."""
    fam = d.fam
    return inventory_exposure(fam["end_units"], fam["shipments_units"], fam["demand_units"],
                              fam["unit_cost"], d.days_in_month, months_ahead=months_ahead,
                              target_days=target_days)


def as_at(months: Sequence[str], window_months: Sequence[str], months_ahead: int) -> int | None:
    """Index of the month a window's stranded and excess stock is read at (see above)."""
    judged = len(months) - int(months_ahead)
    if judged < 1 or not window_months:
        return None
    return min(months.index(window_months[-1]), judged - 1)


def stranded_warnings(plan: Plan, d: Dollarized) -> list[Issue]:
    """One warning per family with stranded stock in some scenario (the plan scenario first),
    at its first stranded month."""
    settings = plan.settings
    ahead = settings.stranded_months
    if len(d.months) <= ahead or not d.families:
        return []
    units = stranded_units(d.fam["end_units"], d.fam["demand_units"], ahead)
    value = units * d.fam["unit_cost"]
    order = sorted(range(len(d.scenarios)),
                   key=lambda s: d.scenarios[s] != settings.reconciled_scenario)
    rows = _family_rows(plan)
    issues = []
    for f, family in enumerate(d.families):
        for s in order:
            held = np.nan_to_num(units[s, f]) > 0
            if not held.any():
                continue
            t = int(held.argmax())
            issues.append(Issue(
                IssueCode.STRANDED_STOCK, Severity.WARNING,
                rows.get(family, CellRef(layout.FAMILIES)),
                f"family {family!r} holds {units[s, f, t]:,.0f} units "
                f"({settings.currency} {value[s, f, t]:,.2f}) at the end of {d.months[t]} with "
                f"no demand in the {ahead} months after (scenario {d.scenarios[s]!r})",
                "plan demand for it, stop producing it, or write the stock down; the Recon "
                "and Summary show the stranded value"))
            break
    return issues


def _family_rows(plan: Plan) -> dict[str, CellRef]:
    """Each family's Family cell on sheet Families."""
    families = plan.families.keys["family"].astype(str).tolist()
    return {family: plan.families.ref(i) for i, family in enumerate(families)}
