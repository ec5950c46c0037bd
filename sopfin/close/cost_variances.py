"""Standard-cost variances of the closed months: why actual production cost differs from the
standard cost of what was made, per family and in total. Pure: records in, records out.

Inputs are the ``ActualCosts`` sheet (``ActualCosts``, one row per family and closed month)
and the standards behind each ``StdCost`` row (``Standards``). For each row of ActualCosts in
the close's window, the StdCost row in force for its family and month gives the standards,
and ``sopfin.engine.variances`` computes, positive favourable:

* material (MaterialQty, MaterialPrice): price, at purchase when MaterialQtyPurchased is
  given (MaterialCost is then what the purchases cost), else at usage; and usage;
* labour (LabourHours, LabourRate): rate, idle time (hours paid but not worked) and
  efficiency;
* variable overhead (LabourHours, VariableOverheadRate per hour worked): expenditure and
  efficiency;
* fixed overhead (FixedOverheadBudget and BudgetOutput of the month, absorbed over
  BudgetOutput x LabourHours hours): expenditure and volume, volume split into capacity and
  efficiency.

An element whose standards are not all given is left out for that row (the read warns,
``standard-missing``). The engine rounds each family-month to the cent with its parts adding
up to its total; families and months then add in whole cents, so every published row's lines
add up to its total and the family rows add up to the Total row, to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sopfin.engine import variances
from sopfin.engine.dollarize import std_cost_rows
from sopfin.model import CellRef, Plan

# Standards per StdCost row, as read (key names of layout.STD_COST_STANDARDS).
STANDARD_NAMES = ("material_qty", "material_price", "labour_hours", "labour_rate",
                  "variable_overhead_rate", "fixed_overhead_budget", "budget_output")
# What each element needs of the standards.
ELEMENT_STANDARDS: dict[str, tuple[str, ...]] = {
    "material": ("material_qty", "material_price"),
    "labour": ("labour_hours", "labour_rate"),
    "variable_overhead": ("labour_hours", "variable_overhead_rate"),
    "fixed_overhead": ("labour_hours", "fixed_overhead_budget", "budget_output"),
}
# The actual cost each element explains (ActualCosts key names).
ELEMENT_COST = {"material": "material_cost", "labour": "labour_cost",
                "variable_overhead": "variable_overhead_cost",
                "fixed_overhead": "fixed_overhead_cost"}
# The published lines, element by element; they add up to the total. Fixed overhead volume
# is published as well, as capacity + efficiency.
LINES: tuple[tuple[str, str], ...] = (
    ("material", "price"), ("material", "usage"),
    ("labour", "rate"), ("labour", "idle_time"), ("labour", "efficiency"),
    ("variable_overhead", "expenditure"), ("variable_overhead", "efficiency"),
    ("fixed_overhead", "expenditure"), ("fixed_overhead", "capacity"),
    ("fixed_overhead", "efficiency"),
)
VOLUME = ("fixed_overhead", "volume")
TOTAL = "Total"


@dataclass(frozen=True, eq=False)
class ActualCosts:
    """The ActualCosts rows that read cleanly: one value per row of each figure (key names of
    the sheet's value headers). Blank cells read 0, except material_qty_purchased (NaN: the
    price variance is taken at usage) and labour_hours_worked (NaN: the hours paid)."""

    families: tuple[str, ...]
    months: tuple[str, ...]  # 'YYYY-MM'
    figures: Mapping[str, np.ndarray]
    where: tuple[CellRef, ...]  # each row's Family cell

    def only(self, rows: Sequence[int]) -> ActualCosts:
        """These rows, in this order."""
        picked = list(rows)
        return ActualCosts(families=tuple(self.families[i] for i in picked),
                           months=tuple(self.months[i] for i in picked),
                           figures={k: v[picked] for k, v in self.figures.items()},
                           where=tuple(self.where[i] for i in picked))

    def without(self, rows: Sequence[int]) -> ActualCosts:
        left_out = set(rows)
        return self.only([i for i in range(len(self.months)) if i not in left_out])


@dataclass(frozen=True, eq=False)
class Standards:
    """The standards of each ``plan.std_cost`` row (``STANDARD_NAMES``; NaN = blank)."""

    figures: Mapping[str, np.ndarray]

    def complete(self, element: str, rows: np.ndarray) -> np.ndarray:
        """Per StdCost row index in ``rows`` (-1: none in force): True when the element's
        standards are all given."""
        ok = rows >= 0
        for name in ELEMENT_STANDARDS[element]:
            values = self.figures[name]
            ok &= np.isfinite(values[np.maximum(rows, 0)]) if len(values) else False
        return ok


@dataclass(frozen=True, eq=False)
class CostVariances:
    """The published variances over the window's closed months: ``values`` has one row per
    family (plan order) and a ``Total`` row (``rows`` names them); ``columns`` are
    ``element:variance`` for ``LINES`` and the fixed overhead volume, each element's
    ``element:total`` and ``total``; in currency, whole cents."""

    months: tuple[str, ...]
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray  # (rows, columns) float64

    def figure(self, row: str, name: str) -> float:
        """The variance ``name`` of family ``row`` (or of the Total row)."""
        return float(self.values[self.rows.index(row), self.columns.index(name)])

    def as_dict(self) -> dict[str, Any]:
        """Plain data: months, and per family and in total each element's variances."""
        rows = {f: dict(zip(self.columns, values, strict=True))
                for f, values in zip(self.rows, self.values, strict=True)}
        return {"months": list(self.months),
                "by_family": {f: _row_dict(row) for f, row in rows.items() if f != TOTAL},
                "total": _row_dict(rows[TOTAL])}


def column(element: str, part: str) -> str:
    return f"{element}:{part}"


