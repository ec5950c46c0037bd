"""The Python API for notebooks and the add-in: read a plan, dollarize it, get tidy frames.

    >>> import sopfin
    >>> plan = sopfin.read_plan("plan.xlsx")        # raises PlanError listing every issue
    >>> figures = sopfin.dollarize(plan)
    >>> figures.families.loc["base"].head()          # scenario, family, month -> measures
    >>> sopfin.allocate_budget("plan.xlsx", amount=2_400_000, measure="opex",
    ...                        to="departments", by="headcount", dry_run=True).cells
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sopfin.engine import dollarize as _engine
from sopfin.engine.results import Dollarized
from sopfin.engine.summary import summarize
from sopfin.model import Issue, Plan, Severity

if TYPE_CHECKING:
    from sopfin.imports.allocation import AllocationOutcome


class PlanError(Exception):
    """The plan workbook has errors; ``issues`` lists every one with its cell."""

    def __init__(self, issues: Sequence[Issue], source: str = "") -> None:
        self.issues = list(issues)
        errors = [i for i in self.issues if i.severity is Severity.ERROR]
        lines = [i.format(source) for i in errors[:20]]
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in the plan:\n" + "\n".join(lines) + more)


@dataclass(frozen=True)
class PlanFigures:
    """Dollarized plan as tidy frames (and the arrays behind them)."""

    families: pd.DataFrame  # index (scenario, family, month); one column per family measure
    lines: pd.DataFrame  # index (scenario, family, channel, month)
    summary: pd.DataFrame  # scenario x period x measure: plan, dollarized, overrides, budget, gap
    issues: list[Issue]  # warnings from the engine (e.g. negative inventory)
    arrays: Dollarized


def read_plan(path: str | Path) -> Plan:
    """Read and validate a plan workbook and its finance sheets. Warnings are kept in
    ``plan.extra['issues']``, the named overrides in ``plan.extra['overrides']``."""
    from sopfin.pipeline import check_with_finance  # the file edge, imported only when reading

    result = check_with_finance(path)
    if result.plan is None or not result.ok:
        raise PlanError(result.issues, Path(path).name)
    result.plan.extra["issues"] = list(result.issues)
    if result.finance is not None:
        result.plan.extra["overrides"] = result.finance.overrides
    return result.plan


def dollarize(plan: Plan, scenarios: Sequence[str] | None = None) -> PlanFigures:
    """Dollarize a plan: revenue, COGS, inventory value and cash per scenario/family/month.
    The summary's plan adds the named overrides ``read_plan`` found, as the Summary sheet."""
    d, issues = _engine.dollarize(plan, scenarios)
    overrides = plan.extra.get("overrides", ())
    return PlanFigures(
        families=d.family_frame(),
        lines=d.line_frame(),
        summary=summarize(d, plan.settings.fiscal_year_start, overrides),  # type: ignore[arg-type]
        issues=issues,
        arrays=d,
    )


def allocate_budget(path: str | Path, *, amount: float, by: str, measure: str,
                    to: str = "families", window: str = "Horizon", dry_run: bool = False,
                    author: str = "") -> AllocationOutcome:
    """``sopfin allocate`` on a workbook: ``amount`` of ``measure`` over the Budget rows of
    the families, or (``measure="opex"``, ``to="departments"``) of the departments and their
    accounts, by driver ``by`` over ``window``; written (and recorded on ``_Imports``) unless
    ``dry_run``. The outcome's ``cells`` are row -> month -> amount, ``accounts`` department
    -> account -> month -> amount, ``channels`` (a Budget kept by channel) family -> channel
    -> month -> amount, and ``rows()`` the Budget rows filled, each with its family, channel,
    department and account (None where the row has none) and its months. Raises
    ``ValueError`` for a combination allocate does not do, ``PlanError`` listing every issue
    of the workbook's data (nothing written)."""
    from sopfin.imports.allocation import run_allocate  # the file edge, imported when used
    from sopfin.imports.origin import Origin

    out = run_allocate(path, amount=amount, measure=measure, to=to, by=by, window=window,
                       dry_run=dry_run, origin=Origin(command="allocate", author=author))
    if not out.ok:
        raise PlanError(out.issues, Path(path).name)
    return out
