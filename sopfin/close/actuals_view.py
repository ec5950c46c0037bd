"""Actuals in the close: the latest estimate (the plan with each closed month replaced by its
actuals), the forecast accuracy of the month just closed, and the plan-to-actual revenue
bridge over the closed months. A closed month is a month with any actual booked."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sopfin.close import records as rc
from sopfin.close.bridge_lines import family_bridge, family_steps, mix_lines, one_sided_lines
from sopfin.close.grain import FAMILY_NAMES, Side
from sopfin.close.records import BridgeLine
from sopfin.close.rowtable import MonthTable, RowTable
from sopfin.engine.bridge import TOTAL
from sopfin.model import Table


def actuals_table(actuals: Table) -> MonthTable:
    """The Actuals table as (family, measure) x month; repeated keys summed, blanks NaN."""
    rows: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(actuals.keys["family"].tolist(),
                                actuals.keys["measure"].tolist(), strict=True)):
        rows.setdefault(key, []).append(i)
    values = np.array([[_sum_min_one(actuals.values[group, j].tolist())
                        for j in range(len(actuals.value_names))] for group in rows.values()],
                      dtype=np.float64).reshape(len(rows), len(actuals.value_names))
    return MonthTable(("family", "measure"), tuple(rows), tuple(actuals.value_names), values)


def _sum_min_one(values: list[float]) -> float:
    """The sum of the figures that are not NaN (NaN when none is), compensated as a
    grouped sum adds them."""
    total, compensation, seen = 0.0, 0.0, False
    for v in values:
        if v == v:
            y = v - compensation
            t = total + y
            compensation = (t - total) - y
            total, seen = t, True
    return total if seen else float("nan")


def _closed_months(actual: MonthTable, months: Sequence[str]) -> list[str]:
    """The months of ``months`` in which any actual is booked."""
    return [m for m in months if m in actual.months and not np.isnan(actual.month(m)).all()]


def actual_bridge(plan: MonthTable, actuals: Table, months: Sequence[str],
                  ) -> tuple[BridgeLine, ...]:
    """Plan to actual revenue over the closed months of ``months`` (months with any actual),
    per family on the revenue basis: ``plan`` is a snapshot (keys family, measure; columns
    months), normally the last approved version's. Empty when no month of the window closed."""
    actual = actuals_table(actuals)
    closed = [m for m in _closed_months(actual, months) if m in plan.months]
    if not closed:
        return ()
    names = list(dict.fromkeys([*(k[0] for k in plan.keys), *(k[0] for k in actual.keys)]))

    def side(table: MonthTable) -> Side:
        cols = [table.months.index(m) for m in closed]
        picked = np.nan_to_num(table.values[:, cols], nan=0.0).sum(axis=1)
        at = {f: i for i, f in enumerate(names)}
        by = {m: np.zeros(len(names)) for m in ("units", "revenue", "cogs")}
        for (family, measure), value in zip(table.keys, picked.tolist(), strict=True):
            if measure in by:
                by[measure][at[family]] = value
        present = (by["units"] != 0) | (by["revenue"] != 0) | (by["cogs"] != 0)
        return Side(names, FAMILY_NAMES, by["units"], by["revenue"], by["cogs"], present)

    base, booked = side(plan), side(actual)
    frame = family_bridge(base, booked, "revenue")
    span = closed[0] if len(closed) == 1 else f"{closed[0]}..{closed[-1]}"
    return (BridgeLine(rc.START, f"Plan revenue ({span})", float(base.revenue.sum())),
            BridgeLine(rc.PRICE, "Price", family_steps(frame, "price")),
            BridgeLine(rc.QUANTITY, "Quantity", family_steps(frame, "quantity")),
            *mix_lines(frame), *one_sided_lines(frame),
            BridgeLine(rc.END, f"Actual revenue ({span})", float(booked.revenue.sum())))


SNAPSHOT_MEASURES = ("units", "revenue", "cogs")


ACCURACY_COLUMNS = ("month", "forecast", "actual", "error", "abs_pct_error", "bias")


