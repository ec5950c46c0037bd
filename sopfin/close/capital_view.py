"""What a close publishes about working capital and trapped stock, over its window.

``working_capital_view``
    One row per scenario: DIO, DSO, DPO, the cash conversion cycle and inventory turnover of
    the window (its months' revenue and COGS summed, over their calendar days; receivables,
    payables and inventory at its last month), those balances, net working capital at the
    window's end and the cash effect of working capital over the window (minus its change
    from the month before the window; ``sopfin.engine.capital.capital_plan``).

``exposure_view``
    The reconciled scenario's stranded and excess stock per family (units and value), as at
    the window's last month or the last month the plan can judge
    (``sopfin.engine.capital.as_at``), with a Total row; families holding neither are left
    out. The month is returned beside the table; '' (and an empty table) when the horizon is
    no longer than the stranded horizon.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin.close.rowtable import RowTable, single_key
from sopfin.engine.capital import EXPOSURE_MEASURES, as_at, capital_plan, exposure
from sopfin.engine.results import Dollarized
from sopfin.engine.working_capital import working_capital_days
from sopfin.model import Plan

WORKING_CAPITAL_COLUMNS = ("dio", "dso", "dpo", "ccc", "turnover", "receivables", "payables",
                           "inventory", "net_working_capital", "cash_effect")
EXPOSURE_COLUMNS = tuple(m for m in EXPOSURE_MEASURES if m != "days_of_supply")


def working_capital_view(plan: Plan, d: Dollarized, cols: np.ndarray) -> RowTable:
    """Per scenario over the window's months ``cols`` (indices into the horizon)."""
    settings = plan.settings
    wc = capital_plan(d, settings.dso_days, settings.dpo_days)
    last = int(cols[-1])
    days = float(np.asarray(d.days_in_month, dtype=np.float64)[cols].sum())
    ratios = working_capital_days(wc.revenue[:, cols].sum(axis=1), wc.cogs[:, cols].sum(axis=1),
                                  wc.inventory[:, last], wc.receivables[:, last],
                                  wc.payables[:, last], days)
    figures = {
        **{name: ratios[name] for name in ("dio", "dso", "dpo", "ccc", "turnover")},
        "receivables": wc.receivables[:, last], "payables": wc.payables[:, last],
        "inventory": wc.inventory[:, last],
        "net_working_capital": wc.net_working_capital[:, last],
        "cash_effect": wc.cash_effect[:, cols].sum(axis=1),
    }
    return single_key("scenario", list(d.scenarios),
                      {name: np.asarray(figures[name], dtype=np.float64)
                       for name in WORKING_CAPITAL_COLUMNS})


def exposure_view(plan: Plan, d: Dollarized, scenario: str,
                  window_months: Sequence[str]) -> tuple[str, RowTable]:
    """(as-at month, stranded and excess stock by family with a Total row)."""
    settings = plan.settings
    empty = single_key("family", [], {c: np.zeros(0) for c in EXPOSURE_COLUMNS})
    t = as_at(d.months, window_months, settings.stranded_months)
    if t is None:
        return "", empty
    s = d.scenarios.index(scenario)
    found = exposure(d, settings.stranded_months, settings.target_cover_days)
    data = {c: np.nan_to_num(found[c][s][:, t]) for c in EXPOSURE_COLUMNS}
    keep = (data["stranded_units"] > 0) | (data["excess_units"] > 0)
    if not keep.any():
        return d.months[t], empty
    families = [f for f, k in zip(d.families, keep.tolist(), strict=True) if k]
    kept = {c: np.ascontiguousarray(v[keep]) for c, v in data.items()}
    return d.months[t], single_key("family", [*families, "Total"],
                                   {c: np.append(v, v.sum()) for c, v in kept.items()})
