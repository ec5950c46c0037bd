"""Working capital: the days ratios, operating cash by the indirect method, and the plan's
receivables, payables and inventory month by month.

Three pure functions, plain numbers or numpy arrays in, the same out:

``working_capital_days(sales, cogs, inventory, receivables, payables, days=365)``
    The textbook days ratios of one period (Ross, Westerfield & Jordan, *Fundamentals of
    Corporate Finance*, "the operating and cash cycles"; OpenStax *Principles of Finance* 6.2):

        dio      = inventory / cogs x days         days inventory outstanding
        dso      = receivables / sales x days      days sales outstanding
        dpo      = payables / cogs x days          days payables outstanding
        ccc      = dio + dso - dpo                 cash conversion cycle
        turnover = cogs / inventory                inventory turnover (times per period)

    Balance convention: the balances are used as given. Pass ending balances for the
    "ending balance" convention (OpenStax's days' sales in inventory) or
    ``average_balance(opening, closing)`` for the "average balance" convention (Ross et al.,
    and OpenStax's turnover ratios). ``days`` is the length of the period the flows cover:
    365 for a year, 90 or 91 for a quarter, ``sopfin.calendar.days_in_month`` for months.
    Some texts measure payables against purchases rather than COGS: give ``purchases``.
    A ratio over a zero flow (or turnover over a zero inventory) is NaN, never a silent 0.

``cash_from_operations(net_income, *, noncash=0.0, gains=0.0, changes={...})``
    Net cash from operating activities by the indirect method:

        net income + noncash charges - gains on disposals
                   - increase in each current asset + increase in each current liability

    An increase in a current asset (receivables, inventory, prepaid expenses) uses cash; an
    increase in a current liability (payables, accrued liabilities, taxes payable) provides it;
    decreases do the opposite. A loss on a disposal is a negative ``gain``. ``changes`` maps
    each item to its change (closing - opening). Names are matched ignoring case, spaces and
    hyphens against ``CURRENT_ASSETS`` and ``CURRENT_LIABILITIES``; any other operating item
    is named with an explicit prefix, ``"asset:customs deposits"`` or
    ``"liability:customer advances"``. An unknown name is a ``ValueError`` that names it:
    dividends payable or the current portion of a loan are financing items, not operating
    ones, and must not be passed by mistake.

``working_capital_plan(revenue, production_cost, inventory_value, days_in_month, *, dso, dpo)``
    The plan's working capital per scenario (and family or channel) and month: receivables
    are DSO days of the month's revenue at its daily rate, ``revenue x dso / days``; payables
    are DPO days of the month's production cost, ``production_cost x dpo / days``; net
    working capital is receivables + inventory - payables; its change is against the month
    before (the first month against ``opening``, NaN without it); the cash effect of working
    capital is minus the change. Month days follow ``sopfin.calendar.days_in_month``.

``cycle_by_period(sales, cogs, inventory, receivables, payables, months, periods)``
    ``working_capital_days`` over each quarter or year of ``sopfin.calendar`` (or each month):
    the flows summed over the period's months, the balances at its last month (the ending
    balance convention), ``days`` the calendar days of its months.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sopfin.calendar import Periods, days_in_month

DAYS_IN_YEAR = 365.0
ASSET_PREFIX = "asset:"
LIABILITY_PREFIX = "liability:"
CURRENT_ASSETS = frozenset({
    "receivables", "accounts_receivable", "trade_receivables", "notes_receivable",
    "inventory", "inventories", "merchandise_inventory", "prepaid_expenses", "prepaids",
    "prepaid_insurance", "prepaid_rent", "supplies", "other_current_assets"})
CURRENT_LIABILITIES = frozenset({
    "payables", "accounts_payable", "trade_payables", "accrued_liabilities",
    "accrued_expenses", "accrued_expenses_payable", "salaries_payable", "wages_payable",
    "interest_payable", "income_taxes_payable", "taxes_payable", "unearned_revenue",
    "deferred_revenue", "other_current_liabilities"})

Number = Any  # a float or a numpy array


def average_balance(opening: Number, closing: Number) -> Number:
    """(opening + closing) / 2: the average-balance convention's balance."""
    return _out(np.add(_array(opening), _array(closing)) / 2.0, opening, closing)


def working_capital_days(sales: Number, cogs: Number, inventory: Number, receivables: Number,
                         payables: Number, days: Number = DAYS_IN_YEAR, *,
                         purchases: Number = None) -> dict[str, Number]:
    """DIO, DSO, DPO, the cash conversion cycle and inventory turnover of one period (or
    of each element of arrays). See the module docstring for the conventions."""
    args = (sales, cogs, inventory, receivables, payables, days)
    base = cogs if purchases is None else purchases
    dio = _ratio(inventory, cogs) * _array(days)
    dso = _ratio(receivables, sales) * _array(days)
    dpo = _ratio(payables, base) * _array(days)
    ratios = {"dio": dio, "dso": dso, "dpo": dpo, "ccc": dio + dso - dpo,
              "turnover": _ratio(cogs, inventory)}
    return {name: _out(value, *args, purchases) for name, value in ratios.items()}


