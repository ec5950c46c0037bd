"""What one business unit brings to the consolidation, as plain, picklable data: its facts
(family, month, measure, value in its functional currency), its issues and the head of its
ledger. ``load_unit`` (``sopfin.consolidate.unit``) builds these in a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sopfin.close import ledger as versions
from sopfin.close.records import Override
from sopfin.engine.results import BudgetMeasure, Dollarized, FamilyMeasure
from sopfin.model import Issue, has_errors

NEVER_CLOSED = "none"
FACT_COLUMNS = ("family", "month", "measure", "value")
# fact measure <- family measure of the dollarized plan (the reconciled scenario)
PLAN_MEASURES: dict[str, FamilyMeasure] = {
    "plan_units": "shipments_units", "revenue": "revenue", "cogs": "cogs",
    "inventory_value": "inventory_value"}
BUDGET_FACTS: dict[str, BudgetMeasure] = {
    "budget_units": "units", "budget_revenue": "revenue", "budget_cogs": "cogs"}


@dataclass(frozen=True)
class LedgerHead:
    """The unit's latest published version and its status, and the ledger's head hash;
    ``NEVER_CLOSED`` for a workbook never closed."""

    version: str = NEVER_CLOSED
    status: str = ""
    head: str = NEVER_CLOSED


@dataclass(frozen=True)
class UnitFacts:
    unit: str
    path: str
    currency: str = ""
    scenario: str = ""
    months: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()
    ledger: LedgerHead = field(default_factory=LedgerHead)
    facts: pd.DataFrame | None = None  # FACT_COLUMNS, functional currency
    read_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.facts is not None and not has_errors(list(self.issues))


def ledger_head(ledger: list[versions.LedgerEntry]) -> LedgerHead:
    status = versions.current_status(ledger)
    if not status:
        return LedgerHead()
    latest = max(status)
    return LedgerHead(f"v{latest:03d}", status[latest], versions.head_hash(ledger))


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def unit_facts(d: Dollarized, overrides: Sequence[Override],
               scenario: str) -> pd.DataFrame:
    """The long facts of one scenario: family, month, measure, value. The plan's measures
    and the budget per family and month, the inventory value also at the month before the
    first (the opening value), and each named override of the scenario as its own fact."""
    s = d.scenarios.index(scenario)
    months, families = np.asarray(d.months, dtype=object), np.asarray(d.families, dtype=object)
    parts = [_grid(families, months, name, d.fam[measure][s])
             for name, measure in PLAN_MEASURES.items()]
    parts += [_grid(families, months, name, d.budget[measure])
              for name, measure in BUDGET_FACTS.items()]
    if len(months):
        parts.append(pd.DataFrame({"family": families,
                                   "month": previous_month(str(months[0])),
                                   "measure": "inventory_value",
                                   "value": np.asarray(d.opening_value[s], dtype=float)}))
    mine = [o for o in overrides if o.scenario == scenario]
    if mine:
        parts.append(pd.DataFrame({"family": [o.family for o in mine],
                                   "month": [o.month for o in mine],
                                   "measure": [f"{o.measure}_override" for o in mine],
                                   "value": [float(o.amount) for o in mine]}))
    return pd.concat(parts, ignore_index=True)[list(FACT_COLUMNS)]


def _grid(families: np.ndarray, months: np.ndarray, measure: str,
          values: np.ndarray) -> pd.DataFrame:
    """A (families x months) array as long facts."""
    f, m = len(families), len(months)
    return pd.DataFrame({"family": np.repeat(families, m), "month": np.tile(months, f),
                         "measure": measure,
                         "value": np.asarray(values, dtype=float).reshape(f * m)})
