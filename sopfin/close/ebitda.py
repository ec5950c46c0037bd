"""The close's P&L headline and EBITDA bridge, budget to plan over the window, for the
reconciled scenario.

The headline is revenue, gross margin, opex and EBITDA (gross margin - opex), each plan,
budget and the variance (positive favourable: for opex, budget - plan). The bridge starts at
the budget EBITDA, takes the gross-margin bridge's steps as they are, adds one line per
department (budget opex - plan opex over the window: less opex is favourable) and ends at the
plan EBITDA; its steps sum to the EBITDA gap. Plan revenue and gross margin include the named
overrides, as on the gross-margin bridge. Without opex lines (no Opex sheet, no opex budget)
there is no EBITDA view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sopfin.close import records as rc
from sopfin.close.records import BridgeLine
from sopfin.engine.opex import plan_opex
from sopfin.engine.results import Dollarized
from sopfin.model import Plan
from sopfin.money import to_cents

PnlMeasure = Literal["revenue", "gross_margin", "opex", "ebitda"]
PNL_LABELS: dict[PnlMeasure, str] = {
    "revenue": "Revenue", "gross_margin": "Gross margin", "opex": "Opex", "ebitda": "EBITDA"}


@dataclass(frozen=True)
class PnlLine:
    """One headline measure over the window; ``variance`` is positive when favourable."""

    measure: PnlMeasure
    plan: float
    budget: float

    @property
    def variance(self) -> float:
        return self.budget - self.plan if self.measure == "opex" else self.plan - self.budget

    def published(self) -> tuple[float, float, float]:
        """(plan, budget, variance) as published: plan and budget in cents, the variance
        their difference, so that it adds up to the cent."""
        line = PnlLine(self.measure, float(to_cents(self.plan)), float(to_cents(self.budget)))
        return line.plan, line.budget, float(to_cents(line.variance))


@dataclass(frozen=True)
class Ebitda:
    """The P&L headline and the EBITDA bridge of one scenario and window."""

    headline: tuple[PnlLine, ...]  # revenue, gross margin, opex, EBITDA
    bridge: tuple[BridgeLine, ...]  # START budget EBITDA ... END plan EBITDA

    @property
    def gap(self) -> float:
        return self.bridge[-1].amount - self.bridge[0].amount


def ebitda_view(plan: Plan, d: Dollarized, scenario: str, cols: np.ndarray,
                revenue_bridge: Sequence[BridgeLine],
                margin_bridge: Sequence[BridgeLine]) -> Ebitda | None:
    """The view for ``scenario`` over the months ``cols`` of ``d``, built on the close's
    revenue and gross-margin bridges; None without opex lines."""
    opex = plan_opex(plan, d)
    if not opex.lines:
        return None
    s = d.scenarios.index(scenario)
    plan_by_dept = opex.by_department("plan")[s][:, cols].sum(axis=1)
    budget_by_dept = opex.by_department("budget")[s][:, cols].sum(axis=1)
    revenue = _ends(revenue_bridge)
    margin = _ends(margin_bridge)
    spend = (float(plan_by_dept.sum()), float(budget_by_dept.sum()))
    earnings = (margin[0] - spend[0], margin[1] - spend[1])
    headline = tuple(PnlLine(m, plan_value, budget_value) for m, (plan_value, budget_value) in
                     zip(PNL_LABELS, (revenue, margin, spend, earnings), strict=True))
    departments = [BridgeLine(rc.OPEX, f"Opex: {dept}", float(budget - planned),
                              note="budget - plan opex", item=dept)
                   for dept, budget, planned in
                   zip(opex.departments, budget_by_dept, plan_by_dept, strict=True)]
    steps = [line for line in margin_bridge if line.kind not in (rc.START, rc.END)]
    bridge = (BridgeLine(rc.START, "Budget EBITDA", earnings[1]), *steps, *departments,
              BridgeLine(rc.END, "Plan EBITDA", earnings[0]))
    return Ebitda(headline, bridge)


def _ends(bridge: Sequence[BridgeLine]) -> tuple[float, float]:
    """(plan, budget) of a bridge: its end and its start."""
    start = next(line.amount for line in bridge if line.kind == rc.START)
    end = next(line.amount for line in bridge if line.kind == rc.END)
    return end, start
