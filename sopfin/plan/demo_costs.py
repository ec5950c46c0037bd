"""The demo's standard-cost detail: the standards behind each StdCost row, and the actual
production cost of the two closed months at the start of the horizon, so that the demo's
close publishes its cost variances.

The standards reproduce each row's Material, Labour and Overhead within a cent: material
as kilograms per unit at the product line's price per kilogram (the family's price is the
row's material cost over those kilograms), labour as hours at the line's rate, 40% of the
overhead varying with labour hours and the rest a fixed monthly budget over the family's
average monthly production. The actual costs scatter around standard with their own random
stream (``default_rng([seed, 1])``), so the rest of the demo is the same as without them.
"""

from __future__ import annotations

import numpy as np

LINE_MATERIAL_PRICE = np.array([3.20, 4.10, 12.50, 6.80])  # per kg: Pumps, Valves, ...
LINE_LABOUR_RATE = np.array([42.0, 38.0, 46.0, 34.0])  # per hour
VARIABLE_OVERHEAD_SHARE = 0.4  # of overhead per unit, varying with labour hours
CLOSED_MONTHS = 2  # the first months of the horizon have actual costs
PURCHASED_EVERY = 3  # every third family buys for stock (price variance at purchase)


def standards(costs: np.ndarray, line: np.ndarray, budget_output: np.ndarray) -> np.ndarray:
    """(rows, 7) MaterialQty, MaterialPrice, LabourHours, LabourRate, VariableOverheadRate,
    FixedOverheadBudget, BudgetOutput for StdCost rows of costs (rows, 3), of families of
    product ``line`` making ``budget_output`` units a month."""
    material, labour, overhead = costs[:, 0], costs[:, 1], costs[:, 2]
    qty = np.maximum(np.round(material / LINE_MATERIAL_PRICE[line], 2), 0.01)
    hours = np.maximum(np.round(labour / LINE_LABOUR_RATE[line], 2), 0.01)
    variable_rate = np.round(VARIABLE_OVERHEAD_SHARE * overhead / hours, 6)
    fixed_per_unit = overhead - hours * variable_rate
    output = np.maximum(np.rint(budget_output), 1.0)
    return np.stack([qty, np.round(material / qty, 6), hours, np.round(labour / hours, 6),
                     variable_rate, np.round(fixed_per_unit * output, 2), output], axis=1)


CostRow = tuple[int, int, list[float | None]]  # family index, month index, the figures


def actual_costs(standard: np.ndarray, supply: np.ndarray, seed: int) -> list[CostRow]:
    """ActualCosts rows for the closed months: per family (F, 7
    standards from the start) that makes something in the month (``supply`` (F, M) base
    production), units made and every cost near standard."""
    rng = np.random.default_rng([seed, 1])
    qty, price, hours, rate, voh_rate, fixed_budget, _ = standard.T
    rows: list[CostRow] = []
    for month in range(min(CLOSED_MONTHS, supply.shape[1])):
        for f in np.flatnonzero(supply[:, month] > 0).tolist():
            made = float(np.rint(supply[f, month] * rng.uniform(0.94, 1.03)))
            used = round(made * qty[f] * rng.uniform(0.99, 1.04), 1)
            bought = round(used * rng.uniform(1.0, 1.15), 1) if f % PURCHASED_EVERY == 0 \
                else None
            paid = round(made * hours[f] * rng.uniform(0.98, 1.06), 1)
            worked = round(paid * rng.uniform(0.95, 0.99), 1)
            rows.append((f, month, [made, used, bought,
                         round((bought or used) * price[f] * rng.uniform(0.97, 1.05), 2),
                         paid, worked, round(paid * rate[f] * rng.uniform(0.99, 1.04), 2),
                         round(worked * voh_rate[f] * rng.uniform(0.95, 1.08), 2),
                         round(fixed_budget[f] * rng.uniform(0.97, 1.05), 2)]))
    return rows
