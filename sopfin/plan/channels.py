"""Channel columns beyond Demand and Prices: a Budget or Actuals kept by channel.

Budget and Actuals may carry Demand's optional Channel column (``sopfin.layout``). The
channels they name must be the plan's, that is Demand's: a Channel column where Demand has
none, or a channel Demand never names, is a ``channel-mismatch`` error at its cell (once per
channel, on its first row). A blank channel is a ``blank-key`` (the reader's), and two rows
with the same keys a ``duplicate-row``. The budget bridge then runs per family and channel
(``sopfin.close.grain``).
"""

from __future__ import annotations

import difflib

from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table, sheet_row

CHANNEL = "channel"


def plan_channels(plan: Plan) -> list[str]:
    """The channels Demand names, in first-seen order (none without a Channel column)."""
    if not plan.has_channel:
        return []
    return [c for c in dict.fromkeys(plan.demand.keys[CHANNEL]) if c]


def check_budget_channels(plan: Plan) -> list[Issue]:
    """The Budget's channels against Demand's."""
    return channel_issues(plan.budget, plan)


def channel_issues(table: Table, plan: Plan) -> list[Issue]:
    """Every channel of ``table`` (Budget or Actuals) that the plan does not know."""
    if CHANNEL not in table.key_names:
        return []
    column = table.key_col(CHANNEL)
    if not plan.has_channel:
        header = CellRef(table.sheet, f"{column}1")
        return [Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR, header,
                      f"{table.sheet} has a Channel column but Demand does not, so no "
                      f"{table.sheet} row can match the plan's sales",
                      "add a Channel column to Demand after Family, or delete it from "
                      f"{table.sheet}")]
    known = plan_channels(plan)
    issues, seen = [], set(known)
    for i, channel in enumerate(table.keys[CHANNEL]):
        if not channel or channel in seen:
            continue
        seen.add(channel)
        issues.append(unknown_channel(table.sheet, CellRef(
            table.sheet, f"{column}{sheet_row(table.keys, i)}"), channel, known))
    return issues


def unknown_channel(sheet: str, where: CellRef, channel: str, known: list[str]) -> Issue:
    close = difflib.get_close_matches(channel, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR, where,
                 f"the channel {channel!r} on {sheet} is not a channel of Demand "
                 f"({', '.join(map(repr, known))})",
                 f"correct the channel{hint}, or add the channel's demand on sheet Demand")
