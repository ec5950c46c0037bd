"""The price / volume / mix bridge: why the plan's revenue (or margin) differs from budget.

``pvm(budget, plan)`` splits the gap between two versions of the plan, item by item, into
the textbook sales variances (CIMA / ACCA "sales price, mix and quantity", Horngren's
"sales-mix and sales-quantity"). Both inputs are frames indexed by item with columns
``units`` and ``price`` (and ``unit_cost`` on the margin basis). Positive is favourable.

With ``r`` the value per unit (price on the revenue basis, price - unit_cost on the margin
basis), ``Q`` the units, and for the items present on both sides:

    m_i       = Q_bud,i / sum(Q_bud)                  budget mix share
    SM_i      = sum(Q_plan) * m_i                     plan units at the budget mix
    price_i   = (p_plan,i - p_bud,i) * Q_plan,i
    cost_i    = -(c_plan,i - c_bud,i) * Q_plan,i      margin basis only
    volume_i  = (Q_plan,i - Q_bud,i) * r_bud,i  =  quantity_i + mix_i
    total_i   = Q_plan,i * r_plan,i - Q_bud,i * r_bud,i

(sums over the items on both sides). The volume step splits two ways:

``individual`` (the "individual units" method)
    quantity_i = (SM_i - Q_bud,i) * r_bud,i,   mix_i = (Q_plan,i - SM_i) * r_bud,i.

``weighted_average`` (the "weighted average" method)
    mix_i = (Q_plan,i - SM_i) * (r_bud,i - r_avg) with r_avg = sum(Q_bud * r_bud) / sum(Q_bud),
    and quantity_i = volume_i - mix_i. The Total row's quantity is then the textbook
    (sum Q_plan - sum Q_bud) * r_avg, the same as the individual method's; only the split of
    each item's volume between quantity and mix differs. Keeping volume_i the same under both
    methods is what lets price + volume (+ cost) == total hold on every row: the per-item
    quantity (SM_i - Q_bud,i) * r_bud,i of the individual method would leave each row off by
    (Q_plan,i - SM_i) * r_avg, which only cancels in total.

``price_at`` says at which volume price (and, on the margin basis, cost) is measured:

``plan`` (the default) at the plan volume, as above: price + volume (+ cost) == total.
``budget`` at the budget volume, leaving the joint effect of both changes in a ``joint``
    column (the corner of the price x volume rectangle; "rate/volume" in bank analyses):

        price_i = (p_plan,i - p_bud,i) * Q_bud,i
        cost_i  = -(c_plan,i - c_bud,i) * Q_bud,i                   margin basis only
        joint_i = (r_plan,i - r_bud,i) * (Q_plan,i - Q_bud,i)

    so that price + volume + joint (+ cost) == total; volume, quantity, mix and total are the
    same under both conventions.

``group`` (optional) names a column, or an index level, of both frames that says which group
(family) each item belongs to, as when the items are (family, channel) pairs. The mix step
is then split in two levels (``mix_between`` + ``mix_within`` == ``mix``), with ``g`` an
item's group, ``w_i = Q_bud,i / Q_bud,g`` its budget share within the group and
``GM_i = Q_plan,g * w_i`` its plan units at the group's budget mix:

``individual``
    mix_between_i = (GM_i - SM_i) * r_bud,i,   mix_within_i = (Q_plan,i - GM_i) * r_bud,i
    (by group: mix_between_g = (Q_plan,g - sum(Q_plan) * Q_bud,g / sum(Q_bud)) * R_bud,g with
    R_bud,g = sum over g of Q_bud * r_bud / Q_bud,g, the group's budget average rate).
``weighted_average``
    mix_between_i = (GM_i - SM_i) * (R_bud,g - r_avg),
    mix_within_i = (Q_plan,i - GM_i) * (r_bud,i - R_bud,g),
    and the item's mix is their sum (per group and in total the same as without ``group``).

A group with no budget units has no budget mix inside it (GM_i = Q_plan,i, and R_bud,g is
taken as the item's own r_bud,i): its mix is all ``mix_between``. An item on both sides must
name the same group on both.

Items on one side only are outside the mix base. A ``new`` item (plan only) carries its whole
plan value in ``volume`` and ``total``; a ``discontinued`` item (budget only) carries minus its
budget value. Their price, quantity, mix, cost and joint are 0. The ``status`` column says ``new``,
``discontinued`` or ``both``.

When the budget units of the items on both sides sum to zero the budget mix is undefined: the
whole volume effect is then reported as ``quantity`` and ``mix`` is 0.

The result keeps the item order (budget order, then plan-only items in plan order) and the
index name, and ends with a ``Total`` row that sums every column (its status is ''). Figures
are float64 and unrounded: rounding to cents belongs to ``sopfin.money`` when a figure is
reported. Bad input (unknown basis or method, missing columns, duplicate items, NaN or
infinite values, negative units) raises ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

BASES = ("revenue", "margin")
MIX_METHODS = ("individual", "weighted_average")
PRICE_AT = ("plan", "budget")
TOTAL = "Total"
BOTH, NEW, DISCONTINUED = "both", "new", "discontinued"

_SHOWN = 5  # offending items named in an error message


@dataclass(frozen=True)
class AlignedSide:
    """One version of the plan aligned on the bridge's items (zeros where absent)."""

    present: np.ndarray  # bool
    units: np.ndarray
    price: np.ndarray
    unit_cost: np.ndarray

    @property
    def rate(self) -> np.ndarray:
        """Value per unit: price, less standard cost on the margin basis."""
        return np.asarray(self.price - self.unit_cost)

    @property
    def value(self) -> np.ndarray:
        return np.where(self.present, self.units * self.rate, 0.0)


