"""``sopfin import`` on the demo workbook: the imported months land on Actuals, a second run
changes nothing, a dry run writes nothing, and any problem leaves the file as it was."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets

GL = """Date,SKU,Qty,Net Sales
2027-01-05,P100-A,10,"1,250.00"
2027-01-20,P100-B,5,625.50
2027-02-03,P110-A,3,900
2027-02-10,P100-A,2,(250.00)
"""
MAP = """
[columns]
date = "Date"
item = "SKU"
[values]
units = "Qty"
revenue = "Net Sales"
[families.map]
"P100-A" = "PMP-100"
"P100-B" = "PMP-100"
"P110-A" = "PMP-110"
"""


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "plan.xlsx"
    assert main(["new", "--demo", str(path)]) == 0
    return path


@pytest.fixture
def plan(tmp_path, built_demo) -> Path:
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    (tmp_path / "gl.csv").write_text(GL, encoding="utf-8")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    return path


def actuals(path: Path) -> list[list[object]]:
    """The header, then the family rows of Actuals: family, measure and the first two months
    (the demo's opex rows, keyed by department and account, are no family import's)."""
    rows = read_raw_sheets(path, ["Actuals"])["Actuals"].rows
    first = rows[0].index("2027-01")
    return [[*r[:2], *r[first:first + 2]] for r in rows if r[1] != "opex"]


def opex_rows(path: Path) -> list[list[object]]:
    return [r for r in read_raw_sheets(path, ["Actuals"])["Actuals"].rows if r[1] == "opex"]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def run(plan: Path, *extra: str) -> int:
    return main(["import", str(plan), str(plan.parent / "gl.csv"), "--into", "Actuals",
                 "--map", str(plan.parent / "map.toml"), *extra])


REGISTRY = ["[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
            "xl/workbook.xml"]


def test_import_sets_the_months_and_a_second_run_changes_only_the_import_log(plan, capsys):
    """The cells of Actuals change, and the one new sheet is the import log (with its entries
    in the registry); a second run of the same import sets no cell and adds its record."""
    before = parts(plan)
    opex = opex_rows(plan)
    assert run(plan) == 0
    assert opex and opex_rows(plan) == opex
    assert actuals(plan)[1:] == [["PMP-100", "revenue", 1875.5, -250.0],
                                 ["PMP-100", "units", 15.0, 2.0],
                                 ["PMP-110", "revenue", None, 900.0],
                                 ["PMP-110", "units", None, 3.0]]
    after = parts(plan)
    changed = sorted(n for n in before if before[n] != after[n])
    sheets = [n for n in changed if n.startswith("xl/worksheets/")]
    assert len(sheets) == 1 and sorted(set(changed) - set(sheets)) == REGISTRY
    added = sorted(set(after) - set(before))
    assert len(added) == 1 and added[0].startswith("xl/worksheets/")
    assert "imported 6 lines into Actuals (2027-01..2027-02)" in capsys.readouterr().out
    assert run(plan) == 0
    again = parts(plan)
    assert again[sheets[0]] == after[sheets[0]]  # Actuals as the first run left it
    assert sorted(n for n in after if after[n] != again[n]) == added
    assert len(read_raw_sheets(plan, ["_Imports"])["_Imports"].rows) == 3  # header + 2
    assert main(["check", str(plan)]) == 0


def test_reimporting_fewer_rows_clears_what_the_source_no_longer_has(plan, capsys):
    assert run(plan) == 0
    (plan.parent / "gl.csv").write_text(GL.splitlines()[0] + "\n" + GL.splitlines()[3] + "\n",
                                        encoding="utf-8")
    capsys.readouterr()
    assert run(plan, "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    # only February is in the source now: February is replaced (PMP-100's February goes,
    # PMP-110's stays as it was), January is left alone
    assert payload["months"] == ["2027-02"]
    assert payload["rows"] == {"updated": 0, "added": 0, "cleared": 2}
    assert payload["totals"] == {"revenue": 900.0, "units": 3.0}
    rows = actuals(plan)[1:]
    assert rows == [["PMP-100", "revenue", 1875.5, None], ["PMP-100", "units", 15.0, None],
                    ["PMP-110", "revenue", None, 900.0], ["PMP-110", "units", None, 3.0]]


def test_dry_run_and_errors_write_nothing(plan, capsys):
    before = plan.read_bytes()
    assert run(plan, "--dry-run") == 0
    assert "would import 6 lines" in capsys.readouterr().out
    (plan.parent / "gl.csv").write_text(GL + "2027-13-01,P999,1,1\n", encoding="utf-8")
    assert run(plan, "--json") == 1
    payload = json.loads(capsys.readouterr().out)
    assert {i["code"] for i in payload["issues"]} == {"source-date-invalid", "item-unmapped"}
    assert {i["location"] for i in payload["issues"]} == {"gl.csv:6 column Date",
                                                          "gl.csv:6 column SKU"}
    assert payload["written"] is False and plan.read_bytes() == before


def test_a_formula_where_the_import_writes_is_never_overwritten(plan, capsys):
    wb = openpyxl.load_workbook(plan)
    ws = wb["Actuals"]
    ws.append(["PMP-100", "revenue", None, None, "=1+1"])  # in the month 2027-01
    row = ws.max_row
    wb.save(plan)
    before = plan.read_bytes()
    assert run(plan) == 1
    assert f"Actuals!E{row} holds a formula" in capsys.readouterr().out
    assert plan.read_bytes() == before


def test_a_preset_with_the_mapping_sheet_in_the_workbook(plan):
    wb = openpyxl.load_workbook(plan)
    ws = wb.create_sheet("Mapping")
    for row in (["Item", "Family"], ["P100-A", "PMP-100"], ["P100-B", "PMP-100"],
                ["P110-A", "PMP-110"]):
        ws.append(row)
    wb.save(plan)
    sap = plan.parent / "billing.csv"
    sap.write_text("Billing Date,Material,Billed Quantity,Net Value\n"
                   "05.01.2027,P100-A,10,1250.00\n03.02.2027,P110-A,3,900.00\n",
                   encoding="utf-8")
    assert main(["import", str(plan), str(sap), "--into", "Actuals",
                 "--map", "preset:sap-billing-items"]) == 0
    assert actuals(plan)[1:] == [["PMP-100", "revenue", 1250.0, None],
                                 ["PMP-100", "units", 10.0, None],
                                 ["PMP-110", "revenue", None, 900.0],
                                 ["PMP-110", "units", None, 3.0]]


@pytest.mark.parametrize("args, message", [
    (["--map", "preset:oracle"], "no preset 'oracle'"),
    (["--map", "missing.toml"], "no such mapping file"),
    (["--into", "Revenue"], "cannot import into 'Revenue'"),
])
def test_usage_problems_exit_2_with_one_line(plan, capsys, args, message):
    base = {"--map": str(plan.parent / "map.toml"), "--into": "Actuals"}
    base[args[0]] = args[1]
    code = main(["import", str(plan), str(plan.parent / "gl.csv"),
                 *[x for kv in base.items() for x in kv]])
    assert code == 2 and message in capsys.readouterr().err


def test_a_workbook_open_in_a_spreadsheet_app_is_refused(plan, capsys):
    (plan.parent / f".~lock.{plan.name}#").write_text("someone,host,01.01.2027 10:00;")
    before = plan.read_bytes()
    assert run(plan) == 2
    assert "open in Excel or LibreOffice" in capsys.readouterr().err
    assert plan.read_bytes() == before


def test_import_and_allocate_read_the_workbook_once(plan, monkeypatch):
    """One read of the package per command, as every command does: the write goes into the
    bytes the check read (a file changed since is refused, not saved over)."""
    from sopfin.xlsx import adapter, source

    reads: list[Path] = []
    original = source.read_package

    def counted(path):
        reads.append(Path(path))
        return original(path)

    monkeypatch.setattr(source, "read_package", counted)
    monkeypatch.setattr(adapter, "read_package", counted)
    assert run(plan) == 0
    assert reads == [plan]
    reads.clear()
    assert main(["allocate", str(plan), "--amount", "1000", "--measure", "units", "--by",
                 "equal"]) == 0
    assert reads == [plan]
