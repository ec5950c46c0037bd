"""The lines of the revenue and margin bridges: pvm per item over the window
(``family_bridge``, with each side's residual money kept in price, cost or the one-sided
lines), then the bridge's lines in order: price, joint, quantity, mix, cost rates, planned
variances, new and discontinued items, named overrides. The rules are in
``sopfin.close.reconcile``'s docstring."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin.close import records as rc
from sopfin.close.grain import Side, item_label
from sopfin.close.records import BridgeLine, Override
from sopfin.close.rowtable import RowTable
from sopfin.engine.bridge import (
    BOTH,
    DISCONTINUED,
    NEW,
    TOTAL,
    AlignedSide,
    group_codes,
    item_steps,
)
from sopfin.engine.results import Dollarized
from sopfin.model import text_column

VARIANCE_LABELS = {"overtime": "Overtime", "expedite": "Expedite", "ppv": "PPV"}


def family_bridge(budget: Side, planned: Side, basis: str,
                   price_at: str = "plan") -> RowTable:
    """pvm per item with each side's residual money added to price (and cost) of an item on
    both sides, or to the volume of a new or discontinued one; per (family, channel), the mix
    is split between and within families. Items in pvm's order (the budget's, then the
    plan-only ones) and a Total row."""
    at = np.array([*np.flatnonzero(budget.present).tolist(),
                   *np.flatnonzero(planned.present & ~budget.present).tolist()], dtype=np.int64)
    items = [budget.items[i] for i in at.tolist()]
    groups = group_codes([item[0] for item in items]) if budget.by_channel else None
    costed = basis == "margin"
    steps, status = item_steps(_aligned(budget, at, costed), _aligned(planned, at, costed),
                               basis=basis, mix_method="individual", price_at=price_at,
                               groups=groups)
    body = {name: values + 0.0 for name, values in steps.items()}  # as pvm writes them
    rev_rest = (planned.residual("revenue") - budget.residual("revenue"))[at]
    cost_rest = -(planned.residual("cost") - budget.residual("cost"))[at]
    if basis != "margin":
        cost_rest[:] = 0.0
    both = status == BOTH
    body["price"] = body["price"] + np.where(both, rev_rest, 0.0)
    if basis == "margin":
        body["cost"] = body["cost"] + np.where(both, cost_rest, 0.0)
    body["volume"] = body["volume"] + np.where(both, 0.0, rev_rest + cost_rest)
    body["total"] = body["total"] + (rev_rest + cost_rest)
    columns: dict[str, np.ndarray] = {n: np.append(v, v.sum()) for n, v in body.items()}
    columns["status"] = text_column([*status.tolist(), ""])
    total = (TOTAL, "") if budget.by_channel else (TOTAL,)
    keys = [item if isinstance(item, tuple) else (item,) for item in items]
    return RowTable(budget.names, (*keys, total), columns)


def _aligned(side: Side, at: np.ndarray, costed: bool) -> AlignedSide:
    """A side's figures on the bridge's items ``at`` (zeros where it has none); its unit
    costs on the margin basis (``costed``) only."""
    present = side.present[at]
    unit_cost = np.where(present, side.unit_cost[at], 0.0) if costed else np.zeros(len(at))
    return AlignedSide(present=present, units=np.where(present, side.units[at], 0.0),
                       price=np.where(present, side.price[at], 0.0), unit_cost=unit_cost)


def family_steps(table: RowTable, step: str) -> float:
    both = table["status"] == BOTH
    return float(table[step][both].sum())


def one_sided_lines(table: RowTable) -> list[BridgeLine]:
    lines = []
    for status, kind, word in ((NEW, rc.NEW, "New"),
                               (DISCONTINUED, rc.DISCONTINUED, "Discontinued")):
        for i in np.flatnonzero(table["status"] == status).tolist():
            item = table.label(i)
            family = item[0] if isinstance(item, tuple) else item
            lines.append(BridgeLine(kind, f"{word}: {item_label(item)}",
                                    float(table["total"][i]),
                                    item=item_label(item), family=str(family)))
    return lines


def mix_lines(frame: RowTable) -> list[BridgeLine]:
    """One Mix line per family; per (family, channel), mix between and within families."""
    if "mix_between" not in frame.columns:
        return [BridgeLine(rc.MIX, "Mix", family_steps(frame, "mix"))]
    return [BridgeLine(rc.MIX_BETWEEN, "Mix between families",
                       family_steps(frame, "mix_between")),
            BridgeLine(rc.MIX_WITHIN, "Mix within families", family_steps(frame, "mix_within"),
                       note="channels")]


def _joint_line(frame: RowTable) -> list[BridgeLine]:
    """Price x volume, when the price step is measured at the budget volume."""
    if "joint" not in frame.columns:
        return []
    return [BridgeLine(rc.JOINT, "Joint (price x volume)", family_steps(frame, "joint"),
                       note="price measured at the budget volume")]


def _override_lines(overrides: Sequence[Override], margin: bool) -> list[BridgeLine]:
    lines = []
    for o in overrides:
        if o.measure != "revenue" and not margin:
            continue
        approved = f", approved by {o.approved_by}" if o.approved_by else ""
        lines.append(BridgeLine(rc.OVERRIDE, f"{o.id} {o.reason}",
                                o.margin_effect if margin else o.amount, owner=o.owner,
                                note=f"{o.measure} {o.family} {o.month}{approved}",
                                item=o.id))
    return lines


def revenue_bridge(d: Dollarized, s: int, cols: np.ndarray, frame: RowTable,
                    overrides: Sequence[Override]) -> tuple[BridgeLine, ...]:
    start = float(d.budget["revenue"][:, cols].sum())
    end = float(d.fam["revenue"][s][:, cols].sum()) + sum(
        o.amount for o in overrides if o.measure == "revenue")
    return (BridgeLine(rc.START, "Budget revenue", start),
            BridgeLine(rc.PRICE, "Price", family_steps(frame, "price")),
            *_joint_line(frame),
            BridgeLine(rc.QUANTITY, "Quantity", family_steps(frame, "quantity")),
            *mix_lines(frame), *one_sided_lines(frame), *_override_lines(overrides, margin=False),
            BridgeLine(rc.END, "Plan revenue", end))


def margin_bridge(d: Dollarized, s: int, cols: np.ndarray, frame: RowTable,
                   overrides: Sequence[Override]) -> tuple[BridgeLine, ...]:
    start = float((d.budget["revenue"][:, cols] - d.budget["cogs"][:, cols]).sum())
    end = float((d.fam["revenue"][s][:, cols] - d.fam["cogs"][s][:, cols]).sum()) + sum(
        o.margin_effect for o in overrides)
    return (BridgeLine(rc.START, "Budget gross margin", start),
            BridgeLine(rc.PRICE, "Price", family_steps(frame, "price")),
            *_joint_line(frame),
            BridgeLine(rc.QUANTITY, "Quantity", family_steps(frame, "quantity")),
            *mix_lines(frame),
            BridgeLine(rc.COST, "Cost rates", family_steps(frame, "cost")),
            *_variance_lines(d, s, cols), *one_sided_lines(frame),
            *_override_lines(overrides, margin=True),
            BridgeLine(rc.END, "Plan gross margin", end))


def _variance_lines(d: Dollarized, s: int, cols: np.ndarray) -> list[BridgeLine]:
    """Minus the planned variances of each type in the window, types in first-seen order."""
    if not len(d.variance_lines):
        return []
    amounts = d.variance[s][:, cols].sum(axis=1)
    used = (d.variance[s][:, cols] != 0).any(axis=1)
    types = text_column(str(t) for t in d.variance_lines["type"].tolist())
    lines = []
    for name in dict.fromkeys(types[used]):
        amount = -float(amounts[types == name].sum())
        lines.append(BridgeLine(rc.VARIANCE, VARIANCE_LABELS.get(name.lower(), name), amount,
                                note="planned variances", item=str(name)))
    return lines
