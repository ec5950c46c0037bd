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

Everything is generated with numpy from one ``default_rng(seed)``: the same arguments give
the same sheets, and 5,000 families x 36 months take a second or two. Units are whole
numbers; prices and costs are in cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.plan.blank_plan import input_sheet, settings_sheet, with_rows
from sopfin.plan.demo_costs import actual_costs, standards
from sopfin.plan.demo_opex import CLOSED_MONTHS, DemoOpex, demo_opex
from sopfin.plan.settings import Settings, month_range
from sopfin.sheetspec import Block, SheetSpec, Style

COMPANY = "Northwind Pumps & Valves"
CURRENCY = "USD"

# Demand relative to base, and supply flex relative to the base production plan, by scenario.
SCENARIO_DEMAND = {"upside": 1.08, "base": 1.0, "downside": 0.90}
SCENARIO_SUPPLY = {"upside": 1.03, "base": 1.0, "downside": 0.92}
# Overtime and expedite spend relative to base, by scenario.
SCENARIO_VARIANCE = {"upside": 1.3, "base": 1.0, "downside": 0.6}

CONSTRAINED_MONTHS = (6, 7)  # June and July: summer peak on the shared casting/assembly line
CAPACITY_SHORTFALL = 0.12  # share of the level-loaded plan the constrained months cannot make
PRICE_INCREASE = 0.03  # list price increase every January after the first month


@dataclass(frozen=True)
class ProductLine:
    """How one product line's families look: names, unit of measure, price, volume, margin."""

    name: str
    prefix: str
    share: float  # share of the families
    kinds: tuple[str, ...]
    sizes: tuple[str, ...]
    uom: tuple[str, ...]  # per kind
    price: tuple[float, float]  # direct net price range per unit (log-uniform)
    units: tuple[float, float]  # base monthly units range (log-uniform)
    margin: tuple[float, float]  # gross margin % range at standard cost
    season: tuple[float, ...]  # demand index January..December
    capacity_bound: bool  # runs on the line that is short in the summer peak


PRODUCT_LINES: tuple[ProductLine, ...] = (
    ProductLine(
        "Pumps", "PMP", 0.30,
        ("End-Suction Centrifugal Pump", "Split-Case Pump", "Vertical Inline Pump",
         "Submersible Sump Pump", "Multistage Booster Pump", "Self-Priming Trash Pump",
         "Diaphragm Metering Pump", "Gear Pump", "Progressive Cavity Pump",
         "Vertical Turbine Pump"),
        ("2 in", "3 in", "4 in", "6 in", "8 in"), ("EA",) * 10,
        (900.0, 7500.0), (30.0, 260.0), (0.30, 0.38),
        (0.84, 0.88, 1.00, 1.08, 1.13, 1.16, 1.12, 1.05, 0.99, 0.95, 0.91, 0.89), True),
    ProductLine(
        "Valves", "VLV", 0.30,
        ("Cast Steel Gate Valve", "Full-Port Ball Valve", "Lug Butterfly Valve",
         "Globe Control Valve", "Swing Check Valve", "Pressure Relief Valve",
         "Knife Gate Valve", "Lubricated Plug Valve", "Solenoid Valve", "Needle Valve"),
        ("1 in", "2 in", "4 in", "6 in", "10 in"), ("EA",) * 10,
        (140.0, 2600.0), (120.0, 1400.0), (0.33, 0.41),
        (0.92, 0.95, 1.02, 1.05, 1.07, 1.06, 1.01, 0.98, 1.01, 1.01, 0.97, 0.95), True),
    ProductLine(
        "Controls", "CTL", 0.20,
        ("Variable Frequency Drive", "Pump Control Panel", "Pressure Transmitter",
         "Electromagnetic Flow Meter", "Level Controller", "Smart Valve Positioner",
         "Electric Actuator", "Remote Telemetry Unit"),
        ("Compact", "Standard", "Heavy-Duty", "Hazardous-Area"), ("EA",) * 8,
        (280.0, 3800.0), (40.0, 520.0), (0.38, 0.45),
        (0.86, 0.90, 1.00, 0.95, 0.95, 1.00, 0.93, 0.95, 1.02, 1.07, 1.15, 1.22), False),
    ProductLine(
        "Spare Parts", "SPR", 0.20,
        ("Mechanical Seal Kit", "Impeller", "Bearing Kit", "Valve Repack Kit",
         "Actuator Rebuild Kit", "Gasket Set", "Wear Ring Set", "Coupling Kit"),
        ("Frame 1", "Frame 2", "Frame 3", "Frame 4"),
        ("KIT", "EA", "KIT", "KIT", "KIT", "SET", "SET", "KIT"),
        (25.0, 420.0), (350.0, 4200.0), (0.40, 0.45),
        (1.10, 1.05, 1.00, 0.96, 0.95, 0.97, 1.04, 1.02, 0.95, 0.95, 0.98, 1.03), False),
)


