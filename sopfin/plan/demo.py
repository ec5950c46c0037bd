"""The demo plan: Northwind Pumps & Valves, a mid-market industrial manufacturer.

``demo_sheets`` fills every input sheet with a believable, deterministic plan: product
families in four lines, two sales channels at different prices (so mix matters), seasonal and
growing demand in three scenarios, a production plan near base demand that runs into
capacity in the summer peak (so upside demand cannot all be shipped), a standard-cost roll at
mid-horizon for the steel-heavy families, overtime and expedite variances, and an annual
operating plan (Budget) a few percent above today's base plan. Discontinued families still
carry budget; a newly launched family sells without one. StdCost carries the standards behind
each cost per unit and ActualCosts the production cost of the first two months
(``sopfin.plan.demo_costs``), so a close explains them as cost variances. Operating expenses
for four departments, with their budget and two closed months of actuals, are in
``sopfin.plan.demo_opex``.

The figures come from ``sopfin.plan.demo_data`` (numpy, one ``default_rng(seed)``: the same
arguments give the same sheets, and 5,000 families x 36 months take a second or two); this
module lays them out as the input sheets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin import layout
from sopfin.plan.blank_plan import input_sheet, settings_sheet, with_rows
from sopfin.plan.demo_costs import actual_costs, standards
from sopfin.plan.demo_data import COMPANY, CURRENCY, PRODUCT_LINES, PlanData, generate, line_values
from sopfin.plan.demo_opex import CLOSED_MONTHS, DemoOpex, demo_opex
from sopfin.plan.settings import Settings
from sopfin.sheetspec import Block, SheetSpec, Style

__all__ = ["COMPANY", "demo_settings", "demo_sheets"]


def _keys(*columns: np.ndarray) -> np.ndarray:
    """Key columns (equal-length 1-D arrays) -> one 2-D object array of Python values."""
    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        out[:, j] = column
    return out


def _table(name: str, data: PlanData, keys: np.ndarray,
           value_blocks: Sequence[tuple[np.ndarray, Style]]) -> SheetSpec:
    """An input sheet from the template with its key block and value blocks stacked below
    the header (value blocks one after another, all in the columns after the keys)."""
    spec = input_sheet(layout.INPUT_BY_NAME[name], data.months, channels=bool(data.channels))
    if len(keys) == 0:
        return spec
    blocks = [Block(layout.FIRST_DATA_ROW, 1, keys, style=Style.TEXT)]
    row = layout.FIRST_DATA_ROW
    for values, style in value_blocks:
        if len(values):
            blocks.append(Block(row, keys.shape[1] + 1, values, style=style))
        row += len(values)
    return with_rows(spec, *blocks)


def _families_sheet(data: PlanData) -> SheetSpec:
    cat = data.cat
    lines = np.array([spec.name for spec in PRODUCT_LINES], dtype=object)[cat.line]
    active = np.array([bool(a) for a in cat.active], dtype=object)
    spec = input_sheet(layout.INPUT_BY_NAME[layout.FAMILIES], data.months)
    return with_rows(spec, Block(layout.FIRST_DATA_ROW, 1,
                                 _keys(cat.family, cat.name, lines, cat.uom, active),
                                 style=Style.TEXT))


def _channel_keys(data: PlanData, families: np.ndarray, repeat: int) -> list[np.ndarray]:
    """[family, channel] (or [family] without channels) for families x channels rows,
    tiled ``repeat`` times."""
    n_ch = max(len(data.channels), 1)
    family = np.tile(np.repeat(families, n_ch), repeat)
    if not data.channels:
        return [family]
    return [family, np.tile(np.array(data.channels, dtype=object), len(families) * repeat)]


def _demand_sheet(data: PlanData) -> SheetSpec:
    sold = data.cat.active
    ids = data.cat.family[sold]
    n_scen, n_ch = len(data.scenarios), max(len(data.channels), 1)
    scenario = np.repeat(np.array(data.scenarios, dtype=object), len(ids) * n_ch)
    keys = _keys(scenario, *_channel_keys(data, ids, n_scen))
    values = data.demand[:, sold].reshape(-1, len(data.months))
    return _table(layout.DEMAND, data, keys, [(values, Style.UNITS)])


def _prices_sheet(data: PlanData) -> SheetSpec:
    sold = data.cat.active
    keys = _keys(*_channel_keys(data, data.cat.family[sold], 1))
    values = data.price[sold].reshape(-1, len(data.months))
    return _table(layout.PRICES, data, keys, [(values, Style.PRICE)])


def _supply_sheet(data: PlanData) -> SheetSpec:
    made = data.cat.active
    ids = data.cat.family[made]
    scenario = np.repeat(np.array(data.scenarios, dtype=object), len(ids))
    keys = _keys(scenario, np.tile(ids, len(data.scenarios)))
    values = data.supply[:, made].reshape(-1, len(data.months))
    return _table(layout.SUPPLY, data, keys, [(values, Style.UNITS)])


def _opening_sheet(data: PlanData) -> SheetSpec:
    return _table(layout.OPENING_INVENTORY, data, _keys(data.cat.family),
                  [(data.opening[:, None], Style.UNITS)])


def _std_cost_sheet(data: PlanData) -> SheetSpec:
    """One row per family from the start, and a second row from mid-horizon where the
    standard cost changes; rows of a family stay together, oldest first."""
    n_fam = len(data.cat.family)
    changed = np.flatnonzero(data.cost_change)
    family_index = np.concatenate([np.arange(n_fam), changed])
    order = np.argsort(family_index, kind="stable")
    effective = np.array([None] * n_fam + [data.cost_change_month] * len(changed),
                         dtype=object)[order]
    costs = np.concatenate([data.cost, data.cost_later[changed]])[order]
    rows_family = family_index[order]
    keys = _keys(data.cat.family[rows_family], effective)
    detail = standards(costs, data.cat.line[rows_family], _budget_output(data)[rows_family])
    return _table(layout.STD_COST, data, keys, [(np.hstack([costs, detail]), Style.PRICE)])


def _base_supply_plan(data: PlanData) -> np.ndarray:
    """(F, M) production of the base scenario (else the first)."""
    s = data.scenarios.index("base") if "base" in data.scenarios else 0
    return np.asarray(data.supply[s])


def _budget_output(data: PlanData) -> np.ndarray:
    """(F,) the average monthly production the fixed overhead is budgeted over."""
    return np.asarray(_base_supply_plan(data).mean(axis=1))


def _actual_costs_sheet(data: PlanData, seed: int) -> SheetSpec:
    """Actual production cost of the first months, at the standards in force from the start."""
    from_start = standards(data.cost, data.cat.line, _budget_output(data))
    rows = actual_costs(from_start, _base_supply_plan(data), seed)
    named: list[list[object]] = [[data.cat.family[f], data.months[m], *figures]
                                 for f, m, figures in rows]
    return _list_sheet(layout.ACTUAL_COSTS, data, named)


def _variances_sheet(data: PlanData) -> SheetSpec:
    """Scenario x family x type rows for every family that has that variance at all."""
    per_type = {"overtime": data.overtime, "expedite": data.expedite}
    n_scen = len(data.scenarios)
    types = np.array(list(per_type), dtype=object)
    has = np.stack([np.any(v != 0.0, axis=(0, 2)) for v in per_type.values()], axis=1)
    fam_idx, type_idx = np.nonzero(has)  # family-major, then type
    stacked = np.stack(list(per_type.values()), axis=2)  # (S, F, T, M)
    values = stacked[:, fam_idx, type_idx].reshape(-1, len(data.months))
    scenario = np.repeat(np.array(data.scenarios, dtype=object), len(fam_idx))
    keys = _keys(scenario, np.tile(data.cat.family[fam_idx], n_scen),
                 np.tile(types[type_idx], n_scen))
    return _table(layout.PLANNED_VARIANCES, data, keys, [(values, Style.MONEY)])


def _budget_sheet(data: PlanData, opex: DemoOpex) -> SheetSpec:
    """Budgeted families (all but new launches), units then revenue then cogs; then the opex
    lines (Family blank, Department and Account)."""
    budgeted = ~data.cat.new
    ids = data.cat.family[budgeted]
    measures = np.array(layout.BUDGET_MEASURES, dtype=object)
    blank = np.full(len(ids) * len(measures), None, dtype=object)
    keys = _keys(np.tile(ids, len(measures)), np.repeat(measures, len(ids)), blank, blank)
    opex_keys = np.array([row[:4] for row in opex.budget], dtype=object).reshape(-1, 4)
    styles = (Style.UNITS, Style.MONEY, Style.MONEY)
    blocks = [(data.budget[k][budgeted], styles[k]) for k in range(len(measures))]
    opex_values = np.array([row[4:] for row in opex.budget], dtype=float)
    blocks.append((opex_values.reshape(-1, len(data.months)), Style.MONEY))
    return _table(layout.BUDGET, data, np.concatenate([keys, opex_keys]), blocks)


def _opex_sheet(data: PlanData, opex: DemoOpex) -> SheetSpec:
    spec = layout.INPUT_BY_NAME[layout.OPEX]
    width = len(spec.keys + spec.optional_keys)
    rows = np.array(opex.opex, dtype=object).reshape(-1, width + len(data.months))
    return _table(layout.OPEX, data, rows[:, :width], [(rows[:, width:], Style.MONEY)])


def _demo_opex(data: PlanData, seed: int) -> DemoOpex:
    """The operating expenses, scaled to the base plan's revenue and units."""
    base = next((k for k, s in enumerate(data.scenarios) if s.strip().lower() == "base"), 0)
    units = data.demand[base].sum(axis=(0, 1))
    revenue = (data.demand[base] * data.price).sum(axis=(0, 1))
    season = line_values(data.cat, "season").mean(axis=0)
    month_of_year = np.array([int(m[5:7]) for m in data.months])
    return demo_opex(revenue, units, season[month_of_year - 1], data.scenarios, data.channels,
                     seed)