def pvm(
    budget: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    basis: str = "revenue",
    mix_method: str = "individual",
    price_at: str = "plan",
    group: str | None = None,
) -> pd.DataFrame:
    """Bridge budget to plan in price, quantity, mix, volume (and cost) steps per item.

    Returns a frame indexed by item plus a final ``Total`` row, with columns ``price``,
    ``quantity``, ``mix`` (then ``mix_between`` and ``mix_within`` with ``group``),
    ``volume``, ``cost`` (margin basis only), ``joint`` (with ``price_at="budget"`` only),
    ``total`` and ``status``. See the module docstring for the definitions.
    """
    _check_choice("basis", basis, BASES)
    _check_choice("mix_method", mix_method, MIX_METHODS)
    _check_choice("price_at", price_at, PRICE_AT)
    columns = ("units", "price", "unit_cost") if basis == "margin" else ("units", "price")
    budget_values = _validated_values(budget, "budget", columns)
    plan_values = _validated_values(plan, "plan", columns)

    items = _item_order(budget.index, plan.index)
    bud = _align(budget.index, budget_values, items)
    pln = _align(plan.index, plan_values, items)
    codes = _group_codes(budget, plan, items, group) if group is not None else None
    steps, status = item_steps(bud, pln, basis=basis, mix_method=mix_method,
                               price_at=price_at, groups=codes)
    return _with_total(items, steps, status, _index_names(budget.index, plan.index))


