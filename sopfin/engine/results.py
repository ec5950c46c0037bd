"""What dollarize returns: aligned float64 arrays per measure, plus tidy pandas views.

Shapes (S scenarios, F families, L sales lines, V variance lines, M months):
  fam[measure]      (S, F, M)  per scenario, family, month
  line[measure]     (S, L, M)  per scenario, sales line (family x channel), month
  variance          (S, V, M)  per scenario, variance line (family x type), month
  budget[measure]   (F, M)     per family, month (zeros where the Budget sheet has no row)
  opening_units     (F,)       units on hand before the first month
  opening_value     (S, F)     opening_units x the first month's standard cost

Family measures (``FAMILY_MEASURES``): see docs/workbook.md, "What dollarize computes".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

FAMILY_MEASURES = (
    "demand_units",  # sum of the family's demand over channels
    "production_units",  # planned production (Supply)
    "start_units",  # inventory at the start of the month (= previous end; opening for month 1)
    "required_units",  # demand + backlog carried in (backorder) or demand (lost)
    "shipments_units",
    "backlog_units",  # unmet demand carried to next month (backorder), end of month
    "lost_units",  # unmet demand dropped this month (lost)
    "end_units",  # start + production - shipments
    "unit_cost",  # standard cost per unit in force this month
    "production_cost",  # production x unit cost
    "cogs_standard",  # shipments x unit cost
    "variances",  # planned variances of the month (all types)
    "cogs",  # cogs_standard + variances
    "inventory_value",  # end_units x unit cost
    "inventory_cash",  # -(inventory_value - previous inventory_value); month 1 vs opening value
    "revenue",  # sum over the family's lines
    "unconstrained_revenue",
    "revenue_at_risk",
    "gross_margin",  # revenue - cogs
)

LINE_MEASURES = (
    "demand_units",
    "required_units",  # demand + the line's backlog carried in (backorder) / demand (lost)
    "shipments_units",  # family shipments shared in proportion to required_units
    "backlog_units",
    "price",
    "revenue",  # shipments x price
    "unconstrained_revenue",  # demand x price
    "revenue_at_risk",  # unconstrained_revenue - revenue
)

BUDGET_MEASURES = ("units", "revenue", "cogs")


@dataclass(frozen=True)
class Dollarized:
    months: tuple[str, ...]
    scenarios: tuple[str, ...]
    families: tuple[str, ...]  # family ids, in Families sheet order
    lines: pd.DataFrame  # columns: family, channel ('' when no channels), fam_idx (int)
    variance_lines: pd.DataFrame  # columns: family, type, fam_idx (int)
    fam: dict[str, np.ndarray]
    line: dict[str, np.ndarray]
    variance: np.ndarray
    budget: dict[str, np.ndarray]
    opening_units: np.ndarray
    opening_value: np.ndarray
    days_in_month: np.ndarray  # (M,) calendar days of each month

    def family_frame(self) -> pd.DataFrame:
        """Tidy view: one row per (scenario, family, month), one column per family measure."""
        import pandas as pd  # the notebook API's frames; the command line never builds them

        s, f, m = len(self.scenarios), len(self.families), len(self.months)
        index = pd.MultiIndex.from_product(
            [self.scenarios, self.families, self.months], names=["scenario", "family", "month"])
        data = {name: self.fam[name].reshape(s * f * m) for name in FAMILY_MEASURES}
        return pd.DataFrame(data, index=index)

    def line_frame(self) -> pd.DataFrame:
        """Tidy view: one row per (scenario, family, channel, month)."""
        import pandas as pd

        s, n, m = len(self.scenarios), len(self.lines), len(self.months)
        index = pd.MultiIndex.from_arrays(
            [
                np.repeat(np.asarray(self.scenarios, dtype=object), n * m),
                np.tile(np.repeat(self.lines["family"].to_numpy(dtype=object), m), s),
                np.tile(np.repeat(self.lines["channel"].to_numpy(dtype=object), m), s),
                np.tile(np.asarray(self.months, dtype=object), s * n),
            ],
            names=["scenario", "family", "channel", "month"],
        )
        data = {name: self.line[name].reshape(s * n * m) for name in LINE_MEASURES}
        return pd.DataFrame(data, index=index)
