"""Top-down allocation: spread an amount over rows (departments, families) in proportion to a
driver, and over months, so that the cells add up to the amount to the cent.

The driver is one weight per row (prior-year actuals, budget units, revenue, headcount, or 1
for an equal split), or one weight per row and month (a monthly profile). Cents are placed by
largest remainder (``sopfin.money.round_to_total``): every cell is within a cent of its exact
share, and the cells sum exactly to the amount. A group's cents (a department's, a family's)
go on to its lines (accounts, channels) the same way, month by month (``split_to_lines``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np

from sopfin.money import round_to_total, to_cents


def allocate(amount: float, weights: Mapping[str, float | Sequence[float]],
             months: Sequence[str] = ()) -> dict[str, dict[str, float]] | dict[str, float]:
    """``amount`` shared by ``weights``' rows: row -> cents, or with ``months``, row -> month
    -> cents. A row's weight is one number (its months then share equally) or one number
    per month. Weights must be finite, not negative, and not all zero (``ValueError``
    naming the row otherwise)."""
    if not math.isfinite(amount):
        raise ValueError(f"the amount to allocate must be a number, not {amount!r}")
    rows = list(weights)
    if not rows:
        raise ValueError("there is nothing to allocate to: no rows")
    width = max(len(months), 1)
    grid = np.vstack([_row_weights(name, weights[name], width, bool(months)) for name in rows])
    total = grid.sum()
    if not total > 0:
        raise ValueError("every row's driver is zero, so there is nothing to allocate by; "
                         "allocate equally, or by another driver")
    cells = round_to_total((grid / total * amount).reshape(-1), amount).reshape(grid.shape)
    if not months:
        return {name: float(cells[i, 0]) for i, name in enumerate(rows)}
    return {name: {m: float(cells[i, j]) for j, m in enumerate(months)}
            for i, name in enumerate(rows)}


def _row_weights(name: str, weight: float | Sequence[float], width: int, monthly: bool
                 ) -> np.ndarray:
    if isinstance(weight, int | float | np.floating | np.integer) and not isinstance(weight,
                                                                                   bool):
        values = np.full(width, float(weight))  # its months share it equally
    else:
        try:
            values = np.asarray(weight, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"row {name!r}: the driver must be a number, found "
                             f"{weight!r}") from None
        if not monthly or len(values) != width:
            raise ValueError(f"row {name!r}: a monthly driver needs one weight per month "
                             f"({width}), found {len(values)}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"row {name!r}: a driver weight must be a number of 0 or more, "
                         f"found {weight!r}")
    return values


def allocated_total(cells: Mapping[str, object]) -> float:
    """The sum of an allocation's cents (rows, or rows of months)."""
    flat = [v for x in cells.values() for v in (x.values() if isinstance(x, Mapping) else [x])]
    return float(to_cents(float(np.rint(np.asarray(flat, dtype=np.float64) * 100).sum()) / 100))


def allocate_to_lines(amount: float, weights: Mapping[str, float | Sequence[float]],
                      mix: Mapping[str, Mapping[str, float | Sequence[float]]],
                      months: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """``amount`` shared by the groups of ``weights`` (departments, families) over ``months``,
    then each group's cents of a month shared by its lines (accounts, channels) as
    ``split_to_lines`` does: group -> line -> month -> cents. Each group gets its
    ``allocate`` share to the cent, and the lines of a month add up to it to the cent."""
    shares = cast(dict[str, dict[str, float]], allocate(amount, weights, months))
    return split_to_lines(shares, mix)


def split_to_lines(shares: Mapping[str, Mapping[str, float]],
                   mix: Mapping[str, Mapping[str, float | Sequence[float]]]
                   ) -> dict[str, dict[str, dict[str, float]]]:
    """Each group's cents of a month (``shares``: group -> month -> cents) shared by its lines
    in proportion to ``mix`` (group -> line -> one weight, or one weight per month in the
    order of the group's months), by largest remainder; equally in a month where the group's
    lines all weigh zero. A group without lines is a ``ValueError`` naming it."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group, row in shares.items():
        lines = dict(mix.get(group, {}))
        if not lines:
            raise ValueError(f"row {group!r} has no lines to share its amount")
        out[group] = {line: {} for line in lines}
        for j, (month, cents) in enumerate(row.items()):
            weights = month_weights(lines, j)
            split = cast(dict[str, float], allocate(cents, weights))
            for line, value in split.items():
                out[group][line][month] = value
    return out


def month_weights(lines: Mapping[str, float | Sequence[float]], j: int) -> dict[str, float]:
    """The lines' weights in month ``j`` (a line's one weight serves every month), or 1 each
    where they are all zero."""
    weights = {line: max(float(np.asarray(w).reshape(-1)[0 if np.ndim(w) == 0 else j]), 0.0)
               for line, w in lines.items()}
    return weights if sum(weights.values()) > 0 else dict.fromkeys(weights, 1.0)
