"""Reconcile the dollarized plan to budget: the revenue and margin bridges, the scenario
comparison, gap after actions, the plan-of-record snapshot, the latest estimate with forecast
accuracy, and finance's forecast checked for silent overrides. Pure: records in, records out.

The bridges work over the window's months at the finest grain both sides share
(``sopfin.close.grain``): per (family, channel) when the Budget has channels, else per family:

* An item's plan units are its shipments, its plan price is revenue / shipments and its plan
  unit cost is standard cost / shipments; its budget price and unit cost are budget revenue /
  budget units and budget COGS / budget units. Per family, a shift between channels at
  different prices shows inside the family's Price step; per (family, channel) it is the
  ``Mix within families`` line, and ``Mix between families`` is the shift between families
  (the two replace the one ``Mix`` line).
* Price, Quantity and Mix are ``sopfin.engine.bridge.pvm`` with the individual-units method, over
  the items that have both a budget and a plan in the window (any non-zero units or money).
  The margin bridge adds the pvm Cost step (standard cost rates against the budget's cost per
  unit) and one line per planned-variance type (minus the variances of that type).
* An item with a plan but no budget in the window is one ``New`` line; one with a budget but
  no plan is one ``Discontinued`` line (one line per item, so each is named).
* Money without units (a budget kept in dollars only for a family) cannot be split into price
  and volume: it stays in the family's Price (and Cost) step, or in its New/Discontinued line.
* One ``Override`` line per named override of the scenario in the window, with its owner
  (revenue overrides on the revenue bridge; revenue +, cogs - on the margin bridge).
* The steps sum to plan - budget in float64, so to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin.close import records as rc
from sopfin.close.actuals_view import SNAPSHOT_MEASURES, actual_bridge, actuals_view
from sopfin.close.bridge_lines import family_bridge, margin_bridge, revenue_bridge
from sopfin.close.capital_view import exposure_view, working_capital_view
from sopfin.close.cost_variances import cost_variances
from sopfin.close.ebitda import ebitda_view
from sopfin.close.grain import Side, budget_side, by_channel, channel_sides, item_label, plan_side
from sopfin.close.records import BridgeLine, FinanceInputs, Override, Reconciliation, Window
from sopfin.close.rowtable import MonthTable, RowTable, single_key
from sopfin.close.window import parse_window
from sopfin.engine.results import Dollarized
from sopfin.model import Issue, IssueCode, Plan
from sopfin.money import to_cents

__all__ = ["apply_overrides", "compare_forecast", "parse_window", "reconcile"]


class NotDollarizedError(ValueError):
    """Asked to reconcile a scenario the dollarized figures do not hold (a fault: the
    Settings check lets no such scenario through)."""


# The Recon's one line when the plan has channels and the Budget has not.
COARSER_BUDGET_NOTE = "budget by family: channel mix is inside price"


def apply_overrides(d: Dollarized, overrides: Sequence[Override],
                    scenario: str) -> dict[str, np.ndarray]:
    """Family x month revenue and cogs (F, M) of ``scenario`` with its overrides added.

    Overrides of families that have no dollarized figures are not in these arrays; the
    bridges still list them (see ``reconcile``)."""
    s = d.scenarios.index(scenario)
    out = {"revenue": d.fam["revenue"][s].copy(), "cogs": d.fam["cogs"][s].copy()}
    family = {f: i for i, f in enumerate(d.families)}
    month = {m: j for j, m in enumerate(d.months)}
    for o in overrides:
        if o.scenario == scenario and o.family in family and o.month in month:
            out[o.measure][family[o.family], month[o.month]] += o.amount
    return out


def reconcile(plan: Plan, d: Dollarized, fin: FinanceInputs, *, window: str = "Horizon",
              scenario: str | None = None, prior_snapshot: MonthTable | None = None,
              edited: Sequence[Issue] = ()) -> Reconciliation:
    """Everything a close publishes for ``scenario`` (default: the Plan scenario setting)
    over ``window`` (see ``sopfin.close.window``). Its silent overrides are the ``edited``
    cells of the output sheets (``sopfin.guard.edits.edited_cells``), then every Forecast
    cell off the plan (``compare_forecast``)."""
    settings = plan.settings
    scenario = scenario or settings.reconciled_scenario
    if scenario not in d.scenarios:
        raise NotDollarizedError(f"scenario {scenario!r} was not dollarized (have "
                                 f"{', '.join(d.scenarios)})")
    span = parse_window(window, d.months, settings.fiscal_year_start, settings.current_cycle)
    cols = np.array([d.months.index(m) for m in span.months])
    s = d.scenarios.index(scenario)
    in_window = tuple(o for o in fin.overrides
                      if o.scenario == scenario and o.month in span.months)
    if by_channel(plan):
        budget, planned = channel_sides(plan, d, s, cols)
    else:
        budget, planned = budget_side(d, cols), plan_side(d, s, cols)
    price_at = plan.settings.price_at
    family_revenue = family_bridge(budget, planned, "revenue", price_at)
    family_margin = family_bridge(budget, planned, "margin", price_at)
    revenue_lines = revenue_bridge(d, s, cols, family_revenue, in_window)
    margin_lines = margin_bridge(d, s, cols, family_margin, in_window)
    revenue_gap = revenue_lines[-1].amount - revenue_lines[0].amount
    margin_gap = margin_lines[-1].amount - margin_lines[0].amount
    actions = [a for a in fin.actions if a.scenario == scenario]
    snapshot = plan_snapshot(d, fin.overrides, scenario)
    notes = _notes(plan, d, span, budget, in_window, bool(actions))
    estimate, accuracy = None, None
    to_actual: tuple[BridgeLine, ...] = ()
    if fin.actuals is not None and np.isfinite(fin.actuals.values).any():
        estimate, accuracy, more = actuals_view(snapshot, fin.actuals, prior_snapshot)
        notes += more
        to_actual = actual_bridge(snapshot if prior_snapshot is None else prior_snapshot,
                                  fin.actuals, span.months)
    as_at, trapped = exposure_view(plan, d, scenario, span.months)
    return Reconciliation(
        cycle=settings.current_cycle, scenario=scenario, window=span,
        currency=settings.currency, revenue_bridge=revenue_lines, margin_bridge=margin_lines,
        family_revenue=family_revenue, family_margin=family_margin,
        scenarios=scenario_table(plan, d, fin.overrides, cols),
        overrides=tuple(fin.overrides), actions=tuple(fin.actions),
        revenue_gap=revenue_gap, margin_gap=margin_gap,
        revenue_gap_after_actions=revenue_gap + sum(
            a.revenue_impact * a.probability * a.share(span.months, d.months) for a in actions),
        margin_gap_after_actions=margin_gap + sum(
            a.margin_impact * a.probability * a.share(span.months, d.months) for a in actions),
        snapshot=snapshot, latest_estimate=estimate, accuracy=accuracy,
        silent_overrides=(*edited, *compare_forecast(plan, d, fin)), notes=tuple(notes),
        actual_bridge=to_actual, working_capital=working_capital_view(plan, d, cols),
        exposure=trapped, exposure_as_at=as_at,
        ebitda=ebitda_view(plan, d, scenario, cols, revenue_lines, margin_lines),
        cost_variances=cost_variances(plan, fin.actual_costs, fin.standards, span.months))


# ----------------------------------------------------------------------------- scenarios
def budget_inventory(plan: Plan, d: Dollarized) -> tuple[np.ndarray, np.ndarray]:
    """Budget ending inventory value (F, M) from Budget measure 'inventory', and which
    families have such a row."""
    table = plan.budget
    grid = np.zeros((len(d.families), len(d.months)))
    has = np.zeros(len(d.families), dtype=bool)
    if not len(table):
        return grid, has
    position = {f: i for i, f in enumerate(d.families)}
    fam = np.array([position.get(f, -1) for f in table.keys["family"].tolist()], dtype=np.int64)
    rows = np.flatnonzero((fam >= 0) & (table.keys["measure"] == "inventory"))
    np.add.at(grid, fam[rows], table.values[rows, :len(d.months)])
    has[fam[rows]] = True
    return grid, has


def scenario_table(plan: Plan, d: Dollarized, overrides: Sequence[Override],
                   cols: np.ndarray) -> RowTable:
    """One row per scenario over the window's months (columns: see ``Reconciliation``).

    Budget inventory cash is -(change in budget ending inventory value) month by month, the
    month before the horizon taken at the plan's opening inventory value (both start from
    the same stock on hand); it covers, and cash_vs_budget compares, only the families that
    have an inventory budget. Without any, both are NaN."""
    inv_budget, has = budget_inventory(plan, d)
    rows = {}
    for s, name in enumerate(d.scenarios):
        adjusted = apply_overrides(d, overrides, name)
        revenue = float(adjusted["revenue"][:, cols].sum())
        margin = float((adjusted["revenue"] - adjusted["cogs"])[:, cols].sum())
        bud_revenue = float(d.budget["revenue"][:, cols].sum())
        bud_margin = float((d.budget["revenue"] - d.budget["cogs"])[:, cols].sum())
        cash = d.fam["inventory_cash"][s]
        budget_cash, versus = np.nan, np.nan
        if has.any():
            before = np.concatenate([d.opening_value[s][:, None], inv_budget[:, :-1]], axis=1)
            monthly = -(inv_budget - before)
            budget_cash = float(monthly[has][:, cols].sum())
            versus = float(cash[has][:, cols].sum()) - budget_cash
        rows[name] = {
            "revenue": revenue, "budget_revenue": bud_revenue,
            "revenue_gap": revenue - bud_revenue, "gross_margin": margin,
            "budget_gross_margin": bud_margin, "gross_margin_gap": margin - bud_margin,
            "inventory_value": float(d.fam["inventory_value"][s][:, cols[-1]].sum()),
            "inventory_cash": float(cash[:, cols].sum()),
            "budget_inventory_cash": budget_cash, "cash_vs_budget": versus,
            "revenue_at_risk": float(d.fam["revenue_at_risk"][s][:, cols].sum()),
        }
    names = list(next(iter(rows.values()), {}))
    return single_key("scenario", list(rows), {
        n: np.array([row[n] for row in rows.values()], dtype=np.float64) for n in names})


def plan_snapshot(d: Dollarized, overrides: Sequence[Override], scenario: str) -> MonthTable:
    """Keys (family, measure in units/revenue/cogs), one column per horizon month: the
    scenario's shipments, revenue and cogs with its overrides applied."""
    adjusted = apply_overrides(d, overrides, scenario)
    units = d.fam["shipments_units"][d.scenarios.index(scenario)]
    stacked = np.stack([units, adjusted["revenue"], adjusted["cogs"]], axis=1)
    keys = tuple((f, m) for f in d.families for m in SNAPSHOT_MEASURES)
    return MonthTable(("family", "measure"), keys, tuple(d.months),
                      np.ascontiguousarray(stacked.reshape(-1, len(d.months)), dtype=np.float64))


