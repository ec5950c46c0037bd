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

from collections.abc import Sequence
from typing import Any

import numpy as np

from sopfin.engine.results import Dollarized
from sopfin.model import Plan

FAMILY, CHANNEL = "family", "channel"
SIDE_MEASURES = ("units", "revenue", "cogs")
FAMILY_NAMES = (FAMILY,)
CHANNEL_NAMES = (FAMILY, CHANNEL)


class Side:
    """One side of the bridge per item (family, or (family, channel)), summed over the
    window. ``names`` names the item's parts: ('family',) or ('family', 'channel')."""

    def __init__(self, items: Sequence[Any], names: tuple[str, ...], units: np.ndarray,
                 revenue: np.ndarray, cost: np.ndarray, present: np.ndarray) -> None:
        self.items, self.names = list(items), names
        self.units, self.revenue, self.cost = units, revenue, cost
        self.present = present
        held = units != 0
        self.price = np.divide(revenue, units, out=np.zeros_like(revenue), where=held)
        self.unit_cost = np.divide(cost, units, out=np.zeros_like(cost), where=held)

    @property
    def by_channel(self) -> bool:
        return len(self.names) > 1

    def residual(self, measure: str) -> np.ndarray:
        """Revenue or cost the units x rate split does not carry (money without units, and
        float noise), per item."""
        if measure == "revenue":
            return np.asarray(self.revenue - self.units * self.price)
        return np.asarray(self.cost - self.units * self.unit_cost)


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
    return Side(d.families, FAMILY_NAMES, units, revenue, cost, a | b | c)


def plan_side(d: Dollarized, s: int, cols: np.ndarray) -> Side:
    """Scenario ``s`` per family."""
    (units, a), (revenue, b), (cost, c) = (_window_sum(d.fam[m][s], cols)
                                           for m in ("shipments_units", "revenue",
                                                     "cogs_standard"))
    return Side(d.families, FAMILY_NAMES, units, revenue, cost, a | b | c)


# per item: units, revenue, cogs and whether the side has it
_Lines = dict[tuple[str, str], tuple[float, float, float, bool]]


def channel_sides(plan: Plan, d: Dollarized, s: int, cols: np.ndarray) -> tuple[Side, Side]:
    """(budget, plan) per (family, channel): the plan's sales lines first, then the budget's
    other pairs, both sides on the same items."""
    lines = _plan_lines(d, s, cols)
    budget = _budget_lines(plan, d, cols)
    items = [*lines, *(k for k in budget if k not in lines)]
    return _side(budget, items), _side(lines, items)


def _side(lines: _Lines, items: list[tuple[str, str]]) -> Side:
    """One side on the bridge's items (zeros, not present, where it has none)."""
    none = (0.0, 0.0, 0.0, False)
    units, revenue, cost = (np.array([lines.get(i, none)[k] for i in items], dtype=np.float64)
                            for k in range(3))
    present = np.array([lines.get(i, none)[3] for i in items], dtype=bool)
    return Side(items, CHANNEL_NAMES, units, revenue, cost, present)


def _plan_lines(d: Dollarized, s: int, cols: np.ndarray) -> _Lines:
    fam_idx = d.lines["fam_idx"]
    shipped = d.line["shipments_units"][s][:, cols]
    revenue = d.line["revenue"][s][:, cols]
    cost = shipped * d.fam["unit_cost"][s][fam_idx][:, cols]
    present = (shipped != 0).any(axis=1) | (revenue != 0).any(axis=1) | (cost != 0).any(axis=1)
    keys = zip(d.lines[FAMILY].tolist(), d.lines[CHANNEL].tolist(), strict=True)
    return dict(zip(keys, zip(shipped.sum(axis=1).tolist(), revenue.sum(axis=1).tolist(),
                              cost.sum(axis=1).tolist(), present.tolist(), strict=True),
                    strict=True))


def _budget_lines(plan: Plan, d: Dollarized, cols: np.ndarray) -> _Lines:
    """The Budget's units, revenue and cogs rows per (family, channel) over the window."""
    table = plan.budget
    names = list(table.value_names)
    picked = table.values[:, [names.index(d.months[c]) for c in cols]]
    amounts, held = picked.sum(axis=1).tolist(), (picked != 0).any(axis=1).tolist()
    families = set(d.families)
    sums: dict[tuple[str, str], list[float]] = {}
    seen: dict[tuple[str, str], bool] = {}
    for i, (family, channel, measure) in enumerate(zip(
            table.keys[FAMILY].tolist(), table.keys[CHANNEL].tolist(),
            table.keys["measure"].tolist(), strict=True)):
        if measure not in SIDE_MEASURES or family not in families:
            continue
        key = (family, channel)
        sums.setdefault(key, [0.0, 0.0, 0.0])[SIDE_MEASURES.index(measure)] += amounts[i]
        seen[key] = seen.get(key, False) or held[i]
    return {k: (v[0], v[1], v[2], seen[k]) for k, v in sums.items()}
