"""The one rounding place: half away from zero to the cent, as Excel's ROUND, and the fast
scalar path gives exactly what the array path gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sopfin.money import cents_equal, to_cents


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
