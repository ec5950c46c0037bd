"""The one money policy: compute in float64, round to cents here and only here.

Reported figures (CLI summaries, JSON, hashes, reconciliation totals) pass through
``to_cents``; engine arrays and cached formula values stay unrounded. Lines published with
their total (a bridge's steps and its gap) pass through ``round_to_total`` instead, so that
the published lines add up to the published total to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


_EXACT_CENTS = 2.0**53  # past this many cents a float64 no longer holds every whole cent


def round_to_total(amounts: Sequence[float] | np.ndarray, total: float) -> np.ndarray:
    """Round each amount to cents so that the rounded amounts add up to ``to_cents(total)``.

    The largest-remainder method: every amount is first rounded on its own (``to_cents``); the
    cents still missing (or left over) against the rounded total then go, one each, to the
    amounts that the first rounding moved furthest down (or up). No amount moves more than a
    cent from its own rounding. Ties go to the earlier amount, so the same input always gives
    the same cents, and negating every amount and the total negates the result.

    ``amounts`` must add up to ``total`` within a cent per amount (as a bridge's steps add up
    to its gap); otherwise ``ValueError``. Where whole cents are beyond float64 (more than
    2**53 cents, about 9e13) or a value is not finite, every amount is rounded on its own, as
    there is no cent left to place. Returns float64 amounts in currency units, like
    ``to_cents``; ``np.rint(result * 100)`` are whole cents that sum to the total's.
    """
    values = np.asarray(amounts, dtype=np.float64).reshape(-1)
    own = np.asarray(to_cents(values), dtype=np.float64).reshape(-1)
    target = float(to_cents(float(total)))
    cents = np.rint(own * 100.0)
    target_cents = float(np.rint(target * 100.0))
    scale = max(float(np.abs(cents).max(initial=0.0)), abs(target_cents))
    if not (np.isfinite(cents).all() and np.isfinite(target_cents)) or scale >= _EXACT_CENTS:
        return own
    missing = int(target_cents - cents.sum())
    if abs(missing) > len(values):
        raise ValueError(f"round_to_total: the amounts add up to {values.sum():,.2f}, more "
                         f"than a cent per amount away from the total {total:,.2f}")
    if missing:
        moved_down = values * 100.0 - cents  # > 0 where the own rounding went down
        order = np.argsort(-np.sign(missing) * moved_down, kind="stable")
        cents[order[:abs(missing)]] += np.sign(missing)
    return cents / 100.0 + 0.0
