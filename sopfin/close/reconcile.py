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
from sopfin.close.capital_view import exposure_view, working_capital_view
from sopfin.close.cost_variances import cost_variances
from sopfin.close.ebitda import ebitda_view
from sopfin.close.grain import (
    FAMILY_NAMES,
    Side,
    budget_side,
    by_channel,
    channel_sides,
    item_label,
    plan_side,
)
from sopfin.close.records import BridgeLine, FinanceInputs, Override, Reconciliation, Window
from sopfin.close.rowtable import MonthTable, RowTable, single_key
from sopfin.close.window import parse_window
from sopfin.engine.bridge import (
    BOTH,
    DISCONTINUED,
    NEW,
    TOTAL,
    AlignedSide,
    group_codes,
    item_steps,
)
from sopfin.engine.results import Dollarized
from sopfin.model import Issue, IssueCode, Plan, Table, text_column
from sopfin.money import to_cents

__all__ = ["apply_overrides", "compare_forecast", "parse_window", "reconcile"]


class NotDollarizedError(ValueError):
    """Asked to reconcile a scenario the dollarized figures do not hold (a fault: the
    Settings check lets no such scenario through)."""


# The Recon's one line when the plan has channels and the Budget has not.
COARSER_BUDGET_NOTE = "budget by family: channel mix is inside price"
VARIANCE_LABELS = {"overtime": "Overtime", "expedite": "Expedite", "ppv": "PPV"}


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
    family_revenue = _family_bridge(budget, planned, "revenue", price_at)
    family_margin = _family_bridge(budget, planned, "margin", price_at)
    revenue_lines = _revenue_bridge(d, s, cols, family_revenue, in_window)
    margin_lines = _margin_bridge(d, s, cols, family_margin, in_window)
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


def actuals_table(actuals: Table) -> MonthTable:
    """The Actuals table as (family, measure) x month; repeated keys summed, blanks NaN."""
    rows: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(actuals.keys["family"].tolist(),
                                actuals.keys["measure"].tolist(), strict=True)):
        rows.setdefault(key, []).append(i)
    values = np.array([[_sum_min_one(actuals.values[group, j].tolist())
                        for j in range(len(actuals.value_names))] for group in rows.values()],
                      dtype=np.float64).reshape(len(rows), len(actuals.value_names))
    return MonthTable(("family", "measure"), tuple(rows), tuple(actuals.value_names), values)


def _sum_min_one(values: list[float]) -> float:
    """The sum of the figures that are not NaN (NaN when none is), compensated as a
    grouped sum adds them."""
    total, compensation, seen = 0.0, 0.0, False
    for v in values:
        if v == v:
            y = v - compensation
            t = total + y
            compensation = (t - total) - y
            total, seen = t, True
    return total if seen else float("nan")


def _closed_months(actual: MonthTable, months: Sequence[str]) -> list[str]:
    """The months of ``months`` in which any actual is booked."""
    return [m for m in months if m in actual.months and not np.isnan(actual.month(m)).all()]


def actual_bridge(plan: MonthTable, actuals: Table, months: Sequence[str],
                  ) -> tuple[BridgeLine, ...]:
    """Plan to actual revenue over the closed months of ``months`` (months with any actual),
    per family on the revenue basis: ``plan`` is a snapshot (keys family, measure; columns
    months), normally the last approved version's. Empty when no month of the window closed."""
    actual = actuals_table(actuals)
    closed = [m for m in _closed_months(actual, months) if m in plan.months]
    if not closed:
        return ()
    names = list(dict.fromkeys([*(k[0] for k in plan.keys), *(k[0] for k in actual.keys)]))

    def side(table: MonthTable) -> Side:
        cols = [table.months.index(m) for m in closed]
        picked = np.nan_to_num(table.values[:, cols], nan=0.0).sum(axis=1)
        at = {f: i for i, f in enumerate(names)}
        by = {m: np.zeros(len(names)) for m in ("units", "revenue", "cogs")}
        for (family, measure), value in zip(table.keys, picked.tolist(), strict=True):
            if measure in by:
                by[measure][at[family]] = value
        present = (by["units"] != 0) | (by["revenue"] != 0) | (by["cogs"] != 0)
        return Side(names, FAMILY_NAMES, by["units"], by["revenue"], by["cogs"], present)

    base, booked = side(plan), side(actual)
    frame = _family_bridge(base, booked, "revenue")
    span = closed[0] if len(closed) == 1 else f"{closed[0]}..{closed[-1]}"
    return (BridgeLine(rc.START, f"Plan revenue ({span})", float(base.revenue.sum())),
            BridgeLine(rc.PRICE, "Price", _family_steps(frame, "price")),
            BridgeLine(rc.QUANTITY, "Quantity", _family_steps(frame, "quantity")),
            *_mix_lines(frame), *_one_sided(frame),
            BridgeLine(rc.END, f"Actual revenue ({span})", float(booked.revenue.sum())))


