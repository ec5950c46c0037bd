"""Plan against budget by month, fiscal quarter and fiscal year, summed over families.

``summarize`` gives the tidy frame behind the Summary sheet; ``headline`` the one line per
scenario the CLI prints. The plan is one number: the dollarized plan plus the named overrides
(sheet Overrides) of its scenario, as the reconciliation's bridge ends; both frames also give
the dollarized plan and the override total beside it. Flow measures (units shipped, revenue,
COGS, gross margin, inventory cash effect, revenue at risk) sum over a period; the balance
(inventory value) is the one at the end of the period's last planned month; GM % is
recomputed from the period's sums. A quarter or fiscal year cut by the horizon's edge is
summarised over the months the plan has. Nothing is rounded here: figures become cents in
``sopfin.money`` when they are reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeGuard, get_args

import numpy as np

from sopfin.calendar import Periods, fiscal_quarters, fiscal_years
from sopfin.close.records import Override
from sopfin.engine.results import BudgetMeasure, Dollarized, FamilyMeasure

if TYPE_CHECKING:
    import pandas as pd

SummaryMeasure = Literal["units", "revenue", "cogs", "gross_margin", "gm_pct",
                         "inventory_value", "inventory_cash", "revenue_at_risk"]
MEASURES: tuple[SummaryMeasure, ...] = get_args(SummaryMeasure)
PERIOD_TYPES = ("month", "quarter", "year")
_FLOWS: dict[SummaryMeasure, FamilyMeasure] = {
    "units": "shipments_units", "revenue": "revenue", "cogs": "cogs",
    "gross_margin": "gross_margin", "inventory_cash": "inventory_cash",
    "revenue_at_risk": "revenue_at_risk"}
_BALANCES: dict[SummaryMeasure, FamilyMeasure] = {"inventory_value": "inventory_value"}
_BUDGETED: dict[SummaryMeasure, BudgetMeasure] = {
    "units": "units", "revenue": "revenue", "cogs": "cogs"}


OverriddenMeasure = Literal["revenue", "cogs"]  # the measures a named override adjusts
OVERRIDDEN: tuple[OverriddenMeasure, ...] = get_args(OverriddenMeasure)


def monthly_overrides(d: Dollarized, overrides: Sequence[Override] = (),
                      ) -> dict[SummaryMeasure, np.ndarray]:
    """Per overridden measure, the (S, M) sum of the named overrides by scenario and month;
    gross margin moves by revenue overrides less cogs overrides."""
    scenario = {s: i for i, s in enumerate(d.scenarios)}
    month = {m: j for j, m in enumerate(d.months)}
    shape = (len(d.scenarios), len(d.months))
    out: dict[SummaryMeasure, np.ndarray] = {"revenue": np.zeros(shape), "cogs": np.zeros(shape)}
    for o in overrides:
        if o.scenario in scenario and o.month in month and _is_overridden(o.measure):
            out[o.measure][scenario[o.scenario], month[o.month]] += o.amount
    out["gross_margin"] = out["revenue"] - out["cogs"]
    return out


def _is_overridden(measure: str) -> TypeGuard[OverriddenMeasure]:
    return measure in OVERRIDDEN


@dataclass(frozen=True)
class SummaryFigures:
    """The summary's figures as arrays: per scenario, period (months, then fiscal quarters,
    then fiscal years) and measure (``MEASURES`` order)."""

    scenarios: tuple[str, ...]
    labels: tuple[str, ...]  # (P,) period labels
    types: tuple[str, ...]  # (P,) 'month', 'quarter' or 'year'
    plan: np.ndarray  # (S, P, K) dollarized + overrides
    dollarized: np.ndarray  # (S, P, K)
    budget: np.ndarray  # (P, K); NaN where the measure has no budget

    def basis(self, name: str, s: int, k: int) -> np.ndarray:
        """(P,) one scenario's measure ``k`` on basis ``name`` (a column of ``summarize``)."""
        plan, base = self.plan[s, :, k], self.dollarized[s, :, k]
        if name == "plan":
            return plan
        if name == "dollarized":
            return base
        if name == "overrides":
            return np.full(len(plan), np.nan) if MEASURES[k] == "gm_pct" else plan - base
        if name == "budget":
            return self.budget[:, k]
        return np.asarray(plan - self.budget[:, k])  # gap


