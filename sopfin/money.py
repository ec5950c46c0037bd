"""The one money policy: compute in float64, round to cents here and only here.

Reported figures (CLI summaries, JSON, hashes, reconciliation totals) pass through
``to_cents``; engine arrays and cached formula values stay unrounded.
"""

from __future__ import annotations

import math

import numpy as np

CENT = 0.01


_NUDGE = 4 * float(np.finfo(np.float64).eps)


def to_cents(amount: float | np.ndarray) -> float | np.ndarray:
    """Round half away from zero to 2 decimals (commercial rounding, as Excel's ROUND)."""
    if (type(amount) is float or type(amount) is int) and math.isfinite(amount):
        scaled = float(amount) * 100.0  # the scalar path: same result, no numpy overhead
        if math.isinf(scaled):
            return scaled  # past 1.8e306 there are no cents, as in the array path below
        nudged = scaled + math.copysign(abs(scaled) * _NUDGE, scaled) if scaled else 0.0
        return math.copysign(math.floor(abs(nudged) + 0.5), nudged) / 100.0 + 0.0
    arr = np.asarray(amount, dtype=np.float64)
    # Nudge by a relative epsilon so that 2.675 (stored as 2.67499999...) rounds to 2.68,
    # as Excel's ROUND does, then round half away from zero.
    with np.errstate(over="ignore"):  # past 1.8e306 the amount becomes inf, as it is
        scaled = arr * 100.0
    nudged = scaled + np.sign(scaled) * np.abs(scaled) * 4 * np.finfo(np.float64).eps
    rounded = np.sign(nudged) * np.floor(np.abs(nudged) + 0.5) / 100.0
    rounded = rounded + 0.0  # normalise -0.0
    return float(rounded) if np.ndim(amount) == 0 else rounded


def cents_equal(a: float | np.ndarray, b: float | np.ndarray) -> bool:
    """True when a and b agree to the cent everywhere."""
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) < 0.005 + 1e-9))
