"""The one money policy: compute in float64, round to cents here and only here.

Reported figures (CLI summaries, JSON, hashes, reconciliation totals) pass through
``to_cents``; engine arrays and cached formula values stay unrounded.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np

CENT = 0.01


_NUDGE = 4 * float(np.finfo(np.float64).eps)


@overload
def to_cents(amount: float) -> float: ...
@overload
def to_cents(amount: np.ndarray) -> float | np.ndarray: ...  # a 0-d array gives a float
def to_cents(amount: float | np.ndarray) -> float | np.ndarray:
    """Round half away from zero to 2 decimals (commercial rounding, as Excel's ROUND)."""
    if (type(amount) is float or type(amount) is int) and math.isfinite(amount):
        return _float_to_cents(float(amount))
    arr = np.asarray(amount, dtype=np.float64)
    # Nudge by a relative epsilon so that 2.675 (stored as 2.67499999...) rounds to 2.68,
    # as Excel's ROUND does, then round half away from zero.
    with np.errstate(over="ignore"):  # past 1.8e306 the amount becomes inf, as it is
        hundredths = arr * 100.0
    nudged = (hundredths
              + np.sign(hundredths) * np.abs(hundredths) * 4 * np.finfo(np.float64).eps)
    rounded = np.sign(nudged) * np.floor(np.abs(nudged) + 0.5) / 100.0 + 0.0  # no -0.0
    return float(rounded) if np.ndim(amount) == 0 else rounded


def _float_to_cents(amount: float) -> float:
    """The scalar path of ``to_cents``: same result, no numpy overhead."""
    scaled = amount * 100.0
    if math.isinf(scaled):
        return scaled  # past 1.8e306 there are no cents, as in the array path
    nudged = scaled + math.copysign(abs(scaled) * _NUDGE, scaled) if scaled else 0.0
    return math.copysign(math.floor(abs(nudged) + 0.5), nudged) / 100.0 + 0.0


def cents_equal(a: float | np.ndarray, b: float | np.ndarray) -> bool:
    """True when a and b agree to the cent everywhere."""
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) < 0.005 + 1e-9))
