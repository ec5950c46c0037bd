"""One Python entry point per button of the "S&OP Finance" ribbon tab.

The add-in's VBA calls each through xlwings ``RunPython`` ("import sopfin.excel.ribbon as r;
r.dollarize()"). Each gets the calling workbook (``xw.Book.caller()``, or ``book=`` in tests),
wraps it in ``LiveWorkbook``, runs the same pipeline as the command line, and reports in the
status bar; issues in the plan go to the Issues sheet. A failure leaves the workbook as it
was (the adapter writes all or nothing) and is reported, never raised at the user as a
traceback. Names are a contract with the VBA side: new_plan, check, dollarize, reconcile,
publish, approve, verify, compare, help.
"""

from __future__ import annotations

import getpass
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from sopfin import layout
from sopfin.excel.live import LiveWorkbook
from sopfin.model import Issue, Severity
from sopfin.sheetspec import Block, SheetSpec, Style

DOCS = ("README.md and docs/workbook.md in the sopfin distribution; "
        "`sopfin --help` on the command line")
HELP_SHEET = "S&OP Help"
ENTRY_POINTS = ("new_plan", "check", "dollarize", "reconcile", "publish", "approve", "verify",
                "compare", "help")
CYCLE = (
    ("New plan", "adds the missing input sheets (Settings, Families, Demand, ...)."),
    ("Check", "reads and validates the plan; every issue goes to the Issues sheet."),
    ("Dollarize", "writes Revenue, COGS, Inventory, Cash and Summary as live formulas."),
    ("Reconcile", "writes the finance sheets and the bridge to budget."),
    ("Publish version", "freezes the reconciliation as a protected Recon vNNN tab."),
    ("Approve", "signs off a published version (asks for the version and your name)."),
    ("Verify", "proves the published versions and the ledger are unchanged."),
    ("Compare versions", "lists what changed between two versions (asks for both)."),
)


def _book(book: Any) -> Any:
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


def _status(book: Any, text: str) -> None:
    book.app.status_bar = text[:255]


def _run(book: Any, action: str, body: Callable[[LiveWorkbook], str]) -> str:
    """Run one button's work; the status bar says what happened or what went wrong."""
    book = _book(book)
    _status(book, f"sopfin: {action}...")
    try:
        live = LiveWorkbook(book)
        with live.exclusive():  # every button, not only those that run the pipeline
            message = body(live)
    except Exception as exc:  # reported to the user; the adapter has undone any write
        message = f"sopfin: {action} failed, the workbook is unchanged: {exc}"
    _status(book, message)
    return message


def _issue_counts(issues: Sequence[Issue]) -> str:
    errors = sum(i.severity is Severity.ERROR for i in issues)
    return f"{errors} error(s), {len(issues) - errors} warning(s)"


def _write_issues(live: LiveWorkbook, issues: Sequence[Issue]) -> None:
    """The Issues sheet with these issues, keeping the edits discarded since the last close
    (the next close records them)."""
    from sopfin.guard.edits import pending_discards
    from sopfin.render.issues_sheet import render_issues
    from sopfin.render.page import output_page

    old = live.read_raw_sheets([layout.ISSUES]).get(layout.ISSUES)
    pending = pending_discards(old.rows) if old is not None else []
    live.write_sheets([output_page(render_issues([*issues, *pending], f"{live.name} | issues"))])


def _lines(result: Any) -> str:
    lines = list(result.lines())
    return "; ".join(lines[:3]) + (f" (+{len(lines) - 3} more)" if len(lines) > 3 else "")


# ----------------------------------------------------------------------------- the buttons
def new_plan(book: Any = None) -> str:
    """Add the input sheets this workbook does not have yet; nothing else changes."""

    def body(live: LiveWorkbook) -> str:
        from sopfin.plan.blank_plan import DEFAULT_SETTINGS, plan_sheets
        from sopfin.plan.settings import parse_settings

        existing = set(live.sheet_names())
        settings = DEFAULT_SETTINGS
        if layout.SETTINGS in existing:
            raw = live.read_raw_sheets([layout.SETTINGS])[layout.SETTINGS]
            settings, issues = parse_settings(raw.rows)
            if any(i.severity is Severity.ERROR for i in issues):
                _write_issues(live, issues)
                return f"sopfin: Settings has errors ({_issue_counts(issues)}); see Issues"
        specs = [s for s in plan_sheets(settings) if s.name not in existing]
        if not specs:
            return "sopfin: every input sheet is already there; nothing added"
        live.write_sheets(specs)
        return f"sopfin: added {', '.join(s.name for s in specs)}"

    return _run(book, "new plan", body)