def summarize(d: Dollarized, fiscal_year_start: int = 1,
              overrides: Sequence[Override] = ()) -> pd.DataFrame:
    """One row per (scenario, period, measure): scenario, period_type, period, measure, plan
    (dollarized + overrides), dollarized, overrides (0 for measures no override adjusts, NaN
    for GM %), budget, gap (= plan - budget; NaN where the measure has no budget)."""
    import pandas as pd  # the API's frame; the sheets read ``summary_figures``

    figures = summary_figures(d, fiscal_year_start, overrides)
    plan, base, budget = figures.plan, figures.dollarized, figures.budget
    s_count, p_count, k_count = plan.shape
    flat_plan, flat_base = plan.reshape(-1), base.reshape(-1)
    flat_budget = np.tile(budget.reshape(-1), s_count)
    measure = np.tile(np.asarray(MEASURES, dtype=object), s_count * p_count)
    return pd.DataFrame({
        "scenario": np.repeat(np.asarray(d.scenarios, dtype=object), p_count * k_count),
        "period_type": np.tile(np.repeat(np.asarray(figures.types, dtype=object), k_count),
                               s_count),
        "period": np.tile(np.repeat(np.asarray(figures.labels, dtype=object), k_count), s_count),
        "measure": measure,
        "plan": flat_plan,
        "dollarized": flat_base,
        "overrides": np.where(measure == "gm_pct", np.nan, flat_plan - flat_base),
        "budget": flat_budget,
        "gap": flat_plan - flat_budget,
    })


def summary_figures(d: Dollarized, fiscal_year_start: int = 1,
                    overrides: Sequence[Override] = ()) -> SummaryFigures:
    """The figures of ``summarize`` as arrays."""
    months = len(d.months)
    by_type = {
        "month": Periods(tuple(d.months), np.arange(months), np.arange(months),
                         np.arange(months)),
        "quarter": fiscal_quarters(d.months, fiscal_year_start),
        "year": fiscal_years(d.months, fiscal_year_start),
    }
    added = monthly_overrides(d, overrides)
    plan_parts, base_parts, budget_parts = [], [], []
    labels: list[str] = []
    types: list[str] = []
    for kind in PERIOD_TYPES:
        plan, budget = _period_figures(d, by_type[kind], added)
        plan_parts.append(plan)
        base_parts.append(_period_figures(d, by_type[kind])[0])
        budget_parts.append(budget)
        labels += by_type[kind].labels
        types += [kind] * len(by_type[kind])
    return SummaryFigures(scenarios=tuple(d.scenarios), labels=tuple(labels), types=tuple(types),
                          plan=np.concatenate(plan_parts, axis=1),
                          dollarized=np.concatenate(base_parts, axis=1),
                          budget=np.concatenate(budget_parts, axis=0))


def headline(d: Dollarized, overrides: Sequence[Override] = ()) -> pd.DataFrame:
    """Whole-horizon figures per scenario (index ``scenario``): plan (with the overrides),
    the dollarized revenue and the revenue overrides, budget and gaps."""
    import pandas as pd  # the API's frame; the command line reads ``headline_figures``

    return pd.DataFrame(headline_figures(d, overrides),
                        index=pd.Index(list(d.scenarios), name="scenario"))


