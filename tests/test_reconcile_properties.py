"""Accounting invariants of the budget bridge on generated plans.

Each example draws a few families, each with or without a plan (demand, price, standard cost,
planned variances) and with or without a budget (units and money, or money alone), plus
named overrides, builds the plan through the planner's tables, dollarizes it and reconciles
it over a random window. Money is in cents, units are whole numbers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_tables import make_plan, table
from sopfin.close.bridge_lines import family_bridge
from sopfin.close.grain import budget_side, plan_side
from sopfin.close.reconcile import reconcile
from sopfin.close.records import FinanceInputs, Override
from sopfin.engine.dollarize import dollarize
from sopfin.model import CellRef
from sopfin.money import cents_equal

MONTHS = ("2027-01", "2027-02")
FAMILIES = ("F0", "F1", "F2", "F3")
WINDOWS = {"Horizon": (0, 1), "2027-01": (0,), "2027-02": (1,)}
FAST = settings(max_examples=60, deadline=None)

cents = st.integers(min_value=0, max_value=500_000).map(lambda c: c / 100)
signed = st.integers(min_value=-50_000, max_value=50_000).map(lambda c: c / 100)
units = st.integers(min_value=0, max_value=2_000)


@st.composite
def families(draw: st.DrawFn) -> dict:
    """Per family: plan (units per month, price, cost, variance) and budget, either may be
    absent; at least one family has a plan."""
    out = {}
    for name in FAMILIES:
        plan = draw(st.none() | st.fixed_dictionaries({
            "units": st.tuples(units, units), "price": cents, "cost": cents,
            "variance": st.tuples(signed, signed)}))
        budget = draw(st.none() | st.fixed_dictionaries({  # (0, 0): a budget in money only
            "units": st.tuples(units, units) | st.just((0, 0)),
            "revenue": st.tuples(cents, cents),
            "cogs": st.tuples(cents, cents)}))
        out[name] = {"plan": plan, "budget": budget}
    if all(f["plan"] is None for f in out.values()):
        out["F0"]["plan"] = {"units": (1, 1), "price": 1.0, "cost": 0.5, "variance": (0.0, 0.0)}
    return out


@st.composite
def overrides(draw: st.DrawFn, planned: list[str]) -> tuple[Override, ...]:
    count = draw(st.integers(min_value=0, max_value=3))
    return tuple(
        Override(id=f"OVR-{k}", scenario="base", family=draw(st.sampled_from(planned)),
                 month=draw(st.sampled_from(MONTHS)),
                 measure=draw(st.sampled_from(("revenue", "cogs"))), amount=draw(signed),
                 owner="owner", reason="reason", approved_by="", where=CellRef("Overrides",
                                                                                f"A{k + 2}"))
        for k in range(count))


def build(fams: dict, k: float = 1.0):
    """The generated plan as the planner's tables, with every money figure times k."""
    demand, prices, costs, variances, budget = [], [], [], [], []
    for name, f in fams.items():
        if f["plan"] is not None:
            p = f["plan"]
            demand.append(["base", name, p["units"][0], p["units"][1]])
            prices.append([name, p["price"] * k, p["price"] * k])
            costs.append([name, p["cost"] * k, 0, 0])
            variances.append(["base", name, "overtime", p["variance"][0] * k,
                              p["variance"][1] * k])
        if f["budget"] is not None:
            b = f["budget"]
            budget.append([name, "units", b["units"][0], b["units"][1]])
            budget.append([name, "revenue", b["revenue"][0] * k, b["revenue"][1] * k])
            budget.append([name, "cogs", b["cogs"][0] * k, b["cogs"][1] * k])
    plan = make_plan(demand=table(["scenario", "family", *MONTHS], demand),
                     prices=table(["family", *MONTHS], prices),
                     std_cost=table(["family", "material", "labour", "overhead"], costs),
                     variances=table(["scenario", "family", "type", *MONTHS], variances),
                     budget=table(["family", "measure", *MONTHS], budget) if budget else "",
                     months=MONTHS, constrained=False, scenarios=("base",))
    d, _ = dollarize(plan)
    return plan, d