# ----------------------------------------------------------------------------- per family
def _family_bridge(budget: Side, planned: Side, basis: str,
                   price_at: str = "plan") -> RowTable:
    """pvm per item with each side's residual money added to price (and cost) of an item on
    both sides, or to the volume of a new or discontinued one; per (family, channel), the mix
    is split between and within families. Items in pvm's order (the budget's, then the
    plan-only ones) and a Total row."""
    at = np.array([*np.flatnonzero(budget.present).tolist(),
                   *np.flatnonzero(planned.present & ~budget.present).tolist()], dtype=np.int64)
    items = [budget.items[i] for i in at.tolist()]
    groups = group_codes([item[0] for item in items]) if budget.by_channel else None
    costed = basis == "margin"
    steps, status = item_steps(_aligned(budget, at, costed), _aligned(planned, at, costed),
                               basis=basis, mix_method="individual", price_at=price_at,
                               groups=groups)
    body = {name: values + 0.0 for name, values in steps.items()}  # as pvm writes them
    rev_rest = (planned.residual("revenue") - budget.residual("revenue"))[at]
    cost_rest = -(planned.residual("cost") - budget.residual("cost"))[at]
    if basis != "margin":
        cost_rest[:] = 0.0
    both = status == BOTH
    body["price"] = body["price"] + np.where(both, rev_rest, 0.0)
    if basis == "margin":
        body["cost"] = body["cost"] + np.where(both, cost_rest, 0.0)
    body["volume"] = body["volume"] + np.where(both, 0.0, rev_rest + cost_rest)
    body["total"] = body["total"] + (rev_rest + cost_rest)
    columns: dict[str, np.ndarray] = {n: np.append(v, v.sum()) for n, v in body.items()}
    columns["status"] = text_column([*status.tolist(), ""])
    total = (TOTAL, "") if budget.by_channel else (TOTAL,)
    keys = [item if isinstance(item, tuple) else (item,) for item in items]
    return RowTable(budget.names, (*keys, total), columns)


def _aligned(side: Side, at: np.ndarray, costed: bool) -> AlignedSide:
    """A side's figures on the bridge's items ``at`` (zeros where it has none); its unit
    costs on the margin basis (``costed``) only."""
    present = side.present[at]
    unit_cost = np.where(present, side.unit_cost[at], 0.0) if costed else np.zeros(len(at))
    return AlignedSide(present=present, units=np.where(present, side.units[at], 0.0),
                       price=np.where(present, side.price[at], 0.0), unit_cost=unit_cost)


def _family_steps(table: RowTable, step: str) -> float:
    both = table["status"] == BOTH
    return float(table[step][both].sum())


def _one_sided(table: RowTable) -> list[BridgeLine]:
    lines = []
    for status, kind, word in ((NEW, rc.NEW, "New"),
                               (DISCONTINUED, rc.DISCONTINUED, "Discontinued")):
        for i in np.flatnonzero(table["status"] == status).tolist():
            item = table.label(i)
            family = item[0] if isinstance(item, tuple) else item
            lines.append(BridgeLine(kind, f"{word}: {item_label(item)}",
                                    float(table["total"][i]),
                                    item=item_label(item), family=str(family)))
    return lines


def _mix_lines(frame: RowTable) -> list[BridgeLine]:
    """One Mix line per family; per (family, channel), mix between and within families."""
    if "mix_between" not in frame.columns:
        return [BridgeLine(rc.MIX, "Mix", _family_steps(frame, "mix"))]
    return [BridgeLine(rc.MIX_BETWEEN, "Mix between families",
                       _family_steps(frame, "mix_between")),
            BridgeLine(rc.MIX_WITHIN, "Mix within families", _family_steps(frame, "mix_within"),
                       note="channels")]


