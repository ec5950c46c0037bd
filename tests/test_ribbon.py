"""Each ribbon entry point, driven on an in-memory book with xlwings' interface: it runs the
same pipeline as the command line, reports in the status bar and on the Issues sheet, and a
failure leaves the workbook as it was."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

from fake_xlwings import FakeApp, book_with
from plan_tables import base, set_cell
from sopfin import layout
from sopfin.excel import ribbon
from sopfin.excel.live import LiveWorkbook
from sopfin.model import Severity
from sopfin.pipeline import check as check_plan

RIBBON_SOURCE = Path(ribbon.__file__)


def _cells(book, name):
    return {k: v["value"] for k, v in book.sheets[name]._cells.items()}


def test_the_entry_points_are_the_vba_contract():
    assert ribbon.ENTRY_POINTS == ("new_plan", "check", "dollarize", "reconcile", "publish",
                                   "approve", "verify", "compare", "help")
    for name in ribbon.ENTRY_POINTS:
        assert callable(getattr(ribbon, name))


def test_new_plan_adds_only_the_missing_input_sheets():
    grids = {k: v for k, v in base().items() if k in (layout.SETTINGS, layout.DEMAND)}
    book = book_with(grids)
    demand_before = _cells(book, layout.DEMAND)
    message = ribbon.new_plan(book=book)
    names = [s.name for s in book.sheets]
    assert names[:2] == [layout.SETTINGS, layout.DEMAND]
    assert set(names) == set(layout.PLAN_SHEET_NAMES)  # the finance sheets too
    assert _cells(book, layout.DEMAND) == demand_before
    supply = book.sheets[layout.SUPPLY]  # months from the book's own Settings (2027-01, 3)
    assert [supply._value(1, c) for c in range(1, 6)] == [
        "Scenario", "Family", "2027-01", "2027-02", "2027-03"]
    assert "added Families" in message and book.app.status_bar == message
    assert not LiveWorkbook(book).owned_sheet_names()  # input sheets belong to the user
    assert ribbon.new_plan(book=book).endswith("nothing added")


def test_check_reports_in_the_status_bar_and_on_the_issues_sheet():
    grids = base()
    set_cell(grids, "Demand", "D2", -5.0)
    book = book_with(grids)
    message = ribbon.check(book=book)
    expected = check_plan(LiveWorkbook(book_with(grids)))
    errors = sum(i.severity is Severity.ERROR for i in expected.issues)
    assert errors >= 1
    assert message == book.app.status_bar
    assert f"{errors} error(s)" in message
    issues = book.sheets[layout.ISSUES]
    assert issues._value(3, 2) == "negative-value" and issues._value(3, 3) == "Demand!D2"
    assert layout.REVENUE not in [s.name for s in book.sheets]


def test_dollarize_writes_the_outputs_and_says_so():
    book = book_with(base())
    message = ribbon.dollarize(book=book)
    assert set(layout.OUTPUT_SHEET_NAMES) <= {s.name for s in book.sheets}
    assert message.startswith("sopfin: wrote Revenue") and book.app.status_bar == message
    assert book.app.screen_updating is True and book._saved == 0


def test_dollarize_with_errors_writes_only_the_issues_sheet():
    grids = base()
    set_cell(grids, "Prices", "C2", "n/a")
    book = book_with(grids)
    before = {s.name for s in book.sheets}
    message = ribbon.dollarize(book=book)
    assert {s.name for s in book.sheets} == before | {layout.ISSUES}
    assert "not dollarized" in message and "see the Issues sheet" in message
    setup = book.sheets[layout.ISSUES].api.PageSetup._attrs  # it prints like every output
    assert (setup["FitToPagesWide"], setup["PrintTitleRows"]) == (1, "$1:$2")


def test_a_failure_is_reported_and_leaves_the_workbook_unchanged():
    grids = base()
    grids["Revenue"] = [["my own revenue notes"]]
    book = book_with(grids)
    before = [s.name for s in book.sheets]
    message = ribbon.dollarize(book=book)
    assert "dollarize failed, the workbook is unchanged" in message
    assert "'Revenue' already exists" in message
    assert [s.name for s in book.sheets] == before
    assert _cells(book, "Revenue") == {(1, 1): "my own revenue notes"}


def test_help_writes_the_help_sheet():
    book = book_with(base())
    message = ribbon.help(book=book)
    sheet = book.sheets[ribbon.HELP_SHEET]
    assert [sheet._value(r, 1) for r in range(3, 3 + len(ribbon.CYCLE))] == [
        name for name, _ in ribbon.CYCLE]
    assert ribbon.HELP_SHEET in message
    ribbon.help(book=book)  # again: replaced, not refused
    assert [s.name for s in book.sheets].count(ribbon.HELP_SHEET) == 1


# --------------------------------------------------------------------- the publish contract
class _Result:
    def __init__(self, ok: bool, lines: list[str]) -> None:
        self.ok, self._lines = ok, lines

    def lines(self) -> list[str]:
        return self._lines


@pytest.fixture
def publishing(monkeypatch):
    """A stand-in for ``sopfin.close.publish`` that records each call made through its contract."""
    calls = []
    module = types.ModuleType("sopfin.close.publish")

    def record(name, ok=True):
        def call(*args, **kwargs):
            calls.append((name, args, kwargs))
            return _Result(ok, [f"{name} line {k}" for k in range(1, 5)])
        return call

    module.run_reconcile = record("run_reconcile")
    module.run_close = record("run_close")
    module.run_approve = record("run_approve")
    module.run_verify = record("run_verify", ok=False)
    module.run_diff = record("run_diff")
    monkeypatch.setitem(sys.modules, "sopfin.close.publish", module)
    return calls


def test_publish_side_buttons_call_the_contract(publishing, monkeypatch):
    monkeypatch.delenv("SOPFIN_KEY", raising=False)
    monkeypatch.delenv("SOPFIN_KEY_FILE", raising=False)
    app = FakeApp(answers=["3", "1", "2"])
    book = book_with(base(), app=app)
    assert "reconcile done" in ribbon.reconcile(book=book)
    assert "publish done" in ribbon.publish(book=book, author="Dana")
    assert "approve done" in ribbon.approve(book=book, by="Lee")  # version asked: 3
    message = ribbon.verify(book=book)
    assert "verify NOT done: run_verify line 1" in message and "(+1 more)" in message
    assert "compare done" in ribbon.compare(book=book)  # versions asked: 1 then 2
    names = [c[0] for c in publishing]
    assert names == ["run_reconcile", "run_close", "run_approve", "run_verify", "run_diff"]
    by_name = {c[0]: c for c in publishing}
    assert isinstance(by_name["run_close"][1][0], LiveWorkbook)
    assert by_name["run_close"][2] == {"author": "Dana", "key": None}
    assert by_name["run_approve"][2] == {"version": 3, "by": "Lee", "key": None}
    assert by_name["run_diff"][1][1:] == (1, 2)
    assert book.app.status_bar.startswith("sopfin: compare done")


def test_the_buttons_pass_the_ledger_key_from_the_environment(publishing, monkeypatch):
    monkeypatch.setenv("SOPFIN_KEY", "ab" * 16)
    book = book_with(base())
    ribbon.publish(book=book, author="Dana")
    ribbon.approve(book=book, version=1, by="Lee")
    ribbon.verify(book=book)
    assert [c[2]["key"] for c in publishing] == [bytes.fromhex("ab" * 16)] * 3
    monkeypatch.setenv("SOPFIN_KEY", "")
    monkeypatch.setenv("SOPFIN_KEY_FILE", "/nonexistent/ledger.key")
    message = ribbon.publish(book=book, author="Dana")
    assert message.startswith("sopfin: publish failed, the workbook is unchanged: cannot read")
    assert len(publishing) == 3


def test_cancelled_input_box_runs_nothing(publishing):
    book = book_with(base(), app=FakeApp(answers=[]))  # the input box returns False
    assert ribbon.approve(book=book) == "sopfin: approve cancelled (no version given)"
    assert ribbon.compare(book=book, version_a=1) == "sopfin: compare cancelled (no version " \
                                                       "given)"
    assert publishing == []


def test_publish_defaults_the_author_to_the_os_user(publishing):
    ribbon.publish(book=book_with(base()))
    assert publishing[0][2]["author"] == ribbon._user() != ""


def test_api_is_touched_only_in_the_input_box_function():
    tree = ast.parse(RIBBON_SOURCE.read_text(encoding="utf-8"))
    for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        uses = [n for n in ast.walk(func) if isinstance(n, ast.Attribute) and n.attr == "api"]
        assert not uses or func.name == "_api_input_box", func.name


def test_the_monthly_close_through_the_buttons_with_the_real_pipeline():
    """Reconcile, publish twice, approve, verify and compare on an open (in-memory) book,
    through the same sopfin.publish the command line uses."""
    app = FakeApp(answers=["1", "1", "2"])
    book = book_with(base(), app=app)
    assert "reconcile done" in ribbon.reconcile(book=book)
    assert "publish done" in ribbon.publish(book=book, author="Dana")
    assert "nothing changed since v001" in ribbon.publish(book=book, author="Dana")
    assert "publish done" in ribbon.publish(book=book, author="Kim")
    names = [s.name for s in book.sheets]
    assert layout.recon_tab_name(1) in names and layout.recon_tab_name(2) in names
    assert "approve done" in ribbon.approve(book=book, by="Lee")  # version asked: 1
    assert "verify done" in ribbon.verify(book=book)
    assert "compare done" in ribbon.compare(book=book)  # versions asked: 1 then 2
    from sopfin.close.publish import load_ledger

    ledger = load_ledger(LiveWorkbook(book))
    assert [(e.event, e.version) for e in ledger] == [("publish", 1), ("publish", 2),
                                                      ("approve", 1)]
