"""Never wipe an edit: dollarize compares each cell sopfin owns with what it last wrote there.

Edits are made the way a person makes them: in a spreadsheet program (openpyxl saves the whole
file again, as Excel would; one test saves it with LibreOffice). A typed-over cell stops
dollarize (exit 1, the file byte-identical) with the cell, what sopfin wrote and what it
found; ``--discard-edits`` overwrites it and records it on Issues and on the next close's
ledger entry. A plan that changed shape (a new family) is not mistaken for edits.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_overrides_rows as generated  # its sheet strategy and rendering
from fake_xlwings import book_with
from plan_tables import base as plan_base
from sopfin import layout, pipeline
from sopfin.cli import main
from sopfin.close.digests import FormulaCell
from sopfin.close.publish import load_ledger, run_close
from sopfin.excel.live import LiveWorkbook
from sopfin.guard.edits import edited_cells
from sopfin.guard.fingerprints import MARK, RowPrint, canonical
from sopfin.guard.row_prints import with_fingerprints
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.readback import read_cell_rows, read_cells
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.planner import add_family, type_over


@pytest.fixture(scope="module")
def dollarized(built_demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("edits") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["dollarize", str(path), "-q"]) == 0
    return path


@pytest.fixture
def book(dollarized, tmp_path) -> Path:
    target = tmp_path / "plan.xlsx"
    shutil.copyfile(dollarized, target)
    return target


def edits_of(path: Path) -> list:
    book = FileWorkbook(path)
    return edited_cells([], book.read_cell_rows(layout.FINGERPRINTED_SHEETS))


def issues_rows(path: Path) -> list[list[object]]:
    return read_raw_sheets(path, [layout.ISSUES])[layout.ISSUES].rows


def test_every_row_of_a_formula_sheet_carries_a_hidden_fingerprint(dollarized):
    cells = read_cells(dollarized, layout.FINGERPRINTED_SHEETS)
    for name, sheet in cells.items():
        prints = {ref: v for ref, v in sheet.items() if isinstance(v, str) and v.startswith(MARK)}
        rows = {int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for ref in sheet}
        assert len(prints) == len(rows), name
        assert len({ref.rstrip("0123456789") for ref in prints}) == 1, name
        assert all(RowPrint.parse(v) is not None for v in prints.values())
    assert edits_of(dollarized) == []


@pytest.mark.parametrize("text", [
    None, 42.0, "", "sopfin-row/1", "sopfin-row/1 5-28;1-3", "sopfin-row/1 5-28;1-3;short",
    "sopfin-row/1 28-5;;Hq0b6Xw2Jd1m", "sopfin-row/1 x;;Hq0b6Xw2Jd1m",
    "sopfin-row/1 0-3;;Hq0b6Xw2Jd1m", "sopfin-row/2 5-28;1-3;Hq0b6Xw2Jd1m"])
def test_a_damaged_fingerprint_is_no_fingerprint(text):
    assert RowPrint.parse(text) is None


def test_a_fingerprint_reads_back_as_written():
    text = "sopfin-row/1 5-7,9;1-3;Hq0b6Xw2Jd1m"
    found = RowPrint.parse(text)
    assert found == RowPrint(("E", "F", "G", "I"), ("A", "B", "C"), "Hq0b6Xw2Jd1m")
    assert found.text() == text


def test_sheets_left_as_sopfin_wrote_them_are_not_read_again(book, tmp_path):
    """A sheet part sopfin wrote carries its CRC in its zip entry's comment; a re-save drops
    it, and changed data with the comment kept no longer matches."""
    assert FileWorkbook(book).sheets_as_written(layout.OUTPUT_SHEET_NAMES) \
        == set(layout.OUTPUT_SHEET_NAMES)
    kept = tmp_path / "kept-comment.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(kept, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.comment and b"<f>" in data:  # an edit that keeps the entry's comment
                data = data.replace(b"<f>", b"<f>2*", 1)
            out.writestr(info, data)
    changed = FileWorkbook(kept).sheets_as_written(layout.OUTPUT_SHEET_NAMES)
    assert changed < set(layout.OUTPUT_SHEET_NAMES)
    assert len(edits_of(kept)) == len(set(layout.OUTPUT_SHEET_NAMES) - changed)
    type_over(book, {("Summary", "F4"): 1})  # saved again by openpyxl
    assert FileWorkbook(book).sheets_as_written(layout.OUTPUT_SHEET_NAMES) == set()


def test_typed_over_cells_stop_dollarize_and_leave_the_file_as_it_was(book, capsys):
    before = type_over(book, {("Summary", "F4"): 123456, ("Revenue", "B10"): "renamed",
                              ("COGS", "F8"): "=1+1"})
    assert isinstance(before["Summary!F4"], str) and before["Summary!F4"].startswith("=")
    data = book.read_bytes()
    assert main(["dollarize", str(book)]) == 1
    out = capsys.readouterr().out
    assert book.read_bytes() == data
    lines = [ln for ln in out.splitlines() if ln.startswith("error[typed-over]")]
    assert len(lines) == 3
    by_cell = {ln.split("!", 1)[1].split(":", 1)[0]: ln for ln in lines}
    assert set(by_cell) == {"Summary!F4", "Revenue!B10", "COGS!F8"}
    assert f"sopfin wrote {before['Summary!F4']} here and found 123456" in by_cell["Summary!F4"]
    assert f"sopfin wrote {before['Revenue!B10']!r} here and found 'renamed'" \
        in by_cell["Revenue!B10"]
    assert f"sopfin wrote {before['COGS!F8']} here and found =1+1" in by_cell["COGS!F8"]
    for line in lines:
        assert "sheet Overrides with an owner and a reason" in line
        assert "--discard-edits" in line
    assert "not written" in out


def test_discarded_edits_are_recorded_on_issues_and_on_the_next_ledger_entry(book, capsys):
    before = type_over(book, {("Summary", "F4"): 123456, ("Cash", "F3"): 99})
    assert main(["dollarize", str(book), "--discard-edits", "-q"]) == 0
    assert "warning[edit-discarded]" in capsys.readouterr().out
    summary = read_cells(book, ["Summary"])["Summary"]
    assert summary["F4"] == FormulaCell(before["Summary!F4"][1:], summary["F4"].value)
    assert read_cells(book, ["Cash"])["Cash"]["F3"] == before["Cash!F3"]
    assert edits_of(book) == []

    def recorded(rows: list[list[object]]) -> dict[str, str]:
        return {str(r[2]): str(r[3]) for r in rows if r[1] == "edit-discarded"}
    want = {"Summary!F4": f"discarded an edit: found 123456 where sopfin wrote "
                          f"{before['Summary!F4']}",
            "Cash!F3": f"discarded an edit: found 99 where sopfin wrote {before['Cash!F3']:g}"}
    assert recorded(issues_rows(book)) == want
    assert main(["dollarize", str(book), "-q"]) == 0  # kept on Issues until a close
    assert recorded(issues_rows(book)) == want

    result = run_close(book, author="A. Analyst")
    assert result.ok, result.lines()
    note = load_ledger(FileWorkbook(book))[-1].note
    assert "2 discarded edit(s)" in note
    assert f"Summary!F4 found 123456 where sopfin wrote {before['Summary!F4']}" in note
    assert "Cash!F3 found 99" in note
    assert recorded(issues_rows(book)) == {}  # recorded once, on the ledger
    assert main(["verify", str(book), "-q"]) == 0
    assert main(["close", str(book), "-q", "--force"]) == 0
    assert "discarded" not in load_ledger(FileWorkbook(book))[-1].note


def test_a_new_family_is_not_mistaken_for_edits(book, capsys):
    add_family(book)
    assert edits_of(book) == []
    result = run_close(book, author="A. Analyst")  # close before dollarize: no silent override
    assert result.ok, result.lines()
    assert result.reconciliation.silent_overrides == ()
    assert main(["dollarize", str(book), "-q"]) == 0
    assert "typed-over" not in capsys.readouterr().out


def test_an_edit_is_still_named_after_the_plan_changed_shape(book, capsys):
    """The typed-over row is rendered differently now (it moved): the cell is named, with
    'a formula' for what sopfin wrote there."""
    cells = read_cells(book, ["Revenue"])["Revenue"]
    last_row = max(int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for ref in cells)
    target = next(f"F{r}" for r in range(last_row - 5, 0, -1)
                  if isinstance(cells.get(f"F{r}"), FormulaCell))
    type_over(book, {("Revenue", target): 5})
    add_family(book)
    data = book.read_bytes()
    assert main(["dollarize", str(book)]) == 1
    out = capsys.readouterr().out
    assert book.read_bytes() == data
    errors = [ln for ln in out.splitlines() if ln.startswith("error[")]
    assert len(errors) == 1 and f"Revenue!{target}:" in errors[0]
    assert "found 5" in errors[0]


def test_another_formula_on_a_row_the_plan_changed_is_reported_for_the_row(book, capsys):
    cells = read_cells(book, ["Revenue"])["Revenue"]
    last_row = max(int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for ref in cells)
    row = next(r for r in range(last_row - 5, 0, -1)
               if isinstance(cells.get(f"G{r}"), FormulaCell))
    type_over(book, {("Revenue", f"G{row}"): "=1+2"})
    add_family(book)
    assert main(["dollarize", str(book)]) == 1
    errors = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error[")]
    assert len(errors) == 1
    assert "Revenue!" in errors[0] and f"sopfin wrote on row {row} was changed" in errors[0]
    assert main(["dollarize", str(book), "--discard-edits", "-q"]) == 0
    assert read_cells(book, ["Revenue"])["Revenue"][f"G{row}"] != FormulaCell("1+2", 3.0)
    assert edits_of(book) == []


def test_reconcile_does_not_overwrite_an_edit(book, capsys):
    type_over(book, {("Summary", "F4"): 1})
    data = book.read_bytes()
    assert main(["reconcile", str(book), "-q"]) == 1
    assert "--discard-edits" in capsys.readouterr().out
    assert book.read_bytes() == data


def test_a_book_open_in_excel_refuses_the_same_way():
    book = book_with(plan_base())
    assert pipeline.run_dollarize(LiveWorkbook(book)).ok
    cells = book.sheets[layout.REVENUE]._cells
    typed = sorted(rc for rc, c in cells.items()
                   if str(c.get("formula") or "").startswith("=Demand!"))[0]
    cells[typed] = {"value": 99.0, "formula": None}
    result = pipeline.run_dollarize(LiveWorkbook(book))
    assert [i.code.value for i in result.errors] == ["typed-over"]
    assert cells[typed]["value"] == 99.0
    result = pipeline.run_dollarize(LiveWorkbook(book), discard_edits=True)
    assert result.ok and str(cells[typed]["formula"]).startswith("=Demand!")
    assert [i.code.value for i in result.issues if i.code.value == "edit-discarded"] \
        == ["edit-discarded"]


def test_the_ribbon_refuses_then_discards_and_keeps_the_record_on_issues():
    from sopfin.excel import ribbon

    book = book_with(plan_base())
    assert ribbon.dollarize(book=book).startswith("sopfin: wrote")
    cells = book.sheets[layout.REVENUE]._cells
    typed = sorted(rc for rc, c in cells.items()
                   if str(c.get("formula") or "").startswith("=Demand!"))[0]
    cells[typed] = {"value": 99.0, "formula": None}

    def codes() -> list[object]:
        return [c["value"] for (r, col), c in book.sheets[layout.ISSUES]._cells.items()
                if col == 2 and r > 2]
    assert "not dollarized" in ribbon.dollarize(book=book)
    assert cells[typed]["value"] == 99.0 and codes() == ["typed-over"]
    assert ribbon.dollarize(book=book, discard_edits=True).startswith("sopfin: wrote")
    assert codes() == ["edit-discarded"]
    assert ribbon.dollarize(book=book).startswith("sopfin: wrote")
    assert codes() == ["edit-discarded"]  # kept until a close records it


@pytest.mark.libreoffice
def test_a_copy_saved_by_libreoffice_shows_only_the_real_edit(book, soffice, tmp_path):
    type_over(book, {("Summary", "F4"): 123456})
    out = convert(soffice, [book], tmp_path / "lo", fmt="xlsx")[book]
    assert out is not None
    found = edited_cells([], read_cell_rows(out, layout.FINGERPRINTED_SHEETS))
    assert [str(f.where) for f in found] == ["Summary!F4"]
    assert found[0].found == "123456"


def _changed(found: object, written: object) -> bool:
    f_formula, w_formula = getattr(found, "formula", None), getattr(written, "formula", None)
    if w_formula is not None:
        return f_formula is None or f_formula.replace(" ", "") != w_formula.replace(" ", "")
    return canonical(found) != canonical(written)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_sheets_name_exactly_the_cells_that_changed(data):
    """Sheets in the renderer's shapes (label blocks, formula grids with odd rows, arrays of
    formulas with blanks, numbers, overlapping blocks): untouched, nothing is found; with
    cells typed over, changed or cleared, exactly those cells are named."""
    sheet = with_fingerprints(data.draw(generated.spec()))
    cells = generated.rendered(sheet)
    assert edited_cells([sheet], {generated.SHEET: cells}) == []
    owned = sorted(r for r, v in cells.items() if RowPrint.parse(v) is None)
    picked = data.draw(st.lists(st.sampled_from(owned), max_size=3, unique=True))
    edited = dict(cells)
    for ref in picked:
        old = cells[ref]
        new = data.draw(st.sampled_from([123456.0, "n/a", None, "respace", "plus-one"]))
        if new == "respace" and isinstance(old, FormulaCell):
            edited[ref] = FormulaCell(f" {old.formula} ", old.value)
        elif new == "plus-one" and isinstance(old, FormulaCell):
            edited[ref] = FormulaCell(f"{old.formula}+1", old.value)
        elif new is None:
            del edited[ref]
        elif new not in ("respace", "plus-one"):
            edited[ref] = new
    want = {f"{generated.SHEET}!{r}" for r in picked if _changed(edited.get(r), cells[r])}
    found = edited_cells([sheet], {generated.SHEET: edited})
    assert {str(f.where) for f in found} == want
