"""Reading cells back with their formulas: shared and inline strings, numbers, booleans,
errors, shared and array formulas, cells without references; and a file LibreOffice saved."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sopfin.close.ledger import FormulaCell
from sopfin.model import XlError
from sopfin.xlsx.readback import read_cells, shift_formula
from sopfin.xlsx.writer import WorkbookNotFoundError
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import rebuild

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# Shared strings: a plain one, a rich-text one (two runs) and one with a phonetic run that
# is not part of the text.
SST = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="3" '
       'uniqueCount="3"><si><t>Family</t></si><si><r><t>PUMPS</t></r><r><rPr><b/></rPr>'
       '<t xml:space="preserve">-200 </t></r></si><si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ'
       '</t></rPh></si></sst>')

# The sheet as Excel writes it, worked by hand:
#   A1 'Family' (shared)  B1 12.5      C1 TRUE       D1 #N/A (error)
#   A2 'PUMPS-200 '       B2 =B1*2 25  C2 'inline'   D2 =1/0 #DIV/0!
#   A3 '東京'             B3 shared master =B1+$B$1 (si 0, B3:B5) = 12.5+12.5 = 25
#   B4 dependent -> B2+$B$1 = 25+12.5 = 37.5, B5 dependent -> B3+$B$1 = 25+12.5 = 37.5
#   C3:C4 array formula {=B1:B2*2} cached 25, 50; C5 =IF(B1>0,"yes","") cached 'yes' (t="str")
#   row 6: cells without r: 7 in A6, 8 in B6; row without r -> row 7: 9 in A7
#   E1 styled but empty (omitted); E2 '' inline (omitted); F1 t="d" 2027-03-01
SHEET = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
    '<sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>12.5</v></c><c r="C1" t="b"><v>1</v>'
    '</c><c r="D1" t="e"><v>#N/A</v></c><c r="E1" s="1"/><c r="F1" t="d"><v>2027-03-01T00:00:00'
    '</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><f>B1*2</f><v>25</v></c>'
    '<c r="C2" t="inlineStr"><is><t>inline</t></is></c><c r="D2" t="e"><f>1/0</f>'
    '<v>#DIV/0!</v></c><c r="E2" t="inlineStr"><is><t></t></is></c></row>'
    '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><f t="shared" ref="B3:B5" si="0">'
    'B1+$B$1</f><v>25</v></c><c r="C3"><f t="array" ref="C3:C4">B1:B2*2</f><v>25</v></c></row>'
    '<row r="4"><c r="B4"><f t="shared" si="0"/><v>37.5</v></c><c r="C4"><v>50</v></c></row>'
    '<row r="5"><c r="B5"><f t="shared" si="0"/><v>37.5</v></c><c r="C5" t="str">'
    '<f>IF(B1&gt;0,"yes","")</f><v>yes</v></c></row>'
    '<row r="6"><c><v>7</v></c><c><v>8</v></c></row>'
    '<row><c><v>9</v></c></row>'
    '</sheetData></worksheet>')

EXPECTED = {
    "A1": "Family", "B1": 12.5, "C1": True, "D1": XlError("#N/A"),
    "A2": "PUMPS-200 ", "B2": FormulaCell("B1*2", 25.0), "C2": "inline",
    "D2": FormulaCell("1/0", XlError("#DIV/0!")),
    "A3": "東京", "B3": FormulaCell("B1+$B$1", 25.0), "C3": FormulaCell("B1:B2*2", 25.0),
    "B4": FormulaCell("B2+$B$1", 37.5), "C4": FormulaCell("B1:B2*2", 50.0),
    "B5": FormulaCell("B3+$B$1", 37.5), "C5": FormulaCell('IF(B1>0,"yes","")', "yes"),
    "A6": 7.0, "B6": 8.0, "A7": 9.0,
}


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    path = tmp_path / "cells.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Plan"
    wb.active["A1"] = "placeholder"  # makes openpyxl write a shared-strings part
    wb.create_sheet("Other")["A1"] = 1
    wb.save(path)

    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        rels = p["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
            b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
        types = p["[Content_Types].xml"].replace(b"</Types>", (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxml'
            b'formats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
        return {**p, "xl/worksheets/sheet1.xml": SHEET.encode(), "xl/sharedStrings.xml":
                SST.encode(), "xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types}

    rebuild(path, edit)
    return path


def test_a_dangling_shared_string_is_an_error_not_a_blank(book: Path):
    rebuild(book, lambda p: {**p, "xl/sharedStrings.xml": SST.replace(
        "<si><t>東京</t>", "<si><t>x</t>").split("<si><r>")[0].encode() + b"</sst>"})
    cells = read_cells(book, ["Plan"])["Plan"]
    assert cells["A1"] == "Family"
    assert cells["A2"] == XlError("#REF!") and cells["A3"] == XlError("#REF!")


def test_every_kind_of_cell_reads_back(book: Path):
    cells = read_cells(book, ["Plan", "Missing"])
    assert set(cells) == {"Plan"}
    plan = dict(cells["Plan"])
    date = plan.pop("F1")
    assert date.isoformat() == "2027-03-01T00:00:00"
    assert plan == EXPECTED
    assert isinstance(plan["B1"], float) and plan["C1"] is True


def test_only_the_named_sheets_are_read(book: Path):
    assert read_cells(book, ["Other"]) == {"Other": {"A1": 1.0}}
    assert read_cells(book, []) == {}


def test_a_missing_file_is_a_workbook_error(tmp_path: Path):
    with pytest.raises(WorkbookNotFoundError):
        read_cells(tmp_path / "nope.xlsx", ["Plan"])


@pytest.mark.parametrize(("formula", "rows", "cols", "expected"), [
    ("B1+$A$1", 2, 0, "B3+$A$1"),
    ("SUM(B$2:C2)*$D3", 3, 1, "SUM(C$2:D5)*$D6"),
    ("'Q1 A1'!A1+\"A1\"&Sheet2!B2", 1, 1, "'Q1 A1'!B2+\"A1\"&Sheet2!C3"),
    ("LOG10(A1)+SUM(A:A)+SUM(2:2)", 1, 1, "LOG10(B2)+SUM(B:B)+SUM(3:3)"),
    ("Table1[Amount]*A1", 1, 0, "Table1[Amount]*A2"),
    ("$A$1:$B$2", 5, 5, "$A$1:$B$2"),
])
def test_shared_formulas_move_like_excel_moves_them(formula, rows, cols, expected):
    assert shift_formula(formula, rows, cols) == expected


def test_a_file_saved_by_libreoffice_reads_back_the_same(book: Path, tmp_path: Path):
    out = convert("soffice", [book], tmp_path / "lo", fmt="xlsx")[book]
    assert out is not None
    cells = read_cells(out, ["Plan"])["Plan"]
    for ref in ("A1", "B1", "C2", "A3", "A6", "A7"):
        assert cells[ref] == EXPECTED[ref], ref
    # LibreOffice saves a typed TRUE as the formula TRUE() with a boolean result
    assert cells["C1"] in (True, FormulaCell("TRUE()", True))
    # LibreOffice recalculates on load: its results are the hand-worked values above
    for ref in ("B2", "B3", "B4", "B5", "C3", "C4", "C5", "D2"):
        assert isinstance(cells[ref], FormulaCell), ref
        assert cells[ref].value == EXPECTED[ref].value, ref
    assert cells["B4"].formula == "B2+$B$1"
