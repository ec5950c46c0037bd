"""Negative units on Budget or Actuals are errors at their cells, never a crash of the bridge
(the price/volume/mix bridge cannot take units below zero)."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pytest

from sopfin.cli import main


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "plan.xlsx"
    assert main(["new", "--demo", str(path)]) == 0
    return path


@pytest.mark.parametrize("sheet, cell, command", [
    ("Budget", "E3", "close"), ("Budget", "F3", "reconcile"), ("Actuals", "", "close")])
def test_negative_units_are_an_error_at_the_cell(tmp_path, built_demo, capsys, sheet, cell,
                                                   command):
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    if sheet == "Actuals":  # a row after the demo's opex rows, in the month 2027-01
        ws.append(["PMP-100", "units", None, None, -500])
        cell = f"E{ws.max_row}"
    else:
        assert ws["B3"].value == "units"
        ws[cell] = -100
    wb.save(path)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["check", str(path), "--json"]) == 1
    issues = json.loads(capsys.readouterr().out)["issues"]
    assert [(i["code"], i["sheet"], i["cell"]) for i in issues
            if i["severity"] == "error"] == [("negative-value", sheet, cell)]
    assert main([command, str(path)]) == 1
    out = capsys.readouterr()
    assert f"error[negative-value] plan.xlsx!{sheet}!{cell}" in out.out
    assert "Traceback" not in out.err
    assert path.read_bytes() == before
