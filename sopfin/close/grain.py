"""The two sides of the budget bridge, summed over the window, at the finest grain both share.

The plan is known per sales line (family x channel); the Budget per family, or per family and
channel when it has a Channel column (``sopfin.layout``, sheet Budget). The bridge runs per
(family, channel) when the Budget has channels and Demand does too, else per family
(``by_channel``). Per item:

* plan units are the shipments, plan revenue the revenue and plan cost the shipments at the
  family's standard cost of each month (per family: standard COGS);
* budget units, revenue and cost are the Budget's units, revenue and cogs rows.

Prices and unit costs are money / units (0 without units); the money the units x rate split
does not carry is the side's ``residual``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopfin.engine.results import Dollarized
from sopfin.model import Plan

FAMILY, CHANNEL = "family", "channel"
SIDE_MEASURES = ("units", "revenue", "cogs")


class Side:
    """One side of the bridge per item (family, or (family, channel)), summed over the
    window."""

    def __init__(self, items: pd.Index, units: np.ndarray, revenue: np.ndarray,
                 cost: np.ndarray, present: np.ndarray) -> None:
        self.items, self.units, self.revenue, self.cost = items, units, revenue, cost
        self.present = present
        held = units != 0
        self.price = np.divide(revenue, units, out=np.zeros_like(revenue), where=held)
        self.unit_cost = np.divide(cost, units, out=np.zeros_like(cost), where=held)

    @property
    def by_channel(self) -> bool:
        return self.items.nlevels > 1

    def frame(self) -> pd.DataFrame:
        keep = self.present
        return pd.DataFrame({"units": self.units[keep], "price": self.price[keep],
                             "unit_cost": self.unit_cost[keep]}, index=self.items[keep])

    def residual(self, measure: str) -> pd.Series:
        """Revenue or cost the units x rate split does not carry (money without units, and
        float noise), per item."""
        if measure == "revenue":
            rest = self.revenue - self.units * self.price
        else:
            rest = self.cost - self.units * self.unit_cost
        return pd.Series(rest, index=self.items)


def family_index(families: tuple[str, ...] | list[str]) -> pd.Index:
    return pd.Index(list(families), name=FAMILY, dtype=object)


def item_label(item: object) -> str:
    """'PMP-100', or 'PMP-100 / Retail' for a (family, channel) item."""
    return " / ".join(map(str, item)) if isinstance(item, tuple) else str(item)


def by_channel(plan: Plan) -> bool:
    """True when the bridge runs per (family, channel): Budget and Demand both have channels."""
    return plan.has_channel and CHANNEL in plan.budget.key_names


def _window_sum(arr: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    picked = arr[:, cols]
    return picked.sum(axis=1), (picked != 0).any(axis=1)


def budget_side(d: Dollarized, cols: np.ndarray) -> Side:
    """The budget per family."""
    (units, a), (revenue, b), (cost, c) = (_window_sum(d.budget[m], cols)
                                           for m in ("units", "revenue", "cogs"))
    return Side(family_index(d.families), units, revenue, cost, a | b | c)


def plan_side(d: Dollarized, s: int, cols: np.ndarray) -> Side:
    """Scenario ``s`` per family."""
    (units, a), (revenue, b), (cost, c) = (_window_sum(d.fam[m][s], cols)
                                           for m in ("shipments_units", "revenue",
                                                     "cogs_standard"))
    return Side(family_index(d.families), units, revenue, cost, a | b | c)


def channel_sides(plan: Plan, d: Dollarized, s: int, cols: np.ndarray) -> tuple[Side, Side]:
    """(budget, plan) per (family, channel): the plan's sales lines first, then the budget's
    other pairs, both sides on the same items."""
    lines = _plan_lines(d, s, cols)
    budget = _budget_lines(plan, d, cols)
    items = lines.index.append(budget.index[~budget.index.isin(lines.index)])
    return _side(budget, items), _side(lines, items)


def _side(frame: pd.DataFrame, items: pd.Index) -> Side:
    """One side on the bridge's items (zeros, not present, where it has none)."""
    units, revenue, cost = (frame[m].reindex(items, fill_value=0.0).to_numpy(np.float64)
                            for m in SIDE_MEASURES)
    present = frame["present"].astype(bool).reindex(items, fill_value=False)
    return Side(items, units, revenue, cost, present.to_numpy(bool))


def _plan_lines(d: Dollarized, s: int, cols: np.ndarray) -> pd.DataFrame:
    fam_idx = d.lines["fam_idx"]
    shipped = d.line["shipments_units"][s][:, cols]
    revenue = d.line["revenue"][s][:, cols]
    cost = shipped * d.fam["unit_cost"][s][fam_idx][:, cols]
    present = (shipped != 0).any(axis=1) | (revenue != 0).any(axis=1) | (cost != 0).any(axis=1)
    index = pd.MultiIndex.from_arrays(
        [d.lines[FAMILY], d.lines[CHANNEL]],
        names=[FAMILY, CHANNEL])
    return pd.DataFrame({"units": shipped.sum(axis=1), "revenue": revenue.sum(axis=1),
                         "cogs": cost.sum(axis=1), "present": present}, index=index)


def _budget_lines(plan: Plan, d: Dollarized, cols: np.ndarray) -> pd.DataFrame:
    """The Budget's units, revenue and cogs rows per (family, channel) over the window."""
    table = plan.budget
    names = list(table.value_names)
    picked = table.values[:, [names.index(d.months[c]) for c in cols]]
    rows = pd.DataFrame({FAMILY: table.keys[FAMILY],
                         CHANNEL: table.keys[CHANNEL],
                         "measure": table.keys["measure"],
                         "amount": picked.sum(axis=1), "held": (picked != 0).any(axis=1)})
    rows = rows[rows["measure"].isin(SIDE_MEASURES) & rows[FAMILY].isin(d.families)]
    if rows.empty:
        index = pd.MultiIndex.from_arrays([[], []], names=[FAMILY, CHANNEL])
        return pd.DataFrame({m: pd.Series([], dtype=np.float64) for m in SIDE_MEASURES}
                            | {"present": pd.Series([], dtype=bool)}, index=index)
    amounts = rows.pivot_table(index=[FAMILY, CHANNEL], columns="measure", values="amount",
                               aggfunc="sum", sort=False)
    out = amounts.reindex(columns=list(SIDE_MEASURES)).fillna(0.0)
    out["present"] = rows.groupby([FAMILY, CHANNEL], sort=False)["held"].any()
    return out
