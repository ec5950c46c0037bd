"""The demo plan's figures: Northwind Pumps & Valves' catalogue, demand, prices, costs,
supply, variances and budget as numpy arrays (``generate``), before any of it becomes a sheet
(``sopfin.plan.demo``).

Everything is generated with numpy from one ``default_rng(seed)``: the same arguments give
the same figures. Units are whole numbers; prices and costs are in cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.plan.settings import month_range

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


def line_values(cat: Catalogue, attr: str) -> np.ndarray:
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
    level = _log_uniform(rng, line_values(cat, "units"))
    season = line_values(cat, "season")
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
    list_price = _log_uniform(rng, line_values(cat, "price")) / 0.97
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
    margin_bounds = line_values(cat, "margin")
    margin = rng.uniform(margin_bounds[:, 0], margin_bounds[:, 1])
    cost = _split_cost(blended_price * (1.0 - margin), rng.uniform(0.55, 0.68, n_fam),
                       rng.uniform(0.12, 0.20, n_fam))
    steel = line_values(cat, "capacity_bound").astype(bool)
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
    steel = line_values(cat, "capacity_bound").astype(bool)
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
