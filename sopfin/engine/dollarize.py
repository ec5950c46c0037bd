"""Units to dollars: revenue, COGS, inventory value and cash per scenario, family and month.

The semantics are those of docs/workbook.md, "What dollarize computes"; the rendered workbook
formulas reproduce these numbers, so nothing here may add behaviour the formulas lack.

Everything is vectorised over scenarios x families (or sales lines) x months. The only loops
over months are the two recursions that need the previous month: the inventory roll-forward on
(S, F) arrays and, under ``backorder``, the per-line backlog on (S, L) arrays.

Choices where the contract is silent:
  * Rows whose family is not on the Families sheet, or whose scenario is not in Settings, are
    left out (validation reports them). A family is planned when it appears in Demand, Supply,
    OpeningInventory, PlannedVariances or Budget: a planned variance is a cost even for a
    family with no units, so it is never dropped from COGS.
  * Additive tables (Demand, Supply, OpeningInventory, PlannedVariances, Budget) sum rows that
    repeat the same keys; lookup tables (Prices, StdCost) use the first matching row.
  * A line or family with no price or standard cost in force gets 0 (validation reports it).
  * Under ``lost`` nothing is carried, so family and line backlog are 0 and unmet demand is
    in ``lost_units``. Budget measures match ignoring case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.calendar import days_in_month, month_numbers
from sopfin.engine.results import (
    Array,
    BudgetMeasure,
    BudgetMeasures,
    Dollarized,
    FamilyMeasures,
    FamilyUnits,
    LineMeasures,
    LineUnits,
)
from sopfin.model import CellRef, Issue, IssueCode, Keys, Plan, Severity, Table, text_column
from sopfin.plan.overflow import not_finite_results

# End balances above -NEGATIVE_TOLERANCE units count as zero (float noise of fractional units).
NEGATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class _Index:
    """Where every input row lands: scenario, family, line and variance-line codes."""

    scenarios: tuple[str, ...]
    families: tuple[str, ...]
    lines: Keys  # family, channel, fam_idx
    variance_lines: Keys  # family, type, fam_idx
    demand_line: np.ndarray  # (rows of Demand,) line index or -1
    variance_line: np.ndarray  # (rows of PlannedVariances,) variance-line index or -1

    def scenario_codes(self, table: Table) -> np.ndarray:
        return _codes(table.keys["scenario"], self.scenarios)

    def family_codes(self, table: Table) -> np.ndarray:
        return _codes(table.keys["family"], self.families)


def dollarize(plan: Plan, scenarios: Sequence[str] | None = None,
              ) -> tuple[Dollarized, list[Issue]]:
    """Dollarize ``plan`` for ``scenarios`` (default: every scenario in Settings, in order).
    A result too large to compute is an error naming its inputs (``sopfin.plan.overflow``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        result, issues = _dollarize(plan, scenarios)
    return result, issues + not_finite_results(plan, result)


def _dollarize(plan: Plan, scenarios: Sequence[str] | None,
               ) -> tuple[Dollarized, list[Issue]]:
    names, issues = _chosen_scenarios(plan, scenarios)
    index = _index(plan, names)
    s_count, f_count, m_count = len(names), len(index.families), len(plan.months)
    backorder = plan.settings.shortage_policy == "backorder"

    line_demand = _scatter(plan.demand, index.scenario_codes(plan.demand), index.demand_line,
                           (s_count, len(index.lines), m_count))
    production = _scatter(plan.supply, index.scenario_codes(plan.supply),
                          index.family_codes(plan.supply), (s_count, f_count, m_count))
    opening_units = _opening_units(plan, index)
    fam_idx = index.lines["fam_idx"]
    units = _roll_forward(_by_family(line_demand, fam_idx, f_count), production,
                          opening_units, constrained=plan.settings.constrained,
                          backorder=backorder)
    line_units = _share_shipments(line_demand, units, fam_idx,
                                  carry=plan.settings.constrained and backorder)
    price = _gather(plan.prices, price_rows(plan, index.lines), m_count)
    line = _line_revenue(line_units, np.broadcast_to(price, line_demand.shape).copy())

    unit_cost = _gather(plan.std_cost, std_cost_rows(plan, index.families), m_count,
                        combine=_cost_per_unit)
    variance = _scatter(plan.variances, index.scenario_codes(plan.variances),
                        index.variance_line, (s_count, len(index.variance_lines), m_count))
    var_fam = index.variance_lines["fam_idx"]
    opening_value = np.broadcast_to(
        opening_units * (unit_cost[:, 0] if m_count else 0.0), (s_count, f_count)).copy()
    fam = _add_money(units, line, fam_idx, unit_cost, _by_family(variance, var_fam, f_count),
                     opening_value)

    issues += _negative_inventory(plan, index, fam["end_units"])
    result = Dollarized(
        months=tuple(plan.months), scenarios=names, families=index.families,
        lines=index.lines, variance_lines=index.variance_lines, fam=fam, line=line,
        variance=variance, budget=_budget(plan, index), opening_units=opening_units,
        opening_value=opening_value, days_in_month=days_in_month(plan.months))
    return result, issues


# ----------------------------------------------------------------------------- ratios
def gross_margin_pct(revenue: np.ndarray, gross_margin: np.ndarray) -> np.ndarray:
    """Gross margin / revenue; NaN (a blank cell) where revenue is 0."""
    revenue, gross_margin = np.asarray(revenue, float), np.asarray(gross_margin, float)
    out = np.full(np.broadcast(revenue, gross_margin).shape, np.nan)
    np.divide(gross_margin, revenue, out=out, where=revenue != 0)
    return out


def days_of_inventory(inventory_value: np.ndarray, cogs: np.ndarray,
                      days: np.ndarray) -> np.ndarray:
    """Inventory value / COGS x days in the month; NaN (a blank cell) where COGS is 0."""
    inventory_value, cogs = np.asarray(inventory_value, float), np.asarray(cogs, float)
    out = np.full(np.broadcast(inventory_value, cogs).shape, np.nan)
    np.divide(inventory_value, cogs, out=out, where=cogs != 0)
    return np.asarray(out * np.asarray(days, float))


# ----------------------------------------------------------------------------- lookups
def price_rows(plan: Plan, lines: Keys) -> np.ndarray:
    """Row index into ``plan.prices`` for each sales line (-1: no price row).

    By family and channel; when Prices has no channels, by family alone.
    """
    keys = plan.prices.keys
    if all(str(c) == "" for c in keys["channel"].tolist()):
        return _first_match([keys["family"]], [lines["family"]])
    return _first_match([keys["family"], keys["channel"]], [lines["family"], lines["channel"]])


def std_cost_rows(plan: Plan, families: Sequence[str]) -> np.ndarray:
    """(F, M) row index into ``plan.std_cost`` of the cost in force per family and month.

    The row with the latest EffectiveFrom on or before the month (blank = from the start);
    the first such row when two share a date; -1 when none is in force yet.
    """
    keys = plan.std_cost.keys
    m_count = len(plan.months)
    fam = _codes(keys["family"], families)
    since = month_numbers(keys["effective_from"])
    since[(keys["effective_from"] == "").astype(bool)] = 0  # blank: from the start
    rows = np.flatnonzero((fam >= 0) & ~np.isnan(since))  # an unreadable date never applies
    composite = fam[rows] * (1 << 32) + since[rows].astype(np.int64)
    order = np.argsort(composite, kind="stable")
    sorted_keys, sorted_rows = composite[order], rows[order]
    first_of_key = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if len(order) else order
    sorted_keys, sorted_rows = sorted_keys[first_of_key], sorted_rows[first_of_key]

    months = month_numbers(plan.months).astype(np.int64)
    query = (np.arange(len(families))[:, None] * (1 << 32) + months[None, :]).reshape(-1)
    pos = np.searchsorted(sorted_keys, query, side="right") - 1
    hit = pos >= 0
    hit[hit] = sorted_keys[pos[hit]] >> 32 == query[hit] >> 32
    out = np.full(query.shape, -1, dtype=np.int64)
    out[hit] = sorted_rows[pos[hit]]
    return out.reshape(len(families), m_count)


# ----------------------------------------------------------------------------- index
def _chosen_scenarios(plan: Plan, scenarios: Sequence[str] | None,
                      ) -> tuple[tuple[str, ...], list[Issue]]:
    if scenarios is None:
        return tuple(plan.scenarios), []
    known = set(plan.scenarios)
    chosen = tuple(dict.fromkeys(s for s in scenarios if s in known))
    issues = [Issue(IssueCode.UNKNOWN_SCENARIO, Severity.ERROR, CellRef(layout.SETTINGS),
                    f"scenario {s!r} was asked for but Settings lists only "
                    f"{', '.join(plan.scenarios)}",
                    "add it to the Scenarios setting or ask for a listed scenario")
              for s in dict.fromkeys(scenarios) if s not in known]
    return chosen, issues


def _index(plan: Plan, scenarios: tuple[str, ...]) -> _Index:
    listed = dict.fromkeys(plan.families.keys["family"].tolist())
    used = {f for t in (plan.demand, plan.supply, plan.opening, plan.variances, plan.budget)
            for f in t.keys["family"].tolist()}
    families = tuple(str(f) for f in listed if f in used)
    lines, demand_line = _grouped_pairs(plan.demand, "channel", families)
    variance_lines, variance_line = _grouped_pairs(plan.variances, "type", families)
    return _Index(scenarios, families, lines, variance_lines, demand_line, variance_line)


def _grouped_pairs(table: Table, second: str, families: tuple[str, ...],
                   ) -> tuple[Keys, np.ndarray]:
    """Unique (family, second) pairs in first-appearance order, grouped by family order.

    Returns the pairs (with fam_idx) and, per table row, its pair index (-1: unknown family).
    """
    fam = _codes(table.keys["family"], families).tolist()
    rows = list(zip(fam, table.keys[second].tolist(), strict=True))
    seen = dict.fromkeys(row for row in rows if row[0] >= 0)
    pairs = sorted(seen, key=lambda pair: pair[0])  # stable: first appearance within a family
    pair_of = {pair: k for k, pair in enumerate(pairs)}
    row_pair = np.array([pair_of.get(row, -1) for row in rows], dtype=np.int64)
    return Keys({"family": text_column(families[f] for f, _ in pairs),
                 second: text_column(s for _, s in pairs),
                 "fam_idx": np.array([f for f, _ in pairs], dtype=np.int64)}), row_pair


def _codes(values: np.ndarray, uniques: Sequence[str]) -> np.ndarray:
    """Position of each value in ``uniques`` (-1 when absent)."""
    position: dict[object, int] = {}
    for i, u in enumerate(uniques):
        position.setdefault(u, i)
    return np.array([position.get(v, -1) for v in values.tolist()], dtype=np.int64)


def _first_match(table_keys: list[np.ndarray], query: list[np.ndarray]) -> np.ndarray:
    """For each query key tuple, the first table row with the same keys (-1 when none)."""
    first: dict[tuple[object, ...], int] = {}
    for r, key in enumerate(zip(*(k.tolist() for k in table_keys), strict=True)):
        first.setdefault(key, r)
    asked = zip(*(q.tolist() for q in query), strict=True)
    return np.array([first.get(key, -1) for key in asked], dtype=np.int64)


# ----------------------------------------------------------------------------- arrays
def _scatter(table: Table, first: np.ndarray, second: np.ndarray,
             shape: tuple[int, int, int]) -> np.ndarray:
    """Sum a monthly table's rows into ``shape`` at (first code, second code)."""
    out = np.zeros(shape)
    keep = (first >= 0) & (second >= 0)
    if keep.any():
        np.add.at(out, (first[keep], second[keep]), table.values[keep, :shape[2]])
    return out


def _gather(table: Table, rows: np.ndarray, m_count: int,
            combine: Callable[[Table], np.ndarray] | None = None) -> np.ndarray:
    """Per-row values picked by ``rows`` (1-D: whole rows; 2-D: one per month); 0 for -1."""
    values = table.values if combine is None else combine(table)
    if rows.ndim == 1:
        out = np.zeros((len(rows), m_count))
        out[rows >= 0] = values[rows[rows >= 0], :m_count]
        return out
    picked = values[np.maximum(rows, 0)] if len(values) else np.zeros(rows.shape)
    return np.where(rows >= 0, picked, 0.0)


def _cost_per_unit(table: Table) -> np.ndarray:
    """Material + Labour + Overhead of each StdCost row, added left to right."""
    v = table.values
    if not len(v):
        return np.zeros(0)
    names = table.value_names
    return np.asarray(v[:, names.index("material")] + v[:, names.index("labour")]
                      + v[:, names.index("overhead")])


def _by_family(arr: np.ndarray, fam_idx: np.ndarray, f_count: int) -> np.ndarray:
    """Sum (S, N, M) rows grouped by family (rows are contiguous per family) -> (S, F, M)."""
    out = np.zeros((arr.shape[0], f_count, arr.shape[2]))
    if len(fam_idx) and arr.shape[0] and arr.shape[2]:
        starts = np.flatnonzero(np.r_[True, fam_idx[1:] != fam_idx[:-1]])
        out[:, fam_idx[starts], :] = np.add.reduceat(arr, starts, axis=1)
    return out


def _opening_units(plan: Plan, index: _Index) -> np.ndarray:
    out = np.zeros(len(index.families))
    fam = index.family_codes(plan.opening)
    keep = fam >= 0
    if keep.any():
        col = plan.opening.value_names.index("units")
        np.add.at(out, fam[keep], plan.opening.values[keep, col])
    return out


def _budget(plan: Plan, index: _Index) -> BudgetMeasures:
    fam = index.family_codes(plan.budget)
    measure = text_column(str(m).strip().lower() for m in plan.budget.keys["measure"].tolist())
    shape = (len(index.families), len(plan.months))

    def grid(name: BudgetMeasure) -> Array:
        out = np.zeros(shape)
        keep = (fam >= 0) & (measure == name)
        np.add.at(out, fam[keep], plan.budget.values[keep, :shape[1]])
        return out

    return {"units": grid("units"), "revenue": grid("revenue"), "cogs": grid("cogs")}


# ----------------------------------------------------------------------------- units
def _roll_forward(demand: np.ndarray, production: np.ndarray, opening: np.ndarray, *,
                  constrained: bool, backorder: bool) -> FamilyUnits:
    """Inventory roll-forward per (scenario, family), one month at a time."""
    shape = demand.shape
    out: FamilyUnits = {
        "start_units": np.zeros(shape), "required_units": np.zeros(shape),
        "shipments_units": np.zeros(shape), "backlog_units": np.zeros(shape),
        "lost_units": np.zeros(shape), "end_units": np.zeros(shape),
        "demand_units": demand, "production_units": production}
    on_hand = np.broadcast_to(opening, shape[:2]).copy()
    carried = np.zeros(shape[:2])
    for t in range(shape[2]):
        required = demand[:, :, t] + carried if constrained and backorder else demand[:, :, t]
        available = on_hand + production[:, :, t]
        shipped = np.maximum(0.0, np.minimum(required, available)) if constrained else required
        unmet = required - shipped
        carried = unmet if constrained and backorder else np.zeros(shape[:2])
        out["start_units"][:, :, t] = on_hand
        out["required_units"][:, :, t] = required
        out["shipments_units"][:, :, t] = shipped
        out["backlog_units"][:, :, t] = carried
        if constrained and not backorder:
            out["lost_units"][:, :, t] = unmet
        on_hand = available - shipped
        out["end_units"][:, :, t] = on_hand
    return out


def _share_shipments(demand: Array, fam: FamilyUnits, fam_idx: np.ndarray,
                     *, carry: bool) -> LineUnits:
    """Line shipments = family shipments x line requirement / family requirement."""
    shipped_f = fam["shipments_units"][:, fam_idx, :]
    required_f = fam["required_units"][:, fam_idx, :]
    if not carry:
        required, backlog = demand, np.zeros_like(demand)
        shipped = _share(shipped_f, required, required_f)
    else:
        required, shipped, backlog = (np.zeros_like(demand) for _ in range(3))
        carried = np.zeros(demand.shape[:2])
        for t in range(demand.shape[2]):
            required[:, :, t] = demand[:, :, t] + carried
            shipped[:, :, t] = _share(shipped_f[:, :, t], required[:, :, t], required_f[:, :, t])
            carried = required[:, :, t] - shipped[:, :, t]
            backlog[:, :, t] = carried
    return {"demand_units": demand, "required_units": required, "shipments_units": shipped,
            "backlog_units": backlog}


def _share(family_shipped: np.ndarray, required: np.ndarray,
           family_required: np.ndarray) -> np.ndarray:
    """IF(family_required=0, 0, family_shipped * required / family_required)."""
    out = np.zeros(required.shape)
    np.divide(family_shipped * required, family_required, out=out, where=family_required != 0)
    return out


# ----------------------------------------------------------------------------- money
def _line_revenue(units: LineUnits, price: Array) -> LineMeasures:
    revenue = units["shipments_units"] * price
    unconstrained = units["demand_units"] * price
    return {**units, "price": price, "revenue": revenue, "unconstrained_revenue": unconstrained,
            "revenue_at_risk": unconstrained - revenue}


def _add_money(units: FamilyUnits, line: LineMeasures, fam_idx: np.ndarray,
               unit_cost: np.ndarray, variances: Array, opening_value: np.ndarray,
               ) -> FamilyMeasures:
    """The units with their money: cost, COGS, inventory value and cash, revenue, margin."""
    f_count = units["end_units"].shape[1]
    cost = np.broadcast_to(unit_cost, units["end_units"].shape).copy()
    cogs_standard = units["shipments_units"] * cost
    cogs = cogs_standard + variances
    value = units["end_units"] * cost
    previous = np.concatenate((opening_value[:, :, None], value[:, :, :-1]), axis=2)
    revenue = _by_family(line["revenue"], fam_idx, f_count)
    return {**units, "unit_cost": cost, "production_cost": units["production_units"] * cost,
            "cogs_standard": cogs_standard, "variances": variances, "cogs": cogs,
            "inventory_value": value,
            "inventory_cash": -(value - previous) + 0.0,  # no -0.0
            "revenue": revenue,
            "unconstrained_revenue": _by_family(line["unconstrained_revenue"], fam_idx, f_count),
            "revenue_at_risk": _by_family(line["revenue_at_risk"], fam_idx, f_count),
            "gross_margin": revenue - cogs}


# ----------------------------------------------------------------------------- issues
def _negative_inventory(plan: Plan, index: _Index, end_units: np.ndarray) -> list[Issue]:
    """One warning per (scenario, family) whose inventory goes negative, at the first month."""
    negative = end_units < -NEGATIVE_TOLERANCE
    s_idx, f_idx = np.nonzero(negative.any(axis=2))
    if not len(s_idx):
        return []
    first_month = negative[s_idx, f_idx].argmax(axis=1)
    month_count = negative[s_idx, f_idx].sum(axis=1)
    supply_row = _first_rows(index.scenario_codes(plan.supply), index.family_codes(plan.supply))
    demand_row = _first_rows(index.scenario_codes(plan.demand), index.family_codes(plan.demand))
    opening_row = _first_rows(np.zeros(len(plan.opening), np.int64),
                              index.family_codes(plan.opening))
    issues = []
    for s, f, t, n in zip(s_idx.tolist(), f_idx.tolist(), first_month.tolist(),
                          month_count.tolist(), strict=True):
        if (s, f) in supply_row:
            where = plan.supply.ref(supply_row[s, f], t)
        elif (0, f) in opening_row:
            where = plan.opening.ref(opening_row[0, f], 0)
        elif (s, f) in demand_row:
            where = plan.demand.ref(demand_row[s, f], t)
        else:
            where = CellRef(layout.DEMAND)
        issues.append(Issue(
            IssueCode.NEGATIVE_INVENTORY, Severity.WARNING, where,
            f"inventory of family {index.families[f]!r} in scenario {index.scenarios[s]!r} "
            f"goes negative in {plan.months[t]}: the month ends at "
            f"{_units(end_units[s, f, t])} units, expected 0 or more"
            + (f" ({n} months of the horizon end below zero)" if n > 1 else ""),
            "add production on sheet Supply or opening units on sheet OpeningInventory, "
            "or set 'Constrained by supply' to TRUE"))
    return issues


def _first_rows(first: np.ndarray, second: np.ndarray) -> dict[tuple[int, int], int]:
    """(first code, second code) -> the first table row holding that pair."""
    keep = np.flatnonzero((first >= 0) & (second >= 0)).tolist()
    out: dict[tuple[int, int], int] = {}
    for a, b, r in zip(first[keep].tolist(), second[keep].tolist(), keep, strict=True):
        out.setdefault((int(a), int(b)), int(r))
    return out


def _units(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.2f}"
