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

from sopfin import layout
from sopfin.engine.bridge import BOTH, DISCONTINUED, NEW, TOTAL, pvm
from sopfin.model import CellRef, Issue, IssueCode, Severity

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


STEPS = ("price", "quantity", "mix", "new", "discontinued")


def _steps(families: pd.DataFrame) -> dict[str, float]:
    budget = _side(families, "budget_units", "budget_revenue")
    planned = _side(families, "plan_units", "plan_revenue")
    steps = pvm(budget, planned, basis="revenue", mix_method="individual").drop(index=TOTAL)
    both = steps["status"] == BOTH
    return {"price": float(steps.loc[both, "price"].sum()),
            "quantity": float(steps.loc[both, "quantity"].sum()),
            "mix": float(steps.loc[both, "mix"].sum()),
            "new": float(steps.loc[steps["status"] == NEW, "total"].sum()),
            "discontinued": float(steps.loc[steps["status"] == DISCONTINUED, "total"].sum())}


def unit_bridge(unit: str, families: pd.DataFrame) -> tuple[dict[str, object], list[Issue]]:
    """One unit's bridge row from its families (columns family, budget_units,
    budget_revenue, plan_units, plan_revenue, overrides). A budget whose units sum to less
    than zero over the horizon has no price / volume split: its whole gap is ``other``, with a
    warning."""
    start = float(families["budget_revenue"].sum())
    end = float(families["plan_revenue"].sum())
    overrides = float(families["overrides"].sum())
    issues = []
    try:
        steps = _steps(families)
    except ValueError as exc:
        steps = dict.fromkeys(STEPS, 0.0)
        issues.append(Issue(IssueCode.NEGATIVE_VALUE, Severity.WARNING, CellRef(layout.BUDGET),
                            f"the revenue bridge cannot split this unit's gap ({exc})",
                            "its whole gap is shown as Other on the Bridge sheet"))
    row: dict[str, object] = {"unit": unit, "budget_revenue": start, **steps,
                              "other": end - start - sum(steps.values()),
                              "overrides": overrides, "plan_revenue": end + overrides}
    return row, issues


def bridges(inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, Issue]]]:
    """The bridge row of every unit in ``inputs`` (one row per unit and family, units in
    their order), and the units' warnings."""
    rows, issues = [], []
    for unit, part in inputs.groupby("unit", sort=False):
        row, found = unit_bridge(str(unit), part)
        rows.append(row)
        issues += [(str(unit), i) for i in found]
    return pd.DataFrame(rows, columns=list(BRIDGE_COLUMNS)), issues