def _joint_line(frame: RowTable) -> list[BridgeLine]:
    """Price x volume, when the price step is measured at the budget volume."""
    if "joint" not in frame.columns:
        return []
    return [BridgeLine(rc.JOINT, "Joint (price x volume)", _family_steps(frame, "joint"),
                       note="price measured at the budget volume")]


def _override_lines(overrides: Sequence[Override], margin: bool) -> list[BridgeLine]:
    lines = []
    for o in overrides:
        if o.measure != "revenue" and not margin:
            continue
        approved = f", approved by {o.approved_by}" if o.approved_by else ""
        lines.append(BridgeLine(rc.OVERRIDE, f"{o.id} {o.reason}",
                                o.margin_effect if margin else o.amount, owner=o.owner,
                                note=f"{o.measure} {o.family} {o.month}{approved}",
                                item=o.id))
    return lines


def _revenue_bridge(d: Dollarized, s: int, cols: np.ndarray, frame: RowTable,
                    overrides: Sequence[Override]) -> tuple[BridgeLine, ...]:
    start = float(d.budget["revenue"][:, cols].sum())
    end = float(d.fam["revenue"][s][:, cols].sum()) + sum(
        o.amount for o in overrides if o.measure == "revenue")
    return (BridgeLine(rc.START, "Budget revenue", start),
            BridgeLine(rc.PRICE, "Price", _family_steps(frame, "price")),
            *_joint_line(frame),
            BridgeLine(rc.QUANTITY, "Quantity", _family_steps(frame, "quantity")),
            *_mix_lines(frame), *_one_sided(frame), *_override_lines(overrides, margin=False),
            BridgeLine(rc.END, "Plan revenue", end))


def _margin_bridge(d: Dollarized, s: int, cols: np.ndarray, frame: RowTable,
                   overrides: Sequence[Override]) -> tuple[BridgeLine, ...]:
    start = float((d.budget["revenue"][:, cols] - d.budget["cogs"][:, cols]).sum())
    end = float((d.fam["revenue"][s][:, cols] - d.fam["cogs"][s][:, cols]).sum()) + sum(
        o.margin_effect for o in overrides)
    return (BridgeLine(rc.START, "Budget gross margin", start),
            BridgeLine(rc.PRICE, "Price", _family_steps(frame, "price")),
            *_joint_line(frame),
            BridgeLine(rc.QUANTITY, "Quantity", _family_steps(frame, "quantity")),
            *_mix_lines(frame),
            BridgeLine(rc.COST, "Cost rates", _family_steps(frame, "cost")),
            *_variance_lines(d, s, cols), *_one_sided(frame),
            *_override_lines(overrides, margin=True),
            BridgeLine(rc.END, "Plan gross margin", end))


def _variance_lines(d: Dollarized, s: int, cols: np.ndarray) -> list[BridgeLine]:
    """Minus the planned variances of each type in the window, types in first-seen order."""
    if not len(d.variance_lines):
        return []
    amounts = d.variance[s][:, cols].sum(axis=1)
    used = (d.variance[s][:, cols] != 0).any(axis=1)
    types = text_column(str(t) for t in d.variance_lines["type"].tolist())
    lines = []
    for name in dict.fromkeys(types[used]):
        amount = -float(amounts[types == name].sum())
        lines.append(BridgeLine(rc.VARIANCE, VARIANCE_LABELS.get(name.lower(), name), amount,
                                note="planned variances", item=str(name)))
    return lines


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


# ----------------------------------------------------------------------------- actuals
SNAPSHOT_MEASURES = ("units", "revenue", "cogs")
ACCURACY_COLUMNS = ("month", "forecast", "actual", "error", "abs_pct_error", "bias")


