"""A reconciliation as plain data: what ``sopfin reconcile --json`` and ``sopfin close --json``
print (the shape is a contract, documented in docs/workbook.md, "Machine-readable results").

Money is the published cents (the bridge rounded as the Recon tab shows it, its lines summing
to the gap to the cent); days and turnover are as computed; a ratio with no denominator is
null. Every figure equals the one on the Recon tab a close publishes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sopfin.close.records import END, START, BridgeLine, Reconciliation
from sopfin.close.rowtable import RowTable
from sopfin.model import Issue
from sopfin.money import to_cents
from sopfin.render.recon_sections import published_bridge

RATIOS = ("dio", "dso", "dpo", "ccc", "turnover")


def reconciliation_data(rec: Reconciliation) -> dict[str, Any]:
    """The reconciliation's figures (see the module docstring)."""
    revenue = bridge_data(rec.revenue_bridge)
    return {
        "scenario": rec.scenario,
        "window": rec.window.label,
        "months": list(rec.window.months),
        "currency": rec.currency,
        **revenue,
        "gap_after_actions": _cents(rec.revenue_gap_after_actions),
        "margin": {**bridge_data(rec.margin_bridge),
                   "gap_after_actions": _cents(rec.margin_gap_after_actions)},
        "variances": variances_data(rec),
        "working_capital": working_capital_data(rec.working_capital),
        **exposure_data(rec),
        "ebitda": ebitda_data(rec),
    }


def bridge_data(bridge: Sequence[BridgeLine]) -> dict[str, Any]:
    """plan, budget, gap and the published lines (start and end included)."""
    lines = published_bridge(bridge)
    budget = next((ln.amount for ln in lines if ln.kind == START), 0.0)
    plan = next((ln.amount for ln in lines if ln.kind == END), 0.0)
    return {"plan": plan, "budget": budget, "gap": _cents(plan - budget),
            "lines": [line_data(ln) for ln in lines]}


def line_data(line: BridgeLine) -> dict[str, Any]:
    return {"label": line.label, "step": line.kind, "family": line.family or None,
            "item": line.item or None, "amount": line.amount, "owner": line.owner}


def ebitda_data(rec: Reconciliation) -> dict[str, Any] | None:
    """The P&L headline (``revenue``, ``gross_margin``, ``opex``, ``ebitda``: each ``plan``,
    ``budget`` and ``variance``, positive favourable) and the EBITDA bridge in the bridges'
    shape, in published cents; null without opex lines."""
    if rec.ebitda is None:
        return None
    headline = {line.measure: dict(zip(("plan", "budget", "variance"), line.published(),
                                       strict=True))
                for line in rec.ebitda.headline}
    return {"headline": headline, **bridge_data(rec.ebitda.bridge)}


def variances_data(rec: Reconciliation) -> dict[str, Any] | None:
    """The published standard-cost variances of the window's closed months: ``months``, the
    ``total`` and ``families`` (each element's variances and its total, positive favourable,
    in cents); null when the window has no ActualCosts rows."""
    if rec.cost_variances is None:
        return None
    data = rec.cost_variances.as_dict()
    return {"months": data["months"], "total": data["total"],
            "families": [{"family": family, **figures}
                         for family, figures in data["by_family"].items()]}


def working_capital_data(table: RowTable | None) -> dict[str, dict[str, float | None]]:
    if table is None:
        return {}
    return {str(scenario): {str(name): _figure(str(name), value)
                            for name, value in row.items()}
            for scenario, row in table.rows()}


def exposure_data(rec: Reconciliation) -> dict[str, Any]:
    """``stranded`` and ``excess``: units and value in total and by family."""
    frame = rec.exposure
    out = {}
    for kind in ("stranded", "excess"):
        families: list[dict[str, Any]] = []
        total = {"units": 0.0, "value": 0.0}
        if frame is not None:
            for family, row in frame.rows():
                figures = {"units": float(row[f"{kind}_units"]),
                           "value": _cents(float(row[f"{kind}_value"]))}
                if family == "Total":
                    total = figures
                elif figures["units"] > 0:
                    families.append({"family": str(family), **figures})
        out[kind] = {"scenario": rec.scenario, "as_at": rec.exposure_as_at or None, **total,
                     "families": families}
    return out


def issue_data(issue: Issue) -> dict[str, str]:
    """An issue with its location spelt out: code, severity, location, message, fix."""
    return {**issue.to_dict(), "location": str(issue.where)}


def _figure(name: str, value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return None
    return number if name in RATIOS else _cents(number)


def _cents(amount: float) -> float:
    return float(to_cents(float(amount)))
