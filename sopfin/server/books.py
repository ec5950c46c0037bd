"""The workbooks the API serves: found by name in the root, read once per change on disk.

A workbook is read again only when its file changed (size, modification time or inode), so
repeated requests on an unchanged workbook cost no disk read; ``reads`` counts the reads.
Figures come from the engine (live) or from a published version's frozen tab.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sopfin.close.ledger import APPROVED, PUBLISH, LedgerEntry, current_status
from sopfin.close.records import FinanceInputs, Window
from sopfin.close.window import parse_window
from sopfin.engine.dollarize import dollarize
from sopfin.engine.opex import closed_months
from sopfin.engine.results import Dollarized
from sopfin.engine.summary import summarize
from sopfin.layout import recon_tab_name
from sopfin.model import Issue, Plan, has_errors
from sopfin.money import to_cents
from sopfin.server.security import workbook_path

CACHE_SIZE = 16
FLOWS = ("units", "revenue", "cogs", "gross_margin", "inventory_cash", "revenue_at_risk")
BALANCES = ("inventory_value",)


class PlanIssues(Exception):
    """The workbook's data has errors; ``issues`` lists them with their cells."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(f"{len(issues)} issues")
        self.issues = list(issues)


class NoVersion(LookupError):
    """No published version answers the request."""


@dataclass
class Live:
    plan: Plan
    finance: FinanceInputs | None
    figures: Dollarized
    summary: pd.DataFrame
    issues: list[Issue]


@dataclass
class Book:
    """What the API knows of one workbook at one state of its file."""

    path: Path
    stamp: tuple[int, int, int]
    live: Live | None = None
    live_issues: list[Issue] | None = None
    ledger: list[LedgerEntry] | None = None
    tabs: dict[int, pd.DataFrame] = field(default_factory=dict)
    answers: dict[tuple[object, ...], object] = field(default_factory=dict)


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino


class Books:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.reads = 0
        self._cache: OrderedDict[Path, Book] = OrderedDict()
        self._lock = threading.Lock()
        self._writers: dict[Path, threading.Lock] = {}

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if p.suffix.lower() in (".xlsx", ".xlsm") and p.is_file()
                      and not p.name.startswith(("~$", ".~lock")))

    def path(self, name: str) -> Path:
        return workbook_path(self.root, name)

    def writer(self, path: Path) -> threading.Lock:
        """One write at a time per workbook inside this server (others wait)."""
        with self._lock:
            return self._writers.setdefault(path, threading.Lock())

    def book(self, name: str) -> Book:
        path = self.path(name)
        stamp = _stamp(path)
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached.stamp == stamp:
                self._cache.move_to_end(path)
                return cached
            book = Book(path, stamp)
            self._cache[path] = book
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return book

    def answer(self, name: str, key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
        """A computed answer about the workbook as it is on disk, kept until the file
        changes (the same report asked twice is computed once)."""
        book = self.book(name)
        if key not in book.answers:
            book.answers[key] = compute()
        return book.answers[key]

    def _read(self, fn: Callable[[], Any]) -> Any:
        self.reads += 1
        return fn()

    # -------------------------------------------------------------- live figures
    def live(self, name: str) -> Live:
        book = self.book(name)
        if book.live is None and book.live_issues is None:
            from sopfin.pipeline import check_with_finance

            result = self._read(lambda: check_with_finance(book.path))
            if result.plan is None or has_errors(result.issues):
                book.live_issues = list(result.issues)
            else:
                d, issues = dollarize(result.plan)
                overrides = result.finance.overrides if result.finance else ()
                book.live = Live(result.plan, result.finance, d,
                                 summarize(d, result.plan.settings.fiscal_year_start,
                                           overrides), [*result.issues, *issues])
        if book.live is None:
            raise PlanIssues(book.live_issues or [])
        return book.live

    # -------------------------------------------------------------- the ledger and its tabs
    def ledger(self, name: str) -> list[LedgerEntry]:
        book = self.book(name)
        if book.ledger is None:
            from sopfin.close.published import load_ledger
            from sopfin.xlsx.adapter import FileWorkbook

            book.ledger = self._read(lambda: load_ledger(FileWorkbook(book.path)))
        return book.ledger

    def snapshot(self, name: str, version: int) -> pd.DataFrame:
        book = self.book(name)
        if version not in book.tabs:
            from sopfin.render.recon import snapshot_from_cells
            from sopfin.xlsx.adapter import FileWorkbook

            tab = recon_tab_name(version)
            cells = self._read(lambda: FileWorkbook(book.path).read_cells([tab])).get(tab)
            if not cells:
                raise NoVersion(f"{tab} is not in the workbook")
            book.tabs[version] = snapshot_from_cells(cells).frame()
        return book.tabs[version]


def versions_of(ledger: Sequence[LedgerEntry]) -> list[dict[str, object]]:
    status = current_status(ledger)
    out = []
    for e in ledger:
        if e.event != PUBLISH:
            continue
        out.append({"version": e.version, "cycle": e.cycle, "status": status.get(e.version),
                    "author": e.author, "time": e.timestamp, "note": e.note,
                    "recon_hash": e.recon_hash, "entry_hash": e.entry_hash})
    return out


def chosen_version(ledger: Sequence[LedgerEntry], version: int | None) -> dict[str, object]:
    """The version asked for, or the latest approved one."""
    published = {v["version"]: v for v in versions_of(ledger)}
    if version is not None:
        if version not in published:
            held = ", ".join(f"v{v:03d}" for v in published) or "none"
            raise NoVersion(f"no version {version}; versions published: {held}")
        return published[version]
    approved = [v for v, s in current_status(ledger).items() if s == APPROVED]
    if not approved:
        raise NoVersion("no version is approved yet; ask for ?version=N or ?live=true")
    return published[max(approved)]


def window_of(plan_months: Sequence[str], period: str, fiscal_year_start: int,
              cycle: str) -> Window:
    return parse_window(period, plan_months, fiscal_year_start, cycle)


def live_report(live: Live, window: Window) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per scenario and measure: plan, budget and gap over the window, as the Summary sheet
    shows them (flows summed, inventory at the window's last month, GM % recomputed); revenue,
    COGS and gross margin add the actual of the window's closed months (None when none is
    closed), as the P&L sheet's Actual row sums them."""
    actuals = window_actuals(live, window)
    s = live.summary
    rows = s[(s["period_type"] == "month") & s["period"].isin(window.months)]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    last = window.months[-1]
    for scenario, part in rows.groupby("scenario", sort=False):
        figures: dict[str, dict[str, float]] = {}
        for measure in FLOWS:
            m = part[part["measure"] == measure]
            figures[measure] = _triple(m["plan"].sum(), m["budget"].sum())
        for measure in BALANCES:
            m = part[(part["measure"] == measure) & (part["period"] == last)]
            figures[measure] = _triple(m["plan"].sum(), m["budget"].sum())
        for measure, actual in actuals.items():
            figures[measure]["actual"] = actual  # type: ignore[assignment]
        rev, gm = figures["revenue"], figures["gross_margin"]
        gm_pct: dict[str, float | None] = {
            k: (None if not rev[k] else round(gm[k] / rev[k], 6)) for k in ("plan", "budget")}
        report: dict[str, dict[str, float | None]] = {m: dict(v) for m, v in figures.items()}
        out[str(scenario)] = {**report, "gm_pct": gm_pct}
    return out


def window_actuals(live: Live, window: Window) -> dict[str, float | None]:
    """Revenue, COGS and gross margin booked on Actuals (family rows) in the window's closed
    months: months with any family actual, the close's rule."""
    table = live.finance.actuals if live.finance else None
    closed = closed_months(live.plan.months, table)
    cols = [j for j, m in enumerate(live.plan.months) if m in window.months and closed[j]]
    if table is None or not cols:
        return dict.fromkeys(("revenue", "cogs", "gross_margin"))
    out: dict[str, float | None] = {}
    for measure in ("revenue", "cogs"):
        rows = (table.keys["measure"] == measure).astype(bool)
        out[measure] = float(to_cents(np.nansum(table.values[rows][:, cols])))
    out["gross_margin"] = float(to_cents(out["revenue"] - out["cogs"]))  # type: ignore[operator]
    return out


def _triple(plan: float, budget: float) -> dict[str, float]:
    return {"plan": float(to_cents(plan)), "budget": float(to_cents(budget)),
            "gap": float(to_cents(to_cents(plan) - to_cents(budget)))}


def version_report(snapshot: pd.DataFrame, window: Window) -> dict[str, float]:
    """A published version's plan of record over the window, summed over families."""
    months = [m for m in window.months if m in snapshot.columns]
    if not months:
        raise NoVersion(f"the version's tab holds no month of {window.label}")
    totals = snapshot[months].sum(axis=1).groupby(level="measure").sum()
    out = {str(k): float(to_cents(v)) for k, v in totals.items()}
    if "revenue" in out and "cogs" in out:
        out["gross_margin"] = float(to_cents(out["revenue"] - out["cogs"]))
    return out
