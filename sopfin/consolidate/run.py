"""``sopfin consolidate``: many business units' plan workbooks into one consolidated workbook.

    workbooks -> load_unit per workbook, in parallel       sopfin/consolidate/unit.py
              (a local process pool, or a Dask cluster with --scheduler)
              -> each unit's facts streamed into DuckDB     sopfin/consolidate/store.py
    FX table  -> rates                                      sopfin/consolidate/fx.py
    missing rates -> the unit is left out, with the error
    queries   -> Summary, by month, bridge inputs           (SQL)
    bridge    -> pvm per unit                               sopfin/consolidate/bridge.py
    render    -> Summary, Bridge, Units, Issues             sopfin/consolidate/sheets.py
    write     -> a new workbook OUT (and OUT.duckdb beside it)

A unit whose workbook fails its checks, cannot be read, or needs a rate the FX table lacks is
left out of the figures and listed with its issues; the workbook is still written, says it is
incomplete, and the command exits 1. Nothing is left out silently.
"""

from __future__ import annotations

import csv
import glob
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from sopfin import layout
from sopfin.consolidate.bridge import bridges
from sopfin.consolidate.facts import UnitFacts
from sopfin.consolidate.fx import FxTable, missing_rate_issue, parse_fx
from sopfin.consolidate.sheets import (
    bridge_sheet,
    issues_sheet,
    status_line,
    summary_sheet,
    units_sheet,
)
from sopfin.consolidate.store import FactStore
from sopfin.consolidate.unit import load_unit
from sopfin.model import Issue, Severity
from sopfin.sheetspec import SheetSpec, Style
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.writer import create_workbook

FX_TABLE = "FX table"  # the 'unit' column of the FX table's own issues
Progress = Callable[[str], None]


class ConsolidationError(Exception):
    """A usage or environment problem: no workbooks, an FX file without rates, an unreachable
    scheduler (exit code 2)."""


