"""The monthly close as a new user meets it, on real workbook files: a close with nothing
changed, the windows analysts type, what every command does with bad arguments, forked
copies, versions that are not there, the finance sheets in check, new and init, grouped
warnings, and the plan as one number on Summary, in the printed summary and on the Recon tab.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import sopfin
from sopfin import layout
from sopfin.cli import main
from sopfin.close.publish import load_ledger
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.plan.demo import demo_sheets
from sopfin.terminal import GROUP_ABOVE, issue_lines
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.readback import read_cells
from sopfin.xlsx.writer import create_workbook, sheet_names

REPO = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command as its console script runs it: exit code, stdout, stderr. An exception
    that escapes ``main`` fails the test (it would be a traceback for the user)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory) -> Path:
    """The demo company at a third of its size (its overrides and actions included)."""
    path = tmp_path_factory.mktemp("loop") / "plan.xlsx"
    create_workbook(path, demo_sheets(families=10, months=12))
    return path


@pytest.fixture(scope="module")
def demo_closed(demo_plan, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("loop-closed") / "plan.xlsx"
    shutil.copyfile(demo_plan, path)
    assert main(["close", str(path), "--author", "A. Analyst", "-q"]) == 0
    return path


@pytest.fixture
def plan(demo_plan, tmp_path) -> Path:
    target = tmp_path / "plan.xlsx"
    shutil.copyfile(demo_plan, target)
    return target


@pytest.fixture
def closed(demo_closed, tmp_path) -> Path:
    target = tmp_path / "closed.xlsx"
    shutil.copyfile(demo_closed, target)
    return target


def published(path: Path) -> list[int]:
    return [e.version for e in load_ledger(FileWorkbook(path)) if e.event == "publish"]


# --- a close with nothing changed ---------------------------------------------------------
def test_a_second_close_with_nothing_changed_publishes_nothing(closed, capsys):
    before = digest(closed)
    code, out, _ = run(["close", str(closed), "--author", "A. Analyst"], capsys)
    assert code == 0
    assert "nothing changed since v001" in out and "published nothing" in out
    assert digest(closed) == before  # not one byte written
    code, out, _ = run(["close", str(closed), "--author", "A. Analyst", "--force"], capsys)
    assert code == 0 and "published Recon v002" in out
    assert published(closed) == [1, 2]


@pytest.mark.parametrize("change", ["author", "override", "setting", "window"])
def test_any_change_publishes_a_new_version(closed, change, capsys):
    argv = ["close", str(closed), "--author", "A. Analyst", "-q"]
    if change == "author":
        argv[3] = "B. Analyst"
    elif change == "window":
        argv += ["--window", "FY2027"]
    else:
        wb = openpyxl.load_workbook(closed)
        if change == "override":
            wb[layout.OVERRIDES]["F2"] = wb[layout.OVERRIDES]["F2"].value + 1000.0
        else:
            settings = wb[layout.SETTINGS]
            row = next(r for r in settings.iter_rows(min_row=2)
                       if str(r[0].value).lower().startswith("materiality"))
            row[1].value = (row[1].value or 0) + 1
        wb.save(closed)
    assert run(argv, capsys)[0] == 0
    assert published(closed) == [1, 2], change


# --- windows --------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, label", [
    ("Mar 2027", "2027-03"), ("2027-03", "2027-03"), ("q2 2027", "FY2027 Q2"),
    ("2027-Q2", "FY2027 Q2"), ("FY2027 Q2", "FY2027 Q2"), ("fy27", "FY2027"),
    ("FY2027", "FY2027"), ("ytd", "YTD 2027-01"), ("horizon", "Horizon"),
])
def test_reconcile_takes_the_windows_analysts_type(plan, typed, label, capsys):
    code, out, _ = run(["reconcile", str(plan), "--window", typed], capsys)
    assert code == 0 and out.startswith(f"base, {label}: plan lands at"), out


@pytest.mark.parametrize("typed", ["Q5 2027", "next quarter", "2027-13", "FY2027 Q9"])
def test_a_window_that_cannot_be_read_is_one_line_listing_the_forms(plan, typed, capsys):
    before = digest(plan)
    code, out, err = run(["close", str(plan), "--window", typed], capsys)
    assert code == 2 and out == "" and digest(plan) == before
    assert len(err.strip().splitlines()) == 1, err
    for form in ("2027-03", "Mar 2027", "2027-Q1", "Q1 2027", "FY2027 Q1", "FY27", "FY2027",
                 "YTD", "Horizon"):
        assert form in err


def test_a_window_outside_the_horizon_is_a_usage_error(plan, capsys):
    code, out, err = run(["reconcile", str(plan), "--window", "FY2040"], capsys)
    assert code == 2 and "no month inside the plan horizon" in err
    assert len(err.strip().splitlines()) == 1


# --- no traceback for any user input --------------------------------------------------------
def bad_arguments(tmp: Path, book: Path) -> list[list[str]]:
    """Every command with the mistakes a user makes: missing, wrong or unreadable files, bad
    values and unknown flags."""
    missing, folder = tmp / "missing.xlsx", tmp / "folder.xlsx"
    folder.mkdir()
    text = tmp / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    empty = tmp / "empty.xlsm"
    empty.write_bytes(b"")
    csv = tmp / "plan.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    files = [missing, folder, text, empty, csv]
    b = str(book)
    cases = [[command, str(f)] for command in ("check", "dollarize", "reconcile", "close",
                                               "verify", "init") for f in files]
    cases += [["diff", str(f), "1", "2"] for f in files]
    cases += [["approve", str(f), "--version", "1", "--by", "x"] for f in files]
    cases += [
        ["new", str(tmp / "x.txt")], ["new", str(folder)], ["new", b],
        ["new", str(tmp / "n.xlsx"), "--first-period", "2027-13"],
        ["new", str(tmp / "n.xlsx"), "--horizon", "0"],
        ["new", str(tmp / "n.xlsx"), "--horizon", "many"],
        ["demo", b], ["demo", str(folder), "--force"],
        ["check", b, "--bogus"], ["check"], [], ["bogus"], ["close", b, "--window"],
        ["dollarize", b, "--scenario", "nope"], ["dollarize", b, "--scenario", ""],
        ["reconcile", b, "--window", "Q9"], ["close", b, "--window", "FY2099"],
        ["close", b, "--key-file", str(missing)], ["close", b, "--key-file", str(folder)],
        ["approve", b, "--version", "abc", "--by", "x"],
        ["approve", b, "--version", "99", "--by", "x"], ["approve", b, "--version", "1"],
        ["diff", b, "v0", "v1"], ["diff", b, "v1", "v99"], ["diff", b, "vx", "1"],
        ["diff", b, "-1", "2"], ["diff", b, "1"],
        ["verify", b, str(missing)], ["verify", b, str(text)], ["verify", b, str(folder)],
        ["verify", b, "--key-file", str(missing)],
        ["init", b, "--first-period", "someday"], ["new", str(tmp / "s.xlsx"), "--scenarios", ","],
        ["approve", b, "--version", "1", "--by", " "],
    ]
    return cases


def test_no_command_prints_a_traceback_for_bad_arguments(closed, tmp_path, capsys):
    for argv in bad_arguments(tmp_path, closed):
        code, out, err = run(argv, capsys)
        assert code in (1, 2), (argv, code, out, err)
        assert "Traceback" not in out + err, (argv, out, err)
        assert err.strip() or out.strip(), argv  # something says what went wrong


def test_a_bad_argument_in_a_real_process_is_one_line_without_traceback(plan, tmp_path):
    result = subprocess.run([sys.executable, "-m", "sopfin.cli", "diff", str(plan), "v1",
                             "v2"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [
        "sopfin: plan.xlsx: no version v001, v002; versions present: none (run sopfin close "
        "first)"]


# --- verify and diff: exit codes by outcome ---------------------------------------------------
def test_verify_help_documents_its_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 every hash recomputes" in text and "1 " in text and "forked" in text
    assert "2 usage" in text


def test_verify_of_forked_copies_fails_and_of_copies_in_line_passes(closed, tmp_path, capsys):
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    shutil.copyfile(closed, ours)
    shutil.copyfile(closed, theirs)
    assert main(["close", str(ours), "--author", "Ours", "-q"]) == 0
    assert run(["verify", str(ours), str(closed)], capsys)[0] == 0  # ours is ahead
    assert main(["close", str(theirs), "--author", "Theirs", "-q"]) == 0
    code, out, _ = run(["verify", str(ours), str(theirs)], capsys)
    assert code == 1 and "forked after v001" in out


def test_diff_of_a_version_that_is_not_there_lists_the_versions_present(closed, capsys):
    before = digest(closed)
    code, out, err = run(["diff", str(closed), "v001", "v007"], capsys)
    assert (code, out) == (2, "")
    assert err.strip() == "sopfin: closed.xlsx: no version v007; versions present: v001"
    assert digest(closed) == before


# --- the finance sheets: check, new, init ----------------------------------------------------
def test_check_validates_the_finance_sheets_as_close_does(plan, capsys):
    wb = openpyxl.load_workbook(plan)
    wb[layout.OVERRIDES]["G2"] = None  # an override without an owner
    wb[layout.ACTIONS]["G2"] = 7.0  # a probability above 1
    wb.save(plan)
    code, out, _ = run(["check", str(plan)], capsys)
    found = {line for line in out.splitlines() if line.startswith("error[")}
    assert code == 1 and any("Overrides!G2" in line for line in found), out
    assert any("Actions!G2" in line for line in found), out
    code, out, _ = run(["close", str(plan)], capsys)
    assert code == 1 and found <= set(out.splitlines())  # the same issues, word for word


def test_new_and_init_create_the_finance_sheets_with_headers(tmp_path, capsys):
    blank = tmp_path / "blank.xlsx"
    assert run(["new", str(blank)], capsys)[0] == 0
    assert sheet_names(blank) == list(layout.PLAN_SHEET_NAMES)
    wb = openpyxl.load_workbook(blank)
    for spec in layout.FINANCE_SHEETS:
        header = [c.value for c in wb[spec.name][1]]
        assert header[:len(spec.keys)] == list(spec.keys), spec.name
        assert wb[spec.name].max_row == 1  # empty: headers only
    # init adds them to a workbook that has only the input sheets
    partial = tmp_path / "partial.xlsx"
    del wb[layout.ACTUALS], wb[layout.FORECAST]
    wb.save(partial)
    code, out, _ = run(["init", str(partial)], capsys)
    assert code == 0 and "Actuals, Forecast" in out
    assert sheet_names(partial)[-2:] == [layout.ACTUALS, layout.FORECAST]


def test_the_demo_has_every_finance_sheet_and_documented_settings(built_demo):
    demo = built_demo
    assert sheet_names(demo) == list(layout.PLAN_SHEET_NAMES)
    rows = list(openpyxl.load_workbook(demo, read_only=True)[layout.SETTINGS].values)
    assert rows[0] == layout.SETTINGS_HEADERS
    assert all(isinstance(r[2], str) and len(r[2]) > 10 for r in rows[1:])  # a Help text


# --- printed issues ------------------------------------------------------------------------
def test_repeated_warnings_are_one_line_and_close_prints_them_after_the_result(plan, capsys):
    wb = openpyxl.load_workbook(plan)
    demand = wb[layout.DEMAND]
    first = demand.max_column + 1
    for k in range(60):
        demand.cell(1, first + k, f"Note {k + 1}")
    wb.save(plan)
    code, out, _ = run(["check", str(plan)], capsys)
    lines = [ln for ln in out.splitlines() if ln.startswith("warning[unknown-column]")]
    assert code == 0 and len(lines) == 1, out
    assert "(and 59 more like it: Demand!" in lines[0]
    assert "0 error(s), 60 warning(s)" in out
    code, out, _ = run(["close", str(plan), "--author", "A. Analyst"], capsys)
    lines = out.splitlines()
    result = next(i for i, ln in enumerate(lines) if ln.startswith("published Recon v001"))
    warning = next(i for i, ln in enumerate(lines) if ln.startswith("warning[unknown-column]"))
    assert code == 0 and result < warning
    assert sum(ln.startswith("warning[unknown-column]") for ln in lines) == 1
    assert GROUP_ABOVE < 60


def test_few_warnings_print_in_full_and_errors_are_never_grouped():
    def issue(code: IssueCode, severity: Severity, cell: str) -> Issue:
        return Issue(code, severity, CellRef("Demand", cell), f"something at {cell}")

    few = [issue(IssueCode.UNKNOWN_COLUMN, Severity.WARNING, f"G{k}") for k in range(1, 4)]
    errors = [issue(IssueCode.MISSING_PRICE, Severity.ERROR, f"F{k}") for k in range(1, 9)]
    lines = issue_lines([*few, *errors], "p.xlsx")
    assert lines[:8] == [f"error[missing-price] p.xlsx!Demand!F{k}: something at F{k}."
                         for k in range(1, 9)]
    assert lines[8:11] == [f"warning[unknown-column] p.xlsx!Demand!G{k}: something at G{k}."
                           for k in range(1, 4)]
    assert lines[11:] == ["8 error(s), 3 warning(s) in p.xlsx"]


# --- the plan is one number ----------------------------------------------------------------
def _summary_row(cells: dict[str, object], scenario: str, measure: str, basis: str) -> int:
    for ref, value in cells.items():
        row = int("".join(ch for ch in ref if ch.isdigit()))
        if ref.startswith("C") and value == basis and cells.get(f"A{row}") == scenario \
                and cells.get(f"B{row}") == measure:
            return row
    raise KeyError((scenario, measure, basis))


def test_summary_the_printed_summary_and_the_recon_show_the_same_plan(plan, capsys):
    code, out, _ = run(["dollarize", str(plan)], capsys)
    base_line = next(ln for ln in out.splitlines() if ln.startswith("base "))
    code, closed_out, _ = run(["close", str(plan), "--author", "A. Analyst"], capsys)
    assert code == 0
    lands = next(ln for ln in closed_out.splitlines() if "plan lands at" in ln)
    plan_total = lands.split("plan lands at ")[1].split()[0]  # '265.02M'
    revenue, dollarized, overrides = base_line.split()[1:4]
    assert revenue == plan_total and dollarized != revenue and overrides != "0"
    summary = read_cells(plan, [layout.SUMMARY])[layout.SUMMARY]
    header = {v: ref.rstrip("0123456789") for ref, v in summary.items()
              if ref.endswith("3") and ref[:-1].isalpha()}
    years = [col for label, col in header.items()
             if str(label).startswith("FY") and " Q" not in str(label)]
    assert years

    def total(basis: str) -> float:
        row = _summary_row(summary, "base", "Revenue", basis)
        return sum(summary[f"{col}{row}"].value for col in years)

    assert abs(total("Plan") - (total("Dollarized") + total("Overrides"))) < 0.005
    assert abs(total("Overrides") - 250000.0) < 0.005  # OVR-001 on the demo's Overrides
    assert f"{total('Plan') / 1e6:,.2f}M" == plan_total
    row = _summary_row(summary, "base", "Revenue", "Overrides")
    formulas = [summary[f"{c}{row}"].formula for c in "EFGHIJKLMNOP"]
    assert any("Overrides!" in f for f in formulas)  # by formula, from the Overrides sheet
    figures = sopfin.dollarize(sopfin.read_plan(plan))  # the Python API: the same plan
    frame = figures.summary
    by_year = frame[(frame["period_type"] == "year") & (frame["scenario"] == "base")
                    & (frame["measure"] == "revenue")]
    assert abs(by_year["plan"].sum() - total("Plan")) < 0.005
    assert abs(by_year["overrides"].sum() - total("Overrides")) < 0.005


# --- the demo script -------------------------------------------------------------------------
def _installed() -> bool:
    """bootstrap.sh would not install: a stamp of .venv at least as new as pyproject.toml."""
    stamps = list((REPO / ".venv").glob(".sopfin-installed-*"))
    newest = max((s.stat().st_mtime for s in stamps), default=-1.0)
    return newest >= (REPO / "pyproject.toml").stat().st_mtime


@pytest.mark.skipif(not _installed(),
                    reason="scripts/demo.sh would install sopfin into .venv first")
def test_demo_script_writes_the_path_it_is_given(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh"), "my demo.xlsx"],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my demo.xlsx").exists()
    assert f"demo workbook: {tmp_path / 'my demo.xlsx'}" in result.stdout
    assert not (REPO / "my demo.xlsx").exists()
