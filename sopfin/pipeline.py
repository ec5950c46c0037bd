"""The visible pipeline: read package -> read -> validate -> dollarize -> render -> write.

Each step is a small named function, timed. A command reads the workbook once
(``read_snapshot``: one open of a file's package) and hands that snapshot to every step; the
write goes to the same snapshot, which refuses when the file changed since. The CLI, the
add-in and notebooks all call the command functions (``check_with_finance``,
``run_dollarize`` here; reconcile, close, approve, rekey in ``sopfin.close.publish``; verify
and diff in ``sopfin.close.verify``); none of them holds business logic. File access happens
only in the read and write steps, through ``sopfin.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sopfin import layout
from sopfin.close.records import FinanceInputs
from sopfin.engine.capital import stranded_warnings
from sopfin.engine.dollarize import dollarize
from sopfin.engine.results import Dollarized
from sopfin.guard.edits import (
    discarded_issues,
    edit_issues,
    edited_cells,
    pending_discards,
    sheets_to_check,
)
from sopfin.model import Issue, Plan, Severity, has_errors
from sopfin.plan.checks import validate
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.render import render_outputs, rerender_issues
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import RawGrid, Workbook, WorkbookSnapshot, WriteOutcome
from sopfin.xlsx.adapter import open_workbook

Progress = Callable[[str], None]
PACKAGE_STEP = "read package"  # the one read of the workbook a command makes, in -v timings


def _quiet(_: str) -> None:
    return None


@dataclass
class Timings:
    """Wall-clock seconds per named step, in the order they ran."""

    steps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str, progress: Progress = _quiet) -> Iterator[None]:
        progress(f"{name}...")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - start

    def total(self) -> float:
        return sum(self.steps.values())


@dataclass
class RunResult:
    """What a pipeline run produced. ``plan``/``dollarized`` are None when a step refused."""

    book: Workbook
    issues: list[Issue]
    raw: Mapping[str, RawGrid] = field(default_factory=dict)  # input grids as read
    plan: Plan | None = None
    dollarized: Dollarized | None = None
    finance: FinanceInputs | None = None  # the finance sheets, when they were read
    specs: list[SheetSpec] | None = None  # the output sheets rendered (``plan_outputs``)
    written: WriteOutcome | None = None  # what the write reported, when it wrote
    timings: Timings = field(default_factory=Timings)

    @property
    def ok(self) -> bool:
        return not has_errors(self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]


def exclusive(book: Workbook) -> AbstractContextManager[object]:
    """Hold ``book`` for a whole read-modify-write: the lock file beside a workbook file, or
    beside the file of a book open in Excel (``sopfin.xlsx.lock``); nothing for a book that
    has none."""
    hold = getattr(book, "exclusive", None)
    return hold() if hold is not None else nullcontext()


def read_snapshot(target: str | Path | Workbook, timings: Timings,
                  progress: Progress = _quiet) -> Workbook:
    """The workbook as this command sees it: one read of the package (a step of its own,
    'read package'), or the snapshot already taken."""
    book = open_workbook(target)
    if isinstance(book, WorkbookSnapshot):
        return book
    with timings.step(PACKAGE_STEP, progress):
        return book.snapshot()


def read_step(book: Workbook, timings: Timings, progress: Progress = _quiet,
              names: Sequence[str] = layout.INPUT_SHEET_NAMES,
              ) -> tuple[Plan | None, list[Issue], Mapping[str, RawGrid]]:
    """Read the input sheets and parse them into a Plan (structure and cell-level issues)."""
    with timings.step("read", progress):
        raw = book.read_raw_sheets(names)
    with timings.step("parse", progress):
        plan, issues = parse_plan(raw, source=book.name)
    return plan, issues, raw


def validate_step(plan: Plan, timings: Timings, progress: Progress = _quiet) -> list[Issue]:
    with timings.step("validate", progress):
        return validate(plan)


def dollarize_step(plan: Plan, scenarios: Sequence[str] | None, timings: Timings,
                   progress: Progress = _quiet) -> tuple[Dollarized, list[Issue]]:
    with timings.step("dollarize", progress):
        d, issues = dollarize(plan, scenarios)
        return d, issues + stranded_warnings(plan, d)


def render_step(plan: Plan, d: Dollarized, issues: Sequence[Issue], timings: Timings,
                progress: Progress = _quiet, finance: FinanceInputs | None = None,
                ) -> list[SheetSpec]:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    fin = finance if finance is not None else FinanceInputs()
    with timings.step("render", progress):
        return render_outputs(plan, d, issues, generated_at=stamp, overrides=fin.overrides,
                              actuals=fin.actuals, opex_actuals=fin.opex_actuals)


def write_step(book: Workbook, specs: Sequence[SheetSpec], timings: Timings,
               progress: Progress = _quiet) -> WriteOutcome:
    with timings.step("write", progress):
        return book.write_sheets(specs, states=layout.OWN_SHEET_STATES)


def check(target: str | Path | Workbook, progress: Progress = _quiet,
          extra_sheets: Sequence[str] = (), timings: Timings | None = None) -> RunResult:
    """Read and validate without writing anything. ``extra_sheets`` are read in the same pass
    (e.g. the finance sheets for a close) and kept in ``result.raw``."""
    timings = timings if timings is not None else Timings()
    book = read_snapshot(target, timings, progress)
    result = RunResult(book=book, issues=[], timings=timings)
    plan, issues, raw = read_step(book, result.timings, progress,
                                  (*layout.INPUT_SHEET_NAMES, *extra_sheets))
    result.raw = raw
    result.issues.extend(issues)
    if plan is None:
        return result
    result.plan = plan
    result.issues.extend(validate_step(plan, result.timings, progress))
    return result


# what ``check_with_finance`` reads: the sheets a close fingerprints as its inputs
CLOSE_INPUT_SHEETS = (*layout.INPUT_SHEET_NAMES, *layout.FINANCE_SHEET_NAMES)


def check_with_finance(target: str | Path | Workbook, progress: Progress = _quiet,
                       timings: Timings | None = None) -> RunResult:
    """The check command: ``check`` plus the finance sheets (Overrides, Actions, Actuals,
    Forecast), validated as a close validates them; writes nothing."""
    result = check(target, progress, layout.FINANCE_SHEET_NAMES, timings)
    if result.plan is not None:
        with result.timings.step("finance", progress):
            result.finance, issues = parse_finance(result.raw, result.plan)
            result.issues.extend(issues)
    return result


def release_raw(result: RunResult) -> None:
    """Drop the input grids of a check once nothing reads them (parsed into ``result.plan``
    and ``result.finance``, fingerprinted by a close): from the result and from the
    snapshot's memory, so they are not alive at the peak of the steps that follow."""
    names = list(result.raw)
    result.raw = {}
    if isinstance(result.book, WorkbookSnapshot):
        result.book.forget_raw_sheets(names)