def expected_totals(fams: dict, ovr: tuple[Override, ...], cols: tuple[int, ...]):
    """Budget and plan revenue and margin over the window, summed here from the inputs."""
    bud_rev = bud_gm = plan_rev = plan_gm = 0.0
    for f in fams.values():
        for t in cols:
            if f["budget"] is not None:
                bud_rev += f["budget"]["revenue"][t]
                bud_gm += f["budget"]["revenue"][t] - f["budget"]["cogs"][t]
            if f["plan"] is not None:
                p = f["plan"]
                plan_rev += p["units"][t] * p["price"]
                plan_gm += p["units"][t] * (p["price"] - p["cost"]) - p["variance"][t]
    for o in ovr:
        if MONTHS.index(o.month) in cols:
            plan_rev += o.amount if o.measure == "revenue" else 0.0
            plan_gm += o.margin_effect
    return bud_rev, bud_gm, plan_rev, plan_gm


@FAST
@given(data=st.data(), fams=families(), window=st.sampled_from(sorted(WINDOWS)))
def test_bridges_sum_to_the_gap_to_the_cent(data, fams, window):
    planned = [n for n, f in fams.items() if f["plan"] is not None]
    ovr = data.draw(overrides(planned))
    plan, d = build(fams)
    r = reconcile(plan, d, FinanceInputs(overrides=ovr), window=window)
    bud_rev, bud_gm, plan_rev, plan_gm = expected_totals(fams, ovr, WINDOWS[window])
    for bridge, start, end in ((r.revenue_bridge, bud_rev, plan_rev),
                               (r.margin_bridge, bud_gm, plan_gm)):
        assert cents_equal(bridge[0].amount, start)
        assert cents_equal(bridge[-1].amount, end)
        assert cents_equal(sum(b.amount for b in bridge[1:-1]), end - start)
    assert cents_equal(r.revenue_gap, plan_rev - bud_rev)
    assert cents_equal(r.margin_gap, plan_gm - bud_gm)
    for frame in (r.family_revenue.frame(), r.family_margin.frame()):
        steps = frame["price"] + frame["volume"] + frame.get("cost", 0.0)
        assert cents_equal(steps.to_numpy(), frame["total"].to_numpy())


@FAST
@given(fams=families(), window=st.sampled_from(sorted(WINDOWS)),
       basis=st.sampled_from(("revenue", "margin")))
def test_swapping_budget_and_plan_negates_the_family_totals(fams, window, basis):
    _, d = build(fams)
    cols = np.array(WINDOWS[window])
    budget, planned = budget_side(d, cols), plan_side(d, 0, cols)
    forward = family_bridge(budget, planned, basis).frame()
    backward = family_bridge(planned, budget, basis).frame()
    assert cents_equal(forward.loc["Total", "total"], -backward.loc["Total", "total"])
    assert cents_equal(forward["total"].drop("Total").sort_index().to_numpy(),
                       -backward["total"].drop("Total").sort_index().to_numpy())


@FAST
@given(data=st.data(), fams=families(), k=st.integers(min_value=2, max_value=7))
def test_scaling_prices_and_costs_scales_the_revenue_bridge(data, fams, k):
    planned = [n for n, f in fams.items() if f["plan"] is not None]
    ovr = data.draw(overrides(planned))
    scaled_ovr = tuple(Override(**{**o.__dict__, "amount": o.amount * k}) for o in ovr)
    plan, d = build(fams)
    plan_k, d_k = build(fams, k)
    one = reconcile(plan, d, FinanceInputs(overrides=ovr))
    many = reconcile(plan_k, d_k, FinanceInputs(overrides=scaled_ovr))
    assert [(b.kind, b.label) for b in one.revenue_bridge] == [
        (b.kind, b.label) for b in many.revenue_bridge]
    for a, b in zip(one.revenue_bridge, many.revenue_bridge, strict=True):
        assert abs(a.amount * k - b.amount) < 0.005 * k, (a, b)
    for a, b in zip(one.margin_bridge, many.margin_bridge, strict=True):
        assert abs(a.amount * k - b.amount) < 0.005 * k, (a, b)
