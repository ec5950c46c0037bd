"""A scenario sweep for notebooks: many demand, price, supply or cost variants of one plan,
the summary figures of each, no sheet written.

    >>> figures = sopfin.sweep(plan, {
    ...     "demand +10%": {"demand": 1.10},
    ...     "PMP-100 price -5%": {"price": {"PMP-100": 0.95}},
    ...     "both": {"demand": 1.10, "price": 0.95},
    ... })
    >>> figures[["revenue", "gross_margin", "revenue_gap"]]

A change multiplies an input table's values: ``demand`` (Demand units), ``price`` (Prices),
``supply`` (Supply units) or ``cost`` (every StdCost component), by one factor for every
family or by a factor per family (families not named keep theirs). Each variant is the plan
so changed, dollarized for one scenario (the one a close reconciles, unless ``scenario`` is
given), with the named overrides ``read_plan`` found, as ``sopfin.engine.summary.headline``
gives it. The result has one row per variant, ``as planned`` first, in the order given.

The variants run in this process by default; ``workers=N`` runs them on a local process pool,
``scheduler=ADDRESS`` on a Dask distributed cluster (the plan is sent to the workers once).
A change the plan cannot take (an unknown table or family, a factor that is not a finite
number of 0 or more) raises ``ValueError`` before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from sopfin.engine.dollarize import dollarize
from sopfin.engine.summary import headline
from sopfin.model import Plan, Table

AS_PLANNED = "as planned"
TABLES = {"demand": "demand", "price": "prices", "supply": "supply", "cost": "std_cost"}
Factor = float | Mapping[str, float]
Change = Mapping[str, Factor]


def _factor(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"sweep: {where} must be a finite number of 0 or more, found {value!r}")
    return float(value)


def check_changes(plan: Plan, changes: Mapping[str, Change]) -> None:
    """Raise ValueError for a change the plan cannot take."""
    families = set(plan.families.keys["family"])
    for name, change in changes.items():
        if name == AS_PLANNED:
            raise ValueError(f"sweep: {AS_PLANNED!r} is the unchanged plan; name it otherwise")
        for table, factor in change.items():
            if table not in TABLES:
                raise ValueError(f"sweep: variant {name!r} changes {table!r}; expected one of "
                                 f"{', '.join(TABLES)}")
            if not isinstance(factor, Mapping):
                _factor(factor, f"the {table} factor of {name!r}")
                continue
            unknown = sorted(set(factor) - families)
            if unknown:
                raise ValueError(f"sweep: variant {name!r} names families the plan does not "
                                 f"have: {', '.join(map(repr, unknown[:5]))}")
            for family, value in factor.items():
                _factor(value, f"the {table} factor of {family!r} in {name!r}")


def _scaled(table: Table, factor: Factor) -> Table:
    if isinstance(factor, Mapping):
        per_row = [float(factor.get(f, 1.0)) for f in table.keys["family"].tolist()]
        scale = np.array(per_row, dtype=float).reshape(-1, 1)
    else:
        scale = np.full((len(table), 1), float(factor))
    return replace(table, values=table.values * scale)


def changed_plan(plan: Plan, change: Change) -> Plan:
    """The plan with each of ``change``'s tables multiplied by its factor."""
    scaled: dict[str, Any] = {TABLES[name]: _scaled(getattr(plan, TABLES[name]), factor)
                              for name, factor in change.items()}
    return replace(plan, **scaled)


def variant_figures(plan: Plan, change: Change, scenario: str) -> pd.Series:
    """The headline figures of one variant for one scenario."""
    d, _ = dollarize(changed_plan(plan, change), [scenario])
    overrides = plan.extra.get("overrides", ())
    figures: pd.Series = headline(d, overrides).loc[scenario]  # type: ignore[arg-type,assignment]
    return figures


def sweep(plan: Plan, changes: Mapping[str, Change], *, scenario: str | None = None,
          workers: int | None = None, scheduler: str | None = None) -> pd.DataFrame:
    """The headline figures of the plan and of each variant, one row per variant."""
    scenario = scenario or plan.settings.reconciled_scenario
    if scenario not in plan.scenarios:
        raise ValueError(f"sweep: scenario {scenario!r} is not one of {plan.scenarios}")
    check_changes(plan, changes)
    variants: list[tuple[str, Change]] = [(AS_PLANNED, {}), *changes.items()]
    if scheduler:
        rows = _on_dask(plan, variants, scenario, scheduler)
    elif workers and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(variant_figures, plan, change, scenario)
                       for _, change in variants]
            rows = [f.result() for f in futures]
    else:
        rows = [variant_figures(plan, change, scenario) for _, change in variants]
    frame = pd.DataFrame(rows)
    frame.index = pd.Index([name for name, _ in variants], name="variant")
    return frame


def _on_dask(plan: Plan, variants: Sequence[tuple[str, Change]], scenario: str,
             address: str) -> list[Any]:
    from distributed import Client

    with Client(address, timeout="10s") as client:  # type: ignore[no-untyped-call]
        [shared] = client.scatter([plan], broadcast=True)
        futures = [client.submit(variant_figures, shared, dict(change), scenario, pure=False)
                   for _, change in variants]
        gathered: list[Any] = client.gather(futures)
        return gathered
