"""The live adapter on an in-memory book with xlwings' interface: the file path and the live
path write the same sheets, a failure leaves the book as it was, user sheets are refused,
and every xlwings attribute the adapter touches exists in the installed xlwings."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
import xlwings as xw
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from fake_xlwings import ACCESS_LOG, FakeBook, book_with
from plan_tables import base, set_cell, write_xlsx
from sopfin import layout, pipeline
from sopfin.close.ledger import FormulaCell
from sopfin.excel.live import LiveWorkbook
from sopfin.excel.live_page import XL_LANDSCAPE, header_sections
from sopfin.model import IssueCode, XlError
from sopfin.sheetspec import Block, SheetSpec
from sopfin.workbook import Workbook
from sopfin.xlsx.errors import SheetNameTakenError, StructureProtectedError

REAL = {"Book": xw.Book, "Sheet": xw.Sheet, "Range": xw.Range, "Sheets": xw.main.Sheets,
        "Names": xw.main.Names, "Name": xw.main.Name, "App": xw.App, "Font": xw.main.Font}
LIVE_SOURCE = Path(__file__).resolve().parents[1] / "sopfin" / "excel" / "live.py"


class _Fixed(dt.datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: ANN001
        return dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def fixed_clock(monkeypatch):
    """Both runs stamp the same time on their sheets."""
    monkeypatch.setattr(pipeline, "dt", SimpleNamespace(datetime=_Fixed, UTC=dt.UTC))


def _snapshot(book: FakeBook) -> dict[str, dict]:
    return {s.name: {k: dict(v) for k, v in s._cells.items()} for s in book.sheets}


def test_live_workbook_is_a_workbook():
    assert isinstance(LiveWorkbook(FakeBook()), Workbook)


def test_file_and_live_paths_write_identical_sheets(tmp_path, fixed_clock):
    grids = base()
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    on_file = pipeline.run_dollarize(path)
    book = book_with(grids)
    live = pipeline.run_dollarize(LiveWorkbook(book))
    assert on_file.ok and live.ok
    assert [i.format() for i in on_file.issues] == [i.format() for i in live.issues]

    formulas = load_workbook(path)  # formulas as written
    values = CalamineWorkbook.from_path(str(path))  # values as written
    compared = 0
    for name in layout.OUTPUT_SHEET_NAMES:
        sheet = book.sheets[name]
        ws = formulas[name]
        grid = values.get_sheet_by_name(name).to_python(skip_empty_area=False)
        live_cells = set(sheet._cells)
        file_cells = set()
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                file_cells.add((c.row, c.column))
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert sheet._formula(c.row, c.column) == c.value, (name, c.coordinate)
                else:
                    want = grid[c.row - 1][c.column - 1]
                    got = sheet._value(c.row, c.column)
                    assert sheet._formula(c.row, c.column) is None, (name, c.coordinate)
                    assert got == want and type(got) is type(want), (name, c.coordinate,
                                                                      got, want)
                if c.number_format != "General":
                    fmt = sheet._formats.get((c.row, c.column), {}).get("number_format")
                    assert fmt == c.number_format, (name, c.coordinate)
                compared += 1
        assert live_cells == file_cells, name
        hidden = _hidden(ws)  # the file marks them hidden, Excel's API sets width 0
        assert {c for c, w in sheet._col_widths.items() if w == 0} == hidden, name
        assert {k: v for k, v in sheet._col_widths.items() if k not in hidden} \
            == {k: v for k, v in _widths(ws).items() if k not in hidden}, name
    assert compared > 500


def test_the_pnl_rows_fold_in_excel_as_in_the_file(tmp_path):
    """The P&L's accounts are grouped under their department on both paths: the file's
    outlineLevel 1 is Excel's OutlineLevel 2 (1 is ungrouped), set on runs of rows, after
    the sheet's previous groups are cleared."""
    from opex_tables import opex_plan

    grids = opex_plan()
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    assert pipeline.run_dollarize(path).ok
    ws = load_workbook(path)[layout.PNL]
    on_file = {r: d.outline_level for r, d in ws.row_dimensions.items() if d.outline_level}
    assert on_file and set(on_file.values()) == {1}
    book = book_with(grids)
    assert pipeline.run_dollarize(LiveWorkbook(book)).ok
    sheet = book.sheets[layout.PNL]
    assert ("ClearOutline", (), {}) in sheet.api.Cells.calls
    in_excel = {}
    for ref, rows in sheet._rows.items():
        first, last = map(int, ref.split(":"))
        in_excel.update(dict.fromkeys(range(first, last + 1), rows._attrs["OutlineLevel"] - 1))
    assert in_excel == on_file
    assert len(sheet._rows) < len(on_file)  # runs of rows, not a call per row