@dataclass
class Consolidation:
    out: Path
    database: Path
    reporting: str
    units: pd.DataFrame
    summary: pd.DataFrame
    bridge: pd.DataFrame
    issues: list[tuple[str, Issue]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[tuple[str, Issue]]:
        return [(u, i) for u, i in self.issues if i.severity is Severity.ERROR]

    @property
    def complete(self) -> bool:
        return not self.errors and bool(self.units["included"].all())


def workbook_paths(paths: Sequence[str], pattern: str | None, out: Path) -> list[Path]:
    """The positional workbooks then those ``pattern`` matches (sorted), each once, never OUT."""
    found = [Path(p) for p in paths]
    if pattern:
        matched = sorted(glob.glob(pattern, recursive=True))
        if not matched:
            raise ConsolidationError(f"--from {pattern!r} matches no file")
        found += [Path(p) for p in matched]
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key in seen or key == out.resolve():
            continue
        seen.add(key)
        unique.append(path)
    if not unique:
        raise ConsolidationError("no business-unit workbooks given; name them or use --from")
    for path in unique:
        if not path.is_file():
            raise ConsolidationError(f"{path}: no such file")
    return unique


def unit_names(paths: Sequence[Path]) -> list[str]:
    """Each unit is named by its file's stem; by its path where two stems are the same."""
    stems = [p.stem for p in paths]
    return [stem if stems.count(stem) == 1 else str(p) for stem, p in zip(stems, paths,
                                                                         strict=True)]


def read_fx(path: Path | None) -> tuple[FxTable, list[Issue]]:
    """The FX table from a CSV file or the ``FX`` sheet of a workbook."""
    if path is None:
        return FxTable.empty(), []
    if not path.is_file():
        raise ConsolidationError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows: list[list[object]] = [list(r) for r in csv.reader(handle)]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ConsolidationError(f"{path}: not a CSV file of rates in UTF-8 ({exc})") \
                from None
        table, issues = parse_fx(rows, sheet=path.name, source=path.name)
        return table, issues
    sheet = read_raw_sheets(path, [layout.FX]).get(layout.FX)
    if sheet is None:
        raise ConsolidationError(f"{path}: has no sheet {layout.FX!r} with the rates "
                                 f"({', '.join(layout.FX_HEADERS)})")
    return parse_fx(sheet.rows, source=path.name)


# --- running the per-workbook tasks --------------------------------------------------------
Task = tuple[str, str]  # (path, unit)


def local_results(tasks: Iterable[Task], workers: int) -> Iterator[tuple[int, UnitFacts]]:
    """Run ``load_unit`` on a local process pool, at most 2 x workers tasks in flight, and
    yield (task index, result) as each finishes."""
    numbered = enumerate(tasks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = {pool.submit(load_unit, *task): i for i, task in islice(numbered, 2 * workers)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                for i, task in islice(numbered, 1):
                    pending[pool.submit(load_unit, *task)] = i
                yield index, future.result()


def dask_client(address: str) -> Any:
    """A client of the Dask distributed scheduler at ``address``, connected now, so an
    unreachable scheduler stops the run before anything is written."""
    try:
        from distributed import Client
    except ImportError:
        raise ConsolidationError("--scheduler needs Dask: pip install 'sopfin[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConsolidationError(f"cannot reach the Dask scheduler at {address}: {exc}") \
            from None


def dask_results(tasks: Iterable[Task], client: Any,
                 window: int = 64) -> Iterator[tuple[int, UnitFacts]]:
    """The same tasks on a Dask distributed cluster, at most ``window`` in flight; closes
    the client when done."""
    from distributed import as_completed

    numbered = enumerate(tasks)
    with client:
        index = {}
        first = []
        for i, task in islice(numbered, window):
            future = client.submit(load_unit, *task, pure=False)
            index[future.key] = i
            first.append(future)
        running = as_completed(first)
        for future in running:
            i = index.pop(future.key)
            result = future.result()
            future.release()
            for j, task in islice(numbered, 1):
                nxt = client.submit(load_unit, *task, pure=False)
                index[nxt.key] = j
                running.add(nxt)
            yield i, result


# --- the consolidation ---------------------------------------------------------------------
def consolidate(out: str | Path, workbooks: Sequence[str | Path], *, reporting: str = "USD",
                fx: str | Path | None = None, scheduler: str | None = None,
                workers: int | None = None, progress: Progress = lambda _m: None,
                ) -> Consolidation:
    """Consolidate ``workbooks`` into the new workbook ``out`` (which must not exist) and the
    DuckDB file beside it (``out`` with suffix .duckdb, made fresh)."""
    started = time.perf_counter()
    out = Path(out)
    paths = [Path(p) for p in workbooks]
    names = unit_names(paths)
    table, fx_issues = read_fx(Path(fx) if fx is not None else None)
    tasks = [(str(p), n) for p, n in zip(paths, names, strict=True)]
    results = (dask_results(tasks, dask_client(scheduler)) if scheduler
               else local_results(tasks, workers or os.cpu_count() or 1))
    database = out.with_suffix(".duckdb")
    store = FactStore(database, reporting)
    try:
        store.add_rates(table.rates)
        issues = [(FX_TABLE, i) for i in fx_issues]
        loaded, seconds = _load_units(store, results, progress, started)
        issues += loaded
        issues += _exclude_missing_rates(store, reporting, table.source)
        progress("query...")
        bridge_rows, bridge_issues = bridges(store.bridge_inputs())
        store.add_bridge(bridge_rows)
        issues += bridge_issues
        result = Consolidation(out, database, reporting, store.units(), store.summary(),
                               store.bridge(), issues)
        monthly = store.monthly()
    finally:
        store.close()
    result.seconds.update(seconds)
    progress("write...")
    create_workbook(out, consolidated_sheets(result, monthly))
    result.seconds["total"] = time.perf_counter() - started
    return result


def _load_units(store: FactStore, results: Iterator[tuple[int, UnitFacts]],
                progress: Progress, started: float,
                ) -> tuple[list[tuple[str, Issue]], dict[str, float]]:
    """Add each unit to the store as its task finishes; its issues, and the workers' seconds
    in all and reading."""
    issues: list[tuple[str, Issue]] = []
    seconds = {"unit_tasks": 0.0, "reading": 0.0}
    for count, (index, unit) in enumerate(results, start=1):
        store.add_unit(index, unit)
        seconds["unit_tasks"] += unit.total_seconds
        seconds["reading"] += unit.read_seconds
        issues += [(unit.unit, i) for i in unit.issues]
        progress(f"{count} unit(s) read ({unit.unit}), {time.perf_counter() - started:.1f}s")
    return issues, seconds


def _exclude_missing_rates(store: FactStore, reporting: str,
                           source: str) -> list[tuple[str, Issue]]:
    missing = store.missing_rates()
    store.exclude(sorted(set(missing["unit"])))
    rows = missing[["unit", "currency", "month", "kind"]].astype(str).to_numpy().tolist()
    return [(unit, missing_rate_issue(unit, currency, month, kind, reporting, source))
            for unit, currency, month, kind in rows]


def consolidated_sheets(result: Consolidation, monthly: pd.DataFrame) -> list[SheetSpec]:
    units = result.units
    status = status_line(int(units["included"].sum()), len(units), result.reporting)
    if not result.complete and status[1] is not Style.ERROR:
        status = (f"INCOMPLETE: {len(result.errors)} error(s) in the FX table; see Issues.",
                  Style.ERROR)
    currencies = dict(zip(units["unit"], units["currency"], strict=True))
    return [summary_sheet(result.summary, monthly, currencies, result.reporting, status),
            bridge_sheet(result.bridge, result.reporting),
            units_sheet(units, status),
            issues_sheet(result.issues)]
