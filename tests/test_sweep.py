"""sopfin.sweep: the summary figures of many variants of one plan, without writing sheets.

    family  months            demand     price  std cost  supply
    PUMP    2027-01, 2027-02  100, 100   10     6         unconstrained
    VALVE   2027-01, 2027-02   10,  20   100    50

Unconstrained, shipments are the demand: revenue 2,000 + 3,000 = 5,000, COGS 1,200 + 1,500
= 2,700. Demand x 1.1 scales both by 1.1; PUMP's price x 0.5 takes 1,000 off revenue only;
cost x 0 leaves no COGS.
"""

from __future__ import annotations

import pytest

import sopfin
from plan_tables import make_plan
from sopfin.engine.dollarize import dollarize
from sopfin.engine.summary import headline

MONTHS = "2027-01 | 2027-02"


def _table(*rows: str) -> str:
    return "\n".join(f"| {row} |" for row in rows)

PLAN = dict(
    demand=_table(f"scenario | family | {MONTHS}", "base | PUMP | 100 | 100",
                  "base | VALVE | 10 | 20"),
    prices=_table(f"family | {MONTHS}", "PUMP | 10 | 10", "VALVE | 100 | 100"),
    supply=_table(f"scenario | family | {MONTHS}", "base | PUMP | 100 | 100",
                  "base | VALVE | 10 | 20"),
    std_cost=_table("family | material | labour | overhead", "PUMP | 5 | 1 | 0",
                    "VALVE | 40 | 10 | 0"),
    opening=_table("family | units", "PUMP | 0", "VALVE | 0"),
    budget=_table(f"family | measure | {MONTHS}", "PUMP | revenue | 900 | 900"),
    constrained=False)
CHANGES = {"demand +10%": {"demand": 1.1},
           "PUMP at half price": {"price": {"PUMP": 0.5}},
           "free goods": {"cost": 0.0}}


@pytest.fixture(scope="module")
def plan():
    return make_plan(**PLAN)


def test_each_variant_moves_the_figures_as_worked_by_hand(plan):
    figures = sopfin.sweep(plan, CHANGES)
    assert list(figures.index) == ["as planned", *CHANGES]
    assert figures["revenue"].tolist() == pytest.approx([5000.0, 5500.0, 4000.0, 5000.0])
    assert figures["cogs"].tolist() == pytest.approx([2700.0, 2970.0, 2700.0, 0.0])
    assert figures["revenue_gap"].tolist() == pytest.approx([3200.0, 3700.0, 2200.0, 3200.0])


def test_as_planned_is_the_plan_dollarize_gives(plan):
    d, _ = dollarize(plan, ["base"])
    expected = headline(d).loc["base"]
    got = sopfin.sweep(plan, {}).loc["as planned"]
    assert got.to_dict() == pytest.approx(expected.to_dict(), nan_ok=True)


def test_a_process_pool_and_a_dask_cluster_give_the_same_figures(plan):
    distributed = pytest.importorskip("distributed")
    here = sopfin.sweep(plan, CHANGES)
    pooled = sopfin.sweep(plan, CHANGES, workers=2)
    with distributed.LocalCluster(n_workers=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = sopfin.sweep(plan, CHANGES, scheduler=cluster.scheduler_address)
    for other in (pooled, remote):
        assert other.index.equals(here.index)
        assert other.to_numpy() == pytest.approx(here.to_numpy(), nan_ok=True)


@pytest.mark.parametrize("changes, message", [
    ({"x": {"margin": 1.1}}, "changes 'margin'"),
    ({"x": {"price": {"GEAR": 1.1}}}, "families the plan does not have: 'GEAR'"),
    ({"x": {"demand": -1}}, "finite number of 0 or more"),
    ({"x": {"demand": float("nan")}}, "finite number of 0 or more"),
    ({"as planned": {"demand": 1.0}}, "the unchanged plan"),
])
def test_a_change_the_plan_cannot_take_is_refused_before_running(plan, changes, message):
    with pytest.raises(ValueError, match=message):
        sopfin.sweep(plan, changes)