def check(book: Any = None) -> str:
    """Validate the plan; the issues (or 'no open issues') go to the Issues sheet."""

    def body(live: LiveWorkbook) -> str:
        from sopfin.pipeline import check_with_finance as check_plan

        result = check_plan(live)
        _write_issues(live, result.issues)
        if not result.ok:
            return f"sopfin: {_issue_counts(result.issues)}; see the Issues sheet"
        return f"sopfin: plan ok ({_issue_counts(result.issues)}), ready to dollarize"

    return _run(book, "check", body)


def dollarize(book: Any = None, discard_edits: bool = False) -> str:
    """Write the output sheets; with errors, only the Issues sheet is written. A cell changed
    since sopfin wrote it is such an error unless ``discard_edits`` (then it is recorded on
    the Issues sheet and on the next close's ledger entry)."""

    def body(live: LiveWorkbook) -> str:
        from sopfin.pipeline import run_dollarize

        result = run_dollarize(live, discard_edits=discard_edits)
        if not result.ok:
            _write_issues(live, result.issues)
            return (f"sopfin: not dollarized, {_issue_counts(result.issues)}; "
                    "see the Issues sheet")
        return (f"sopfin: wrote {', '.join(layout.OUTPUT_SHEET_NAMES)} "
                f"({_issue_counts(result.issues)})")

    return _run(book, "dollarize", body)


def _publishing(action: str, call: Callable[[Any, LiveWorkbook], Any], book: Any) -> str:
    def body(live: LiveWorkbook) -> str:
        publishing = importlib.import_module("sopfin.close.publish")  # imported on first use
        result = call(publishing, live)
        verdict = "done" if result.ok else "NOT done"
        return f"sopfin: {action} {verdict}: {_lines(result)}"

    return _run(book, action, body)


def _ledger_key() -> bytes | None:
    """The ledger key from ``SOPFIN_KEY`` / ``SOPFIN_KEY_FILE``, as the command line reads
    it: a keyed ledger is never extended without it."""
    from sopfin.close.ledger import load_key

    return load_key(os.environ)


def reconcile(book: Any = None) -> str:
    return _publishing("reconcile", lambda p, live: p.run_reconcile(live), book)


def publish(book: Any = None, author: str | None = None) -> str:
    who = author or _user()
    return _publishing("publish", lambda p, live: p.run_close(live, author=who, key=_ledger_key()),
                       book)


def approve(book: Any = None, version: int | None = None, by: str | None = None) -> str:
    book = _book(book)
    if version is None:
        version = _ask_version(book, "Approve which version? (number, e.g. 3)")
        if version is None:
            return _cancelled(book, "approve")
    who = by or _user()
    return _publishing("approve",
                       lambda p, live: p.run_approve(live, version=version, by=who,
                                                    key=_ledger_key()), book)


def verify(book: Any = None) -> str:
    return _publishing("verify", lambda p, live: p.run_verify(live, key=_ledger_key()), book)


def compare(book: Any = None, version_a: int | None = None,
            version_b: int | None = None) -> str:
    book = _book(book)
    if version_a is None:
        version_a = _ask_version(book, "Compare: the older version (number)")
    if version_a is not None and version_b is None:
        version_b = _ask_version(book, "Compare: the newer version (number)")
    if version_a is None or version_b is None:
        return _cancelled(book, "compare")
    return _publishing("compare", lambda p, live: p.run_diff(live, version_a, version_b), book)


def help(book: Any = None) -> str:  # noqa: A001 - the button's name in the VBA contract
    """Write the help sheet: the monthly close, button by button, and where the docs are."""

    def body(live: LiveWorkbook) -> str:
        rows = [[name, what] for name, what in CYCLE]
        spec = SheetSpec(HELP_SHEET, blocks=(
            Block(1, 1, [["S&OP Finance: the monthly close, in button order"]], style=Style.TITLE),
            Block(2, 1, [["Button", "What it does"]], style=Style.HEADER),
            Block(3, 1, rows, style=Style.TEXT),
            Block(4 + len(rows), 1, [["Documentation", DOCS]], style=Style.NOTE)),
            col_widths={1: 20.0, 2: 90.0})
        live.write_sheets([spec])
        return f"sopfin: see the '{HELP_SHEET}' sheet"

    return _run(book, "help", body)


# ----------------------------------------------------------------------------- input
def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment
        return os.environ.get("USERNAME", "unknown")


def _api_input_box(book: Any, prompt: str) -> Any:
    """Excel's own input box (Type=1: a number); False when the user cancels."""
    return book.app.api.InputBox(prompt, "S&OP Finance", "", Type=1)


def _ask_version(book: Any, prompt: str) -> int | None:
    answer = _api_input_box(book, prompt)
    if answer is False or answer in (None, ""):
        return None
    try:
        version = int(float(answer))
    except (TypeError, ValueError):
        return None
    return version if version >= 1 else None


def _cancelled(book: Any, action: str) -> str:
    message = f"sopfin: {action} cancelled (no version given)"
    _status(book, message)
    return message