def item_steps(bud: AlignedSide, pln: AlignedSide, *, basis: str, mix_method: str,
               price_at: str, groups: np.ndarray | None = None,
               ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The bridge of two sides already aligned on the same items (and checked as ``pvm``
    checks them): every step per item, in ``pvm``'s column order (no Total row), and each
    item's status. ``groups`` gives each item's group code for the two-level mix."""
    steps = _steps(bud, pln, mix_method, price_at)
    if groups is not None:
        _split_mix(steps, bud, pln, groups, mix_method)
    if basis == "revenue":
        del steps["cost"]
    status = np.where(bud.present & pln.present, BOTH, np.where(bud.present, DISCONTINUED, NEW))
    return steps, status


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"pvm: unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def _validated_values(frame: object, side: str, columns: tuple[str, ...]) -> np.ndarray:
    """The needed columns as float64, after checking everything the bridge relies on."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"pvm: {side} must be a pandas DataFrame indexed by item, "
                        f"got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        why = " (unit_cost is needed on the margin basis)" if "unit_cost" in missing else ""
        raise ValueError(f"pvm: {side} has no column {', '.join(missing)}{why}; "
                         f"expected columns {', '.join(columns)}")
    if frame.index.has_duplicates:
        repeated = frame.index[frame.index.duplicated()].unique()
        raise ValueError(f"pvm: {side} lists item(s) {_names(repeated)} more than once; "
                         "give each item one row (sum the units first)")
    if _total_label(frame.index) in frame.index:
        raise ValueError(f"pvm: {side} has an item named {TOTAL!r}, which is the label of the "
                         "bridge's total row; rename the item")
    try:
        values = frame.loc[:, list(columns)].astype(np.float64).to_numpy()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pvm: {side} columns {', '.join(columns)} must be numeric: {exc}") \
            from exc
    not_finite = ~np.isfinite(values)
    if not_finite.any():
        rows, cols = np.nonzero(not_finite)
        where = [f"{frame.index[r]!r}.{columns[c]}"
                 for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
        raise ValueError(f"pvm: {side} has NaN or infinite values at {_names(where, quote=False)}; "
                         "fill them in (0 units for an item not sold)")
    negative = values[:, 0] < 0
    if negative.any():
        raise ValueError(f"pvm: {side} has negative units for {_names(frame.index[negative])}; "
                         "units sold cannot be below zero (book returns as a price effect)")
    return values


def _names(labels: Any, quote: bool = True) -> str:
    shown = [repr(x) if quote else str(x) for x in list(labels)[:_SHOWN]]
    more = f" and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else ""
    return ", ".join(shown) + more


def _item_order(budget_index: pd.Index, plan_index: pd.Index) -> pd.Index:
    """Budget items in budget order, then the plan-only items in plan order."""
    return budget_index.append(plan_index[~plan_index.isin(budget_index)])


def _align(index: pd.Index, values: np.ndarray, items: pd.Index) -> AlignedSide:
    """One side's values in the bridge's item order; zeros for the items it does not have."""
    position = index.get_indexer(items)
    present = position >= 0
    taken = np.zeros((len(items), values.shape[1]))
    taken[present] = values[position[present]]
    unit_cost = taken[:, 2] if values.shape[1] > 2 else np.zeros(len(items))
    return AlignedSide(present=present, units=taken[:, 0], price=taken[:, 1],
                       unit_cost=unit_cost)


def _steps(bud: AlignedSide, pln: AlignedSide, mix_method: str, price_at: str,
           ) -> dict[str, np.ndarray]:
    """Every bridge column (except status) for every item, as float64 arrays."""
    both = bud.present & pln.present
    total = pln.value - bud.value
    quantity, mix = _volume_split(bud, pln, both, mix_method)
    at_volume = pln.units if price_at == "plan" else bud.units
    steps = {
        "price": np.where(both, (pln.price - bud.price) * at_volume, 0.0),
        "quantity": quantity,
        "mix": mix,
        "volume": np.where(both, quantity + mix, total),
        "cost": np.where(both, -(pln.unit_cost - bud.unit_cost) * at_volume, 0.0),
    }
    if price_at == "budget":
        steps["joint"] = np.where(both, (pln.rate - bud.rate) * (pln.units - bud.units), 0.0)
    steps["total"] = total
    return steps


def _volume_split(
    bud: AlignedSide, pln: AlignedSide, both: np.ndarray, mix_method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Quantity and mix effects of the items on both sides (0 for one-sided items)."""
    q_bud = np.where(both, bud.units, 0.0)
    q_plan = np.where(both, pln.units, 0.0)
    rate = np.where(both, bud.rate, 0.0)
    volume = (q_plan - q_bud) * rate
    budget_units = q_bud.sum()
    if budget_units <= 0.0:  # no budget mix to compare with: all of it is quantity
        return volume, np.zeros_like(volume)
    at_budget_mix = q_plan.sum() * (q_bud / budget_units)
    off_mix = q_plan - at_budget_mix
    if mix_method == "individual":
        return (at_budget_mix - q_bud) * rate, off_mix * rate
    average_rate = (q_bud * rate).sum() / budget_units
    mix = np.where(both, off_mix * (rate - average_rate), 0.0)
    return volume - mix, mix


def _group_of(frame: pd.DataFrame, group: str, side: str) -> list[str | None]:
    """Each item's group on one side (the column ``group``, else the index level), as text;
    None where blank."""
    if group in frame.columns:
        values = frame[group].to_numpy(dtype=object)
    elif group in frame.index.names:
        values = frame.index.get_level_values(group).to_numpy(dtype=object)
    else:
        raise ValueError(f"pvm: {side} has no column or index level {group!r} (group=) naming "
                         "each item's group")
    return [None if v is None or v != v or v == "" else str(v) for v in values.tolist()]


def _group_codes(budget: pd.DataFrame, plan: pd.DataFrame, items: pd.Index,
                 group: str) -> np.ndarray:
    """Each bridge item's group as an integer code (budget's group, else plan's)."""
    bud, pln = _group_of(budget, group, "budget"), _group_of(plan, group, "plan")
    names: list[str | None] = []
    differ, blank = [], []
    for item, b, p in zip(items, budget.index.get_indexer(items).tolist(),
                          plan.index.get_indexer(items).tolist(), strict=True):
        mine, theirs = bud[b] if b >= 0 else None, pln[p] if p >= 0 else None
        if (b >= 0 and mine is None) or (p >= 0 and theirs is None):
            blank.append(item)
        elif b >= 0 and p >= 0 and mine != theirs:
            differ.append(item)
        names.append(mine if b >= 0 else theirs)
    if blank:
        raise ValueError(f"pvm: {group} is blank for item(s) {_names(blank)}")
    if differ:
        raise ValueError(f"pvm: item(s) {_names(differ)} belong to one {group} in the budget "
                         "and another in the plan; give each item one group")
    return group_codes(names)


def group_codes(names: list[Any]) -> np.ndarray:
    """Each item's group as an integer code, numbered in order of first appearance."""
    code: dict[Any, int] = {}
    return np.array([code.setdefault(n, len(code)) for n in names], dtype=np.int64)


def _split_mix(steps: dict[str, np.ndarray], bud: AlignedSide, pln: AlignedSide,
               codes: np.ndarray, mix_method: str) -> None:
    """Add ``mix_between`` and ``mix_within`` (after ``mix``) to the steps, in place; with
    the weighted average method an item's mix (and so its quantity) becomes their sum."""
    both = bud.present & pln.present
    q_bud, q_plan = np.where(both, bud.units, 0.0), np.where(both, pln.units, 0.0)
    rate = np.where(both, bud.rate, 0.0)
    between, within = np.zeros_like(rate), np.zeros_like(rate)
    budget_units = q_bud.sum()
    if budget_units > 0.0:
        n = int(codes.max(initial=-1)) + 1
        group_bud = np.bincount(codes, q_bud, n)
        held = group_bud[codes] > 0.0
        share = np.divide(q_bud, group_bud[codes], out=np.zeros_like(q_bud), where=held)
        at_group_mix = np.where(held, np.bincount(codes, q_plan, n)[codes] * share, q_plan)
        at_budget_mix = q_plan.sum() * (q_bud / budget_units)
        if mix_method == "individual":
            between = (at_group_mix - at_budget_mix) * rate
            within = (q_plan - at_group_mix) * rate
        else:
            average = (q_bud * rate).sum() / budget_units
            group_rate = np.divide(np.bincount(codes, q_bud * rate, n), group_bud,
                                   out=np.zeros(n), where=group_bud > 0.0)[codes]
            group_rate = np.where(held, group_rate, rate)
            between = (at_group_mix - at_budget_mix) * (group_rate - average)
            within = (q_plan - at_group_mix) * (rate - group_rate)
            steps["mix"] = np.where(both, between + within, 0.0)
            steps["quantity"] = np.where(both, steps["volume"] - steps["mix"], 0.0)
    ordered = {}
    for name, values in steps.items():
        ordered[name] = values
        if name == "mix":
            ordered["mix_between"] = np.where(both, between, 0.0)
            ordered["mix_within"] = np.where(both, within, 0.0)
    steps.clear()
    steps.update(ordered)


def _total_label(index: pd.Index) -> str | tuple[str, ...]:
    return (TOTAL,) + ("",) * (index.nlevels - 1) if index.nlevels > 1 else TOTAL


def _index_names(budget_index: pd.Index, plan_index: pd.Index) -> list[Any]:
    names = list(budget_index.names)
    if all(n is None for n in names) and plan_index.nlevels == budget_index.nlevels:
        names = list(plan_index.names)
    return names


def _with_total(
    items: pd.Index, steps: dict[str, np.ndarray], status: np.ndarray, names: list[Any]
) -> pd.DataFrame:
    import pandas as pd

    label = _total_label(items)
    if items.nlevels > 1:
        index = items.append(pd.MultiIndex.from_tuples([tuple(label)]))
    else:
        index = items.append(pd.Index([label], dtype=object))
    index = index.set_names(names)
    # "+ 0.0" turns the -0.0 of a zero step into 0.0.
    data: dict[str, Any] = {name: np.append(arr, arr.sum()) + 0.0 for name, arr in steps.items()}
    data["status"] = np.append(status.astype(object), "")
    return pd.DataFrame(data, index=index)
