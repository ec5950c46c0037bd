"""What dollarize returns: aligned float64 arrays per measure, plus tidy pandas views
(built on demand, for the Python API).

Shapes (S scenarios, F families, L sales lines, V variance lines, M months):
  fam[measure]      (S, F, M)  per scenario, family, month
  line[measure]     (S, L, M)  per scenario, sales line (family x channel), month
  variance          (S, V, M)  per scenario, variance line (family x type), month
  budget[measure]   (F, M)     per family, month (zeros where the Budget sheet has no row)
  opening_units     (F,)       units on hand before the first month
  opening_value     (S, F)     opening_units x the first month's standard cost

Family measures (``FamilyMeasure``, ``FAMILY_MEASURES``): see docs/workbook.md, "What
dollarize computes".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict, get_args

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

    from sopfin.model import Keys

Array = npt.NDArray[np.float64]

# A measure is a Literal name, and each group of aligned arrays a TypedDict keyed by those
# names, so a misspelt measure fails in the type checker. The tuples give the order of the
# tidy frames' columns; tests/test_measures.py checks each tuple against its TypedDict.
FamilyMeasure = Literal[
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
]
FAMILY_MEASURES: tuple[FamilyMeasure, ...] = get_args(FamilyMeasure)

LineMeasure = Literal[
    "demand_units",
    "required_units",  # demand + the line's backlog carried in (backorder) / demand (lost)
    "shipments_units",  # family shipments shared in proportion to required_units
    "backlog_units",
    "price",
    "revenue",  # shipments x price
    "unconstrained_revenue",  # demand x price
    "revenue_at_risk",  # unconstrained_revenue - revenue
]
LINE_MEASURES: tuple[LineMeasure, ...] = get_args(LineMeasure)

BudgetMeasure = Literal["units", "revenue", "cogs"]
BUDGET_MEASURES: tuple[BudgetMeasure, ...] = get_args(BudgetMeasure)


class FamilyUnits(TypedDict):
    """The unit measures of the inventory roll-forward, (S, F, M) each."""

    start_units: Array
    required_units: Array
    shipments_units: Array
    backlog_units: Array
    lost_units: Array
    end_units: Array
    demand_units: Array
    production_units: Array


class FamilyMeasures(FamilyUnits):
    """Every family measure, (S, F, M) each: the units and their money."""

    unit_cost: Array
    production_cost: Array
    cogs_standard: Array
    variances: Array
    cogs: Array
    inventory_value: Array
    inventory_cash: Array
    revenue: Array
    unconstrained_revenue: Array
    revenue_at_risk: Array
    gross_margin: Array


class LineUnits(TypedDict):
    """The unit measures of each sales line, (S, L, M) each."""

    demand_units: Array
    required_units: Array
    shipments_units: Array
    backlog_units: Array


class LineMeasures(LineUnits):
    """Every sales-line measure, (S, L, M) each: the units, the price and the revenue."""

    price: Array
    revenue: Array
    unconstrained_revenue: Array
    revenue_at_risk: Array


class BudgetMeasures(TypedDict):
    """The Budget sheet per family and month, (F, M) each."""

    units: Array
    revenue: Array
    cogs: Array


@dataclass(frozen=True)
class Dollarized:
    months: tuple[str, ...]
    scenarios: tuple[str, ...]
    families: tuple[str, ...]  # family ids, in Families sheet order
    lines: Keys  # columns: family, channel ('' when no channels), fam_idx (int)
    variance_lines: Keys  # columns: family, type, fam_idx (int)
    fam: FamilyMeasures
    line: LineMeasures
    variance: np.ndarray
    budget: BudgetMeasures
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
                np.tile(np.repeat(self.lines["family"], m), s),
                np.tile(np.repeat(self.lines["channel"], m), s),
                np.tile(np.asarray(self.months, dtype=object), s * n),
            ],
            names=["scenario", "family", "channel", "month"],
        )
        data = {name: self.line[name].reshape(s * n * m) for name in LINE_MEASURES}
        return pd.DataFrame(data, index=index)
