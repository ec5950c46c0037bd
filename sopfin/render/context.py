"""What every output sheet needs to know: the plan, the engine's figures, which input row
each output row reads, and the display order of sales lines and variance lines (grouped by
family, so a family's lines are contiguous and can be summed with one SUM).

Which input row a figure reads is the engine's choice, taken from its public lookups, so the
formulas reference exactly the cells the cached values were computed from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.close.records import Override
from sopfin.engine.dollarize import price_rows, std_cost_rows
from sopfin.engine.results import Dollarized
from sopfin.model import Keys, Plan
from sopfin.render.refs import InputRows


@dataclass(frozen=True)
class Group:
    """Rows [start, start + count) of a family inside a family-grouped ordering."""

    start: int
    count: int


def family_groups(fam_idx: np.ndarray, families: int) -> tuple[np.ndarray, list[Group]]:
    """Stable order grouping items by family, and each family's run inside that order."""
    order = np.argsort(fam_idx, kind="stable")
    counts = np.bincount(fam_idx, minlength=families) if len(fam_idx) else np.zeros(
        families, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if families else np.zeros(0)
    return order, [Group(int(s), int(c)) for s, c in zip(starts, counts, strict=True)]


@dataclass(frozen=True)
class RenderContext:
    plan: Plan
    d: Dollarized
    generated_at: str
    demand: InputRows
    prices: InputRows
    supply: InputRows
    opening: InputRows
    std_cost: InputRows
    variances: InputRows
    budget: InputRows
    line_order: np.ndarray  # display position -> index into d.lines
    line_groups: list[Group]  # per family: its run of display positions
    variance_order: np.ndarray  # display position -> index into d.variance_lines
    variance_groups: list[Group]
    line_keys: list[tuple[str, str]]  # (family, channel) per display position
    variance_keys: list[tuple[str, str]]  # (family, type) per display position
    overrides: tuple[Override, ...] = ()  # named overrides (sheet Overrides), for Summary

    @property
    def backorder(self) -> bool:
        return self.plan.settings.shortage_policy == "backorder"

    @property
    def constrained(self) -> bool:
        return bool(self.plan.settings.constrained)

    @property
    def months(self) -> tuple[str, ...]:
        return self.d.months

    @property
    def scenarios(self) -> tuple[str, ...]:
        return self.d.scenarios

    @property
    def families(self) -> tuple[str, ...]:
        return self.d.families

    def title(self, what: str) -> str:
        settings = self.plan.settings
        parts = [p for p in (settings.company, what, settings.currency) if p]
        parts.append("scenarios: " + ", ".join(self.scenarios))
        if self.generated_at:
            parts.append(f"generated {self.generated_at}")
        return " | ".join(parts)


def build_context(plan: Plan, d: Dollarized, generated_at: str = "",
                  overrides: Sequence[Override] = ()) -> RenderContext:
    line_fam = d.lines["fam_idx"]
    var_fam = d.variance_lines["fam_idx"]
    line_order, line_groups = family_groups(line_fam, len(d.families))
    var_order, var_groups = family_groups(var_fam, len(d.families))
    return RenderContext(
        plan=plan, d=d, generated_at=generated_at,
        demand=InputRows(plan.demand, ("scenario", "family", "channel")),
        prices=InputRows(plan.prices, ("family", "channel")),
        supply=InputRows(plan.supply, ("scenario", "family")),
        opening=InputRows(plan.opening, ("family",)),
        std_cost=InputRows(plan.std_cost, ("family", "effective_from")),
        variances=InputRows(plan.variances, ("scenario", "family", "type")),
        budget=InputRows(plan.budget, ("family", "measure"), folded=("measure",)),
        line_order=line_order, line_groups=line_groups,
        variance_order=var_order, variance_groups=var_groups,
        line_keys=_pairs(d.lines, "channel", line_order),
        variance_keys=_pairs(d.variance_lines, "type", var_order),
        overrides=tuple(overrides),
    )


def _pairs(lines: Keys, second: str, order: np.ndarray) -> list[tuple[str, str]]:
    families = [str(f) for f in lines["family"].tolist()]
    seconds = [str(s) for s in lines[second].tolist()]
    return [(families[i], seconds[i]) for i in order.tolist()]


def cost_rows(ctx: RenderContext) -> np.ndarray:
    """(F, M) StdCost row in force per family and month (-1: none), as the engine applied it."""
    return std_cost_rows(ctx.plan, ctx.families)


def line_price_rows(ctx: RenderContext) -> np.ndarray:
    """Prices row of each sales line (-1: none), as the engine applied it."""
    return price_rows(ctx.plan, ctx.d.lines)
