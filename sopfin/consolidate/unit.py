"""One business unit's plan workbook, read and dollarized for the consolidation.

``load_unit`` is the per-workbook task: it runs in a worker (a local process or a Dask
worker), goes through the same check -> dollarize steps as ``sopfin dollarize`` (writing
nothing) and returns plain, picklable data (``sopfin.consolidate.facts.UnitFacts``): the
unit's facts in its functional currency, its issues, and its ledger's latest version, status
and head hash. A workbook that fails its checks, or cannot be read at all, comes back with
its issues and no facts.
"""

from __future__ import annotations

import time

from sopfin.close.published import load_ledger
from sopfin.consolidate.facts import UnitFacts, ledger_head, unit_facts
from sopfin.model import CellRef, Issue, IssueCode, Severity, has_errors
from sopfin.pipeline import check_with_finance, dollarize_step
from sopfin.xlsx.errors import WorkbookError

READING_STEPS = ("read", "parse", "finance")  # the steps that read the file


def load_unit(path: str, unit: str) -> UnitFacts:
    """Read, check and dollarize one workbook; never raises for what is in the file."""
    started = time.perf_counter()
    try:
        return _load(path, unit, started)
    except WorkbookError as exc:
        return _unreadable(path, unit, str(exc), started)
    except OSError as exc:
        return _unreadable(path, unit, f"{exc.strerror or exc}", started)


def _unreadable(path: str, unit: str, reason: str, started: float) -> UnitFacts:
    issue = Issue(IssueCode.WORKBOOK_UNREADABLE, Severity.ERROR, CellRef(""),
                  f"the workbook cannot be read: {' '.join(reason.split())}",
                  "fix or replace the file, then consolidate again")
    return UnitFacts(unit, path, issues=(issue,), total_seconds=time.perf_counter() - started)


def _load(path: str, unit: str, started: float) -> UnitFacts:
    result = check_with_finance(path)
    timings = result.timings
    read_seconds = sum(timings.steps.get(s, 0.0) for s in READING_STEPS)
    plan = result.plan
    if plan is None or not result.ok:
        return UnitFacts(unit, path, issues=tuple(result.issues), read_seconds=read_seconds,
                         total_seconds=time.perf_counter() - started,
                         currency=plan.settings.currency if plan is not None else "")
    scenario = plan.settings.reconciled_scenario
    d, engine_issues = dollarize_step(plan, [scenario], timings)
    overrides = result.finance.overrides if result.finance is not None else ()
    reading = time.perf_counter()
    head = ledger_head(load_ledger(result.book))
    read_seconds += time.perf_counter() - reading
    issues = (*result.issues, *engine_issues)
    facts = None if has_errors(list(issues)) else unit_facts(d, overrides, scenario)
    return UnitFacts(unit, path, plan.settings.currency, scenario, tuple(plan.months),
                     issues, head, facts, read_seconds, time.perf_counter() - started)
