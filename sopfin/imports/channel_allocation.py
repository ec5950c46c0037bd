"""``sopfin allocate --to families`` into a Budget kept by channel: each family's cents of a
month go to its channels, the channels Demand has for it (any scenario, in sheet order), by
the channel figures of the same driver:

- ``equal``: the channels alike;
- ``budget_units``: the Budget's units rows of the family and channel, month by month;
- ``revenue``: the plan's revenue of the family's sales line in that channel (the reconciled
  scenario), month by month;
- ``prior_actuals``: the Actuals of the measure of the family and channel over the closed
  months (a flat mix); with no Channel column on Actuals there are no channel figures.

Where a family's channel figures for a month are all zero (no units budgeted by channel, no
actuals by channel) its cents of that month are split equally over its channels, as a
department's cents go to its accounts equally where their figures are all zero; those
families are named in the outcome. Largest remainder at both levels: the channels of a
family's month add up to its cents to the cent (``sopfin.engine.allocate.split_to_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sopfin import layout
from sopfin.engine.results import Dollarized
from sopfin.model import Issue, IssueCode, Plan, Severity, Table

CHANNEL = "channel"
ChannelMix = dict[str, dict[str, list[float]]]  # family -> channel -> a weight per month


def budget_by_channel(plan: Plan) -> bool:
    """True when the Budget sheet has a Channel column: its family rows are by channel."""
    return CHANNEL in plan.budget.key_names


def family_channels(plan: Plan) -> dict[str, list[str]]:
    """Family -> the channels Demand has for it, in first-seen order."""
    out: dict[str, list[str]] = {}
    if CHANNEL not in plan.demand.key_names:
        return out
    for family, channel in zip(plan.demand.keys["family"].tolist(),
                               plan.demand.keys[CHANNEL].tolist(), strict=True):
        if channel and channel not in out.setdefault(family, []):
            out[family].append(channel)
    return out


def channel_mix(plan: Plan, actuals: Table | None, by: str, months: tuple[str, ...],
                measure: str, revenue: Dollarized | None) -> ChannelMix:
    """Family -> channel -> the driver's weight in each window month (0 where it has no
    figure), for every family Demand sells through channels."""
    channels = family_channels(plan)
    cols = [plan.months.index(m) for m in months]
    figures: dict[tuple[str, str], list[float]] = {}
    if by == "budget_units":
        figures = _rows_by_channel(plan.budget, "units", cols)
    elif by == "prior_actuals" and actuals is not None and CHANNEL in actuals.key_names:
        closed = _rows_by_channel(actuals, measure, list(range(len(actuals.value_names))))
        figures = {k: [sum(v)] * len(cols) for k, v in closed.items()}
    elif by == "revenue" and revenue is not None:
        figures = _line_revenue(revenue, cols)
    flat = [1.0] * len(cols)
    return {family: {c: flat if by == "equal" else figures.get((family, c), [0.0] * len(cols))
                     for c in names} for family, names in channels.items()}


def split_equally(shares: Mapping[str, Mapping[str, float]], mix: ChannelMix) -> list[str]:
    """The families of more than one channel with cents in a month where their channels
    weigh nothing: split equally over their channels there."""
    return [family for family, row in shares.items() if len(mix.get(family, {})) > 1
            and any(cents and not sum(_weights_of(mix[family], j).values())
                    for j, cents in enumerate(row.values()))]


def no_channel(plan: Plan, shares: Mapping[str, Mapping[str, float]], mix: ChannelMix
               ) -> list[Issue]:
    """A family with a share but no channel on Demand: no Budget row by channel takes it."""
    rows = {f: i for i, f in enumerate(plan.families.keys["family"].tolist())}
    return [Issue(IssueCode.VALUE_INVALID, Severity.ERROR, plan.families.ref(rows[family]),
                  f"family {family!r} takes {sum(row.values()):,.2f} of the allocation but "
                  f"has no channel on {layout.DEMAND}, and the Budget is kept by channel",
                  f"add the family's demand by channel on {layout.DEMAND}, mark it inactive, "
                  "or allocate by a driver that gives it nothing")
            for family, row in shares.items()
            if family not in mix and any(row.values()) and family in rows]


def _weights_of(lines: Mapping[str, list[float]], j: int) -> dict[str, float]:
    return {line: max(float(w[j]), 0.0) for line, w in lines.items()}


def _rows_by_channel(table: Table, measure: str, cols: list[int]
                     ) -> dict[tuple[str, str], list[float]]:
    """(family, channel) -> the table's figures of ``measure`` in ``cols`` (negatives and
    blanks as 0), rows of the same keys added."""
    keys = table.keys
    values = np.nan_to_num(table.values, nan=0.0)
    out: dict[tuple[str, str], list[float]] = {}
    for i in range(len(keys)):
        if keys["measure"][i] != measure:
            continue
        key = (str(keys["family"][i]), str(keys[CHANNEL][i]))
        row = [max(float(values[i, j]), 0.0) for j in cols]
        prior = out.get(key, [0.0] * len(cols))
        out[key] = [a + b for a, b in zip(prior, row, strict=True)]
    return out


def _line_revenue(d: Dollarized, cols: list[int]) -> dict[tuple[str, str], list[float]]:
    revenue = d.line["revenue"][0]
    return {(str(f), str(c)): [max(float(revenue[i, j]), 0.0) for j in cols]
            for i, (f, c) in enumerate(zip(d.lines["family"].tolist(),
                                           d.lines[CHANNEL].tolist(), strict=True))}
