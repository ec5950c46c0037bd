"""Setting cells on a user's sheet in place keeps everything else on it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from sopfin.xlsx.cellpatch import CellEdit, formula_refs, patch_sheet_xml, split_ref

PART = "xl/worksheets/sheet1.xml"


def user_sheet(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Actuals"
    ws.append(["Family", "Measure", "2027-01", "2027-02", "2027-03"])
    ws.append(["PUMP", "revenue", 100.0, 200.0, None])
    ws.append(["PUMP", "units", 10, 20, None])
    ws.append(["VALVE", "revenue", 5.5, None, None])
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=5):
        for cell in row:
            cell.number_format = "#,##0.00"
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    ws["A1"].font = Font(bold=True)
    ws["F2"] = "=C2+D2"
    ws["G2"] = "a note the analyst keeps"
    ws.merge_cells("H1:I1")
    dv = DataValidation(type="list", formula1='"units,revenue,cogs"')
    ws.add_data_validation(dv)
    dv.add("B2:B100")
    wb.save(path)
    return path


def swap(path: Path, out: Path, edits: list[CellEdit]) -> None:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, patch_sheet_xml(data, edits) if info.filename == PART else data)


def test_set_clear_and_append_keep_everything_else(tmp_path):
    before = user_sheet(tmp_path / "before.xlsx")
    after = tmp_path / "after.xlsx"
    swap(before, after, [
        CellEdit("D2", 250.25),          # replace a number
        CellEdit("E2", 300),             # fill a styled empty cell
        CellEdit("D4", None),            # clear (no value before: stays empty)
        CellEdit("C4", None),            # clear a value
        CellEdit("A5", "DRUM"), CellEdit("B5", "revenue"), CellEdit("C5", 1e-7),
        CellEdit("E5", -42.5),           # a new row, styled like the rows above
    ])
    old = openpyxl.load_workbook(before)["Actuals"]
    new = openpyxl.load_workbook(after)["Actuals"]
    assert [c.value for c in new[2]][:5] == ["PUMP", "revenue", 100, 250.25, 300]
    assert new["C4"].value is None and new["A4"].value == "VALVE"
    assert [new[f"{c}5"].value for c in "ABCDE"] == ["DRUM", "revenue", 1e-7, None, -42.5]
    assert new["E5"].number_format == "#,##0.00" and new["E5"].fill.fgColor.rgb == "00FFF2CC"
    assert new["E2"].number_format == "#,##0.00"
    assert new["F2"].value == "=C2+D2" and new["G2"].value == old["G2"].value
    assert new["A1"].font.bold and [str(r) for r in new.merged_cells.ranges] == ["H1:I1"]
    rules_old, rules_new = old.data_validations.dataValidation, new.data_validations.dataValidation
    assert rules_new[0].sqref == rules_old[0].sqref
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        assert all(a.read(n) == b.read(n) for n in a.namelist() if n != PART)


def test_formula_cells_are_found_and_never_overwritten(tmp_path):
    path = user_sheet(tmp_path / "s.xlsx")
    xml = zipfile.ZipFile(path).read(PART)
    assert formula_refs(xml, ["F2", "D2", "C3"]) == ["F2"]
    with pytest.raises(ValueError, match="F2 holds a formula"):
        patch_sheet_xml(xml, [CellEdit("F2", 1.0)])


def test_rows_and_cells_without_positions_are_numbered_first():
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<dimension ref="A1:B2"/><sheetData>'
           b'<row><c t="inlineStr"><is><t>Family</t></is></c><c><v>1</v></c></row>'
           b'<row><c s="2"><v>7</v></c><c s="3"><v>8</v></c></row>'
           b'</sheetData></worksheet>')
    out = patch_sheet_xml(xml, [CellEdit("B2", 9.5), CellEdit("B4", 1.25)]).decode()
    assert '<c r="B2" s="3"><v>9.5</v></c>' in out
    assert '<row r="4"><c r="B4" s="3"><v>1.25</v></c></row>' in out
    assert '<dimension ref="A1:B4"/>' in out


def test_a_value_no_cell_can_hold_is_refused():
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheetData/></worksheet>')
    with pytest.raises(ValueError, match="not a number"):
        patch_sheet_xml(xml, [CellEdit("A1", float("nan"))])
    with pytest.raises(ValueError, match="not a cell reference"):
        split_ref("A0")


def test_the_writer_sets_cells_on_a_user_sheet_atomically(tmp_path):
    from sopfin.xlsx.errors import UserSheetPatchError
    from sopfin.xlsx.writer import write_sheets

    path = user_sheet(tmp_path / "plan.xlsx")
    original = path.read_bytes()
    report = write_sheets(path, [], cells={"Actuals": [CellEdit("E3", 30.0)]})
    assert report.parts == (PART,)
    assert openpyxl.load_workbook(path)["Actuals"]["E3"].value == 30
    changed = path.read_bytes()
    for cells, message in [({"Actuals": [CellEdit("F2", 1.0)]}, "Actuals!F2 holds a formula"),
                           ({"Nope": [CellEdit("A1", 1.0)]}, "no worksheet 'Nope'")]:
        with pytest.raises(UserSheetPatchError, match=message):
            write_sheets(path, [], cells=cells)
        assert path.read_bytes() == changed  # nothing written
    assert changed != original