def _notes(plan: Plan, d: Dollarized, span: Window, budget: Side,
           overrides: Sequence[Override], has_actions: bool) -> list[str]:
    notes = []
    if plan.has_channel and not budget.by_channel:
        notes.append(COARSER_BUDGET_NOTE)
    dollars_only = [item_label(f) for f, u, r, c, p in zip(
        budget.items, budget.units, budget.revenue, budget.cost, budget.present, strict=True)
        if p and u == 0 and (r != 0 or c != 0)]
    if dollars_only:
        notes.append("the budget of " + ", ".join(dollars_only) + " has money but no units in "
                     f"{span.label}; its difference is in Price and Cost rates, not volume")
    outside = sorted({o.id for o in overrides if o.family not in d.families})
    if outside:
        notes.append("overrides " + ", ".join(outside) + " are on families with no plan "
                     "figures; they are bridge lines only, not in the snapshot")
    if has_actions and span.months != tuple(d.months):
        notes.append("each action counts for the share of its months (Start to End) inside "
                     + span.label)
    return notes


# ----------------------------------------------------------------------------- forecast
def compare_forecast(plan: Plan, d: Dollarized, fin: FinanceInputs) -> list[Issue]:
    """Every Forecast cell that differs from the dollarized plan plus named overrides by more
    than the materiality threshold (compared in cents). Blank cells are not compared."""
    table = fin.forecast
    if table is None or not len(table):
        return []
    threshold = plan.settings.materiality
    family = {f: i for i, f in enumerate(d.families)}
    columns = [d.months.index(m) for m in table.value_names]
    adjusted: dict[str, dict[str, np.ndarray]] = {}
    found = []
    for i in range(len(table)):
        scenario, name, measure = (str(table.keys[k][i])
                                   for k in ("scenario", "family", "measure"))
        if scenario not in d.scenarios or measure not in ("revenue", "cogs"):
            continue
        if scenario not in adjusted:
            adjusted[scenario] = apply_overrides(d, fin.overrides, scenario)
        if name in family:
            expected = adjusted[scenario][measure][family[name]][columns]
        else:
            expected = np.array([sum(o.amount for o in fin.overrides
                                     if (o.scenario, o.family, o.measure, o.month)
                                     == (scenario, name, measure, m))
                                 for m in table.value_names])
        values = table.values[i]
        off = np.isfinite(values) & (to_cents(np.abs(values - expected)) > threshold)
        for j in np.flatnonzero(off):
            want, got = to_cents(float(expected[j])), to_cents(float(values[j]))
            found.append(rc.silent_override(
                table.ref(i, int(j)), IssueCode.FORECAST_DIFFERS, want, got,
                f"the forecast {measure} of family {name!r} in {table.value_names[j]} "
                f"({scenario}) is {got:,.2f} but the dollarized plan plus named overrides "
                f"gives {want:,.2f}, {to_cents(got - want):+,.2f} off, more than the "
                f"materiality threshold of {threshold:,.2f}",
                "add a named override on sheet Overrides or correct the forecast"))
    return found
