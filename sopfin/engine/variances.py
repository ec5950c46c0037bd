"""Standard-cost variances: why the month's actual production cost differs from standard.

Four functions, one per cost element, each taking scalars or one value per family (numpy
arrays, lists; scalars broadcast) and returning a dict of the textbook variances in currency:

* ``material``: ``price``, ``usage``, ``total``
* ``labour``: ``rate``, ``idle_time``, ``efficiency``, ``total``
* ``variable_overhead``: ``expenditure``, ``efficiency``, ``total``
* ``fixed_overhead``: ``expenditure``, ``volume``, ``capacity``, ``efficiency``, ``total``

Sign rule: **positive is favourable** (actual cost below standard), negative adverse, as in
the ACCA/CIMA study texts. US textbooks (Horngren, Garrison, Warren, OpenStax) often write the
opposite, actual minus standard, so their favourable variances are negative.

Each figure is rounded to the cent by ``sopfin.money.to_cents``, and the parts always add up
to the total to the cent: the total is the exact total rounded, and when the rounded parts
miss it by a cent or two the missing cents go to the parts that rounding moved most
(largest remainder), so no part is ever more than a cent from its exact value. For the fixed
overhead, expenditure + volume = total and capacity + efficiency = volume, both to the cent.

Every input is a quantity, price, rate, hour count or cost, so a negative, infinite or NaN
value is a ``ValueError`` that names the argument (the worksheet layer shows it in the cell).
Scalars in give floats out; any array in gives arrays out, one value per family.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import numpy as np

from sopfin.money import to_cents

Amounts = dict[str, Any]


def _overflow_refused(func: Callable[..., Amounts]) -> Callable[..., Amounts]:
    """No numpy overflow warnings: a figure that overflows is refused as a ValueError."""

    @wraps(func)
    def quiet(*args: Any, **kwargs: Any) -> Amounts:
        with np.errstate(over="ignore", invalid="ignore"):
            return func(*args, **kwargs)

    return quiet


# ----------------------------------------------------------------------------- the four
@_overflow_refused
def material(std_qty_per_unit: Any, std_price: Any, actual_output: Any, qty_used: Any,
             actual_cost: Any, *, qty_purchased: Any = None,
             purchase_cost: Any = None) -> Amounts:
    """Direct material variances (positive favourable).

    With SQ = actual_output x std_qty_per_unit, the standard quantity for the output made:

    * usage = (SQ - qty_used) x std_price
    * price, at usage (the default) = qty_used x std_price - actual_cost, where actual_cost is
      what the material used actually cost; then total = SQ x std_price - actual_cost, the
      standard cost of the output less the actual cost of the material in it.
    * price, at purchase (``qty_purchased`` and ``purchase_cost`` given, as when stock is
      held at standard cost) = qty_purchased x std_price - purchase_cost. Then
      total = price + usage: the variance the period's accounts record. When the material
      used cost the period's purchase price, it exceeds SQ x std_price - actual_cost by the
      price variance on the stock bought but not used, (qty_purchased - qty_used) x
      (std_price - purchase price). ``actual_cost`` is not used and may be ``None``.
    """
    at_purchase = _purchase_given(qty_purchased, purchase_cost)
    values = _amounts(std_qty_per_unit=std_qty_per_unit, std_price=std_price,
                      actual_output=actual_output, qty_used=qty_used,
                      actual_cost=0.0 if at_purchase and actual_cost is None else actual_cost,
                      qty_purchased=0.0 if qty_purchased is None else qty_purchased,
                      purchase_cost=0.0 if purchase_cost is None else purchase_cost)
    v = values.arrays
    standard_qty = v["actual_output"] * v["std_qty_per_unit"]
    usage = (standard_qty - v["qty_used"]) * v["std_price"]
    if at_purchase:
        price = v["qty_purchased"] * v["std_price"] - v["purchase_cost"]
        total = price + usage
    else:
        price = v["qty_used"] * v["std_price"] - v["actual_cost"]
        total = standard_qty * v["std_price"] - v["actual_cost"]
    return values.result(_split(total, price=price, usage=usage))


@_overflow_refused
def labour(std_hours_per_unit: Any, std_rate: Any, actual_output: Any, hours_paid: Any,
           actual_cost: Any, *, hours_worked: Any = None) -> Amounts:
    """Direct labour variances (positive favourable).

    With SH = actual_output x std_hours_per_unit, the standard hours for the output made,
    and hours_worked = hours_paid when not given (no idle time):

    * rate = hours_paid x std_rate - actual_cost (every hour paid, idle or not)
    * idle_time = -(hours_paid - hours_worked) x std_rate: paid hours not worked, always
      adverse (zero or negative); ``hours_worked`` above ``hours_paid`` is refused.
    * efficiency = (SH - hours_worked) x std_rate
    * total = SH x std_rate - actual_cost = rate + idle_time + efficiency
    """
    values = _amounts(std_hours_per_unit=std_hours_per_unit, std_rate=std_rate,
                      actual_output=actual_output, hours_paid=hours_paid,
                      actual_cost=actual_cost,
                      hours_worked=hours_paid if hours_worked is None else hours_worked)
    v = values.arrays
    if np.any(v["hours_worked"] > v["hours_paid"]):
        raise ValueError("labour: hours_worked cannot exceed hours_paid"
                         f"{_first_where(v['hours_worked'] > v['hours_paid'])}")
    standard_hours = v["actual_output"] * v["std_hours_per_unit"]
    rate = v["hours_paid"] * v["std_rate"] - v["actual_cost"]
    idle_time = -(v["hours_paid"] - v["hours_worked"]) * v["std_rate"]
    efficiency = (standard_hours - v["hours_worked"]) * v["std_rate"]
    total = standard_hours * v["std_rate"] - v["actual_cost"]
    return values.result(_split(total, rate=rate, idle_time=idle_time, efficiency=efficiency))


@_overflow_refused
def variable_overhead(std_hours_per_unit: Any, std_rate: Any, actual_output: Any,
                      hours_worked: Any, actual_cost: Any) -> Amounts:
    """Variable overhead variances (positive favourable), absorbed per hour worked.

    With SH = actual_output x std_hours_per_unit and std_rate the overhead per hour (variable
    overhead is taken to arise in hours worked, not in idle time):

    * expenditure = hours_worked x std_rate - actual_cost
    * efficiency = (SH - hours_worked) x std_rate
    * total = SH x std_rate - actual_cost
    """
    values = _amounts(std_hours_per_unit=std_hours_per_unit, std_rate=std_rate,
                      actual_output=actual_output, hours_worked=hours_worked,
                      actual_cost=actual_cost)
    v = values.arrays
    standard_hours = v["actual_output"] * v["std_hours_per_unit"]
    expenditure = v["hours_worked"] * v["std_rate"] - v["actual_cost"]
    efficiency = (standard_hours - v["hours_worked"]) * v["std_rate"]
    total = standard_hours * v["std_rate"] - v["actual_cost"]
    return values.result(_split(total, expenditure=expenditure, efficiency=efficiency))


@_overflow_refused
def fixed_overhead(budget_output: Any, std_hours_per_unit: Any, budget_cost: Any,
                   actual_output: Any, actual_hours: Any, actual_cost: Any) -> Amounts:
    """Fixed overhead variances under absorption costing (positive favourable).

    The budget absorbs budget_cost over budget_output units, i.e. over
    BH = budget_output x std_hours_per_unit budgeted hours: OAR = budget_cost / budget_output
    per unit, budget_cost / BH per hour. With SH = actual_output x std_hours_per_unit:

    * expenditure = budget_cost - actual_cost
    * volume = (actual_output - budget_output) x OAR, the over- or under-absorption
      from making more or fewer units than budgeted, split into
    * capacity = (actual_hours - BH) x budget_cost / BH: more or fewer hours worked than
      budgeted, and
    * efficiency = (SH - actual_hours) x budget_cost / BH: those hours made more or less
      output than standard;
    * total = actual_output x OAR - actual_cost (absorbed less incurred)
      = expenditure + volume = expenditure + capacity + efficiency.

    ``budget_output`` and ``std_hours_per_unit`` must be positive wherever ``budget_cost``
    is not zero (a zero budget absorbs nothing: its volume variances are zero).
    """
    values = _amounts(budget_output=budget_output, std_hours_per_unit=std_hours_per_unit,
                      budget_cost=budget_cost, actual_output=actual_output,
                      actual_hours=actual_hours, actual_cost=actual_cost)
    v = values.arrays
    for name in ("budget_output", "std_hours_per_unit"):
        bad = (v[name] == 0) & (v["budget_cost"] != 0)
        if bad.any():
            raise ValueError(f"fixed_overhead: {name} must be positive where budget_cost is "
                             f"not zero{_first_where(bad)}")
    budget_hours = v["budget_output"] * v["std_hours_per_unit"]
    per_unit = _ratio(v["budget_cost"], v["budget_output"])
    per_hour = _ratio(v["budget_cost"], budget_hours)
    expenditure = v["budget_cost"] - v["actual_cost"]
    volume = (v["actual_output"] - v["budget_output"]) * per_unit
    capacity = (v["actual_hours"] - budget_hours) * per_hour
    efficiency = (v["actual_output"] * v["std_hours_per_unit"] - v["actual_hours"]) * per_hour
    total = v["actual_output"] * per_unit - v["actual_cost"]
    outer = _split(total, expenditure=expenditure, volume=volume)
    inner = _split(volume, capacity=capacity, efficiency=efficiency,
                   rounded_total=outer["volume"])
    return values.result({"expenditure": outer["expenditure"], "volume": outer["volume"],
                          "capacity": inner["capacity"], "efficiency": inner["efficiency"],
                          "total": outer["total"]})


# ----------------------------------------------------------------------------- inputs
class _Inputs:
    """The named inputs as float arrays of one common shape, and whether any was an array."""

    def __init__(self, arrays: dict[str, np.ndarray], scalar: bool) -> None:
        self.arrays = arrays
        self.scalar = scalar

    def result(self, figures: dict[str, np.ndarray]) -> Amounts:
        if self.scalar:
            return {k: float(v) for k, v in figures.items()}
        return figures


def _amounts(**named: Any) -> _Inputs:
    """Each argument as a float array, checked finite and not negative, broadcast together."""
    arrays = {name: _amount(name, value) for name, value in named.items()}
    try:
        shaped = np.broadcast_arrays(*arrays.values())
    except ValueError:
        sizes = ", ".join(f"{k} {v.shape[0]}" for k, v in arrays.items() if v.ndim)
        raise ValueError(f"give one value or one value per family for each input; "
                         f"found {sizes}") from None
    scalar = all(a.ndim == 0 for a in arrays.values())
    return _Inputs(dict(zip(arrays, shaped, strict=True)), scalar)


def _amount(name: str, value: Any) -> np.ndarray:
    if value is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, str | bytes):
        raise ValueError(f"{name} must be a number or numbers; found {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or numbers; found {value!r}") from None
    if array.ndim > 1:
        raise ValueError(f"{name} must be one number or one number per family "
                         f"(found {array.ndim} dimensions)")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite{_first_where(~np.isfinite(array))}")
    if (array < 0).any():
        raise ValueError(f"{name} cannot be negative; found "
                         f"{array[array < 0].flat[0]:g}{_first_where(array < 0)}")
    return array


def _purchase_given(qty_purchased: Any, purchase_cost: Any) -> bool:
    if (qty_purchased is None) != (purchase_cost is None):
        missing = "purchase_cost" if purchase_cost is None else "qty_purchased"
        raise ValueError(f"material: the price variance at purchase needs qty_purchased and "
                         f"purchase_cost; {missing} is missing")
    return qty_purchased is not None


def _first_where(mask: np.ndarray) -> str:
    """' at family 3' for the first True of a per-family mask; '' for a single value."""
    if np.ndim(mask) == 0:
        return ""
    return f" at family {int(np.flatnonzero(mask)[0]) + 1}"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


# ----------------------------------------------------------------------------- cents
def _split(total: np.ndarray, rounded_total: np.ndarray | None = None,
           **parts: np.ndarray) -> dict[str, np.ndarray]:
    """The parts and the total in cents, the parts adding up to the total exactly.

    The total is ``to_cents(total)`` (or ``rounded_total``); each part is ``to_cents`` of
    its exact value, then the cents the rounded parts miss the total by go, one each, to
    the parts whose rounding moved them most in the missing direction (largest remainder).
    """
    exact = np.stack([np.asarray(p, dtype=np.float64) for p in parts.values()])
    if not (np.isfinite(exact).all() and np.isfinite(total).all()):
        raise ValueError("the variances overflow: an input is far too large, or an hour or "
                         "output figure far too small")
    target = to_cents(total) if rounded_total is None else rounded_total
    rounded = np.asarray(to_cents(exact))
    missing = np.rint((np.asarray(target) - rounded.sum(axis=0)) * 100.0)
    step = np.sign(missing)
    # rank the parts by how far rounding moved them against the missing direction
    order = np.argsort(np.argsort(-(exact - rounded) * step, axis=0, kind="stable"), axis=0)
    rounded = rounded + step * (order < np.abs(missing)) / 100.0
    out = {name: np.asarray(to_cents(rounded[i])) for i, name in enumerate(parts)}
    out["total"] = np.asarray(target)
    return out