def _row_dict(row: Mapping[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in ELEMENT_STANDARDS:
        parts = [p for e, p in (*LINES, VOLUME) if e == element]
        out[element] = {p: float(row[column(element, p)]) for p in (*parts, "total")}
    out["total"] = float(row["total"])
    return out


def standards_in_force(plan: Plan, costs: ActualCosts) -> np.ndarray:
    """Per ActualCosts row, the index of the StdCost row in force for its family and month
    (-1: none, or a month outside the horizon)."""
    family_at = {x: i for i, x in enumerate(dict.fromkeys(costs.families))}
    grid = std_cost_rows(plan, tuple(family_at))
    f = np.array([family_at[x] for x in costs.families], dtype=np.int64)
    month_at = {m: j for j, m in enumerate(plan.months)}
    m = np.array([month_at.get(x, -1) for x in costs.months], dtype=np.int64)
    out = np.full(len(f), -1, dtype=np.int64)
    inside = m >= 0
    out[inside] = grid[f[inside], m[inside]]
    return out


def cost_variances(plan: Plan, costs: ActualCosts | None, standards: Standards | None,
                   months: Sequence[str]) -> CostVariances | None:
    """The variances of the ActualCosts rows in ``months``; None when there are none, or
    when no row has the standards of any element."""
    if costs is None or standards is None:
        return None
    window = set(months)
    picked = np.array([m in window for m in costs.months], dtype=bool)
    rows = standards_in_force(plan, costs)[picked]
    if not any(standards.complete(e, rows).any() for e in ELEMENT_STANDARDS):
        return None
    actual = {k: np.asarray(v, dtype=np.float64)[picked] for k, v in costs.figures.items()}
    cents = _row_cents(actual, rows, standards)
    families = np.array(costs.families, dtype=object)[picked].tolist()
    present = set(families)
    order = [f for f in dict.fromkeys(plan.families.keys["family"].tolist()) if f in present]
    at = {f: i for i, f in enumerate(order)}
    codes = np.array([at.get(f, -1) for f in families], dtype=np.int64)
    known = codes >= 0  # a family not on sheet Families has no row
    by_family = np.zeros((len(order) + 1, len(cents)))  # whole cents: every sum is exact
    for j, per_row in enumerate(cents.values()):
        np.add.at(by_family[:, j], codes[known], per_row[known])
    by_family[-1] = by_family[:-1].sum(axis=0)
    closed_months = set(np.array(costs.months)[picked].tolist())
    closed = tuple(m for m in months if m in closed_months)
    return CostVariances(months=closed, rows=(*order, TOTAL), columns=tuple(cents),
                         values=by_family / 100.0)


def _row_cents(actual: Mapping[str, np.ndarray], rows: np.ndarray,
               standards: Standards) -> dict[str, np.ndarray]:
    """Per row, each line, element total and the total in whole cents (float64, exact up to
    2**53 cents, as ``sopfin.money`` keeps them)."""
    n = len(rows)
    out: dict[str, np.ndarray] = {}
    for element, compute in _ELEMENTS.items():
        ok = standards.complete(element, rows)
        std = {k: standards.figures[k][rows[ok]] if ok.any() else np.zeros(0)
               for k in ELEMENT_STANDARDS[element]}
        found = compute({k: v[ok] for k, v in actual.items()}, std) if ok.any() else {}
        parts = [p for e, p in (*LINES, VOLUME) if e == element] + ["total"]
        for part in parts:
            values = np.zeros(n)
            if found:
                values[ok] = np.rint(np.asarray(found[part]) * 100.0)
            out[column(element, part)] = values
    out["total"] = sum((out[column(e, "total")] for e in ELEMENT_STANDARDS), np.zeros(n))
    return out


Figures = Mapping[str, np.ndarray]


def _material(a: Figures, s: Figures) -> dict[str, Any]:
    """At purchase where the quantity purchased is given, at usage elsewhere."""
    bought = np.isfinite(a["material_qty_purchased"])
    out = {k: np.zeros(len(bought)) for k in ("price", "usage", "total")}
    for mask, at_purchase in ((bought, True), (~bought, False)):
        if not mask.any():
            continue
        cost = a["material_cost"][mask]
        purchase = ({"qty_purchased": a["material_qty_purchased"][mask], "purchase_cost": cost}
                    if at_purchase else {})
        found = variances.material(s["material_qty"][mask], s["material_price"][mask],
                                   a["units_produced"][mask], a["material_qty_used"][mask],
                                   None if at_purchase else cost, **purchase)
        for k, values in out.items():
            values[mask] = found[k]
    return out


def _hours_worked(a: Figures) -> np.ndarray:
    worked = a["labour_hours_worked"]
    return np.where(np.isfinite(worked), worked, a["labour_hours_paid"])


def _labour(a: Figures, s: Figures) -> dict[str, Any]:
    return variances.labour(s["labour_hours"], s["labour_rate"], a["units_produced"],
                            a["labour_hours_paid"], a["labour_cost"],
                            hours_worked=_hours_worked(a))


def _variable_overhead(a: Figures, s: Figures) -> dict[str, Any]:
    return variances.variable_overhead(s["labour_hours"], s["variable_overhead_rate"],
                                       a["units_produced"], _hours_worked(a),
                                       a["variable_overhead_cost"])


def _fixed_overhead(a: Figures, s: Figures) -> dict[str, Any]:
    return variances.fixed_overhead(s["budget_output"], s["labour_hours"],
                                    s["fixed_overhead_budget"], a["units_produced"],
                                    _hours_worked(a), a["fixed_overhead_cost"])


_ELEMENTS = {"material": _material, "labour": _labour,
             "variable_overhead": _variable_overhead, "fixed_overhead": _fixed_overhead}
