"""Top-down allocation sums to the amount to the cent, in proportion to its driver."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sopfin
from sopfin.engine.allocate import allocate, allocate_to_lines, allocated_total


def test_three_departments_by_headcount():
    # 100,000.00 by headcount 3 : 3 : 1: exact shares 42,857.1428..., 42,857.1428...,
    # 14,285.7142...; rounded alone they sum to 99,999.99, and the missing cent goes to the
    # share whose rounding cut most (Finance's .4285 of a cent).
    cells = sopfin.allocate(100_000, {"Sales": 3, "Ops": 3, "Finance": 1})
    assert cells == {"Sales": 42_857.14, "Ops": 42_857.14, "Finance": 14_285.72}
    assert allocated_total(cells) == 100_000.00


def test_over_months_equal_or_by_a_monthly_profile():
    months = ("2027-01", "2027-02", "2027-03")
    equal = allocate(1_000, {"A": 1, "B": 1}, months)
    assert allocated_total(equal) == 1_000.00
    assert all(abs(v - 1_000 / 6) < 0.01 for row in equal.values() for v in row.values())
    profile = allocate(900, {"A": [1, 2, 0], "B": [0, 0, 6]}, months)
    assert profile == {"A": {"2027-01": 100.0, "2027-02": 200.0, "2027-03": 0.0},
                       "B": {"2027-01": 0.0, "2027-02": 0.0, "2027-03": 600.0}}


@pytest.mark.parametrize("weights, message", [
    ({}, "no rows"),
    ({"A": 0, "B": 0}, "every row's driver is zero"),
    ({"A": -1, "B": 2}, "row 'A'"),
    ({"A": math.nan}, "row 'A'"),
    ({"A": [1, 2]}, "one weight per month"),
    ({"A": "x"}, "row 'A'"),
])
def test_bad_drivers_are_named(weights, message):
    with pytest.raises(ValueError, match=message):
        allocate(100, weights, ("2027-01", "2027-02", "2027-03") if "month" in message else ())


@given(amount=st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 2)),
       weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30)
       .filter(lambda w: sum(w) > 0),
       n_months=st.integers(0, 12))
def test_cells_sum_to_the_amount_and_stay_within_a_cent_of_their_share(amount, weights,
                                                                     n_months):
    months = tuple(f"2027-{m:02d}" for m in range(1, n_months + 1))
    rows = {f"r{i}": w for i, w in enumerate(weights)}
    cells = allocate(amount, rows, months)
    flat = np.array([v for x in cells.values()
                     for v in (x.values() if isinstance(x, dict) else [x])])
    assert int(np.rint(flat * 100).sum()) == int(np.rint(amount * 100))
    exact = np.repeat(np.array(weights) / sum(weights) * amount / max(n_months, 1),
                      max(n_months, 1))
    assert np.all(np.abs(flat - exact) <= 0.01 + 1e-9 * abs(amount))


@st.composite
def departments(draw):
    """Departments with a driver weight each (some zero, not all) and accounts beneath with a
    mix weight each (a department's mix may be all zero: its accounts then share equally)."""
    n = draw(st.integers(1, 8))
    weights = draw(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=n, max_size=n)
                   .filter(lambda w: sum(w) > 0))
    mix = {f"d{i}": {f"a{j}": w for j, w in enumerate(draw(st.lists(
        st.sampled_from([0.0, 0.5, 1.0, 3.0, 1e4]), min_size=1, max_size=5)))}
        for i in range(n)}
    return {f"d{i}": w for i, w in enumerate(weights)}, mix


@given(amount=st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 2)),
       tree=departments(), n_months=st.integers(1, 12))
def test_departments_and_their_accounts_sum_to_the_amount_to_the_cent(amount, tree, n_months):
    weights, mix = tree
    months = tuple(f"2027-{m:02d}" for m in range(1, n_months + 1))
    cells = allocate_to_lines(amount, weights, mix, months)
    cents = {(d, a, m): int(np.rint(v * 100)) for d, accounts in cells.items()
             for a, row in accounts.items() for m, v in row.items()}
    assert sum(cents.values()) == int(np.rint(amount * 100))
    assert len(cents) == sum(len(m) for m in mix.values()) * n_months
    shares = allocate(amount, weights, months)  # each department keeps its share to the cent
    for d, row in shares.items():
        for m, v in row.items():
            assert sum(c for (d2, _, m2), c in cents.items() if (d2, m2) == (d, m)) == \
                int(np.rint(v * 100))


@st.composite
def families_by_channel(draw):
    """Families with a driver weight per month (some zero, not all) and channels beneath with
    a weight per month (a family's channels may all weigh zero in a month: they then share it
    equally there), as a Budget by channel is allocated."""
    n_months = draw(st.integers(1, 12))
    n = draw(st.integers(1, 6))
    weight = st.sampled_from([0.0, 0.25, 1.0, 7.0, 1e5])
    weights = draw(st.lists(st.lists(weight, min_size=n_months, max_size=n_months),
                            min_size=n, max_size=n).filter(lambda w: sum(map(sum, w)) > 0))
    mix = {f"f{i}": {f"c{j}": draw(st.lists(weight, min_size=n_months, max_size=n_months))
                     for j in range(draw(st.integers(1, 4)))} for i in range(n)}
    return {f"f{i}": w for i, w in enumerate(weights)}, mix, n_months


@given(amount=st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 2)),
       tree=families_by_channel())
def test_families_and_their_channels_sum_to_the_amount_to_the_cent(amount, tree):
    weights, mix, n_months = tree
    months = tuple(f"2027-{m:02d}" for m in range(1, n_months + 1))
    cells = allocate_to_lines(amount, weights, mix, months)
    shares = allocate(amount, weights, months)
    assert sum(int(np.rint(v * 100)) for channels in cells.values()
               for row in channels.values() for v in row.values()) == int(np.rint(amount * 100))
    for family, row in shares.items():
        for j, (m, v) in enumerate(row.items()):
            split = {c: cells[family][c][m] for c in mix[family]}
            assert sum(int(np.rint(x * 100)) for x in split.values()) == int(np.rint(v * 100))
            w = {c: mix[family][c][j] for c in mix[family]}
            if sum(w.values()) == 0:
                w = dict.fromkeys(w, 1.0)  # the channels share the month equally
            for c, x in split.items():  # each channel within a cent of its exact share
                assert abs(x - v * w[c] / sum(w.values())) <= 0.01 + 1e-9 * abs(v)
