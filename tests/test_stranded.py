"""Stranded and excess stock and forward days of supply: a case worked by hand, and the demo's
two discontinued families, whose stock no demand will ever release."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sopfin
from sopfin.calendar import days_in_month
from sopfin.cli import main
from sopfin.engine.stranded import (
    days_of_supply,
    excess_units,
    forward_units,
    inventory_exposure,
    stranded_units,
)

MONTHS = ["2027-04", "2027-05", "2027-06", "2027-07", "2027-08"]  # 30, 31, 30, 31, 31 days
DAYS = days_in_month(MONTHS)


def test_forward_cover_worked_by_hand():
    # Month 1 ships 310 units over May's 31 days (10 a day), June 600 over 30 (20 a day).
    ship = [[0.0, 310.0, 600.0, 0.0, 0.0]]
    # 400 units at the end of April: May uses 310 in 31 days, June's 90 more take 4.5 days.
    # 100 at the end of May last 5 days of June; nothing on hand is 0 days; 50 at the end of
    # June outlast every shipment the plan still has.
    assert days_of_supply([[400.0, 100.0, 0.0, 50.0, 50.0]], ship, DAYS).tolist() == \
        [[35.5, 5.0, 0.0, math.inf, math.inf]]
    # 45 days after April: all of May (310) and 14 days of June (280).
    got = forward_units(ship, DAYS, 45.0)
    assert got[0, :3].tolist() == [590.0, 600.0, 0.0] and np.isnan(got[0, 3:]).all()


def test_stranded_and_excess_worked_by_hand():
    # Two families over five months, N = 2: FAM-A sells every month; FAM-B sells once, in
    # month 2, then nothing.
    stock = [[500.0, 400.0, 300.0, 300.0, 300.0],
             [90.0, 60.0, 60.0, 60.0, 60.0]]
    ship = [[100.0, 100.0, 0.0, 0.0, 0.0],
            [0.0, 30.0, 0.0, 0.0, 0.0]]
    demand = ship
    stranded = stranded_units(stock, demand, months_ahead=2)
    # Month 1 looks at months 2-3 (FAM-B sells 30): not stranded. Months 2 and 3 see no demand
    # ahead for either family: all stock stranded. Months 4-5 look past the plan: not judged.
    assert stranded[:, :3].tolist() == [[0.0, 400.0, 300.0], [0.0, 60.0, 60.0]]
    assert np.isnan(stranded[:, 3:]).all()
    # Target 31 days: after month 1, FAM-A's cover is May's 100 units, so 400 are excess.
    excess = excess_units(stock, ship, DAYS, 31.0, stranded)
    assert excess[0, 0] == 400.0 and excess[1, 0] == 60.0
    assert excess[:, 1:3].tolist() == [[0.0, 0.0], [0.0, 0.0]]  # stranded, not counted twice
    cost = [[10.0] * 5, [2.5] * 5]
    out = inventory_exposure(stock, ship, demand, cost, DAYS, months_ahead=2,
                             target_days=[31.0, 31.0])
    assert out["stranded_value"][:, :3].tolist() == [[0.0, 4000.0, 3000.0], [0.0, 150.0, 150.0]]
    assert out["excess_value"][:, 0].tolist() == [4000.0, 150.0]
    with pytest.raises(ValueError, match="months_ahead must be 1 or more"):
        stranded_units(stock, demand, months_ahead=0)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=5, max_size=5),
       st.lists(st.floats(min_value=0, max_value=1e6), min_size=5, max_size=5),
       st.floats(min_value=0, max_value=61))
def test_stock_up_to_the_target_cover_is_never_excess(ship, extra, target):
    """Holding exactly the target cover (plus nothing) is never excess; holding more is excess
    by exactly the difference; and the cover of that stock is the target."""
    ship_rows = np.array([ship])
    cover = forward_units(ship_rows, DAYS, target)
    held = np.nan_to_num(cover) + np.array([extra])
    got = excess_units(held, ship_rows, DAYS, target)
    judged = ~np.isnan(cover)
    assert np.allclose(got[judged], np.array([extra])[judged], rtol=1e-9, atol=1e-6)
    assert np.isnan(got[~judged]).all()


@pytest.fixture(scope="module")
def demo_figures(tmp_path_factory) -> sopfin.PlanFigures:
    path: Path = tmp_path_factory.mktemp("demo") / "plan.xlsx"
    assert main(["new", str(path), "--demo", "-q"]) == 0
    return sopfin.dollarize(sopfin.read_plan(path))


def test_demo_discontinued_families_are_stranded(demo_figures):
    d = demo_figures.arrays
    f = d.fam
    out = inventory_exposure(f["end_units"], f["shipments_units"], f["demand_units"],
                             f["unit_cost"], d.days_in_month)
    no_demand = f["demand_units"].sum(axis=(0, 2)) == 0
    discontinued = [d.families[i] for i in np.flatnonzero(no_demand)]
    assert discontinued == ["VLV-120", "VLV-180"]
    for s in range(len(d.scenarios)):
        value = out["stranded_value"][s]
        stranded = [d.families[i] for i in np.flatnonzero(np.nansum(value, axis=1) > 0)]
        assert stranded == discontinued
        # Every judged month holds all their stock at that month's standard cost.
        judged = slice(0, len(d.months) - 6)
        assert np.isnan(value[:, len(d.months) - 6:]).all()
        expected = (f["end_units"][s] * f["unit_cost"][s])[no_demand][:, judged].sum(axis=0)
        assert np.allclose(value[:, judged].sum(axis=0), expected)
        # About $63k: 155 VLV-120 and 92 VLV-180 units, $60.0k at 2027 costs, $62.8k at 2028's.
        assert round(float(expected[0]), 2) == round(155 * 127.61 + 92 * 436.82, 2)
        assert expected.min() > 59_000 and expected.max() < 64_000
