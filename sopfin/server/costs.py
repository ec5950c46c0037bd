"""Costs the API answers: COGS by family and month, and operating expenses by department over
a period or one department month by month with its accounts beneath.

Opex figures are the engine's (``plan_opex``, the figures of the P&L sheet): plan, budget,
actual (the months Actuals closed for opex; ``None`` when the period has no closed month),
variance = plan - budget (positive: the plan spends more than the budget) and variance % =
variance / |budget| (``None`` when the budget is 0). Amounts are dollars to the cent: each line's
month is rounded to the cent and every other figure sums those, so an account, a department, a
month and every total add up to the cent (against the engine's unrounded sums, a figure differs
by at most half a cent per line-month it sums).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sopfin.engine.opex import Opex, plan_opex
from sopfin.money import to_cents

if TYPE_CHECKING:
    from sopfin.server.books import Live

BY = ("department", "family")
Figures = dict[str, object]


class NoCosts(LookupError):
    """The workbook holds no such costs (no Opex sheet, no such department): a 404."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def live_opex(live: Live) -> Opex:
    """The live plan's opex lines, as the P&L sheet shows them."""
    finance = live.finance
    return plan_opex(live.plan, live.figures, finance.opex_actuals if finance else None)


def costs_by_family(live: Live, scenario: str, months: Sequence[str]) -> list[dict[str, object]]:
    """Cost of goods sold by family and month: plan, budget, actual (closed months), variance."""
    d = live.figures
    si = d.scenarios.index(scenario)
    cols = [d.months.index(m) for m in months]
    actual = _family_actuals(live, "cogs")
    out = []
    for fi, family in enumerate(d.families):
        for j, month in zip(cols, months, strict=True):
            plan = float(to_cents(d.fam["cogs"][si, fi, j]))
            budget = float(to_cents(d.budget["cogs"][fi, j]))
            act = actual.get((family, month))
            out.append({"family": family, "month": month, "plan": plan, "budget": budget,
                        "actual": act, "variance": float(to_cents(plan - budget))})
    return out


def _family_actuals(live: Live, measure: str) -> dict[tuple[str, str], float]:
    table = live.finance.actuals if live.finance else None
    if table is None or not len(table):
        return {}
    out: dict[tuple[str, str], float] = {}
    for i in range(len(table)):
        if table.keys["measure"][i] != measure:
            continue
        family = str(table.keys["family"][i])
        for j, month in enumerate(table.value_names):
            v = table.values[i, j]
            if not np.isnan(v):
                out[(family, month)] = out.get((family, month), 0.0) + float(to_cents(v))
    return out


# ------------------------------------------------------------------ opex by department


def require_departments(o: Opex, department: str | None = None) -> None:
    """Raise ``NoCosts`` when the workbook has no opex, or no department ``department``."""
    if not o.departments:
        asked = f"no department {department!r}" if department else "no costs by department"
        raise NoCosts(f"{asked}: departments come with the Opex sheet, and this workbook has "
                      "no opex lines", "ask for /costs?by=family")
    if department is not None and department not in o.departments:
        raise NoCosts(f"no department {department!r}; departments: "
                      f"{', '.join(o.departments)}", "ask for one of the departments")


@dataclass(frozen=True)
class Cents:
    """One scenario's opex per line and month in whole cents: (L, M) each; actual is 0 in an
    open month."""

    plan: np.ndarray
    budget: np.ndarray
    actual: np.ndarray
    closed: np.ndarray  # (M,) bool

    @classmethod
    def of(cls, o: Opex, scenario: str) -> Cents:
        s = o.scenarios.index(scenario)
        actual = np.where(o.closed[None, :], np.nan_to_num(o.actual), 0.0)
        return cls(_whole_cents(o.plan[s]), _whole_cents(o.budget), _whole_cents(actual),
                   o.closed)

    def figures(self, lines: np.ndarray, cols: Sequence[int]) -> Figures:
        """The sum over ``lines`` (a bool mask) and months ``cols``."""
        closed = self.closed[list(cols)].any()
        return _figures(int(self.plan[lines][:, cols].sum()),
                        int(self.budget[lines][:, cols].sum()),
                        int(self.actual[lines][:, cols].sum()) if closed else None)


def by_department(o: Opex, scenario: str, months: Sequence[str]
                  ) -> tuple[list[Figures], Figures]:
    """Each department's opex over ``months``, and their total."""
    cents, cols = Cents.of(o, scenario), [o.months.index(m) for m in months]
    rows = [{"department": department, **cents.figures(o.department_of_line == k, cols)}
            for k, department in enumerate(o.departments)]
    return rows, {"department": "Total", **_total(rows)}


def department_months(o: Opex, department: str, scenario: str, months: Sequence[str]
                      ) -> tuple[list[Figures], Figures]:
    """One department month by month, each month's accounts beneath, and the period's
    total."""
    cents, k = Cents.of(o, scenario), o.departments.index(department)
    lines = [(i, account) for i, ((_, account), of) in
             enumerate(zip(o.lines, o.department_of_line, strict=True)) if of == k]
    out = []
    for month in months:
        j = o.months.index(month)
        accounts = [{"account": account, **cents.figures(np.arange(len(o.lines)) == i, [j])}
                    for i, account in lines]
        out.append({"month": month, "closed": bool(o.closed[j]), **_total(accounts),
                    "accounts": accounts})
    return out, _total(out)


def _whole_cents(amounts: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(to_cents(amounts)) * 100).astype(np.int64)


def _figures(plan: int, budget: int, actual: int | None) -> Figures:
    variance = plan - budget
    return {"plan": plan / 100, "budget": budget / 100,
            "actual": None if actual is None else actual / 100, "variance": variance / 100,
            "variance_pct": None if budget == 0 else round(variance / abs(budget), 6)}


def _total(rows: Sequence[Figures]) -> Figures:
    """The sum of ``rows`` to the cent (actual ``None`` when no row has one)."""
    def cents(key: str) -> int:
        return sum(round(v * 100) for r in rows if isinstance(v := r[key], float))
    actual = cents("actual") if any(r["actual"] is not None for r in rows) else None
    return _figures(cents("plan"), cents("budget"), actual)