def demo_settings(*, months: int, first_period: str, scenarios: Sequence[str]) -> Settings:
    return Settings(company=COMPANY, currency=CURRENCY, first_period=first_period,
                    horizon=months, current_cycle=first_period, scenarios=tuple(scenarios))


def demo_sheets(*, families: int = 30, months: int = 24, first_period: str = "2027-01",
                scenarios: tuple[str, ...] = ("upside", "base", "downside"),
                channels: tuple[str, ...] = ("Distributors", "Direct"),
                seed: int = 20270101) -> list[SheetSpec]:
    """The demo company's input sheets, Settings first, in the template's sheet order.

    ``channels=()`` leaves out the Channel columns (one price per family).
    """
    data = generate(families=families, months=months, first_period=first_period,
                    scenarios=scenarios, channels=channels, seed=seed)
    settings = demo_settings(months=months, first_period=first_period, scenarios=scenarios)
    opex = _demo_opex(data, seed)
    return [settings_sheet(settings), _families_sheet(data), _demand_sheet(data),
            _prices_sheet(data), _supply_sheet(data), _opening_sheet(data),
            _std_cost_sheet(data), _variances_sheet(data), _budget_sheet(data, opex),
            _opex_sheet(data, opex), *_finance_sheets(data, settings.reconciled_scenario, opex),
            _actual_costs_sheet(data, seed)]


