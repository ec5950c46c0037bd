"""Accounting invariants of the engine, over many small random plans."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_tables import make_plan, table
from sopfin.engine.dollarize import dollarize
from sopfin.plan.settings import month_range

FAMILIES = ("PUMP", "VALVE", "SEAL")
CHANNELS = ("Retail", "Online")
SCENARIOS = ("base", "down")
TOL = dict(rtol=1e-9, atol=1e-7)


@dataclass(frozen=True)
class Spec:
    """A random plan as rows per sheet (keys then numbers), before it becomes text."""

    months: tuple[str, ...]
    scenarios: tuple[str, ...]
    families: tuple[str, ...]
    demand: list[list]
    supply: list[list]
    prices: list[list]
    std_cost: list[list]
    opening: list[list]
    variances: list[list]
    constrained: bool
    policy: str

    def tables(self) -> dict[str, str]:
        month_cols = list(self.months)
        return {
            "families": table(["family", "name", "product_line", "uom", "active"],
                              [[f, f, "", "EA", "TRUE"] for f in self.families]),
            "demand": table(["scenario", "family", "channel", *month_cols], self.demand),
            "supply": table(["scenario", "family", *month_cols], self.supply),
            "prices": table(["family", "channel", *month_cols], self.prices),
            "std_cost": table(["family", "material", "labour", "overhead", "effective_from"],
                              self.std_cost),
            "opening": table(["family", "units"], self.opening),
            "variances": table(["scenario", "family", "type", *month_cols], self.variances),
        }

    def plan(self):
        return make_plan(**self.tables(), months=self.months, scenarios=self.scenarios,
                         constrained=self.constrained, shortage_policy=self.policy)


def _scaled(rows: list[list], keys: int, k: float) -> list[list]:
    return [row[:keys] + [v * k for v in row[keys:]] for row in rows]


@st.composite
def specs(draw) -> Spec:
    m = draw(st.integers(1, 4))
    months = month_range("2027-01", m)
    families = FAMILIES[:draw(st.integers(1, 3))]
    scenarios = SCENARIOS[:draw(st.integers(1, 2))]
    units = st.integers(0, 60)
    demand, supply, prices, costs, opening, variances = [], [], [], [], [], []
    for f in families:
        channels = draw(st.sampled_from([CHANNELS[:1], CHANNELS, CHANNELS[::-1]]))
        for c in channels:
            prices.append([f, c] + [draw(st.integers(0, 5000)) / 100 for _ in months])
            for s in scenarios:
                if draw(st.booleans()) or s == scenarios[0]:
                    demand.append([s, f, c] + [draw(units) for _ in months])
        for s in scenarios:
            if draw(st.booleans()):
                supply.append([s, f] + [draw(units) for _ in months])
            if draw(st.booleans()):
                variances.append([s, f, draw(st.sampled_from(["ppv", "overtime"]))]
                                 + [draw(st.integers(-500, 500)) / 4 for _ in months])
        cost = st.integers(0, 900).map(lambda c: c / 100)
        costs.append([f, draw(cost), draw(cost), draw(cost), ""])
        if draw(st.booleans()):
            costs.append([f, draw(cost), draw(cost), draw(cost), draw(st.sampled_from(months))])
        if draw(st.booleans()):
            opening.append([f, draw(units)])
    return Spec(months, scenarios, families, demand, supply, prices, costs, opening, variances,
                constrained=draw(st.booleans()),
                policy=draw(st.sampled_from(["lost", "backorder"])))


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(specs(), st.sampled_from([2.0, 3.0, 0.5, 7.25]))
def test_scaling_all_units_scales_revenue_and_standard_cogs(spec: Spec, k: float):
    base, _ = dollarize(spec.plan())
    scaled_spec = replace(spec, demand=_scaled(spec.demand, 3, k),
                          supply=_scaled(spec.supply, 2, k), opening=_scaled(spec.opening, 1, k))
    scaled, _ = dollarize(scaled_spec.plan())
    for measure in ("revenue", "cogs_standard", "shipments_units", "inventory_value",
                    "inventory_cash", "revenue_at_risk"):
        np.testing.assert_allclose(scaled.fam[measure], k * base.fam[measure], **TOL,
                                   err_msg=measure)


@PROPERTY
@given(specs())
def test_zero_prices_give_zero_revenue(spec: Spec):
    free = replace(spec, prices=[row[:2] + [0] * len(spec.months) for row in spec.prices])
    d, _ = dollarize(free.plan())
    for measure in ("revenue", "unconstrained_revenue", "revenue_at_risk"):
        assert not d.fam[measure].any() and not d.line[measure].any(), measure
    np.testing.assert_allclose(d.fam["gross_margin"], -d.fam["cogs"], **TOL)


@PROPERTY
@given(specs())
def test_inventory_rolls_forward(spec: Spec):
    d, _ = dollarize(spec.plan())
    fam = d.fam
    np.testing.assert_allclose(
        fam["end_units"], fam["start_units"] + fam["production_units"] - fam["shipments_units"],
        **TOL)
    np.testing.assert_allclose(fam["start_units"][:, :, 1:], fam["end_units"][:, :, :-1], **TOL)
    np.testing.assert_allclose(fam["start_units"][:, :, 0],
                               np.broadcast_to(d.opening_units, fam["start_units"].shape[:2]))
    value_before = np.concatenate((d.opening_value[:, :, None],
                                   fam["inventory_value"][:, :, :-1]), axis=2)
    np.testing.assert_allclose(fam["inventory_cash"], value_before - fam["inventory_value"],
                               **TOL)


@PROPERTY
@given(specs())
def test_constrained_inventory_never_goes_negative_and_ships_at_most_the_requirement(spec):
    constrained = replace(spec, constrained=True)
    d, issues = dollarize(constrained.plan())
    fam = d.fam
    assert issues == []
    assert (fam["end_units"] >= 0).all()
    assert (fam["shipments_units"] >= 0).all()
    assert (fam["shipments_units"] <= fam["required_units"] + 1e-9).all()
    assert (d.line["shipments_units"] <= d.line["required_units"] + 1e-9).all()
    unmet = fam["required_units"] - fam["shipments_units"]
    carried = fam["backlog_units"] if spec.policy == "backorder" else fam["lost_units"]
    np.testing.assert_allclose(carried, unmet, **TOL)


@PROPERTY
@given(specs())
def test_line_figures_add_up_to_their_family(spec: Spec):
    d, _ = dollarize(spec.plan())
    fam_idx = d.lines["fam_idx"]
    for measure in ("demand_units", "shipments_units", "revenue", "unconstrained_revenue"):
        summed = np.zeros_like(d.fam[measure])
        np.add.at(summed, (slice(None), fam_idx), d.line[measure])
        np.testing.assert_allclose(summed, d.fam[measure], **TOL, err_msg=measure)
    if spec.constrained and spec.policy == "backorder":
        backlog = np.zeros_like(d.fam["backlog_units"])
        np.add.at(backlog, (slice(None), fam_idx), d.line["backlog_units"])
        np.testing.assert_allclose(backlog, d.fam["backlog_units"], **TOL)


def _by_key(d) -> dict:
    out = {}
    for s, scenario in enumerate(d.scenarios):
        for f, family in enumerate(d.families):
            for name, arr in d.fam.items():
                out[("fam", scenario, family, name)] = arr[s, f]
        for i, (family, channel) in enumerate(zip(d.lines["family"], d.lines["channel"],
                                                  strict=True)):
            for name, arr in d.line.items():
                out[("line", scenario, family, channel, name)] = arr[s, i]
        for i, (family, kind) in enumerate(zip(d.variance_lines["family"],
                                               d.variance_lines["type"], strict=True)):
            out[("variance", scenario, family, kind)] = d.variance[s, i]
    return out


@PROPERTY
@given(specs(), st.randoms(use_true_random=False))
def test_permuting_input_rows_changes_nothing(spec: Spec, rnd: random.Random):
    def shuffled(rows: list[list]) -> list[list]:
        rows = list(rows)
        rnd.shuffle(rows)
        return rows

    # StdCost rows of one family with the same date would make the first one win; the
    # generator never repeats a date within a family, so any order must give the same cost.
    moved = replace(spec, demand=shuffled(spec.demand), supply=shuffled(spec.supply),
                    prices=shuffled(spec.prices), std_cost=shuffled(spec.std_cost),
                    opening=shuffled(spec.opening), variances=shuffled(spec.variances))
    before, issues_before = dollarize(spec.plan())
    after, issues_after = dollarize(moved.plan())
    assert before.families == after.families
    a, b = _by_key(before), _by_key(after)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(b[key], a[key], **TOL, err_msg=str(key))
    assert [(i.code, i.message) for i in issues_before] == [
        (i.code, i.message) for i in issues_after]