def _widths(ws) -> dict[int, float]:
    from openpyxl.utils import column_index_from_string

    return {column_index_from_string(k): float(d.width)
            for k, d in ws.column_dimensions.items() if d.customWidth}


def _hidden(ws) -> set[int]:
    from openpyxl.utils import column_index_from_string

    return {column_index_from_string(k) for k, d in ws.column_dimensions.items() if d.hidden}


def test_text_that_looks_like_a_number_or_a_month_stays_text(fixed_clock):
    book = book_with(base())
    pipeline.run_dollarize(LiveWorkbook(book))
    revenue = book.sheets["Revenue"]
    headers = [revenue._value(r, c) for r in range(1, 6) for c in range(1, 12)]
    assert "2027-01" in headers and not any(isinstance(h, dt.datetime) for h in headers)


def test_rerun_replaces_sopfin_sheets_in_place():
    book = book_with(base())
    first = pipeline.run_dollarize(LiveWorkbook(book))
    names = [s.name for s in book.sheets]
    revenue = book.sheets["Revenue"]
    second = pipeline.run_dollarize(LiveWorkbook(book))
    assert first.written.added == layout.OUTPUT_SHEET_NAMES
    assert second.written.replaced == layout.OUTPUT_SHEET_NAMES and not second.written.added
    assert [s.name for s in book.sheets] == names
    assert book.sheets["Revenue"] is revenue  # the same sheet: references to it survive
    assert LiveWorkbook(book).owned_sheet_names() == set(layout.OUTPUT_SHEET_NAMES)


def test_a_user_sheet_with_an_output_name_is_refused_and_nothing_changes():
    grids = base()
    grids["Summary"] = [["my own notes"]]
    book = book_with(grids)
    before = _snapshot(book)
    with pytest.raises(SheetNameTakenError, match="'Summary' already exists and was not "
                                                 "written by sopfin"):
        pipeline.run_dollarize(LiveWorkbook(book))
    assert _snapshot(book) == before


def test_a_failure_while_adding_sheets_removes_the_ones_added():
    book = book_with(base())
    before = _snapshot(book)
    book.sheets._adds_before_failure = 3
    with pytest.raises(RuntimeError, match="simulated"):
        pipeline.run_dollarize(LiveWorkbook(book))
    assert _snapshot(book) == before
    assert book.app.screen_updating is True and book.app.calculation == "automatic"


def test_a_failure_while_rewriting_puts_the_previous_contents_back():
    grids = base()
    book = book_with(grids)
    pipeline.run_dollarize(LiveWorkbook(book))
    before = _snapshot(book)
    set_cell(grids, "Demand", "D2", 999.0)  # a changed plan
    book.sheets["Demand"]._cells[(2, 4)] = {"value": 999.0, "formula": None}
    before["Demand"][(2, 4)] = {"value": 999.0, "formula": None}
    book.sheets["Summary"]._fail_on_write = 1
    with pytest.raises(RuntimeError, match="simulated"):
        pipeline.run_dollarize(LiveWorkbook(book))
    assert _snapshot(book) == before