def cash_from_operations(net_income: Number, *, noncash: Number = 0.0, gains: Number = 0.0,
                         changes: Mapping[str, Number] | None = None) -> Number:
    """Net cash from operating activities by the indirect method (see the module docstring
    for the sign rule and how items are named)."""
    total = _array(net_income) + _array(noncash) - _array(gains)
    for name, change in (changes or {}).items():
        total = total + working_capital_sign(name) * _array(change)
    return _out(total, net_income, noncash, gains, *(changes or {}).values())


def working_capital_sign(name: str) -> float:
    """-1 for a current asset (its increase uses cash), +1 for a current liability."""
    text = str(name).strip().lower()
    for prefix, sign in ((ASSET_PREFIX, -1.0), (LIABILITY_PREFIX, 1.0)):
        if text.startswith(prefix) and text[len(prefix):].strip():
            return sign
    key = re.sub(r"[\s\-]+", "_", text)
    if key in CURRENT_ASSETS:
        return -1.0
    if key in CURRENT_LIABILITIES:
        return 1.0
    raise ValueError(f"cash_from_operations: {name!r} is not a known current asset or "
                     f"liability; write it as '{ASSET_PREFIX}{name}' or "
                     f"'{LIABILITY_PREFIX}{name}' if it is an operating item (financing "
                     "items such as dividends payable do not belong here)")


def working_capital_plan(revenue: Number, production_cost: Number, inventory_value: Number,
                         days_in_month: Number, *, dso: Number, dpo: Number,
                         opening: Number = None) -> dict[str, np.ndarray]:
    """Receivables, payables, inventory, net working capital, its change and its cash effect
    per month (the last axis). ``dso`` and ``dpo`` broadcast against the arrays (one number,
    or one per row); ``opening`` is the net working capital before the first month, one per
    row (or one number), or None to leave the first month's change blank (NaN)."""
    revenue, cost, inventory = _array(revenue), _array(production_cost), _array(inventory_value)
    days = _array(days_in_month)
    receivables = revenue * _per_row(dso, revenue) / days
    payables = cost * _per_row(dpo, cost) / days
    net = receivables + inventory - payables
    before = np.full(net.shape[:-1] + (1,), np.nan) if opening is None else \
        np.broadcast_to(_per_row(opening, net), net.shape[:-1] + (1,))
    change = np.diff(net, axis=-1, prepend=before)
    return {"receivables": receivables, "payables": payables, "inventory": inventory + 0.0,
            "net_working_capital": net, "change": change, "cash_effect": -change + 0.0}


def cycle_by_period(sales: Number, cogs: Number, inventory: Number, receivables: Number,
                    payables: Number, months: Sequence[str],
                    periods: Periods | None = None) -> dict[str, np.ndarray]:
    """DIO, DSO, DPO, the cash conversion cycle and inventory turnover of each period (the
    last axis becomes the periods'); ``periods`` from ``sopfin.calendar.fiscal_quarters`` or
    ``fiscal_years``, or None for each month."""
    flows = [_array(sales), _array(cogs)]
    balances = [_array(inventory), _array(receivables), _array(payables)]
    days = days_in_month(months)
    if periods is not None:
        flows = [np.add.reduceat(f, periods.first, axis=-1) for f in flows]
        balances = [np.take(b, periods.last, axis=-1) for b in balances]
        days = np.add.reduceat(days, periods.first)
    inventory_b, receivables_b, payables_b = balances
    return working_capital_days(flows[0], flows[1], inventory_b, receivables_b, payables_b, days)


def _per_row(value: Number, like: np.ndarray) -> np.ndarray:
    """One number, or one per row of ``like`` (all axes but the months'), as a column."""
    arr = _array(value)
    return arr if arr.ndim == 0 else arr.reshape(arr.shape + (1,))


def _array(value: Number) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _ratio(numerator: Number, denominator: Number) -> np.ndarray:
    top, bottom = np.broadcast_arrays(_array(numerator), _array(denominator))
    out = np.full(top.shape, np.nan)
    np.divide(top, bottom, out=out, where=bottom != 0)
    return out


def _out(value: np.ndarray, *inputs: Number) -> Number:
    """A float when every input was a plain number, else the array."""
    if all(np.ndim(v) == 0 for v in inputs if v is not None):
        return float(value) + 0.0
    return value + 0.0