def _finance_sheets(data: PlanData, scenario: str, opex: DemoOpex) -> list[SheetSpec]:
    """Two named overrides and three gap-closure actions on the plan scenario, so a close
    of the demo shows owned override lines in the bridge and a gap after actions; the opex
    actuals of the first two months."""
    planned = data.cat.active & ~data.cat.new
    pumps = data.cat.family[planned & (data.cat.line == 0)]
    others = data.cat.family[planned & (data.cat.line != 0)]
    if not len(pumps) or not len(others) or len(data.months) < 9:
        return [_list_sheet(name, data, []) for name in layout.FINANCE_SHEET_NAMES
                if name != layout.ACTUAL_COSTS]
    june, september = data.months[5], data.months[8]
    overrides = [
        ["OVR-001", scenario, pumps[0], june, "revenue", 250000.0, "K. Patel (Sales)",
         "Distributor price increase agreed, not yet on Prices", "R. Alvarez (CFO)"],
        ["OVR-002", scenario, others[0], september, "cogs", 120000.0, "M. Chen (Supply)",
         "Freight surcharge on imported castings", None],
    ]
    july = data.months[6] if len(data.months) > 6 else None
    actions = [
        ["ACT-01", scenario, "Pull the Q4 distributor promotion forward", "K. Patel (Sales)",
         1500000.0, 450000.0, 0.6, None, None],
        ["ACT-02", scenario, "Second shift on the valve line from July", "M. Chen (Supply)",
         2200000.0, 700000.0, 0.5, july, None],
        ["ACT-03", scenario, "Reprice spare parts +3%", "L. Osei (Pricing)", 600000.0,
         600000.0, 0.8, None, None],
    ]
    booked = opex.actuals if len(data.months) > CLOSED_MONTHS else []
    return [_list_sheet(layout.OVERRIDES, data, overrides),
            _list_sheet(layout.ACTIONS, data, actions),
            _list_sheet(layout.ACTUALS, data, booked), _list_sheet(layout.FORECAST, data, [])]


def _list_sheet(name: str, data: PlanData, rows: list[list[object]]) -> SheetSpec:
    spec = input_sheet(layout.FINANCE_BY_NAME[name], data.months, channels=bool(data.channels))
    return with_rows(spec, Block(layout.FIRST_DATA_ROW, 1, rows, style=Style.TEXT)) if rows \
        else spec