def actuals_view(snapshot: MonthTable, actuals: Table, prior: MonthTable | None,
                 ) -> tuple[MonthTable, RowTable | None, list[str]]:
    """The latest estimate, the accuracy of the month just closed, and notes.

    Closed months are the months with any actual. The latest estimate (index family,
    measure; columns the horizon) is the plan snapshot with each closed month replaced by the
    actuals; a family or measure without an actual in a closed month counts 0 there (the
    month is closed: nothing was booked), and the notes say how many such cells there are.

    Accuracy compares, for the last closed month, ``prior`` (the snapshot of the last
    approved version; the current snapshot when None) with the actuals. Index (measure,
    family) with a ``Total`` row per measure; per family, with error = forecast - actual
    (positive: the plan was too high), abs_pct_error = |error| / |actual| and
    bias = error / actual (NaN where the actual is 0); on the Total row abs_pct_error is the
    WAPE, sum |error| / sum |actual|, and bias is sum error / sum actual."""
    actual = actuals_table(actuals)
    closed = _closed_months(actual, snapshot.months)
    known = snapshot.positions()
    keys = (*snapshot.keys, *(k for k in dict.fromkeys(actual.keys) if k not in known))
    values = np.zeros((len(keys), len(snapshot.months)))
    values[:len(snapshot)] = snapshot.values
    booked_at = actual.positions()
    rows = np.array([booked_at.get(k, -1) for k in keys], dtype=np.int64)
    cols = [actual.months.index(m) for m in closed]
    booked = np.where((rows >= 0)[:, None], actual.values[np.maximum(rows, 0)][:, cols]
                      if len(actual) else np.nan, np.nan)
    blanks = int(np.isnan(booked).sum())
    values[:, [snapshot.months.index(m) for m in closed]] = np.nan_to_num(booked, nan=0.0)
    estimate = MonthTable(snapshot.names, keys, snapshot.months, values)
    month = closed[-1]
    notes = [f"latest estimate: actuals for {', '.join(closed)}, plan for the other months"]
    if blanks:
        notes.append(f"{blanks} family figures without an actual in a closed month count 0 "
                     "in the latest estimate")
    source = snapshot if prior is None else prior
    if prior is None:
        notes.append(f"accuracy for {month} compares with the current plan: no approved "
                     "version was given")
    if month not in source.months:
        notes.append(f"the approved version has no {month}, so no accuracy is reported")
        return estimate, None, notes
    in_month = np.nan_to_num(booked[:, closed.index(month)], nan=0.0)
    return estimate, _accuracy(source, keys, in_month, month), notes


def _accuracy(source: MonthTable, keys: Sequence[tuple[str, str]], booked: np.ndarray,
              month: str) -> RowTable:
    """Per measure, the forecast of ``month`` in ``source`` against ``booked`` (the actual
    of each of ``keys``) by family, and a Total row."""
    index: list[tuple[str, str]] = []
    parts: list[np.ndarray] = []
    for measure in SNAPSHOT_MEASURES:
        planned = _measure(source.keys, source.month(month), measure)
        actual = _measure(keys, booked, measure)
        families = list(dict.fromkeys([*planned, *actual]))
        f = np.array([planned.get(x, 0.0) for x in families], dtype=np.float64)
        a = np.array([actual.get(x, 0.0) for x in families], dtype=np.float64)
        keep = (f != 0) | (a != 0)
        f, a = f[keep], a[keep]
        error = f - a
        held = a != 0
        total_actual, total_error = float(np.nansum(a)), float(np.nansum(error))
        parts.append(np.column_stack([
            np.append(f, float(np.nansum(f))), np.append(a, total_actual),
            np.append(error, total_error),
            np.append(np.divide(np.abs(error), np.abs(a), out=np.full(len(a), np.nan),
                                where=held),
                      float(np.nansum(np.abs(error))) / abs(total_actual) if total_actual
                      else np.nan),
            np.append(np.divide(error, a, out=np.full(len(a), np.nan), where=held),
                      total_error / total_actual if total_actual else np.nan)]))
        index += [(measure, x) for x, k in zip(families, keep.tolist(), strict=True) if k]
        index.append((measure, TOTAL))
    figures = np.concatenate(parts) if parts else np.zeros((0, 5))
    month_column = np.empty(len(index), dtype=object)
    month_column[:] = month
    return RowTable(("measure", "family"), tuple(index), {
        "month": month_column,
        **{name: np.ascontiguousarray(figures[:, j])
           for j, name in enumerate(ACCURACY_COLUMNS[1:])}})


def _measure(keys: Sequence[tuple[str, str]], values: np.ndarray, measure: str,
             ) -> dict[str, float]:
    """Family -> the figure of ``measure`` among (family, measure) ``keys``."""
    return {family: float(v) for (family, m), v in zip(keys, values.tolist(), strict=True)
            if m == measure}


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
