"""The Recon tab's "Cost variances" section: the standard-cost variances of the window's
closed months, one row per family and a Total row, positive favourable.

The columns are the published lines (``sopfin.close.cost_variances.LINES``), whose sum is
the Total column to the cent, with the fixed overhead volume (capacity + efficiency) shown
after its two parts. Absent when the window has no ActualCosts rows, so a tab published
without it reads as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sopfin.close.cost_variances import LINES, TOTAL, VOLUME, CostVariances, column
from sopfin.sheetspec import Style

TITLE = "Cost variances, actual against standard (closed months)"
ELEMENT_LABELS = {"material": "Material", "labour": "Labour",
                  "variable_overhead": "Variable overhead", "fixed_overhead": "Fixed overhead"}
PART_LABELS = {"idle_time": "idle time"}
NOTE = ("Positive is favourable. Total is the sum of the variances; fixed overhead volume is "
        "capacity + efficiency and is not added again.")


class SectionTab(Protocol):
    """What a section needs of the tab being laid out (``sopfin.render.recon``)."""

    def row(self, values: Sequence[object],
            styles: Style | Sequence[Style | None] | None = None) -> int: ...

    def section(self, title: str, headers: Sequence[str]) -> None: ...

    def skip(self, n: int = 1) -> None: ...


def published_columns() -> list[tuple[str, str]]:
    """(table column, header) of the section, in order."""
    shown = list(LINES)
    shown.insert(shown.index(("fixed_overhead", "efficiency")) + 1, VOLUME)
    out = [(column(e, p), f"{ELEMENT_LABELS[e]} {PART_LABELS.get(p, p)}") for e, p in shown]
    return out + [("total", "Total")]


def cost_variance_section(tab: SectionTab, variances: CostVariances | None) -> None:
    """The section, or nothing when there are no variances."""
    if variances is None:
        return
    columns = published_columns()
    months = variances.months
    span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
    tab.section(f"{TITLE}: {span}", ["Family", *(header for _, header in columns)])
    picked = [variances.columns.index(c) for c, _ in columns]
    for family, values in zip(variances.rows, variances.values[:, picked], strict=True):
        bold = family == TOTAL
        money = Style.MONEY_BOLD if bold else Style.MONEY
        tab.row([str(family), *values.tolist()],
                [Style.HEADER if bold else Style.TEXT] + [money] * len(columns))
    tab.row([NOTE], Style.NOTE)
    tab.skip()
