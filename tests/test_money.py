"""The one rounding place: half away from zero to the cent, as Excel's ROUND, and the fast
scalar path gives exactly what the array path gives; lines rounded with their total add up to
it to the cent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopfin.money import cents_equal, round_to_total, to_cents


def test_half_cents_round_away_from_zero_like_excel():
    assert to_cents(2.675) == 2.68 and to_cents(-2.675) == -2.68
    assert to_cents(1.005) == 1.01 and to_cents(0.004999) == 0.0
    assert to_cents(-0.0) == 0.0 and str(to_cents(-0.001)) == "0.0"


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e13,
                           max_value=1e13),
                 st.integers(min_value=-10**12, max_value=10**12),
                 st.integers(min_value=-10**8, max_value=10**8).map(lambda k: k / 1000)))
def test_scalar_and_array_paths_agree(amount):
    assert to_cents(amount) == float(to_cents(np.array([amount]))[0])


def test_cents_equal_is_a_cent_tolerance():
    assert cents_equal(np.array([1.004, 2.0]), np.array([1.0, 2.004]))
    assert not cents_equal(1.0, 1.006)


def _cents(values) -> np.ndarray:
    return np.rint(np.asarray(values) * 100.0).astype(np.int64)


def test_round_to_total_thirds_by_hand():
    # 33.333.. three times rounds to 99 cents one by one; the missing cent goes to the first
    # of the equal remainders.
    assert round_to_total([1 / 3, 1 / 3, 1 / 3], 1.0).tolist() == [0.34, 0.33, 0.33]
    assert round_to_total([-1 / 3, -1 / 3, -1 / 3], -1.0).tolist() == [-0.34, -0.33, -0.33]
    # The largest remainder wins, wherever it sits: 0.334 rounds to 0.33 but lost 0.4 cent.
    assert round_to_total([0.331, 0.335, 0.334], 1.0).tolist() == [0.33, 0.34, 0.33]
    assert round_to_total([0.331, 0.333, 0.336], 1.0).tolist() == [0.33, 0.33, 0.34]
    # A cent too many (two half cents each rounded up) comes off the first of them.
    assert round_to_total([0.005, 0.005], 0.01).tolist() == [0.0, 0.01]


def test_round_to_total_leaves_lines_that_already_add_up_alone():
    amounts = [1250.004, -310.25, 77.1]
    assert round_to_total(amounts, sum(amounts)).tolist() == [1250.0, -310.25, 77.1]


def test_round_to_total_refuses_amounts_that_do_not_make_the_total():
    with pytest.raises(ValueError, match="more than a cent per amount"):
        round_to_total([1.0, 2.0], 3.05)


def test_round_to_total_beyond_whole_cents_rounds_each_line_alone():
    huge = [1e300, -1e300, 3.3]
    assert round_to_total(huge, 3.3).tolist() == to_cents(np.array(huge)).tolist()
    assert round_to_total([], 0.0).tolist() == []
    assert round_to_total([1.0, float("inf")], float("inf")).tolist() == [1.0, float("inf")]
    assert np.isnan(round_to_total([float("nan")], 0.0)).all()


_money = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(st.lists(_money, min_size=1, max_size=40))
def test_round_to_total_sums_exactly_and_moves_each_line_at_most_a_cent(amounts):
    total = float(np.sum(amounts))
    got = round_to_total(amounts, total)
    assert _cents(got).sum() == _cents(to_cents(total))
    assert (np.abs(_cents(got) - _cents(to_cents(np.asarray(amounts)))) <= 1).all()
    assert (np.abs(got - np.asarray(amounts)) < 0.01 + 1e-6).all()


@given(st.lists(_money, min_size=1, max_size=40))
def test_round_to_total_is_odd_and_deterministic(amounts):
    total = float(np.sum(amounts))
    got = round_to_total(amounts, total)
    assert (round_to_total([-a for a in amounts], -total) == -got).all()
    assert (round_to_total(amounts, total) == got).all()
