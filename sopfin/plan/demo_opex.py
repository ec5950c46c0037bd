"""The demo company's operating expenses: four departments (Sales, Marketing, Operations, G&A)
on sheet Opex, with the heads on their salary, campaign and warehouse lines (Headcount), their
budget as opex rows of Budget, and the first two months' actuals as opex rows of Actuals.

Typed lines are a share of the base plan's average monthly revenue (marketing follows the
season); two lines are driver lines: commissions at a rate on the revenue of the last channel
(the direct channel), and outbound freight per unit shipped of every family. The budget is
last year's view, a few percent off; the actuals are the base plan's figures with noise.
Everything comes from one ``default_rng(seed)``, like the rest of the demo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin import layout

COMMISSION_RATE = 0.04  # of the direct channel's revenue
FREIGHT_PER_UNIT = 6.5  # currency per unit shipped
CLOSED_MONTHS = 2  # months of actuals


@dataclass(frozen=True)
class OpexLine:
    department: str
    account: str
    share: float = 0.0  # of average monthly revenue (typed lines)
    driver: str = ""
    seasonal: bool = False
    headcount: int | None = None  # people on the line (Opex's Headcount column)


LINES = (
    OpexLine("Sales", "Salaries", 0.032, headcount=14),
    OpexLine("Sales", "Commissions", driver="revenue"),
    OpexLine("Marketing", "Campaigns", 0.014, seasonal=True, headcount=5),
    OpexLine("Marketing", "Trade shows", 0.005),
    OpexLine("Operations", "Outbound freight", driver="units_shipped"),
    OpexLine("Operations", "Warehouse", 0.011, headcount=11),
    OpexLine("G&A", "Salaries", 0.027, headcount=8),
    OpexLine("G&A", "Rent", 0.008),
    OpexLine("G&A", "IT", 0.006),
)
SCENARIO_SPEND = {"upside": 1.04, "base": 1.0, "downside": 0.95}


@dataclass(frozen=True)
class DemoOpex:
    """The rows of the three sheets: keys, then one value per month (None = blank)."""

    opex: list[list[object]]  # Scenario, Department, Account, Driver, DriverOf, Rate,
    #                             Headcount, months
    budget: list[list[object]]  # Family (blank), Measure, Department, Account, months
    actuals: list[list[object]]  # the same keys, months


def demo_opex(revenue: np.ndarray, units: np.ndarray, season: np.ndarray,
              scenarios: Sequence[str], channels: Sequence[str], seed: int) -> DemoOpex:
    """``revenue`` and ``units`` are the base plan's per month (M,), ``season`` a demand index
    per month (M,); the budget and actuals of driver lines use them."""
    rng = np.random.default_rng(seed + 12)
    months = len(revenue)
    level = float(revenue.mean())
    direct = channels[-1] if channels else ""
    direct_share = 0.4 if channels else 1.0
    opex: list[list[object]] = []
    budget: list[list[object]] = []
    actuals: list[list[object]] = []
    for line in LINES:
        plan = _typed(line, level, season)
        driven = line.driver == "revenue" and COMMISSION_RATE * direct_share * revenue
        if line.driver == "units_shipped":
            driven = FREIGHT_PER_UNIT * units
        for scenario in scenarios:
            factor = SCENARIO_SPEND.get(scenario.strip().lower(), 1.0)
            opex.append(_opex_row(scenario, line, direct, np.round(plan * factor)))
        reference = plan if not line.driver else np.asarray(driven)
        budget.append([None, layout.OPEX_MEASURE, line.department, line.account,
                       *np.round(reference * rng.uniform(0.95, 1.03, months)).tolist()])
        booked = np.round(reference[:CLOSED_MONTHS] * rng.normal(1.0, 0.04, CLOSED_MONTHS), 2)
        actuals.append([None, layout.OPEX_MEASURE, line.department, line.account,
                        *booked.tolist(), *[None] * (months - len(booked))])
    return DemoOpex(opex, budget, actuals)


def _typed(line: OpexLine, level: float, season: np.ndarray) -> np.ndarray:
    shape = season / season.mean() if line.seasonal else np.ones_like(season)
    return np.asarray(line.share * level * shape)


def _opex_row(scenario: str, line: OpexLine, direct: str,
              amounts: np.ndarray) -> list[object]:
    if line.driver == "revenue":
        return [scenario, line.department, line.account, "revenue", direct or None,
                COMMISSION_RATE, line.headcount, *[None] * len(amounts)]
    if line.driver == "units_shipped":
        return [scenario, line.department, line.account, "units_shipped", None,
                FREIGHT_PER_UNIT, line.headcount, *[None] * len(amounts)]
    return [scenario, line.department, line.account, None, None, None, line.headcount,
            *amounts.tolist()]
