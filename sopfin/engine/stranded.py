"""Stranded and excess inventory: the working capital that demand will not release.

Pure arrays in and out. Every input is shaped ``(..., M)``: any leading axes (scenario,
family) and the plan's months last; ``days_in_month`` is ``(M,)`` (``sopfin.calendar``).
With ``stock`` the end-of-month units on hand and ``unit_cost`` the month's standard cost:

``days_of_supply``
    Forward cover: how many days of the shipment plan after month t the stock at the end of
    month t lasts, using each later month's shipments at an even daily rate (a month of 30
    days that ships 300 units ships 10 a day). 0 with no stock; ``inf`` when the plan's
    remaining shipments never use the stock up.

``stranded``
    Stock with no demand in the next N months (``months_ahead``, 6 by default): when the
    demand of months t+1 .. t+N adds up to zero, all of month t's stock is stranded. The plan
    cannot say that of a month whose next N months pass the horizon's end: those months are
    NaN (not judged), never a guess.

``excess``
    Stock above a target cover (``target_days`` of forward shipments, one number or one per
    row): stock - the units the next ``target_days`` days ship, where positive. Stock judged
    stranded is not counted again as excess (in the last N months, where stranded is not
    judged, stock nothing ships is excess). Months whose target window passes the horizon's
    end are NaN, as above.

Units become dollars at the month's standard cost (units x unit cost), as inventory value
does. ``inventory_exposure`` returns all of it in one dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STRANDED_MONTHS = 6
Array = Any  # array-like, shaped (..., M)


def forward_units(shipments: Array, days_in_month: Array, days: Array) -> np.ndarray:
    """Units the shipment plan ships in the ``days`` days after the end of each month (NaN
    where that reaches past the horizon). ``days`` is one number or one per row."""
    ship, month_days = _months(shipments), np.asarray(days_in_month, dtype=np.float64)
    span = _per_row(days, ship)
    out = np.zeros(ship.shape)
    for t in range(ship.shape[-1]):
        later = month_days[t + 1:]
        start = np.cumsum(later) - later  # days from the end of month t to each later month
        share = np.clip(span - start, 0.0, later) / later  # of each later month's shipments
        shipped = (ship[..., t + 1:] * share).sum(axis=-1)
        out[..., t] = np.where(span[..., 0] > later.sum(), np.nan, shipped)
    return out


def days_of_supply(stock: Array, shipments: Array, days_in_month: Array) -> np.ndarray:
    """Forward days of supply of each month's ending stock (see the module docstring)."""
    units, ship = np.broadcast_arrays(_months(stock), _months(shipments))
    month_days = np.asarray(days_in_month, dtype=np.float64)
    out = np.where(units > 0, np.inf, 0.0)
    for t in range(units.shape[-1] - 1):
        later, days = ship[..., t + 1:], month_days[t + 1:]
        shipped = np.cumsum(later, axis=-1)
        left = units[..., t]
        runs_out = (shipped >= left[..., None]) & (left[..., None] > 0)
        first = np.argmax(runs_out, axis=-1)[..., None]  # the month the stock runs out in
        before = np.take_along_axis(shipped - later, first, axis=-1)[..., 0]
        rate = np.take_along_axis(later, first, axis=-1)[..., 0]
        elapsed = (np.cumsum(days) - days)[first[..., 0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            cover = elapsed + (left - before) / rate * days[first[..., 0]]
        out[..., t] = np.where(runs_out.any(axis=-1), cover, out[..., t])
    return out


def stranded_units(stock: Array, demand: Array,
                   months_ahead: int = STRANDED_MONTHS) -> np.ndarray:
    """Each month's stock when the next ``months_ahead`` months have no demand, else 0;
    NaN where those months pass the horizon's end."""
    if int(months_ahead) < 1:
        raise ValueError(f"stranded: months_ahead must be 1 or more, got {months_ahead!r}")
    units, want = np.broadcast_arrays(_months(stock), _months(demand))
    n, ahead = units.shape[-1], int(months_ahead)
    running = np.concatenate((np.zeros(want.shape[:-1] + (1,)), np.cumsum(want, axis=-1)),
                             axis=-1)
    out = np.full(units.shape, np.nan)
    judged = n - ahead  # months 0 .. n-ahead-1 have their next N months inside the plan
    if judged > 0:
        upcoming = running[..., ahead + 1:] - running[..., 1:judged + 1]
        out[..., :judged] = np.where(upcoming == 0, np.maximum(units[..., :judged], 0.0), 0.0)
    return out


def excess_units(stock: Array, shipments: Array, days_in_month: Array, target_days: Array,
                 stranded: Array | None = None) -> np.ndarray:
    """Stock above ``target_days`` of forward shipments, where positive; stranded stock (if
    given) is left out; NaN where the target window passes the horizon's end."""
    units = _months(stock)
    cover = forward_units(shipments, days_in_month, target_days)
    above = np.maximum(units - cover, 0.0)
    if stranded is not None:
        above = np.where(np.nan_to_num(_months(stranded)) > 0, 0.0, above)
    return np.where(np.isnan(cover), np.nan, above)


def inventory_exposure(stock: Array, shipments: Array, demand: Array, unit_cost: Array,
                       days_in_month: Array, *, months_ahead: int = STRANDED_MONTHS,
                       target_days: Array = 90.0) -> dict[str, np.ndarray]:
    """Days of supply, stranded and excess stock in units and dollars, month by month."""
    cost = _months(unit_cost)
    stranded = stranded_units(stock, demand, months_ahead)
    excess = excess_units(stock, shipments, days_in_month, target_days, stranded)
    return {"days_of_supply": days_of_supply(stock, shipments, days_in_month),
            "stranded_units": stranded, "stranded_value": stranded * cost,
            "excess_units": excess, "excess_value": excess * cost}


def _per_row(value: Array, like: np.ndarray) -> np.ndarray:
    """One number, or one per row of ``like``, shaped (rows..., 1) against its months."""
    arr = np.asarray(value, dtype=np.float64)
    arr = arr if arr.ndim == 0 else arr.reshape(arr.shape + (1,))
    return np.broadcast_to(arr, like.shape[:-1] + (1,))


def _months(values: Array) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError("stranded: expected an array with the months on the last axis")
    return arr
