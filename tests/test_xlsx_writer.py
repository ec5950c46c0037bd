"""The package writer: specs in, a workbook out that Excel readers (openpyxl, calamine,
LibreOffice) see exactly as specified; refusals leave the file untouched."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from sopfin.layout import OWNER_MARK_NAME
from sopfin.sheetspec import Block, Link, SheetProtection, SheetSpec, Style
from sopfin.xlsx.writer import (
    NotAWorkbookError,
    SheetNameTakenError,
    StrictOOXMLError,
    StructureProtectedError,
    WorkbookExistsError,
    WorkbookLockedError,
    WorkbookNotFoundError,
    check_writable,
    create_workbook,
    owned_sheet_names,
    sheet_names,
    write_sheets,
)
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import parts, rebuild, replace_in

# A small revenue grid, worked by hand: units x price.
#   family   units Jan  units Feb  price   revenue Jan  revenue Feb
#   PUMP-100      10         12     25.50        255.0        306.0
#   PUMP-200       4          0    100.25        401.0          0.0
#   total                                        656.0        306.0
UNITS = np.array([[10.0, 12.0], [4.0, 0.0]])
PRICE = np.array([[25.5], [100.25]])
REVENUE = np.array([[255.0, 306.0], [401.0, 0.0]])
TOTAL = np.array([[656.0, 306.0]])


def revenue_spec(**overrides) -> SheetSpec:
    formulas = np.array([["B3*$D3", "C3*$D3"], ["B4*$D4", "C4*$D4"]], dtype=object)
    fields = dict(
        name="Revenue",
        blocks=[
            Block(1, 1, [["Revenue plan"]], style=Style.TITLE),
            Block(2, 1, [["Family", "2027-01", "2027-02", "Price", "Rev 2027-01", "Rev 2027-02"]],
                  style=Style.HEADER),
            Block(3, 1, [["PUMP-100"], ["PUMP-200"]], style=Style.TEXT),
            Block(3, 2, UNITS, style=Style.UNITS),
            Block(3, 4, PRICE, style=Style.PRICE),
            Block(3, 5, REVENUE, formulas=formulas, style=Style.MONEY),
            Block(5, 5, TOTAL, formulas=[["SUM(E3:E4)", "SUM(F3:F4)"]], style=Style.MONEY_BOLD),
            Block(6, 1, [["go to inputs", True, None, "a&b <c>"]],
                  style=[[Style.LINK, None, None, Style.NOTE]]),
        ],
        col_widths={1: 18.5, 5: 14.0},
        freeze=(2, 1),
        tab_color="FF1F4E79",
        links=[Link("A6", "Demand!A1", tooltip="Open the demand table")],
        protection=SheetProtection("SHA-512", "aGFzaA==", "c2FsdA==", 100000),
    )
    fields.update(overrides)
    return SheetSpec(**fields)


def input_spec() -> SheetSpec:
    return SheetSpec("Demand", owned=False,
                     blocks=[Block(1, 1, [["Scenario", "Family", "2027-01"]],
                                   style=Style.INPUT_HEADER)])


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "Plan.xlsx"
    create_workbook(path, [revenue_spec(), input_spec(),
                           SheetSpec("Hidden", state="hidden", blocks=[Block(1, 1, [[1.0]])]),
                           SheetSpec("Secret", state="veryHidden")])
    return path


# --- round trip ----------------------------------------------------------------------------
def test_sheets_in_order_and_ownership(book: Path):
    assert sheet_names(book) == ["Revenue", "Demand", "Hidden", "Secret"]
    assert owned_sheet_names(book) == {"Revenue", "Hidden", "Secret"}


def test_openpyxl_sees_values_formulas_and_layout(book: Path):
    wb = openpyxl.load_workbook(book)
    ws = wb["Revenue"]
    assert ws["A1"].value == "Revenue plan"
    assert [c.value for c in ws[2]] == ["Family", "2027-01", "2027-02", "Price", "Rev 2027-01",
                                        "Rev 2027-02"]
    assert ws["B3"].value == 10 and ws["C3"].value == 12 and ws["D4"].value == 100.25
    assert ws["E3"].value == "=B3*$D3" and ws["F4"].value == "=C4*$D4"
    assert ws["E5"].value == "=SUM(E3:E4)"
    assert ws["B6"].value is True and ws["C6"].value is None
    assert ws["D6"].value == "a&b <c>"
    assert ws.freeze_panes == "B3"
    assert ws.column_dimensions["A"].width == 18.5
    assert ws.column_dimensions["E"].width == 14.0
    assert ws.sheet_properties.tabColor.rgb == "FF1F4E79"
    assert ws["A6"].hyperlink.location == "Demand!A1"
    assert ws["A6"].hyperlink.tooltip == "Open the demand table"
    assert ws.protection.sheet is True
    assert (ws.protection.algorithmName, ws.protection.hashValue, ws.protection.saltValue,
            ws.protection.spinCount) == ("SHA-512", "aGFzaA==", "c2FsdA==", 100000)
    assert wb["Hidden"].sheet_state == "hidden"
    assert wb["Secret"].sheet_state == "veryHidden"
    assert wb["Demand"].sheet_state == "visible"


def test_openpyxl_sees_styles(book: Path):
    ws = openpyxl.load_workbook(book)["Revenue"]
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb == "FFD9D9D9"
    assert ws["A2"].border.bottom.style == "thin"
    assert ws["B3"].number_format == "#,##0"
    assert ws["D3"].number_format == "#,##0.00"
    assert ws["E3"].number_format == "#,##0.00;(#,##0.00)" and not ws["E3"].font.b
    assert ws["E5"].number_format == "#,##0.00;(#,##0.00)" and ws["E5"].font.b
    assert ws["A6"].font.u == "single" and ws["A6"].font.color.rgb == "FF0563C1"
    assert ws["D6"].font.i and ws["D6"].font.color.rgb == "FF595959"
    assert ws["B6"].number_format == "General"
    demand = openpyxl.load_workbook(book)["Demand"]
    assert demand["A1"].number_format == "@" and demand["A1"].fill.fgColor.rgb == "FFDDEBF7"


def test_cached_values_read_by_openpyxl_and_calamine(book: Path):
    ws = openpyxl.load_workbook(book, data_only=True)["Revenue"]
    assert [[ws.cell(r, c).value for c in (5, 6)] for r in (3, 4, 5)] == [
        [255, 306], [401, 0], [656, 306]]
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Revenue").to_python()
    assert rows[2][4:6] == [255.0, 306.0]
    assert rows[4][4:6] == [656.0, 306.0]
    assert rows[5][0] == "go to inputs" and rows[5][1] is True


def test_owner_mark_is_a_hidden_sheet_scoped_name(book: Path):
    wb = openpyxl.load_workbook(book)
    for name in ("Revenue", "Hidden", "Secret"):
        marks = wb[name].defined_names
        assert OWNER_MARK_NAME in marks and marks[OWNER_MARK_NAME].hidden
        assert marks[OWNER_MARK_NAME].attr_text == "TRUE"
    assert OWNER_MARK_NAME not in wb["Demand"].defined_names


def test_values_of_every_kind(tmp_path: Path):
    path = tmp_path / "kinds.xlsx"
    values = np.array([[1.0, np.nan, -0.5, 1e-300, 1.5e300, math.inf]])
    obj = [[None, "", "tab\tline\nbreak", "ctl\x01\x02char", 7, np.int64(8), np.float64(2.25),
            np.bool_(False), float("nan")]]
    formulas = [["1/0", "\"x\"", None, "TRUE", "A1", "A1"]]
    cached = np.array([[math.nan, math.nan, 3.0, 4.0, 5.0, 6.0]])
    create_workbook(path, [SheetSpec("K", blocks=[
        Block(1, 1, values), Block(2, 1, obj), Block(3, 1, cached, formulas=formulas)])])
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("K").to_python()
    assert rows[0][:5] == [1.0, "", -0.5, 1e-300, 1.5e300]
    assert rows[1][2:] == ["tab\tline\nbreak", "ctlchar", 7.0, 8.0, 2.25, False]  # NaN: no cell
    ws = openpyxl.load_workbook(path)["K"]
    assert ws["F1"].value == "#NUM!"  # an infinite number cannot be stored; it shows as #NUM!
    assert ws["A3"].value == "=1/0" and ws["B3"].value == '="x"'
    xml = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="B1"' not in xml and '<c r="A2"' not in xml  # NaN and None are no cell
    assert '<c r="A3" t="str"><f>1/0</f><v></v></c>' in xml  # NaN cache = blank string


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3,
                         max_size=3), min_size=1, max_size=5))
def test_floats_round_trip_exactly(tmp_path: Path, grid):
    path = tmp_path / f"f{abs(hash(str(grid)))}.xlsx"
    create_workbook(path, [SheetSpec("F", blocks=[Block(1, 1, np.array(grid))])])
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("F").to_python()
    assert [[float(v) for v in row] for row in rows] == [[v + 0.0 for v in r] for r in grid]
    path.unlink()


# --- replacing ----------------------------------------------------------------------------
def test_replacing_owned_sheets_twice_does_not_grow_the_package(book: Path):
    new_units = UNITS * 2
    respec = revenue_spec(blocks=[Block(3, 2, new_units, style=Style.UNITS)])
    first = write_sheets(book, [respec])
    assert first.replaced == ("Revenue",) and first.added == ()
    after_one = parts(book)
    size_one = book.stat().st_size
    second = write_sheets(book, [respec])
    after_two = parts(book)
    assert list(after_two) == list(after_one)  # same parts, same order
    assert after_two == after_one
    assert book.stat().st_size == size_one == second.bytes_written
    assert second.parts == ("xl/worksheets/sheet1.xml",)  # styles.xml left alone
    ws = openpyxl.load_workbook(book)["Revenue"]
    assert ws["B3"].value == 20 and ws["E3"].value is None  # the old content is gone
    assert sheet_names(book) == ["Revenue", "Demand", "Hidden", "Secret"]


def test_replacing_keeps_part_sheet_id_rid_and_position(book: Path):
    before = parts(book)["xl/workbook.xml"]
    write_sheets(book, [revenue_spec(), SheetSpec("Hidden", state="visible")])
    after = parts(book)["xl/workbook.xml"].decode()
    assert '<sheet name="Revenue" sheetId="1" r:id="rId3"/>' in after
    assert '<sheet name="Hidden" sheetId="3" r:id="rId5"/>' in after  # state now visible
    assert before.decode().replace(' state="hidden"', "", 1) == after


def test_new_sheets_are_appended_and_marked(book: Path):
    report = write_sheets(book, [SheetSpec("Cash", blocks=[Block(1, 1, [[1.0]])]),
                                 SheetSpec("Budget", owned=False)])
    assert report.added == ("Cash", "Budget")
    assert sheet_names(book) == ["Revenue", "Demand", "Hidden", "Secret", "Cash", "Budget"]
    assert owned_sheet_names(book) == {"Revenue", "Hidden", "Secret", "Cash"}
    names = parts(book)
    assert "xl/worksheets/sheet5.xml" in names and "xl/worksheets/sheet6.xml" in names


def test_input_sheet_is_never_overwritten(book: Path):
    before = book.read_bytes()
    with pytest.raises(SheetNameTakenError, match="'Demand' already exists"):
        write_sheets(book, [input_spec()])
    with pytest.raises(SheetNameTakenError, match="not written by sopfin"):
        write_sheets(book, [SheetSpec("demand")])  # names compare case-insensitively
    assert book.read_bytes() == before


def test_user_sheet_with_an_output_name_is_refused(tmp_path: Path):
    path = tmp_path / "user.xlsx"
    create_workbook(path, [SheetSpec("Revenue", owned=False, blocks=[Block(1, 1, [["mine"]])])])
    before = path.read_bytes()
    with pytest.raises(SheetNameTakenError) as err:
        write_sheets(path, [SheetSpec("Cash"), revenue_spec()])
    assert "user.xlsx: a sheet named 'Revenue'" in str(err.value)
    assert "rename or delete your sheet 'Revenue'" in str(err.value)
    assert path.read_bytes() == before  # nothing written, not even the Cash sheet


def test_replaced_sheet_drops_its_own_rels_and_says_so(book: Path):
    drawing_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/relationships"/>')
    rebuild(book, lambda p: {**p, "xl/worksheets/_rels/sheet1.xml.rels": drawing_rels.encode()})
    report = write_sheets(book, [revenue_spec()])
    assert "xl/worksheets/_rels/sheet1.xml.rels" not in parts(book)
    assert report.removed == ("xl/worksheets/_rels/sheet1.xml.rels",)
    assert any("Revenue" in w and "removed" in w for w in report.warnings)


CALC_CHAIN = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://'
              'schemas.openxmlformats.org/spreadsheetml/2006/main">{}</calcChain>')


def _add_calc_chain(cells: str):
    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        p["xl/calcChain.xml"] = CALC_CHAIN.format(cells).encode()
        p = replace_in("xl/_rels/workbook.xml.rels", "</Relationships>",
                       '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                       "</Relationships>")(p)
        return replace_in("[Content_Types].xml", "</Types>",
                          '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.'
                          'openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')(p)
    return edit


def test_calc_chain_loses_the_replaced_sheets_cells_only(book: Path):
    # sheetId 1 = Revenue (owned, replaced), 3 = Hidden (owned, kept); cells without i inherit.
    rebuild(book, _add_calc_chain('<c r="E3" i="1"/><c r="E4"/><c r="A1" i="3" l="1"/>'
                                  '<c r="A2"/><c r="E5" i="1"/>'))
    write_sheets(book, [revenue_spec()])
    assert parts(book)["xl/calcChain.xml"].decode() == CALC_CHAIN.format(
        '<c r="A1" i="3" l="1"/><c r="A2"/>')


def test_empty_calc_chain_is_removed_with_its_registry_entries(book: Path):
    rebuild(book, _add_calc_chain('<c r="E3" i="1"/><c r="E4"/>'))
    report = write_sheets(book, [revenue_spec()])
    p = parts(book)
    assert "xl/calcChain.xml" not in p and "xl/calcChain.xml" in report.removed
    assert b"calcChain" not in p["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in p["[Content_Types].xml"]
    assert openpyxl.load_workbook(book)["Revenue"]["E3"].value == "=B3*$D3"


def test_prefixed_main_namespace_is_preserved(tmp_path: Path):
    """Some producers write workbook.xml and styles.xml with an 'x:' prefix."""
    path = tmp_path / "prefixed.xlsx"
    create_workbook(path, [SheetSpec("Data", owned=False, blocks=[Block(1, 1, [[1.0]])])])

    def prefix(p: dict[str, bytes]) -> dict[str, bytes]:
        for name in ("xl/workbook.xml", "xl/styles.xml"):
            text = p[name].decode()
            text = text.replace("<", "<x:").replace("<x:/", "</x:").replace("<x:?", "<?")
            text = text.replace(' xmlns="http', ' xmlns:x="http')
            p[name] = text.encode()
        return p

    rebuild(path, prefix)
    write_sheets(path, [revenue_spec()])
    wb_xml = parts(path)["xl/workbook.xml"].decode()
    assert '<x:sheet name="Revenue" sheetId="2" r:id="rId4"/>' in wb_xml
    assert f'<x:definedNames><x:definedName name="{OWNER_MARK_NAME}" localSheetId="1"' in wb_xml
    assert "<x:cellXfs count=" in parts(path)["xl/styles.xml"].decode()
    ws = openpyxl.load_workbook(path)["Revenue"]
    assert ws["E3"].number_format == "#,##0.00;(#,##0.00)" and ws["A2"].font.b


def test_existing_custom_number_formats_keep_their_ids(tmp_path: Path):
    path = tmp_path / "fmt.xlsx"
    create_workbook(path, [SheetSpec("Data", owned=False, blocks=[Block(1, 1, [[1.0]])])])
    rebuild(path, replace_in("xl/styles.xml", "<fonts",
                             '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.000"/>'
                             "</numFmts><fonts"))
    rebuild(path, replace_in("xl/styles.xml", '<cellXfs count="1">'
                             '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
                             '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" '
                             'borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" '
                             'borderId="0" xfId="0" applyNumberFormat="1"/>'))
    rebuild(path, replace_in("xl/worksheets/sheet1.xml", '<c r="A1">', '<c r="A1" s="1">'))
    write_sheets(path, [revenue_spec()])
    wb = openpyxl.load_workbook(path)
    assert wb["Data"]["A1"].number_format == "0.000"
    assert wb["Revenue"]["E3"].number_format == "#,##0.00;(#,##0.00)"
    styles = parts(path)["xl/styles.xml"].decode()
    assert '<numFmt numFmtId="164" formatCode="0.000"/><numFmt numFmtId="165"' in styles


def test_workbook_without_a_stylesheet_gets_one(tmp_path: Path):
    path = tmp_path / "bare.xlsx"
    create_workbook(path, [SheetSpec("Data", owned=False, blocks=[Block(1, 1, [[1.0]])])])

    def drop_styles(p: dict[str, bytes]) -> dict[str, bytes]:
        del p["xl/styles.xml"]
        p = replace_in("xl/_rels/workbook.xml.rels", '<Relationship Id="rId1" Type="http://'
                       'schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
                       'Target="styles.xml"/>', "")(p)
        return replace_in("[Content_Types].xml", '<Override PartName="/xl/styles.xml" '
                          'ContentType="application/vnd.openxmlformats-officedocument.'
                          'spreadsheetml.styles+xml"/>', "")(p)

    rebuild(path, drop_styles)
    report = write_sheets(path, [revenue_spec()])
    assert "xl/styles.xml" in report.parts and "xl/styles.xml" in parts(path)
    ws = openpyxl.load_workbook(path)["Revenue"]
    assert ws["E5"].font.b and ws["E5"].number_format == "#,##0.00;(#,##0.00)"


# --- refusals ------------------------------------------------------------------------------
def test_missing_file(tmp_path: Path):
    with pytest.raises(WorkbookNotFoundError, match="Plan.xlsx: no such file"):
        write_sheets(tmp_path / "Plan.xlsx", [revenue_spec()])
    assert not (tmp_path / "Plan.xlsx").exists()


@pytest.mark.parametrize("content, detail", [
    (b"Family,Units\nPUMP,1\n", "not a zip package"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy .xls"),
])
def test_not_a_workbook(tmp_path: Path, content: bytes, detail: str):
    path = tmp_path / "Plan.xlsx"
    path.write_bytes(content)
    with pytest.raises(NotAWorkbookError, match=detail) as err:
        write_sheets(path, [revenue_spec()])
    assert "save it as Excel Workbook (.xlsx)" in str(err.value)
    assert path.read_bytes() == content


def test_zip_without_workbook_part(tmp_path: Path):
    path = tmp_path / "Plan.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    before = path.read_bytes()
    with pytest.raises(NotAWorkbookError, match="Plan.xlsx: not an Excel workbook"):
        write_sheets(path, [revenue_spec()])
    assert path.read_bytes() == before


@pytest.mark.parametrize("lock", ["~$Plan.xlsx", ".~lock.Plan.xlsx#"])
def test_locked_workbook(book: Path, lock: str):
    (book.parent / lock).write_bytes(b"someone")
    before = book.read_bytes()
    with pytest.raises(WorkbookLockedError) as err:
        write_sheets(book, [revenue_spec()])
    assert "close it in Excel/LibreOffice first" in str(err.value) and lock in str(err.value)
    with pytest.raises(WorkbookLockedError):
        check_writable(book)
    assert book.read_bytes() == before


@pytest.mark.parametrize("protection", ['<workbookProtection lockStructure="1"/>',
                                        '<workbookProtection workbookPassword="CBEB" '
                                        'lockStructure="true" lockWindows="1"/>'])
def test_structure_protected(book: Path, protection: str):
    rebuild(book, replace_in("xl/workbook.xml", "<bookViews>", protection + "<bookViews>"))
    before = book.read_bytes()
    with pytest.raises(StructureProtectedError) as err:
        write_sheets(book, [revenue_spec()])
    assert "Review > Protect Workbook" in str(err.value)
    assert book.read_bytes() == before


def test_unlocked_workbook_protection_is_fine(book: Path):
    rebuild(book, replace_in("xl/workbook.xml", "<bookViews>",
                             '<workbookProtection lockWindows="1"/><bookViews>'))
    check_writable(book)
    assert write_sheets(book, [revenue_spec()]).replaced == ("Revenue",)


def test_strict_open_xml(book: Path):
    rebuild(book, replace_in("xl/workbook.xml",
                             "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                             "http://purl.oclc.org/ooxml/spreadsheetml/main"))
    before = book.read_bytes()
    with pytest.raises(StrictOOXMLError, match=r"save as|Save As > Excel Workbook \(.xlsx\)"):
        write_sheets(book, [revenue_spec()])
    assert book.read_bytes() == before


def test_create_refuses_an_existing_file(book: Path):
    before = book.read_bytes()
    with pytest.raises(WorkbookExistsError, match="already exists"):
        create_workbook(book, [revenue_spec()])
    assert book.read_bytes() == before


def test_bad_specs_are_refused_before_writing(book: Path):
    before = book.read_bytes()
    for bad in ([SheetSpec("Bad/Name")], [SheetSpec("Cash"), SheetSpec("CASH")],
                [SheetSpec("Cash", blocks=[Block(1, 1, [[1.0, 2.0]]), Block(1, 2, [[3.0]])])]):
        with pytest.raises(ValueError):
            write_sheets(book, bad)
    assert book.read_bytes() == before


# --- determinism and other applications ------------------------------------------------------
def test_create_workbook_is_deterministic(tmp_path: Path):
    specs = [revenue_spec(), input_spec()]
    create_workbook(tmp_path / "a.xlsx", specs)
    create_workbook(tmp_path / "b.xlsx", specs)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.testzip() is None


def test_file_mode_is_kept(book: Path):
    os.chmod(book, 0o640)
    write_sheets(book, [revenue_spec()])
    assert book.stat().st_mode & 0o777 == 0o640


@pytest.mark.libreoffice
def test_libreoffice_recalculates_to_the_cached_values(tmp_path: Path, soffice: str):
    path = tmp_path / "Plan.xlsx"
    # G3 carries a deliberately wrong cache (-1): LibreOffice must replace it with 2 * 10,
    # which shows the file was recalculated rather than read back.
    sentinel = Block(3, 7, np.array([[-1.0]]), formulas=[["2*B3"]])
    spec = revenue_spec(blocks=[*revenue_spec().blocks, sentinel])
    create_workbook(path, [spec, input_spec()])
    out = convert(soffice, [path], tmp_path / "lo", "xlsx", recalc=True)[path]
    assert out is not None, "LibreOffice could not open the workbook"
    ws = openpyxl.load_workbook(out, data_only=True)["Revenue"]
    assert ws["G3"].value == 20
    got = [[ws.cell(r, c).value for c in (5, 6)] for r in (3, 4, 5)]
    np.testing.assert_allclose(np.array(got, dtype=float),
                               np.vstack([REVENUE, TOTAL]), rtol=0, atol=1e-9)


def test_blocks_across_row_windows_are_written_in_row_then_column_order():
    from lxml import etree

    from sopfin.layout import cell_name
    from sopfin.xlsx.sheetxml import ROW_WINDOW, worksheet_xml

    tall = Block(2, 1, np.arange(3.0 * ROW_WINDOW).reshape(-1, 1) + 0.5)  # spans 3+ windows
    rows = [Block(r, 3 + r % 2, np.array([[f"r{r}", float(r)]], dtype=object))
            for r in range(1, 3 * ROW_WINDOW + 5, 7)]
    late = Block(3 * ROW_WINDOW + 20, 2, np.array([[7.25]]))
    spec = SheetSpec("S", [*reversed(rows), late, tall])  # given in no particular order
    expected: dict[int, dict[int, str]] = {}
    for block in spec.blocks:
        for i, row in enumerate(np.asarray(block.values, dtype=object).tolist()):
            for j, v in enumerate(row):
                text = str(v).removesuffix(".0") if isinstance(v, float) else v
                expected.setdefault(block.row + i, {})[block.col + j] = text
    root = etree.fromstring(worksheet_xml(spec, {}))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    found = [(int(r.get("r")), [(c.get("r"), "".join(c.itertext())) for c in r.iterfind("m:c", ns)])
             for r in root.iterfind("m:sheetData/m:row", ns)]
    assert [r for r, _ in found] == sorted(expected)
    for r, cells in found:
        assert cells == [(cell_name(r, c), expected[r][c]) for c in sorted(expected[r])]


@given(st.lists(st.lists(st.one_of(st.none(), st.text(max_size=3), st.floats(),
                                   st.lists(st.integers(), max_size=2)), max_size=4),
                max_size=4))
def test_rows_are_measured_as_their_array_is(rows):
    from sopfin.xlsx.cellxml import _as_2d, _shape_of

    block = Block(1, 1, rows)
    try:
        expected: object = _as_2d(rows, "values", block).shape
    except ValueError as exc:
        expected = type(exc)
    try:
        found: object = _shape_of(rows, "values", block)
    except ValueError as exc:
        found = type(exc)
    assert found == expected