def headline_figures(d: Dollarized, overrides: Sequence[Override] = (),
                     ) -> dict[str, np.ndarray]:
    """The columns of ``headline``: name -> (S,) per scenario, in the frame's order."""
    months = len(d.months)
    whole = Periods(("horizon",), np.array([0]), np.array([max(months - 1, 0)]),
                    np.zeros(months, dtype=np.int64))
    plan, budget = _period_figures(d, whole, monthly_overrides(d, overrides))
    base, _ = _period_figures(d, whole)
    col = {m: k for k, m in enumerate(MEASURES)}
    figures = {
        "revenue": plan[:, 0, col["revenue"]],
        "dollarized_revenue": base[:, 0, col["revenue"]],
        "revenue_overrides": plan[:, 0, col["revenue"]] - base[:, 0, col["revenue"]],
        "budget_revenue": np.full(len(d.scenarios), budget[0, col["revenue"]]),
        "cogs": plan[:, 0, col["cogs"]],
        "budget_cogs": np.full(len(d.scenarios), budget[0, col["cogs"]]),
        "gross_margin": plan[:, 0, col["gross_margin"]],
        "budget_gross_margin": np.full(len(d.scenarios), budget[0, col["gross_margin"]]),
        "gm_pct": plan[:, 0, col["gm_pct"]],
        "budget_gm_pct": np.full(len(d.scenarios), budget[0, col["gm_pct"]]),
        "inventory_value": plan[:, 0, col["inventory_value"]],
        "inventory_cash": plan[:, 0, col["inventory_cash"]],
        "revenue_at_risk": plan[:, 0, col["revenue_at_risk"]],
    }
    figures["revenue_gap"] = figures["revenue"] - figures["budget_revenue"]
    figures["gross_margin_gap"] = figures["gross_margin"] - figures["budget_gross_margin"]
    return figures


def _period_figures(d: Dollarized, periods: Periods,
                    added: Mapping[SummaryMeasure, np.ndarray] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(plan (S, P, K), budget (P, K)) for the measures in ``MEASURES`` order; ``added``
    holds (S, M) amounts added to a flow's monthly plan (the overrides)."""
    added = added or {}
    s_count, p_count = len(d.scenarios), len(periods)
    plan = np.full((s_count, p_count, len(MEASURES)), np.nan)
    budget = np.full((p_count, len(MEASURES)), np.nan)
    if not p_count:
        return plan, budget
    budget_monthly: dict[SummaryMeasure, np.ndarray] = {
        m: d.budget[name].sum(axis=0) for m, name in _BUDGETED.items()}
    budget_monthly["gross_margin"] = budget_monthly["revenue"] - budget_monthly["cogs"]
    for k, measure in enumerate(MEASURES):
        if measure in _FLOWS:
            monthly = d.fam[_FLOWS[measure]].sum(axis=1)
            if measure in added:
                monthly = monthly + added[measure]
            plan[:, :, k] = _sum_periods(monthly, periods)
        elif measure in _BALANCES:
            plan[:, :, k] = d.fam[_BALANCES[measure]].sum(axis=1)[:, periods.last]
        if measure in budget_monthly:
            budget[:, k] = _sum_periods(budget_monthly[measure][None, :], periods)[0]
    k_pct, k_rev, k_gm = (MEASURES.index(m) for m in ("gm_pct", "revenue", "gross_margin"))
    plan[:, :, k_pct] = _ratio(plan[:, :, k_gm], plan[:, :, k_rev])
    budget[:, k_pct] = _ratio(budget[:, k_gm], budget[:, k_rev])
    return plan, budget


def _sum_periods(monthly: np.ndarray, periods: Periods) -> np.ndarray:
    """(S, M) monthly flows -> (S, P) sums over each period's months."""
    if monthly.shape[1] == 0:
        return np.zeros((monthly.shape[0], len(periods)))
    return np.add.reduceat(monthly, periods.first, axis=1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(numerator), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        np.divide(numerator, denominator, out=out, where=denominator != 0)
    out[~np.isfinite(out)] = np.nan  # an overflowing ratio is no figure
    return out