def actuals_view(snapshot: MonthTable, actuals: Table, prior: MonthTable | None,
                 ) -> tuple[MonthTable, RowTable | None, list[str]]:
    """The latest estimate, the accuracy of the month just closed, and notes.

    Closed months are the months with any actual. The latest estimate (index family,
    measure; columns the horizon) is the plan snapshot with each closed month replaced by the
    actuals; a family or measure without an actual in a closed month counts 0 there (the
    month is closed: nothing was booked), and the notes say how many such cells there are.

    Accuracy compares, for the last closed month, ``prior`` (the snapshot of the last
    approved version; the current snapshot when None) with the actuals. Index (measure,
    family) with a ``Total`` row per measure; per family, with error = forecast - actual
    (positive: the plan was too high), abs_pct_error = |error| / |actual| and
    bias = error / actual (NaN where the actual is 0); on the Total row abs_pct_error is the
    WAPE, sum |error| / sum |actual|, and bias is sum error / sum actual."""
    actual = actuals_table(actuals)
    closed = _closed_months(actual, snapshot.months)
    known = snapshot.positions()
    keys = (*snapshot.keys, *(k for k in dict.fromkeys(actual.keys) if k not in known))
    values = np.zeros((len(keys), len(snapshot.months)))
    values[:len(snapshot)] = snapshot.values
    booked_at = actual.positions()
    rows = np.array([booked_at.get(k, -1) for k in keys], dtype=np.int64)
    cols = [actual.months.index(m) for m in closed]
    booked = np.where((rows >= 0)[:, None], actual.values[np.maximum(rows, 0)][:, cols]
                      if len(actual) else np.nan, np.nan)
    blanks = int(np.isnan(booked).sum())
    values[:, [snapshot.months.index(m) for m in closed]] = np.nan_to_num(booked, nan=0.0)
    estimate = MonthTable(snapshot.names, keys, snapshot.months, values)
    month = closed[-1]
    notes = [f"latest estimate: actuals for {', '.join(closed)}, plan for the other months"]
    if blanks:
        notes.append(f"{blanks} family figures without an actual in a closed month count 0 "
                     "in the latest estimate")
    source = snapshot if prior is None else prior
    if prior is None:
        notes.append(f"accuracy for {month} compares with the current plan: no approved "
                     "version was given")
    if month not in source.months:
        notes.append(f"the approved version has no {month}, so no accuracy is reported")
        return estimate, None, notes
    in_month = np.nan_to_num(booked[:, closed.index(month)], nan=0.0)
    return estimate, _accuracy(source, keys, in_month, month), notes


def _accuracy(source: MonthTable, keys: Sequence[tuple[str, str]], booked: np.ndarray,
              month: str) -> RowTable:
    """Per measure, the forecast of ``month`` in ``source`` against ``booked`` (the actual
    of each of ``keys``) by family, and a Total row."""
    index: list[tuple[str, str]] = []
    parts: list[np.ndarray] = []
    for measure in SNAPSHOT_MEASURES:
        planned = _measure(source.keys, source.month(month), measure)
        actual = _measure(keys, booked, measure)
        families = list(dict.fromkeys([*planned, *actual]))
        f = np.array([planned.get(x, 0.0) for x in families], dtype=np.float64)
        a = np.array([actual.get(x, 0.0) for x in families], dtype=np.float64)
        keep = (f != 0) | (a != 0)
        f, a = f[keep], a[keep]
        error = f - a
        held = a != 0
        total_actual, total_error = float(np.nansum(a)), float(np.nansum(error))
        parts.append(np.column_stack([
            np.append(f, float(np.nansum(f))), np.append(a, total_actual),
            np.append(error, total_error),
            np.append(np.divide(np.abs(error), np.abs(a), out=np.full(len(a), np.nan),
                                where=held),
                      float(np.nansum(np.abs(error))) / abs(total_actual) if total_actual
                      else np.nan),
            np.append(np.divide(error, a, out=np.full(len(a), np.nan), where=held),
                      total_error / total_actual if total_actual else np.nan)]))
        index += [(measure, x) for x, k in zip(families, keep.tolist(), strict=True) if k]
        index.append((measure, TOTAL))
    figures = np.concatenate(parts) if parts else np.zeros((0, 5))
    month_column = np.empty(len(index), dtype=object)
    month_column[:] = month
    return RowTable(("measure", "family"), tuple(index), {
        "month": month_column,
        **{name: np.ascontiguousarray(figures[:, j])
           for j, name in enumerate(ACCURACY_COLUMNS[1:])}})


def _measure(keys: Sequence[tuple[str, str]], values: np.ndarray, measure: str,
             ) -> dict[str, float]:
    """Family -> the figure of ``measure`` among (family, measure) ``keys``."""
    return {family: float(v) for (family, m), v in zip(keys, values.tolist(), strict=True)
            if m == measure}