@dataclass(frozen=True)
class Catalogue:
    """The families: ids, names and attributes, aligned arrays of length F."""

    family: np.ndarray  # object: 'PMP-100'
    name: np.ndarray  # object
    line: np.ndarray  # int: index into PRODUCT_LINES
    uom: np.ndarray  # object
    active: np.ndarray  # bool: False = discontinued (budget, no demand)
    new: np.ndarray  # bool: launched this horizon (demand, no budget)


def _line_counts(families: int) -> np.ndarray:
    """Families per product line: shares rounded by largest remainder (every line has at
    least one family from four families up)."""
    shares = np.array([line.share for line in PRODUCT_LINES])
    raw = shares * families
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: families - counts.sum()]] += 1
    return np.asarray(counts)


def catalogue(families: int, rng: np.random.Generator) -> Catalogue:
    """Family ids, names and units of measure per product line; a few discontinued families
    and a few new launches picked at random."""
    counts = _line_counts(families)
    ids: list[str] = []
    names: list[str] = []
    uoms: list[str] = []
    for spec, count in zip(PRODUCT_LINES, counts, strict=True):
        j = np.arange(count)
        kinds, sizes = len(spec.kinds), len(spec.sizes)
        kind, size, mark = j % kinds, (j + j // kinds) % sizes, j // (kinds * sizes)
        ids += [f"{spec.prefix}-{100 + 10 * k}" for k in j]
        names += [f"{spec.kinds[a]} {spec.sizes[b]}" + (f" Mk {m + 1}" if m else "")
                  for a, b, m in zip(kind, size, mark, strict=True)]
        uoms += [spec.uom[a] for a in kind]
    n_inactive = families // 15 if families >= 8 else 0
    n_new = families // 30 if families >= 8 else 0
    picked = rng.permutation(families)
    active = np.ones(families, dtype=bool)
    active[picked[:n_inactive]] = False
    new = np.zeros(families, dtype=bool)
    new[picked[n_inactive:n_inactive + n_new]] = True
    line = np.repeat(np.arange(len(PRODUCT_LINES)), counts)
    return Catalogue(np.array(ids, dtype=object), np.array(names, dtype=object), line,
                     np.array(uoms, dtype=object), active, new)


def _line_values(cat: Catalogue, attr: str) -> np.ndarray:
    """A product-line attribute per family: shape (F,) or (F, k)."""
    table = np.array([getattr(spec, attr) for spec in PRODUCT_LINES], dtype=float)
    return np.asarray(table[cat.line])


def _log_uniform(rng: np.random.Generator, bounds: np.ndarray) -> np.ndarray:
    """One draw per row of ``bounds`` (shape (F, 2)), uniform in log space."""
    return np.asarray(np.exp(rng.uniform(np.log(bounds[:, 0]), np.log(bounds[:, 1]))))


def _scenario_factors(table: dict[str, float], scenarios: Sequence[str]) -> np.ndarray:
    return np.array([table.get(s.strip().lower(), 1.0) for s in scenarios])


def _moving_average(x: np.ndarray) -> np.ndarray:
    """Centred 3-month moving average along the last axis (edges repeat the end months)."""
    padded = np.concatenate([x[:, :1], x, x[:, -1:]], axis=1)
    return np.asarray((padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3.0)


@dataclass(frozen=True)
class PlanData:
    """The generated plan as arrays, before it is laid out on sheets."""

    months: tuple[str, ...]
    scenarios: tuple[str, ...]
    channels: tuple[str, ...]  # () = no Channel column
    cat: Catalogue
    demand: np.ndarray  # (S, F, C, M) units; zero for discontinued families
    price: np.ndarray  # (F, C, M) net price per unit
    supply: np.ndarray  # (S, F, M) units
    opening: np.ndarray  # (F,) units
    cost: np.ndarray  # (F, 3) material, labour, overhead from the start
    cost_change: np.ndarray  # (F,) bool: a second StdCost row from `cost_change_month`
    cost_later: np.ndarray  # (F, 3)
    cost_change_month: str
    overtime: np.ndarray  # (S, F, M) currency
    expedite: np.ndarray  # (S, F, M) currency
    budget: np.ndarray  # (3, F, M): units, revenue, cogs


def _underlying_demand(cat: Catalogue, month_of_year: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Base-case units per family and month before any discontinuation: level x season x
    growth x noise, with new launches ramping up from their launch month."""
    n_fam, months = len(cat.family), len(month_of_year)
    t = np.arange(months)
    level = _log_uniform(rng, _line_values(cat, "units"))
    season = _line_values(cat, "season")
    season = season / season.mean(axis=1, keepdims=True)
    growth = np.clip(rng.normal(0.04, 0.025, n_fam), -0.03, 0.12)
    noise = rng.lognormal(0.0, 0.07, (n_fam, months))
    units = (level[:, None] * season[:, month_of_year - 1]
             * (1.0 + growth[:, None]) ** (t / 12.0) * noise)
    launch = rng.integers(2, 5, n_fam)
    ramp = np.clip(1.0 - np.exp(-(t[None, :] - launch[:, None] + 1) / 3.0), 0.0, None)
    return np.asarray(np.where(cat.new[:, None], units * ramp, units))


def _channel_mix(n_fam: int, channels: Sequence[str],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(share of units, discount off list) per family and channel: the first channel
    (distributors) takes most units at the deepest discount."""
    n_ch = max(len(channels), 1)
    share = rng.dirichlet(np.linspace(6.0, 3.0, n_ch), n_fam)
    discount = np.clip(np.linspace(0.24, 0.03, n_ch)[None, :]
                       + rng.uniform(-0.03, 0.03, (n_fam, n_ch)), 0.0, 0.4)
    if not channels:
        discount = np.full((n_fam, 1), 0.03)
    return share, discount


def _scenario_demand(actual: np.ndarray, share: np.ndarray, scenarios: Sequence[str],
                     rng: np.random.Generator) -> np.ndarray:
    """(S, F, C, M) whole units: base is the plan, other scenarios scale it per family."""
    factor = _scenario_factors(SCENARIO_DEMAND, scenarios)[:, None]
    jitter = 1.0 + rng.normal(0.0, 0.015, (len(scenarios), actual.shape[0]))
    is_base = np.array([s.strip().lower() == "base" for s in scenarios])
    scale = np.where(is_base[:, None], 1.0, factor * jitter)
    return np.asarray(
        np.rint(scale[:, :, None, None] * actual[None, :, None, :] * share[None, :, :, None]))


def _prices(cat: Catalogue, discount: np.ndarray, month_of_year: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """(F, C, M) net price: list price less the channel discount, +3% each new January."""
    t = np.arange(len(month_of_year))
    list_price = _log_uniform(rng, _line_values(cat, "price")) / 0.97
    januaries = np.cumsum((month_of_year == 1) & (t > 0))
    escalation = (1.0 + PRICE_INCREASE) ** januaries
    return np.round(list_price[:, None, None] * (1.0 - discount)[:, :, None]
                    * escalation[None, None, :], 2)


def _split_cost(total: np.ndarray, material_share: np.ndarray,
                labour_share: np.ndarray) -> np.ndarray:
    """Unit cost -> (F, 3) material, labour, overhead in cents, summing to the rounded total."""
    material = np.round(total * material_share, 2)
    labour = np.round(total * labour_share, 2)
    overhead = np.round(np.round(total, 2) - material - labour, 2)
    return np.stack([material, labour, overhead], axis=1)


def _standard_costs(cat: Catalogue, blended_price: np.ndarray, months: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, changes, cost_later): cost from a target margin on the blended first-month
    price; steel-heavy families get a material (+4-8%) and labour (+3%) increase at
    mid-horizon."""
    n_fam = len(cat.family)
    margin_bounds = _line_values(cat, "margin")
    margin = rng.uniform(margin_bounds[:, 0], margin_bounds[:, 1])
    cost = _split_cost(blended_price * (1.0 - margin), rng.uniform(0.55, 0.68, n_fam),
                       rng.uniform(0.12, 0.20, n_fam))
    steel = _line_values(cat, "capacity_bound").astype(bool)
    changes = steel & (rng.random(n_fam) < 0.4) & (months >= 4)
    material = cost[:, 0] * (1.0 + rng.uniform(0.04, 0.08, n_fam))
    labour = cost[:, 1] * 1.03
    later_total = material + labour + cost[:, 2]
    later = _split_cost(later_total, material / later_total, labour / later_total)
    return cost, changes, later


def _base_supply(actual: np.ndarray, cat: Catalogue,
                 month_of_year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(production plan, constrained mask), both (F, M): base demand level-loaded over three
    months; in the summer peak the shared line makes 12% less and that volume is pre-built
    two and three months earlier."""
    plan = _moving_average(actual)
    steel = _line_values(cat, "capacity_bound").astype(bool)
    constrained = np.isin(month_of_year, CONSTRAINED_MONTHS)[None, :] & steel[:, None]
    cut = np.where(constrained, plan * CAPACITY_SHORTFALL, 0.0)
    prebuild = np.zeros_like(plan)
    for lead in (2, 3):
        if lead < plan.shape[1]:
            prebuild[:, :-lead] += cut[:, lead:] / 2.0
    return plan - cut + prebuild, constrained


def _scenario_supply(base: np.ndarray, constrained: np.ndarray,
                     scenarios: Sequence[str]) -> np.ndarray:
    """(S, F, M) whole units: upside flexes up except where capacity is already the limit;
    downside trims the whole plan."""
    flex = _scenario_factors(SCENARIO_SUPPLY, scenarios)[:, None, None]
    capped = constrained[None] & (flex > 1.0)
    return np.rint(np.where(capped, base[None], base[None] * flex))


def _variances(base_supply: np.ndarray, constrained: np.ndarray, cost: np.ndarray,
               revenue_scale: np.ndarray, active: np.ndarray, scenarios: Sequence[str],
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(overtime, expedite), each (S, F, M) in cents: overtime premium on labour in the
    constrained months; expedited freight in a few random months for a quarter of families."""
    n_fam, months = base_supply.shape
    scale = _scenario_factors(SCENARIO_VARIANCE, scenarios)[:, None, None]
    overtime = np.where(constrained, base_supply * cost[:, 1:2] * 0.35, 0.0)
    expediting = (rng.random(n_fam) < 0.25) & active
    when = rng.random((n_fam, months)) < 0.12
    amount = revenue_scale[:, None] * rng.uniform(0.006, 0.015, (n_fam, months))
    expedite = np.where(expediting[:, None] & when, amount, 0.0)
    return np.round(scale * overtime[None], 2), np.round(scale * expedite[None], 2)


def _budget(underlying: np.ndarray, cat: Catalogue, share: np.ndarray, price: np.ndarray,
            cost: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(3, F, M) units, revenue, cogs: last year's view of today's base demand, 2-5% more
    optimistic, at standard cost before the mid-horizon increase. New launches have none;
    discontinued families keep theirs."""
    n_fam = len(cat.family)
    uplift = rng.uniform(1.02, 1.05, n_fam)[:, None]
    units = np.rint(np.where(cat.new[:, None], 0.0, underlying * uplift))
    budget_price = (share[:, :, None] * price).sum(axis=1) * rng.uniform(0.99, 1.02, n_fam)[:, None]
    return np.stack([units, np.round(units * budget_price),
                     np.round(units * cost.sum(axis=1)[:, None])])


def generate(*, families: int, months: int, first_period: str, scenarios: Sequence[str],
             channels: Sequence[str], seed: int) -> PlanData:
    """The demo plan as arrays: every draw comes from one generator seeded with ``seed``."""
    if families < 1 or months < 1 or not scenarios:
        raise ValueError("the demo needs at least one family, one month and one scenario")
    rng = np.random.default_rng(seed)
    cat = catalogue(families, rng)
    month_names = month_range(first_period, months)
    month_of_year = np.array([int(m[5:7]) for m in month_names])
    underlying = _underlying_demand(cat, month_of_year, rng)
    actual = np.where(cat.active[:, None], underlying, 0.0)
    share, discount = _channel_mix(families, channels, rng)
    demand = _scenario_demand(actual, share, scenarios, rng)
    price = _prices(cat, discount, month_of_year, rng)
    blended = (share * price[:, :, 0]).sum(axis=1)
    cost, cost_change, cost_later = _standard_costs(cat, blended, months, rng)
    base_supply, constrained = _base_supply(actual, cat, month_of_year)
    supply = _scenario_supply(base_supply, constrained, scenarios)
    opening_cover = np.where(cat.active, rng.uniform(0.9, 1.4, families),
                             rng.uniform(0.2, 0.4, families))
    opening = np.where(cat.new, 0.0, np.rint(underlying[:, 0] * opening_cover))
    overtime, expedite = _variances(base_supply, constrained, cost,
                                    blended * underlying.mean(axis=1), cat.active, scenarios, rng)
    budget = _budget(underlying, cat, share, price, cost, rng)
    return PlanData(month_names, tuple(scenarios), tuple(channels), cat, demand, price, supply,
                    opening, cost, cost_change, cost_later, month_names[months // 2],
                    overtime, expedite, budget)


# ------------------------------------------------------------------------------- the sheets

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
    season = _line_values(data.cat, "season").mean(axis=0)
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
