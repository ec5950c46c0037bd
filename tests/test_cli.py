"""The command line end to end on real workbook files: exit codes, messages, nothing written
on error, and the demo."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from contextlib import nullcontext
from pathlib import Path

import openpyxl
import pytest

from sopfin import layout
from sopfin.cli import command, main
from sopfin.xlsx.writer import owned_sheet_names, sheet_names


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit_cell(path: Path, sheet: str, cell: str, value, error: bool = False) -> None:
    """Simulate a user typing into an input sheet (openpyxl is fine for test inputs)."""
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    if error:
        wb[sheet][cell].data_type = "e"
    wb.save(path)


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("new", "init", "check", "dollarize", "demo"):
        assert name in out
    assert "Exit codes" in out


@pytest.mark.parametrize(("argv", "collector"), [
    (["check", "{demo}"], False),
    (["check", "{demo}", "--json"], False),
    (["serve", "--help"], True),
])
def test_the_process_runs_a_one_off_command_without_the_cyclic_collector(
        demo_copy, argv, collector):
    was = gc.isenabled()
    gc.enable()
    try:
        with pytest.raises(SystemExit) if "--help" in argv else nullcontext():
            command([a.format(demo=demo_copy) for a in argv])
        assert gc.isenabled() is collector
    finally:
        gc.enable() if was else gc.disable()


def test_check_on_the_demo_is_clean(demo_copy, capsys):
    assert main(["check", str(demo_copy)]) == 0
    assert "ok, ready to dollarize" in capsys.readouterr().out


def test_dollarize_writes_the_owned_sheets_and_prints_the_summary(demo_copy, capsys):
    before = sheet_names(demo_copy)
    assert main(["dollarize", str(demo_copy)]) == 0
    out = capsys.readouterr().out
    for scenario in ("upside", "base", "downside"):
        assert scenario in out
    after = sheet_names(demo_copy)
    assert after[: len(before)] == before
    assert set(layout.OUTPUT_SHEET_NAMES) <= owned_sheet_names(demo_copy)
    assert not (set(layout.INPUT_SHEET_NAMES) & owned_sheet_names(demo_copy))


def test_dollarize_twice_replaces_in_place(demo_copy):
    assert main(["dollarize", str(demo_copy), "-q"]) == 0
    first = sheet_names(demo_copy)
    size = demo_copy.stat().st_size
    assert main(["dollarize", str(demo_copy), "-q"]) == 0
    assert sheet_names(demo_copy) == first
    assert abs(demo_copy.stat().st_size - size) < 0.01 * size


def test_bad_cells_are_all_reported_with_their_cells_and_nothing_is_written(demo_copy, capsys):
    edit_cell(demo_copy, "Demand", "E3", "lots")
    edit_cell(demo_copy, "Prices", "D4", "#N/A", error=True)
    before = digest(demo_copy)
    assert main(["dollarize", str(demo_copy)]) == 1
    out = capsys.readouterr().out
    assert "Demand!E3" in out and "not-a-number" in out
    assert "Prices!D4" in out and "#N/A" in out
    assert "not written" in out
    assert digest(demo_copy) == before


def test_check_json_gives_issues_as_data(demo_copy, capsys):
    edit_cell(demo_copy, "Supply", "D2", -5)
    assert main(["check", str(demo_copy), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    found = [i for i in payload["issues"] if i["sheet"] == "Supply" and i["cell"] == "D2"]
    assert found and found[0]["code"] == "negative-value"
    assert found[0]["severity"] == "error"


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.xlsx")]) == 2
    assert "nope.xlsx" in capsys.readouterr().err


def test_workbook_open_in_excel_is_refused_unchanged(demo_copy, capsys):
    lock = demo_copy.parent / f"~${demo_copy.name}"
    lock.write_bytes(b"user")
    before = digest(demo_copy)
    assert main(["dollarize", str(demo_copy)]) == 2
    assert "open" in capsys.readouterr().err.lower()
    assert digest(demo_copy) == before


def test_unknown_scenario_is_a_usage_error(demo_copy, capsys):
    assert main(["dollarize", str(demo_copy), "--scenario", "moonshot"]) == 2
    assert "moonshot" in capsys.readouterr().err


def test_single_scenario(demo_copy, capsys):
    assert main(["dollarize", str(demo_copy), "--scenario", "base", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in payload["summary"]] == ["base"]


def test_new_refuses_to_overwrite_without_force(demo_copy, capsys):
    before = digest(demo_copy)
    assert main(["new", str(demo_copy)]) == 2
    assert digest(demo_copy) == before


def test_new_blank_then_init_adds_nothing_twice(tmp_path, capsys):
    path = tmp_path / "blank.xlsx"
    assert main(["new", str(path), "--first-period", "2027-07", "--horizon", "12"]) == 0
    wb = openpyxl.load_workbook(path)
    header = [c.value for c in wb["Demand"][1]]
    assert header[-12] == "2027-07" and header[-1] == "2028-06"
    assert main(["init", str(path)]) == 0
    assert "nothing to add" in capsys.readouterr().out


def test_init_on_an_existing_workbook_adds_input_sheets(tmp_path, corpus_dir):
    path = tmp_path / "book.xlsx"
    shutil.copyfile(corpus_dir / "083_PhpSpreadsheet_threesheets.xlsx", path)
    original = sheet_names(path)
    assert main(["init", str(path), "-q"]) == 0
    assert sheet_names(path) == original + list(layout.PLAN_SHEET_NAMES)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


def test_demo_command_in_a_real_process(tmp_path):
    path = tmp_path / "demo.xlsx"
    proc = subprocess.run([sys.executable, "-m", "sopfin.cli", "demo", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "Plan vs budget" in proc.stdout
    assert "base" in proc.stdout
    again = subprocess.run([sys.executable, "-m", "sopfin.cli", "demo", str(path)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--force" in again.stderr