def test_excel_errors_are_read_as_errors_on_both_paths(tmp_path):
    grids = base()
    set_cell(grids, "Demand", "E3", XlError("#N/A"))
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    on_file = pipeline.check(path)
    live = pipeline.check(LiveWorkbook(book_with(grids)))
    codes = [i.code for i in live.issues]
    assert IssueCode.EXCEL_ERROR in codes
    assert [i.format() for i in live.issues] == [i.format() for i in on_file.issues]
    raw = LiveWorkbook(book_with(grids)).read_raw_sheets([layout.DEMAND, "Nope"])
    assert set(raw) == {layout.DEMAND}
    assert raw[layout.DEMAND].rows[2][4] == XlError("#N/A")


def test_read_cells_gives_formulas_with_their_values():
    book = book_with(base())
    pipeline.run_dollarize(LiveWorkbook(book))
    book.sheets["Revenue"]._cells[(3, 5)]["calculated"] = "ok"
    cells = LiveWorkbook(book).read_cells(["Revenue"])["Revenue"]
    assert cells["E3"] == FormulaCell(
        'IF(AND(Demand!$A$2="base",Demand!$B$2="P-100",Demand!$C$2="Retail"),"ok",'
        '"RE-SORTED")', "ok")
    assert cells["A3"] == "base" and "A2" in cells and "Z99" not in cells


def test_never_saves_unless_asked():
    book = book_with(base())
    pipeline.run_dollarize(LiveWorkbook(book))
    assert book._saved == 0
    report = LiveWorkbook(book, save=True).write_sheets(
        [pipeline.render_step(*_plan_and_figures(book), [], pipeline.Timings())[0]])
    assert book._saved == 1 and report.saved


def _plan_and_figures(book):
    result = pipeline.check(LiveWorkbook(book))
    d, _ = pipeline.dollarize_step(result.plan, None, pipeline.Timings())
    return result.plan, d


def test_a_protected_structure_is_refused_before_any_write():
    book = book_with(base())
    book.api._attrs["ProtectStructure"] = True
    before = _snapshot(book)
    with pytest.raises(StructureProtectedError):
        pipeline.run_dollarize(LiveWorkbook(book))
    assert _snapshot(book) == before


def test_owner_mark_is_a_hidden_sheet_scoped_name():
    book = book_with(base())
    pipeline.run_dollarize(LiveWorkbook(book))
    mark = list(book.sheets["Revenue"].names)[0]
    assert mark.name == f"Revenue!{layout.OWNER_MARK_NAME}" and mark.refers_to == "=TRUE"
    assert mark.api._attrs["Visible"] is False
    assert layout.DEMAND not in LiveWorkbook(book).owned_sheet_names()


def test_a_mark_excel_reports_as_true_formula_counts_and_the_ledger_is_hidden_again():
    """After a LibreOffice save the mark reads =TRUE() and the ledger is only hidden; in Excel
    the next write puts the ledger back to very hidden without rewriting it."""
    from sopfin.render.ledger import render_ledger

    book = book_with(base())
    live = LiveWorkbook(book)
    live.write_sheets([render_ledger([])])
    ledger = book.sheets[layout.LEDGER]
    list(ledger.names)[0]._refers_to = "=TRUE()"  # as Excel reports the re-spelled mark
    ledger.visible = False
    assert live.sheet_states()[layout.LEDGER] == "hidden"
    assert layout.LEDGER in live.owned_sheet_names()
    pipeline.run_dollarize(live)
    assert live.sheet_states()[layout.LEDGER] == "veryHidden"
    assert live.sheet_states()["Revenue"] == "visible"


# --------------------------------------------------------------------- the real xlwings
def test_every_xlwings_attribute_used_exists_in_the_installed_xlwings():
    book = book_with(base())  # drive every path once so the log is complete on its own
    live = LiveWorkbook(book)
    pipeline.run_dollarize(live)
    pipeline.run_dollarize(live)
    live.read_cells(["Revenue"])
    live.owned_sheet_names()
    live.workbook_id()
    live.sheet_guards(["Revenue"])
    used = sorted(ACCESS_LOG)
    assert len(used) > 25
    missing = [(kind, attr) for kind, attr in used if not hasattr(REAL[kind], attr)]
    assert not missing, f"not in xlwings {xw.__version__}: {missing}"


