"""Accounting invariants of the price / volume / mix bridge, on generated plans.

Budget and plan draw their items from one small pool, so every run mixes items on both sides
with new and discontinued ones. Units are whole numbers up to 100,000 and prices and costs
are in cents up to 10,000.00, the range of an S&OP family plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.engine.bridge import pvm

CENT = 0.005
POOL = [f"F{i}" for i in range(8)]
BASES = st.sampled_from(["revenue", "margin"])
METHODS = st.sampled_from(["individual", "weighted_average"])
FAST = settings(max_examples=100, deadline=None)

money = st.integers(min_value=0, max_value=1_000_000).map(lambda cents: cents / 100)


@st.composite
def sides(draw: st.DrawFn, min_items: int = 0) -> pd.DataFrame:
    """One version of the plan: some items of the pool, in some order."""
    items = draw(st.lists(st.sampled_from(POOL), unique=True, min_size=min_items,
                          max_size=len(POOL)))
    n = len(items)
    units = draw(st.lists(st.integers(min_value=0, max_value=100_000), min_size=n, max_size=n))
    price = draw(st.lists(money, min_size=n, max_size=n))
    cost = draw(st.lists(money, min_size=n, max_size=n))
    return pd.DataFrame({"units": np.array(units, dtype=float), "price": price,
                         "unit_cost": cost}, index=pd.Index(items, dtype=object, name="family"))


def value(side: pd.DataFrame, basis: str) -> float:
    """Total value of one side, computed here and not by the bridge."""
    rate = side["price"] - side["unit_cost"] if basis == "margin" else side["price"]
    return float((side["units"] * rate).sum())


def steps_total(result: pd.DataFrame) -> pd.Series:
    return result["price"] + result["volume"] + result.get("cost", 0.0)


@FAST
@given(budget=sides(), plan=sides(), basis=BASES, method=METHODS)
def test_steps_sum_to_the_gap(budget, plan, basis, method):
    result = pvm(budget, plan, basis=basis, mix_method=method)
    gap = value(plan, basis) - value(budget, basis)
    assert abs(result.at["Total", "total"] - gap) < CENT
    assert abs(steps_total(result)["Total"] - gap) < CENT
    assert np.all(np.abs(steps_total(result) - result["total"]) < CENT)  # every row
    assert np.all(np.abs(result["quantity"] + result["mix"] - result["volume"])[
        result["status"] == "both"] < CENT)


@FAST
@given(budget=sides(), plan=sides(), basis=BASES, method=METHODS)
def test_price_at_budget_volume_leaves_every_total_unchanged(budget, plan, basis, method):
    at_plan = pvm(budget, plan, basis=basis, mix_method=method)
    at_budget = pvm(budget, plan, basis=basis, mix_method=method, price_at="budget")
    for column in ("quantity", "mix", "volume", "total"):
        assert np.all(np.abs(at_plan[column] - at_budget[column]) < CENT)
    steps = steps_total(at_budget) + at_budget["joint"]
    assert np.all(np.abs(steps - at_budget["total"]) < CENT)  # every row, and the Total
    moved = at_plan["price"] + at_plan.get("cost", 0.0)
    assert np.all(np.abs(steps_total(at_budget) - at_budget["volume"] + at_budget["joint"]
                         - moved) < CENT)


@FAST
@given(budget=sides(), plan=sides(), basis=BASES)
def test_both_mix_methods_agree_in_total(budget, plan, basis):
    individual = pvm(budget, plan, basis=basis, mix_method="individual")
    weighted = pvm(budget, plan, basis=basis, mix_method="weighted_average")
    for column in ("total", "volume", "quantity", "mix", "price"):
        assert abs(individual.at["Total", column] - weighted.at["Total", column]) < CENT
    # only the split of each item's volume between quantity and mix differs
    assert np.all(np.abs(individual["volume"] - weighted["volume"]) < CENT)


@FAST
@given(budget=sides(), plan=sides(), basis=BASES, method=METHODS)
def test_swapping_budget_and_plan_negates_the_total(budget, plan, basis, method):
    forward = pvm(budget, plan, basis=basis, mix_method=method)
    backward = pvm(plan, budget, basis=basis, mix_method=method)
    assert abs(forward.at["Total", "total"] + backward.at["Total", "total"]) < CENT
    mirrored = {"new": "discontinued", "discontinued": "new", "both": "both", "": ""}
    assert (forward["status"].map(mirrored).sort_index()
            == backward["status"].sort_index()).all()


@FAST
@given(budget=sides(), plan=sides(), basis=BASES, method=METHODS,
       k=st.sampled_from([0.0, 0.5, 1.1, 2.0, 3.75, 10.0]))
def test_scaling_prices_and_costs_scales_the_bridge(budget, plan, basis, method, k):
    def scaled(side: pd.DataFrame) -> pd.DataFrame:
        return side.assign(price=side["price"] * k, unit_cost=side["unit_cost"] * k)

    base = pvm(budget, plan, basis=basis, mix_method=method).drop(columns="status")
    result = pvm(scaled(budget), scaled(plan), basis=basis, mix_method=method)
    numeric = result.drop(columns="status")
    assert np.all(np.abs(numeric.to_numpy() - k * base.to_numpy()) < CENT)


@FAST
@given(side=sides(), basis=BASES, method=METHODS)
def test_plan_equal_to_budget_gives_zeros(side, basis, method):
    result = pvm(side, side.copy(), basis=basis, mix_method=method)
    assert np.all(np.abs(result.drop(columns="status").to_numpy()) < CENT)
    assert set(result["status"]) <= {"both", ""}


@FAST
@given(budget=sides(min_items=1), plan=sides(min_items=1), basis=BASES, method=METHODS,
       data=st.data())
def test_row_order_changes_nothing_but_the_order(budget, plan, basis, method, data):
    shuffled_budget = budget.iloc[data.draw(st.permutations(range(len(budget))))]
    shuffled_plan = plan.iloc[data.draw(st.permutations(range(len(plan))))]
    result = pvm(budget, plan, basis=basis, mix_method=method)
    again = pvm(shuffled_budget, shuffled_plan, basis=basis, mix_method=method)
    numeric = result.drop(columns="status")
    other = again.drop(columns="status").loc[numeric.index]
    assert np.all(np.abs(numeric.to_numpy() - other.to_numpy()) < CENT)
    assert list(again.index[: len(shuffled_budget)]) == list(shuffled_budget.index)
