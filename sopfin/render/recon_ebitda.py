"""The Recon tab's P&L headline and EBITDA bridge (``Reconciliation.ebitda``), after the
gross-margin bridge: revenue, gross margin, opex and EBITDA over the window, plan against
budget with the variance (positive favourable), then the bridge from the budget EBITDA to the
plan EBITDA, all in published cents. Absent without opex lines, so a tab published without it
reads as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sopfin.close.ebitda import PNL_LABELS, Ebitda
from sopfin.close.records import END, START, BridgeLine
from sopfin.render.recon_variances import SectionTab
from sopfin.sheetspec import Style

HEADLINE_HEADERS = ("P&L", "Plan", "Budget", "Variance (favourable +)")
BRIDGE_HEADERS = ("Line", "Amount", "Owner", "Note")
Publish = Callable[[Sequence[BridgeLine]], tuple[BridgeLine, ...]]


def ebitda_section(tab: SectionTab, ebitda: Ebitda | None, window: str,
                   publish: Publish) -> None:
    """The headline and the bridge (published by ``publish``, to the cent), or nothing."""
    if ebitda is None:
        return
    tab.section(f"P&L headline, plan against budget ({window})", HEADLINE_HEADERS)
    for measure in ebitda.headline:
        bold = measure.measure == "ebitda"
        money = Style.MONEY_WHOLE_BOLD if bold else Style.MONEY_WHOLE
        tab.row([PNL_LABELS[measure.measure], *measure.published()],
                [Style.HEADER if bold else Style.TEXT, money, money, money])
    tab.skip()
    tab.section(f"EBITDA bridge, budget to plan ({window})", BRIDGE_HEADERS)
    for line in publish(ebitda.bridge):
        total = line.kind in (START, END)
        tab.row([line.label, line.amount, line.owner, line.note],
                [Style.WRAP, Style.MONEY_WHOLE_BOLD if total else Style.MONEY_WHOLE,
                 Style.WRAP, Style.WRAP])
    tab.skip()
