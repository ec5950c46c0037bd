"""The revenue bridge from budget to plan of each business unit, in the reporting currency.

The families' translated units and revenue (from the fact store) go through the engine's
``pvm`` (revenue basis, individual units method), so a unit's bridge splits its gap exactly
as a close's bridge does: price, quantity and mix of the families on both sides, new and
discontinued families, then the named revenue overrides. ``other`` is what the units x price
split does not carry (revenue without units); every row sums to its gap:

    budget + price + quantity + mix + new + discontinued + other + overrides == plan
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopfin.engine.bridge import BOTH, DISCONTINUED, NEW, TOTAL, pvm

BRIDGE_COLUMNS = ("unit", "budget_revenue", "price", "quantity", "mix", "new", "discontinued",
                  "other", "overrides", "plan_revenue")


def _side(frame: pd.DataFrame, units: str, revenue: str) -> pd.DataFrame:
    """The families present on one side (units or revenue), with price = revenue / units."""
    held = (frame[units] != 0) | (frame[revenue] != 0)
    part = frame.loc[held]
    q, r = part[units].to_numpy(dtype=float), part[revenue].to_numpy(dtype=float)
    price = np.divide(r, q, out=np.zeros_like(r), where=q != 0)
    return pd.DataFrame({"units": q, "price": price},
                        index=pd.Index(part["family"].to_numpy(dtype=object), name="family"))


def unit_bridge(unit: str, families: pd.DataFrame) -> dict[str, object]:
    """One unit's bridge row from its families (columns family, budget_units,
    budget_revenue, plan_units, plan_revenue, overrides)."""
    budget = _side(families, "budget_units", "budget_revenue")
    planned = _side(families, "plan_units", "plan_revenue")
    steps = pvm(budget, planned, basis="revenue", mix_method="individual").drop(index=TOTAL)
    both = steps["status"] == BOTH
    start = float(families["budget_revenue"].sum())
    end = float(families["plan_revenue"].sum())
    overrides = float(families["overrides"].sum())
    row: dict[str, object] = {
        "unit": unit, "budget_revenue": start,
        "price": float(steps.loc[both, "price"].sum()),
        "quantity": float(steps.loc[both, "quantity"].sum()),
        "mix": float(steps.loc[both, "mix"].sum()),
        "new": float(steps.loc[steps["status"] == NEW, "total"].sum()),
        "discontinued": float(steps.loc[steps["status"] == DISCONTINUED, "total"].sum()),
        "overrides": overrides, "plan_revenue": end + overrides}
    explained = sum(float(row[k]) for k in ("price", "quantity", "mix", "new", "discontinued"))
    row["other"] = end - start - explained
    return row


def bridges(inputs: pd.DataFrame) -> pd.DataFrame:
    """The bridge row of every unit in ``inputs`` (one row per unit and family, units in
    their order)."""
    rows = [unit_bridge(unit, part)
            for unit, part in inputs.groupby("unit", sort=False)]
    return pd.DataFrame(rows, columns=list(BRIDGE_COLUMNS))
