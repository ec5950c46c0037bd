"""One worksheet-function call on a 1,000 x 36 range, timed as plain Python in this process.

The ranges arrive the way Excel hands them to a UDF: lists of rows of floats. The figures are
checked against numpy before any timing, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

ITEMS, MONTHS = 1000, 36


def _ranges() -> dict[str, Any]:
    rng = np.random.default_rng(20260101)
    units = rng.integers(0, 5000, size=(ITEMS, MONTHS)).astype(float)
    prices = np.round(rng.uniform(5.0, 500.0, size=(ITEMS, MONTHS)), 2)
    col = (ITEMS, 1)
    return {
        "units": units, "prices": prices,
        "budget_units": rng.integers(1, 50_000, size=col).astype(float),
        "budget_prices": np.round(rng.uniform(5.0, 500.0, size=col), 2),
        "plan_units": rng.integers(1, 50_000, size=col).astype(float),
        "plan_prices": np.round(rng.uniform(5.0, 500.0, size=col), 2),
    }


def _median_ms(call: Callable[[], Any], repeats: int) -> tuple[float, float, float]:
    call()  # warm: first-call imports and caches are not the steady state
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return (round(statistics.median(times), 2), round(min(times), 2), round(max(times), 2))


def udf_timings(repeats: int = 15) -> dict[str, dict[str, float | str]]:
    """Median (min, max) milliseconds of SOP_REVENUE on 1,000 x 36 and SOP_PVM on 1,000
    items; each answer checked against an independent numpy computation first (revenue cell
    by cell; the bridge's price + quantity + mix and price + volume both equal the gap)."""
    from sopfin.excel.functions import sop_pvm, sop_revenue

    r = _ranges()
    units, prices = r["units"].tolist(), r["prices"].tolist()
    revenue = np.asarray(sop_revenue(units, prices), dtype=float)
    if not np.allclose(revenue, r["units"] * r["prices"], rtol=0, atol=1e-6):
        raise AssertionError("SOP_REVENUE disagrees with units x prices")
    pvm_args = [r[k].tolist() for k in ("budget_units", "budget_prices", "plan_units",
                                        "plan_prices")]
    table = sop_pvm(*pvm_args)
    if not isinstance(table, list):
        raise AssertionError(f"SOP_PVM refused the benchmark ranges: {table}")
    header = table[0]
    total = dict(zip(header, next(row for row in table if row[0] == "Total"), strict=True))
    gap = float((r["plan_units"] * r["plan_prices"]).sum()
                - (r["budget_units"] * r["budget_prices"]).sum())
    for parts in (("Price", "Quantity", "Mix"), ("Price", "Volume"), ("Total",)):
        bridge = sum(total[h] for h in parts)
        if abs(bridge - gap) > 1e-6 * abs(gap):
            raise AssertionError(f"SOP_PVM {' + '.join(parts)} = {bridge}, not the gap {gap}")

    out: dict[str, dict[str, float | str]] = {}
    for name, call in (("sop_revenue", lambda: sop_revenue(units, prices)),
                       ("sop_pvm", lambda: sop_pvm(*pvm_args))):
        median, low, high = _median_ms(call, repeats)
        out[name] = {"median_ms": median, "min_ms": low, "max_ms": high,
                     "shape": f"{ITEMS}x{MONTHS}" if name == "sop_revenue" else f"{ITEMS}x1"}
    return out
