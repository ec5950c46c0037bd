"""Records of the reconciliation: finance inputs, the budget bridge, and what a close
publishes. Plain frozen data; ``sopfin.close.reconcile`` computes them and
``sopfin.render.recon`` lays them out on a ``Recon vNNN`` tab.

Sign convention everywhere: positive is favourable to profit (more revenue, less cost).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sopfin.model import CellRef, Issue, IssueCode, Severity, Table

if TYPE_CHECKING:

    from sopfin.close.cost_variances import ActualCosts, CostVariances, Standards
    from sopfin.close.ebitda import Ebitda
    from sopfin.close.rowtable import MonthTable, RowTable


@dataclass(frozen=True)
class Override:
    """A named, owned finance adjustment on top of the dollarized plan (sheet Overrides)."""

    id: str
    scenario: str
    family: str
    month: str  # 'YYYY-MM'
    measure: str  # 'revenue' | 'cogs'
    amount: float  # currency, added to the measure (a cogs override of +5 lowers margin by 5)
    owner: str
    reason: str
    approved_by: str
    where: CellRef  # the row's Id cell
    amount_cell: CellRef | None = None  # the Amount cell, which the Summary's formulas add

    @property
    def margin_effect(self) -> float:
        return self.amount if self.measure == "revenue" else -self.amount


@dataclass(frozen=True)
class Action:
    """A gap-closure action (sheet Actions): its impacts, in currency, spread evenly over the
    months from ``start`` to ``end`` (blank: the horizon's first or last month)."""

    id: str
    scenario: str
    description: str
    owner: str
    revenue_impact: float
    margin_impact: float
    probability: float  # 0..1
    where: CellRef
    start: str = ""  # 'YYYY-MM', '' = the first month of the horizon
    end: str = ""  # 'YYYY-MM', '' = the last month of the horizon

    def active_months(self, horizon: Sequence[str]) -> tuple[str, ...]:
        first, last = self.start or horizon[0], self.end or horizon[-1]
        return tuple(m for m in horizon if first <= m <= last)

    def share(self, window: Sequence[str], horizon: Sequence[str]) -> float:
        """The part of the impact that falls in ``window``'s months."""
        active = self.active_months(horizon)
        if not active:
            return 0.0
        return len(set(active) & set(window)) / len(active)


@dataclass(frozen=True)
class FinanceInputs:
    """The optional finance sheets. Absent sheets give empty tuples / None."""

    overrides: tuple[Override, ...] = ()
    actions: tuple[Action, ...] = ()
    actuals: Table | None = None  # keys family, measure; values: months (NaN = open month)
    forecast: Table | None = None  # keys scenario, family, measure; values: months
    actual_costs: ActualCosts | None = None  # ActualCosts: production cost of closed months
    standards: Standards | None = None  # StdCost's standards behind the cost per unit
    opex_actuals: Table | None = None  # Actuals rows of measure opex: keys department, account


@dataclass(frozen=True)
class Window:
    """The months a bridge covers: a month, a fiscal quarter or year, YTD or the horizon."""

    label: str  # '2027-03', 'FY2027 Q1', 'FY2027', 'YTD 2027-06', 'Horizon'
    months: tuple[str, ...]


# Kinds of bridge lines, in the order they appear.
START, PRICE, QUANTITY, MIX, COST, VARIANCE, NEW, DISCONTINUED, OVERRIDE, END = (
    "start", "price", "quantity", "mix", "cost", "variance", "new", "discontinued", "override",
    "end")
# With a Budget by channel, MIX is published as these two lines (they sum to the mix).
MIX_BETWEEN, MIX_WITHIN = "mix_between", "mix_within"
# With the price measured at the budget volume (Settings), the price x volume remainder.
JOINT = "joint"
# The EBITDA bridge's line per department: budget opex - plan opex.
OPEX = "opex"


@dataclass(frozen=True)
class BridgeLine:
    """One step of a budget-to-plan bridge. ``start`` is the budget, ``end`` the plan; the
    steps in between sum exactly (float64) to end - start."""

    kind: str
    label: str  # 'Budget revenue', 'Price', 'Overtime', 'OVR-003 Pricing true-up (J. Ortiz)'
    amount: float
    owner: str = ""
    note: str = ""
    item: str = ""  # a new or discontinued line's item, an override's Id, a variance type
    family: str = ""  # the family of a new or discontinued line


def silent_override(where: CellRef, kind: IssueCode, expected: object, found: object,
                    message: str, fix: str) -> Issue:
    """A finance number that differs from the dollarized plan without a named override: a
    ``silent-override`` warning at its cell, with the check that found it (``kind``: a
    typed-over or changed cell, or an off forecast), what the cell should hold (formula text
    or value) and what it holds."""
    return Issue(IssueCode.SILENT_OVERRIDE, Severity.WARNING, where, message, fix, kind=kind,
                 expected=expected, found=found)


@dataclass(frozen=True)
class Reconciliation:
    """Everything a close publishes for one scenario and window."""

    cycle: str
    scenario: str
    window: Window
    currency: str
    revenue_bridge: tuple[BridgeLine, ...]
    margin_bridge: tuple[BridgeLine, ...]
    # pvm() per item on the revenue and margin basis, for the window: index family (+ Total),
    # or (family, channel) with mix_between and mix_within columns when the Budget has channels
    family_revenue: RowTable
    family_margin: RowTable
    # per scenario over the window: revenue, budget_revenue, revenue_gap, gross_margin,
    # budget_gross_margin, gross_margin_gap, inventory_value (end), inventory_cash,
    # budget_inventory_cash (NaN without an inventory budget), cash_vs_budget, revenue_at_risk
    scenarios: RowTable
    overrides: tuple[Override, ...]
    actions: tuple[Action, ...]
    revenue_gap: float  # plan (with overrides) - budget, window
    margin_gap: float
    revenue_gap_after_actions: float  # gap + sum(revenue_impact x probability) of the scenario
    margin_gap_after_actions: float
    # plan of record: index (family, measure in units/revenue/cogs), columns months (horizon),
    # for ``scenario`` with overrides applied: what later months' actuals are compared with
    snapshot: MonthTable
    # latest estimate (actuals for closed months, plan for open) and accuracy of the last
    # approved version for the month just closed; None without actuals
    latest_estimate: MonthTable | None = None
    accuracy: RowTable | None = None
    silent_overrides: tuple[Issue, ...] = ()  # silent-override warnings, edits first
    notes: tuple[str, ...] = field(default=())
    # plan (last approved version, else the current plan) to actual over the window's closed
    # months: START plan revenue, PRICE, QUANTITY, MIX, NEW, DISCONTINUED, END actual revenue
    actual_bridge: tuple[BridgeLine, ...] = ()
    # standard-cost variances of the window's closed months (ActualCosts against StdCost's
    # standards), per family and in total; None without ActualCosts rows in the window
    cost_variances: CostVariances | None = None
    # per scenario over the window (sopfin.close.capital_view): dio, dso, dpo, ccc, turnover,
    # receivables, payables, inventory, net_working_capital (at the window's end), cash_effect
    working_capital: RowTable | None = None
    # the reconciled scenario's stranded and excess stock by family (units, value) and Total,
    # as at the month ``exposure_as_at`` ('' when the plan can judge no month)
    exposure: RowTable | None = None
    exposure_as_at: str = ""
    # the P&L headline (revenue, gross margin, opex, EBITDA) and the EBITDA bridge over the
    # window (sopfin.close.ebitda); None without opex lines
    ebitda: Ebitda | None = None