class UnknownScenarioError(ValueError):
    """Asked to dollarize a scenario that Settings does not list (a usage problem)."""


def unknown_scenarios(plan: Plan, scenarios: Sequence[str] | None) -> list[str]:
    if not scenarios:
        return []
    return [s for s in scenarios if s not in plan.scenarios]


def edits_step(book: Workbook, specs: Sequence[SheetSpec], issues: list[Issue],
               discard: bool, timings: Timings, progress: Progress = _quiet,
               ) -> list[SheetSpec]:
    """Find the cells changed since sopfin wrote them (``sopfin.guard.edits``). Each is an error
    (nothing is written) unless ``discard``: then each becomes an ``edit-discarded`` warning
    on the Issues sheet. Edits discarded earlier and not yet recorded by a close stay there."""
    with timings.step("edits", progress):
        names = sheets_to_check(book)
        found = edited_cells(specs, book.read_cell_rows(names)) if names else []
        if found and not discard:
            issues.extend(edit_issues(found))
            return list(specs)
        old = book.read_raw_sheets([layout.ISSUES]).get(layout.ISSUES)
        pending = pending_discards(old.rows) if old is not None else []
        if not found and not pending:
            return list(specs)
        issues.extend([*pending, *discarded_issues(found)])
        return rerender_issues(specs, issues)


def plan_outputs(result: RunResult, scenarios: Sequence[str] | None = None,
                 progress: Progress = _quiet) -> RunResult:
    """dollarize -> render, after a check (with the finance sheets) that found no error: sets
    ``result.dollarized`` and ``result.specs`` (the output sheets, Summary with the named
    overrides); stops at the first step with an error. ``UnknownScenarioError`` for a
    scenario Settings does not list. What dollarize, reconcile, close and verify share."""
    plan = result.plan
    if plan is None or not result.ok:
        return result
    unknown = unknown_scenarios(plan, scenarios)
    if unknown:
        raise UnknownScenarioError(f"--scenario {', '.join(unknown)}: not in Settings "
                                   f"(scenarios: {', '.join(plan.scenarios)})")
    d, engine_issues = dollarize_step(plan, scenarios, result.timings, progress)
    result.issues.extend(engine_issues)
    result.dollarized = d
    if result.ok:
        result.specs = render_step(plan, d, result.issues, result.timings, progress,
                                   result.finance)
    return result


def run_dollarize(target: str | Path | Workbook, scenarios: Sequence[str] | None = None,
                  progress: Progress = _quiet, *, discard_edits: bool = False) -> RunResult:
    """The dollarize command: read package -> check (with the finance sheets, whose named
    overrides the Summary adds to the plan) -> dollarize -> render -> edits -> write. Writes
    nothing when any error is found, a cell changed since sopfin wrote it among them unless
    ``discard_edits``."""
    book = open_workbook(target)
    with exclusive(book):
        timings = Timings()
        return _dollarize(read_snapshot(book, timings, progress), scenarios, progress,
                          discard_edits, timings)


def _dollarize(book: Workbook, scenarios: Sequence[str] | None, progress: Progress,
               discard_edits: bool, timings: Timings) -> RunResult:
    book.check_writable()  # refuse locked / protected / strict workbooks before any work
    result = plan_outputs(check_with_finance(book, progress, timings), scenarios, progress)
    if result.specs is None:
        return result
    specs = edits_step(book, result.specs, result.issues, discard_edits, result.timings,
                       progress)
    if not result.ok:
        return result
    result.written = write_step(book, specs, result.timings, progress)
    return result
