"""The Recon tab's working capital and trapped stock: the tables ``sopfin.render.recon``
places, each a title, a frame, its column styles and labels, and the text shown when empty.

Working capital per scenario over the window (``Reconciliation.working_capital``): DIO, DSO,
DPO, the cash conversion cycle and inventory turnover, the balances at the window's end and
the cash effect of working capital over it. Stranded and excess stock of the reconciled
scenario by family, in units and dollars, as at ``Reconciliation.exposure_as_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sopfin.close.records import Reconciliation
from sopfin.sheetspec import Style

if TYPE_CHECKING:
    from sopfin.close.rowtable import RowTable

WORKING_CAPITAL_LABELS = {
    "scenario": "Scenario", "dio": "DIO (days)", "dso": "DSO (days)",
    "dpo": "DPO (days)", "ccc": "Cash conversion cycle (days)",
    "turnover": "Inventory turnover", "receivables": "Receivables (end)",
    "payables": "Payables (end)", "inventory": "Inventory (end)",
    "net_working_capital": "Net working capital (end)",
    "cash_effect": "Cash effect of working capital",
}
EXPOSURE_LABELS = {
    "family": "Family", "stranded_units": "Stranded units", "stranded_value": "Stranded value",
    "excess_units": "Excess units", "excess_value": "Excess value",
}
RATIOS = ("dio", "dso", "dpo", "ccc", "turnover")


@dataclass(frozen=True)
class ReconTable:
    title: str
    frame: RowTable | None
    styles: Mapping[str, Style]
    labels: Mapping[str, str]
    empty: str = "none"


def capital_tables(rec: Reconciliation) -> list[ReconTable]:
    """The working-capital view and the stranded and excess stock, in the tab's order."""
    tables = []
    if rec.working_capital is not None:
        styles = {c: Style.DAYS if c in RATIOS else Style.MONEY_WHOLE
                  for c in rec.working_capital.columns}
        tables.append(ReconTable(
            f"Working capital by scenario ({rec.window.label}; DSO, DPO on the window's "
            "revenue and COGS, balances at its end)", rec.working_capital, styles,
            WORKING_CAPITAL_LABELS))
    if rec.exposure is not None:
        styles = {c: Style.UNITS if c.endswith("_units") else Style.MONEY_WHOLE
                  for c in rec.exposure.columns}
        when = f"as at the end of {rec.exposure_as_at}" if rec.exposure_as_at else \
            "the horizon is too short to judge"
        tables.append(ReconTable(
            f"Stranded and excess stock: {rec.scenario}, {when}", rec.exposure, styles,
            EXPOSURE_LABELS, empty="no stranded or excess stock"))
    return tables