def test_api_is_touched_only_inside_the_api_functions():
    outside = []
    for source in (LIVE_SOURCE, LIVE_SOURCE.with_name("live_write.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        outside += [f"{source.name}:{node.lineno}" for node in ast.walk(tree)
                    if isinstance(node, ast.Attribute) and node.attr == "api"]
    assert not outside
    tree = ast.parse(LIVE_SOURCE.with_name("live_api.py").read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    api_functions = sorted(n.name for n in functions if n.name.startswith("api_"))
    assert api_functions == ["api_bottom_border", "api_freeze", "api_hide_name",
                             "api_protect", "api_protected", "api_row_outline",
                             "api_structure_protected", "api_tab_color",
                             "api_very_hidden", "api_visibility"]
    touching = {f.name for f in functions
                if any(isinstance(n, ast.Attribute) and n.attr == "api" for n in ast.walk(f))}
    assert touching <= set(api_functions)


def test_a_close_in_excel_records_the_workbook_identity_as_a_hidden_book_name():
    from sopfin.close.publish import load_ledger, run_close
    from sopfin.close.verify import run_verify

    book = book_with(base())
    live = LiveWorkbook(book)
    assert live.workbook_id() is None
    assert run_close(live, author="A").ok
    names = [n for n in book.names if n.name == layout.WORKBOOK_ID_NAME]
    assert len(names) == 1 and names[0].api._attrs["Visible"] is False
    identity = live.workbook_id()
    assert identity and names[0].refers_to == f'="{identity}"'
    assert run_close(live, author="A", force=True).ok
    assert [e.workbook_id for e in load_ledger(live)] == [identity, identity]
    assert len([n for n in book.names if n.name == layout.WORKBOOK_ID_NAME]) == 1
    result = run_verify(live)
    assert result.ok, result.lines()
    assert set(live.sheet_guards(["Recon v001", "Recon v002"])) == {"Recon v001", "Recon v002"}


def test_the_page_setup_goes_to_excels_page_setup_object():
    book = book_with(base())
    report = pipeline.run_dollarize(LiveWorkbook(book))
    assert not [w for w in report.written.warnings if "page setup" in w]
    setup = book.sheets["Summary"].api.PageSetup._attrs
    assert (setup["Orientation"], setup["Zoom"]) == (XL_LANDSCAPE, False)
    assert (setup["FitToPagesWide"], setup["FitToPagesTall"]) == (1, False)
    assert setup["PrintTitleRows"] == "$1:$3" and setup["PrintTitleColumns"] == "$A:$D"
    assert setup["PrintArea"].startswith("$A$1:$")
    assert setup["LeftHeader"] == '&"-,Bold"&A' and setup["CenterFooter"] == "Page &P of &N"
    assert "cycle" in setup["RightHeader"]


def test_a_page_setup_excel_does_not_take_is_a_warning_not_a_failure():
    class Refusing:
        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(f"PageSetup.{name} is not scriptable here")

    book = book_with(base())
    pipeline.run_dollarize(LiveWorkbook(book))
    book.sheets["Summary"].api._attrs["PageSetup"] = Refusing()
    report = pipeline.run_dollarize(LiveWorkbook(book))
    assert [w for w in report.written.warnings if w.startswith("sheet 'Summary': page setup")]


def test_header_sections_split_on_excels_section_codes():
    assert header_sections('&L&"-,Bold"&A&CAcme && Co&Rv001') == {
        "L": '&"-,Bold"&A', "C": "Acme && Co", "R": "v001"}
    assert header_sections("Page &P of &N") == {"L": "", "C": "Page &P of &N", "R": ""}


def test_a_selected_sheet_is_left_active_and_any_other_write_keeps_the_users_sheet():
    book = book_with(base())
    live = LiveWorkbook(book)
    book.sheets["Demand"].activate()
    pipeline.run_dollarize(live)
    assert book.sheets.active.name == "Demand"
    live.write_sheets([SheetSpec("Recon v001", [Block(1, 1, [["Reconciliation"]])],
                                 selected=True)])
    assert book.sheets.active.name == "Recon v001"
