"""The workbook lives in a spreadsheet app: after LibreOffice (File > Save) or an openpyxl
load-and-save rewrites the whole package, every command keeps working.

One demo workbook goes through the monthly cycle, saved by LibreOffice after dollarize, after a
close and after a user's edit of a Demand cell, and then by openpyxl; sopfin must still know its
own sheets, put the ledger back to very hidden, prove every published tab and show the edit in
the next version. The same holds for an .xlsm, whose VBA project sopfin copies byte for byte.
LibreOffice conversions are few (one per point of the cycle) and shared by module fixtures.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

import sopfin
from sopfin import layout
from sopfin.cli import main
from sopfin.close.digests import FormulaCell, content_hash
from sopfin.close.publish import CloseResult, run_close
from sopfin.close.verify import run_diff, run_verify
from sopfin.guard.respelling import canonical_formula
from sopfin.guard.typed_over import typed_over_formulas
from sopfin.model import IssueCode
from sopfin.render.recon_seal import hashed_cells
from sopfin.sheetspec import Block, SheetSpec
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import read_raw_sheets, sheet_parts
from sopfin.xlsx.writer import (
    SheetNameTakenError,
    create_workbook,
    owned_sheet_names,
    sheet_states,
    write_sheets,
)
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import parts, rebuild, replace_in

XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
XLSM_FILTER = "xlsm:Calc MS Excel 2007 VBA XML"
VBA_PART = "xl/vbaProject.bin"
OUTPUTS_AND_RECON = [*layout.OUTPUT_SHEET_NAMES, layout.LEDGER]


# --- rewriters -------------------------------------------------------------------------------
def saved_by_libreoffice(soffice: str, source: Path, target: Path,
                         fmt: str = XLSX_FILTER) -> Path:
    """``source`` as LibreOffice's File > Save writes it, at ``target``."""
    out = convert(soffice, [source], target.parent / f"lo-{target.stem}", fmt=fmt)[source]
    assert out is not None, f"LibreOffice did not save {source.name}"
    shutil.move(out, target)
    return target


def saved_by_openpyxl(source: Path, target: Path) -> Path:
    wb = openpyxl.load_workbook(source, keep_vba=source.suffix == ".xlsm")
    wb.save(target)
    return target


def copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def cli(*args: object) -> int:
    return main([*(str(a) for a in args), "-q"])


def ledger_state(path: Path) -> str | None:
    return sheet_states(path).get(layout.LEDGER)


def verified(path: Path) -> list[str]:
    """Verify ``path``: it must pass; returns the kinds of the warnings it gave."""
    result = run_verify(path)
    assert result.ok, result.lines()
    return [f.code.value for f in result.findings]


# --- the user's edit ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DemandEdit:
    """A Demand cell set to 0 where nothing else moves: the family ships its whole demand in
    the last two months, so dropping one channel's last-month demand drops shipments by
    exactly that many units and revenue by units x that month's price."""

    family: str
    channel: str
    cell: str
    units: float
    price: float


def _row(rows: list[list[object]], *keys: str) -> tuple[int, list[object]]:
    for i, row in enumerate(rows):
        if tuple(str(v) for v in row[:len(keys)]) == keys:
            return i, row
    raise AssertionError(f"no row {keys}")


def choose_edit(path: Path, scenario: str) -> DemandEdit:
    figures = sopfin.dollarize(sopfin.read_plan(path)).families.loc[scenario]
    raw = read_raw_sheets(path, ["Demand", "Prices"])
    demand, prices = raw["Demand"].rows, raw["Prices"].rows
    last = len(demand[0]) - 1  # the horizon's last month
    month = str(demand[0][last])
    for family in dict.fromkeys(figures.index.get_level_values("family")):
        tail = figures.loc[family].iloc[-2:]
        unconstrained = (tail["shipments_units"] == tail["demand_units"]).all() and not (
            tail["backlog_units"].any() or tail["lost_units"].any())
        if not unconstrained:
            continue
        i, row = _row(demand, scenario, family, "Distributors")
        units = float(row[last])  # type: ignore[arg-type]
        if units <= 0:
            continue
        j = prices[0].index(month)
        _, price_row = _row(prices, family, "Distributors")
        return DemandEdit(family, "Distributors", f"{layout.column_letter(last + 1)}{i + 1}",
                          units, float(price_row[j]))  # type: ignore[arg-type]
    raise AssertionError("the demo has no family that ships its whole demand at the end")


def type_into(path: Path, sheet: str, cell: str, value: float | str) -> Path:
    """What a user does in the app: type a number or a text into a cell (the sheet's XML
    edited as the app stores it: shared strings, styles and all else left alone)."""
    with zipfile.ZipFile(path) as zf:
        part = sheet_parts(zf)[sheet]
        xml = zf.read(part).decode("utf-8")
    found = re.search(rf'<c r="{cell}"[^>]*?>.*?</c>', xml)
    assert found, f"{sheet}!{cell} not in {part}"
    style = re.search(r'\ss="\d+"', found.group(0))
    kept = style.group(0) if style else ""
    typed = (f'<c r="{cell}"{kept} t="inlineStr"><is><t>{value}</t></is></c>'
             if isinstance(value, str) else f'<c r="{cell}"{kept}><v>{value:g}</v></c>')
    rebuild(path, replace_in(part, found.group(0), typed))
    return path


# --- the cycle -------------------------------------------------------------------------------
@dataclass
class Cycle:
    saved: dict[str, Path]  # each rewriter's output, as it came from the app
    worked: dict[str, Path]  # the workbook after sopfin's commands ran on it
    closes: dict[str, CloseResult]
    edit: DemandEdit


@pytest.fixture(scope="module")
def dollarized_demo(built_demo, tmp_path_factory) -> Path:
    demo = copy(built_demo, tmp_path_factory.mktemp("demo") / "demo.xlsx")
    assert cli("dollarize", demo) == 0
    return demo


@pytest.fixture(scope="module")
def cycle(tmp_path_factory, soffice, dollarized_demo) -> Cycle:
    root = tmp_path_factory.mktemp("roundtrip")
    demo = dollarized_demo
    saved: dict[str, Path] = {}
    worked: dict[str, Path] = {}
    closes: dict[str, CloseResult] = {}

    # 1. saved in LibreOffice after dollarize: check, dollarize, reconcile, close v001
    saved["dollarized"] = saved_by_libreoffice(soffice, demo, root / "lo-dollarized.xlsx")
    book = copy(saved["dollarized"], root / "after-lo-1.xlsx")
    assert cli("check", book) == 0
    assert cli("dollarize", book) == 0
    assert cli("reconcile", book) == 0
    closes["v001"] = run_close(book, author="A. Analyst")
    assert closes["v001"].ok, closes["v001"].lines()
    worked["dollarized"] = book

    # 2. saved after the close: approve v001, close v002 with nothing changed
    saved["closed"] = saved_by_libreoffice(soffice, book, root / "lo-closed.xlsx")
    book = copy(saved["closed"], root / "after-lo-2.xlsx")
    assert cli("approve", book, "--version", 1, "--by", "CFO") == 0
    closes["v002"] = run_close(book, author="A. Analyst", force=True)
    assert closes["v002"].ok, closes["v002"].lines()
    worked["closed"] = book

    # 3. a user types into Demand, saves in LibreOffice, and the file goes through openpyxl
    edit = choose_edit(book, closes["v002"].reconciliation.scenario)  # type: ignore[union-attr]
    edited = copy(book, root / "edited.xlsx")
    type_into(edited, "Demand", edit.cell, 0)
    saved["edited"] = saved_by_libreoffice(soffice, edited, root / "lo-edited.xlsx")
    saved["openpyxl"] = saved_by_openpyxl(saved["edited"], root / "openpyxl.xlsx")
    book = copy(saved["openpyxl"], root / "after-openpyxl.xlsx")
    assert cli("check", book) == 0
    assert cli("dollarize", book) == 0
    closes["v003"] = run_close(book, author="A. Analyst")
    assert closes["v003"].ok, closes["v003"].lines()
    worked["edited"] = book
    return Cycle(saved, worked, closes, edit)


roundtrip = pytest.mark.libreoffice


@roundtrip
def test_libreoffice_respells_the_marks_and_shows_the_ledger(cycle):
    """What the app does that used to stop sopfin: the owner marks come back as TRUE(), not
    hidden, and the very hidden ledger as a plain hidden sheet."""
    with zipfile.ZipFile(cycle.saved["closed"]) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
    marks = re.findall(r"<definedName[^>]*_sopfin_owned[^>]*>([^<]*)</definedName>", workbook)
    assert marks and set(marks) == {"TRUE()"}, marks
    assert ledger_state(cycle.saved["closed"]) == "hidden"
    assert set(layout.OUTPUT_SHEET_NAMES) | {layout.LEDGER, "Recon v001"} <= owned_sheet_names(
        cycle.saved["closed"])


@roundtrip
@pytest.mark.parametrize("point", ["closed", "openpyxl"])
def test_recon_protection_survives_the_save(cycle, point):
    """The published tab's SHA-512 protection comes back with the same hash and salt."""
    def protection(path: Path) -> dict[str, str]:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read(sheet_parts(zf)["Recon v001"]).decode("utf-8")
        found = re.search(r"<sheetProtection\s[^>]*>", xml)
        assert found, f"{path.name}: Recon v001 is not protected"
        return {k: v for k, v in re.findall(r'(\w+)="([^"]*)"', found.group(0))
                if k in ("algorithmName", "hashValue", "saltValue", "spinCount")}

    written = protection(cycle.worked["dollarized"])
    assert written["algorithmName"] == "SHA-512"
    assert protection(cycle.saved[point]) == written


@roundtrip
@pytest.mark.parametrize("point", ["dollarized", "closed", "edited", "openpyxl"])
def test_verify_proves_every_tab_right_after_each_save(cycle, point):
    result = run_verify(cycle.saved[point])
    assert result.ok, result.lines()
    shown = [f for f in result.findings if f.code is IssueCode.LEDGER_SHOWN]
    assert len(shown) == (0 if point == "dollarized" else 1), result.lines()
    changed = {str(f.where).split("!")[0] for f in result.findings
               if f.code is IssueCode.INPUTS_CHANGED}
    # The Demand edit after v002 is named, as any edit after a close is, and nothing else:
    # LibreOffice stores the TRUE cells of Families and Settings as TRUE() formulas, and
    # openpyxl keeps those formulas without their results; they still read as TRUE.
    expect = {"edited": {"Demand"}, "openpyxl": {"Demand"}}
    assert changed == expect.get(point, set()), result.lines()
    assert len(result.findings) == len(shown) + len(changed), result.lines()


@roundtrip
@pytest.mark.parametrize("point", ["dollarized", "closed", "edited"])
def test_every_command_puts_the_ledger_back_to_very_hidden(cycle, point):
    """... and the owner marks back to hidden names reading TRUE."""
    assert ledger_state(cycle.worked[point]) == layout.LEDGER_STATE
    assert verified(cycle.worked[point]) == []
    with zipfile.ZipFile(cycle.worked[point]) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
    marks = re.findall(rf"<definedName[^>]*{layout.OWNER_MARK_NAME}[^>]*>[^<]*<", workbook)
    assert len(marks) == len(owned_sheet_names(cycle.worked[point])) >= 8
    assert all(m.endswith('hidden="1">TRUE<') for m in marks), marks


@roundtrip
def test_the_cycle_publishes_three_verified_versions(cycle):
    assert [c.version for c in cycle.closes.values()] == [1, 2, 3]
    result = run_verify(cycle.worked["edited"])
    assert result.ok and "3 version(s), latest v003" in "\n".join(result.lines())
    assert "plan of record v001" in "\n".join(result.lines())
    assert run_diff(cycle.worked["edited"], 1, 2).messages == ["v001 -> v002: nothing moved"]


@roundtrip
def test_the_new_version_shows_the_edit_and_nothing_else(cycle):
    edit = cycle.edit
    table = run_diff(cycle.worked["edited"], 2, 3).table
    assert table is not None
    assert {moved.key[0] for moved in table} == {edit.family}
    change = {moved.key: moved.change for moved in table}
    assert change[(edit.family, "units")] == pytest.approx(-edit.units)
    assert change[(edit.family, "revenue")] == pytest.approx(-edit.units * edit.price, abs=0.01)

    def plan_revenue(close: CloseResult) -> float:
        assert close.reconciliation is not None
        return next(line.amount for line in close.reconciliation.revenue_bridge
                    if line.kind == "end")

    moved = plan_revenue(cycle.closes["v003"]) - plan_revenue(cycle.closes["v002"])
    assert moved == pytest.approx(-edit.units * edit.price, abs=0.01)


@roundtrip
def test_user_sheet_sharing_a_name_is_still_refused_after_a_save(cycle, tmp_path):
    """The user replaces Summary by a sheet of their own of that name in a LibreOffice-saved
    workbook: sopfin refuses to write over it and leaves the file as it was."""
    book = copy(cycle.saved["dollarized"], tmp_path / "theirs.xlsx")
    type_into(book, "Summary", "A1", "My own summary | scenarios: base")
    with zipfile.ZipFile(book) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
    position = re.findall(r'<sheet name="([^"]+)"', workbook).index("Summary")
    mark = re.search(rf'<definedName(?=[^>]*name="_sopfin_owned")'
                     rf'(?=[^>]*localSheetId="{position}")[^>]*>[^<]*</definedName>', workbook)
    assert mark
    rebuild(book, replace_in("xl/workbook.xml", mark.group(0), ""))
    owned = FileWorkbook(book).owned_sheet_names()
    assert "Summary" not in owned and "Revenue" in owned
    before = book.read_bytes()
    assert cli("dollarize", book) == 2
    assert book.read_bytes() == before


# --- the marks, spelled as the apps spell them -------------------------------------------------
@pytest.mark.parametrize("text, owned", [
    ("TRUE", True), ("TRUE()", True), ("=TRUE", True), ("=TRUE()", True), (" true ", True),
    ("= TRUE ( )", True), ("FALSE", False), ("FALSE()", False), ("1", False), ("", False),
    ("TRUE()+0", False), ("NOT(TRUE)", False)])
def test_owner_mark_spellings(text, owned):
    assert layout.is_owner_mark_value(text) is owned


def _marked(tmp_path: Path, value: str, hidden: str) -> Path:
    path = tmp_path / "marked.xlsx"
    sopfin_sheet = SheetSpec("Revenue", blocks=[Block(1, 1, [[1.0]])])
    create_workbook(path, [SheetSpec("Demand", owned=False), sopfin_sheet])
    rebuild(path, replace_in("xl/workbook.xml",
                             'localSheetId="1" hidden="1">TRUE<',
                             f'localSheetId="1" hidden="{hidden}">{value}<'))
    return path


@pytest.mark.parametrize("value, hidden", [("TRUE()", "false"), ("=TRUE", "0"),
                                           ("TRUE", "1")])
def test_sheet_marked_in_any_spelling_is_rewritten(tmp_path, value, hidden):
    path = _marked(tmp_path, value, hidden)
    report = write_sheets(path, [SheetSpec("Revenue", blocks=[Block(1, 1, [[2.0]])])])
    assert report.replaced == ("Revenue",)


@pytest.mark.parametrize("value", ["FALSE", "FALSE()", "0"])
def test_sheet_marked_false_is_never_overwritten(tmp_path, value):
    path = _marked(tmp_path, value, "1")
    before = path.read_bytes()
    with pytest.raises(SheetNameTakenError):
        write_sheets(path, [SheetSpec("Revenue", blocks=[Block(1, 1, [[2.0]])])])
    assert path.read_bytes() == before


def test_ledger_state_is_restored_without_rewriting_the_ledger(tmp_path):
    """A write that does not touch the ledger still puts it back to very hidden, and never
    changes the state of a sheet that is not sopfin's."""
    path = tmp_path / "states.xlsx"
    create_workbook(path, [SheetSpec("Demand", owned=False),
                           SheetSpec(layout.LEDGER, blocks=[Block(1, 1, [["seq"]])],
                                     state="hidden"),
                           SheetSpec("Mine", owned=False, state="hidden")])
    ledger_part = sheet_parts_of(path)[layout.LEDGER]
    before = parts(path)[ledger_part]
    write_sheets(path, [SheetSpec("Revenue", blocks=[Block(1, 1, [[1.0]])])],
                 states={layout.LEDGER: layout.LEDGER_STATE, "Mine": "visible"})
    assert sheet_states(path) == {"Demand": "visible", layout.LEDGER: "veryHidden",
                                  "Mine": "hidden", "Revenue": "visible"}
    assert parts(path)[ledger_part] == before


def sheet_parts_of(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)


# --- what a rewrite may re-spell, and what it may not change ------------------------------------
@pytest.mark.parametrize("found, same", [
    ("SUM(F7:F9)", True), ("sum( f7 : f9 )", True), ("_xlfn.SUM(F7:F9)", True),
    ("SUM(F7:F8)", False), ("SUM(F7:F9)+1", False), ("F7+F8+F9", False)])
def test_typed_over_check_sees_through_a_respelled_formula_only(found, same):
    spec = SheetSpec("Summary", blocks=[Block(1, 1, [["Revenue", 0.0]],
                                              formulas=[[None, "SUM(F7:F9)"]])])
    findings = typed_over_formulas([spec], {"Summary": {"A1": "Revenue",
                                                        "B1": FormulaCell(found, 5.0)}})
    assert [f.kind for f in findings] == ([] if same else ["formula-changed"])


def test_string_literals_keep_their_case_and_spaces():
    assert canonical_formula('if(A1 = "a  B", "x", b1)') == 'IF(A1="a  B","x",B1)'
    assert canonical_formula('IF(A1="a B",1,0)') != canonical_formula('IF(A1="aB",1,0)')


def test_a_published_boolean_saved_as_true_formula_still_verifies():
    """LibreOffice stores a TRUE constant as the formula TRUE() (cached 1): the same cell.
    A value that changed, or a formula with another result, is still a change."""
    written = {"A1": "Constrained", "B1": True, "C1": 1234.5}
    digest = content_hash(written)
    assert content_hash(hashed_cells({**written, "B1": FormulaCell("TRUE()", True)})) == digest
    assert content_hash(hashed_cells({**written, "B1": FormulaCell("TRUE()", 1)})) == digest
    assert content_hash(hashed_cells({**written, "B1": FormulaCell("FALSE()", 0)})) != digest
    assert content_hash(hashed_cells({**written, "B1": FormulaCell("TRUE()", 0)})) != digest
    assert content_hash(hashed_cells({**written, "C1": 1234.5 + 4e-12})) == digest  # 15 digits
    assert content_hash(hashed_cells({**written, "C1": 1234.51})) != digest


# --- marks dropped altogether: the content proves what is sopfin's -------------------------
def without_marks(path: Path) -> Path:
    """Drop every owner mark (the workbook's other names, its identity among them, stay)."""
    rebuild(path, lambda p: {**p, "xl/workbook.xml": re.sub(
        rb"<definedName [^>]*name=\"_sopfin_owned\"[^>]*>[^<]*</definedName>", b"",
        p["xl/workbook.xml"])})
    assert owned_sheet_names(path) == set()
    return path


@pytest.fixture(scope="module")
def closed_demo(tmp_path_factory, dollarized_demo) -> Path:
    path = copy(dollarized_demo, tmp_path_factory.mktemp("unmarked") / "closed.xlsx")
    assert cli("close", path, "--author", "A. Analyst") == 0
    return path


def test_sheets_whose_marks_were_dropped_are_known_by_content_and_marked_again(
        closed_demo, tmp_path):
    book = without_marks(copy(closed_demo, tmp_path / "plan.xlsx"))
    ours = {*layout.OUTPUT_SHEET_NAMES, layout.LEDGER, layout.INPUT_ROWS, "Recon v001"}
    assert FileWorkbook(book).owned_sheet_names() == ours
    assert verified(book) == []
    assert cli("dollarize", book) == 0
    assert owned_sheet_names(book) == ours  # marked again, by the write that proved them


def _edited(source: Path, target: Path, sheet: str, cell: str, value: float | str) -> Path:
    return without_marks(type_into(copy(source, target), sheet, cell, value))


def test_content_never_overrules_a_mark_that_says_false(closed_demo, tmp_path):
    book = copy(closed_demo, tmp_path / "plan.xlsx")
    with zipfile.ZipFile(book) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
    position = re.findall(r'<sheet name="([^"]+)"', workbook).index("Revenue")
    rebuild(book, replace_in("xl/workbook.xml", f'localSheetId="{position}" hidden="1">TRUE<',
                             f'localSheetId="{position}" hidden="1">FALSE<'))
    assert "Revenue" not in FileWorkbook(book).owned_sheet_names()
    before = book.read_bytes()
    assert cli("dollarize", book) == 2
    assert book.read_bytes() == before


@pytest.mark.parametrize("sheet, cell, value, unproven", [
    ("Revenue", "A1", "Revenue by channel, my own", {"Revenue"}),
    ("Recon v001", "B4", 2, {"Recon v001"}),  # the version number: no longer what was hashed
    (layout.LEDGER, "F2", "someone else",  # chain broken: nothing it vouches for is proven
     {layout.LEDGER, layout.INPUT_ROWS, "Recon v001"}),
])
def test_an_unmarked_sheet_that_content_does_not_prove_is_never_written(
        closed_demo, tmp_path, sheet, cell, value, unproven):
    book = _edited(closed_demo, tmp_path / "plan.xlsx", sheet, cell, value)
    ours = {*layout.OUTPUT_SHEET_NAMES, layout.LEDGER, layout.INPUT_ROWS, "Recon v001"}
    assert FileWorkbook(book).owned_sheet_names() == ours - unproven
    before = book.read_bytes()
    command = ["dollarize", book] if sheet == "Revenue" else ["close", book]
    assert cli(*command) != 0  # 2: a sheet that is not sopfin's; 1: a tab that fails verify
    assert book.read_bytes() == before


# --- .xlsm: the macros ---------------------------------------------------------------------
def vba_project() -> bytes:
    """A real VBA project: the one the add-in build writes (MS-OVBA), with its modules."""
    from addin.build import build

    with zipfile.ZipFile(io.BytesIO(build())) as zf:
        return zf.read(VBA_PART)


def with_macros(source: Path, target: Path, project: bytes) -> Path:
    """``source`` made a macro-enabled workbook holding ``project``, as Excel stores one."""
    shutil.copyfile(source, target)

    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        types = p["[Content_Types].xml"].decode("utf-8")
        types = types.replace(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        types = types.replace("</Types>", '<Default Extension="bin" ContentType='
                              '"application/vnd.ms-office.vbaProject"/></Types>')
        p["[Content_Types].xml"] = types.encode("utf-8")
        rels = p["xl/_rels/workbook.xml.rels"].decode("utf-8").replace(
            "</Relationships>", '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
            'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
        p["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
        p[VBA_PART] = project
        return p

    rebuild(target, edit)
    return target


@pytest.fixture(scope="module")
def macro_book(tmp_path_factory, soffice, dollarized_demo) -> tuple[Path, Path]:
    """The demo as an .xlsm after dollarize, then as LibreOffice saved it."""
    root = tmp_path_factory.mktemp("xlsm")
    macro = with_macros(dollarized_demo, root / "demo.xlsm", vba_project())
    return macro, saved_by_libreoffice(soffice, macro, root / "lo-demo.xlsm", XLSM_FILTER)


@roundtrip
def test_xlsm_commands_work_and_keep_the_vba_project(macro_book, tmp_path):
    """LibreOffice writes its own vbaProject.bin (same modules, other bytes); openpyxl
    (keep_vba) and every sopfin command after it keep that part byte for byte."""
    original, saved = macro_book
    kept = parts(saved).get(VBA_PART)
    assert kept is not None, "LibreOffice dropped the VBA project of the .xlsm"
    book = saved_by_openpyxl(saved, tmp_path / "plan.xlsm")  # the second rewriter, keep_vba
    assert cli("dollarize", book) == 0
    assert cli("close", book, "--author", "A. Analyst") == 0
    assert cli("approve", book, "--version", 1, "--by", "CFO") == 0
    assert verified(book) == []
    assert ledger_state(book) == layout.LEDGER_STATE
    assert parts(book)[VBA_PART] == kept  # sopfin is never the one that changes the macros
    with zipfile.ZipFile(book) as zf:
        assert "macroEnabled.main+xml" in zf.read("[Content_Types].xml").decode("utf-8")
    assert parts(original)[VBA_PART] is not None


def demo_saved_by_openpyxl(path: Path, typed: dict[tuple[str, str], str]) -> Path:
    """The demo plan copied at ``path`` with ``typed`` {(sheet, cell): text} entered and saved
    by openpyxl, which writes formulas without their results."""
    wb = openpyxl.load_workbook(path)
    for (sheet, cell), text in typed.items():
        wb[sheet][cell] = text
    wb.save(path)
    return path


def checked(path: Path) -> tuple[int, list[dict[str, str]]]:
    """``sopfin check --json`` in its own process: exit code and issues."""
    report = subprocess.run([sys.executable, "-m", "sopfin.cli", "check", str(path), "--json"],
                            capture_output=True, text=True, check=False)
    return report.returncode, json.loads(report.stdout)["issues"]


def test_a_true_or_false_formula_without_its_result_reads_as_the_boolean(demo_copy):
    """openpyxl writes a formula without its result; a FALSE() typed as a formula must not
    read as an empty cell, which would make an inactive family active by default."""
    path = demo_saved_by_openpyxl(demo_copy, {
        (layout.FAMILIES, "E2"): "=FALSE()", (layout.FAMILIES, "E3"): "=true()"})
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(sheet_parts(zf)[layout.FAMILIES])
    assert re.search(rb'<c r="E2"[^>]*><f>FALSE\(\)</f><v\s*/?>', xml)
    rows = read_raw_sheets(path, [layout.FAMILIES])[layout.FAMILIES].rows
    assert (rows[1][4], rows[2][4]) == (False, True)
    codes = {i["code"] for i in checked(path)[1]}
    assert "inactive-family-has-demand" in codes  # the family read as inactive


def test_a_formula_saved_without_its_result_is_an_error_at_its_cell(demo_copy):
    """openpyxl keeps a formula and drops its result: the input is unknown, never a blank."""
    path = demo_saved_by_openpyxl(demo_copy, {
        (layout.DEMAND, "F3"): "=F2*2", (layout.SETTINGS, "B5"): "=1+1"})
    before = path.read_bytes()
    code, issues = checked(path)
    assert code == 1
    found = {f'{i["sheet"]}!{i["cell"]}': i["message"]
             for i in issues if i["code"] == "excel-error"}
    assert set(found) == {f"{layout.DEMAND}!F3", f"{layout.SETTINGS}!B5"}, found
    assert all("saved without its result" in m for m in found.values())
    assert cli("dollarize", path) == 1 and path.read_bytes() == before


@pytest.mark.parametrize("cell, expected", [
    (b'<c r="B2"><f>A1*2</f><v></v></c>', [(1, 1, "no-result")]),
    (b'<c r="B2" s="3"><f t="shared" si="0"/></c>', [(1, 1, "no-result")]),
    (b'<c r="C4"><f>true()</f><v/></c>', [(3, 2, True)]),
    (b'<c r="C4"><f>FALSE()</f></c>', [(3, 2, False)]),
    (b'<c r="B2"><f>A1*2</f><v>4</v></c>', []),  # calculated
    (b'<c r="B2" t="str"><f>IF(A1,"","x")</f><v></v></c>', []),  # calculated: empty text
    (b'<c r="B2"><v>4</v></c>', []),  # a constant
])
def test_which_formula_cells_have_no_stored_result(cell, expected):
    from sopfin.model import NO_STORED_RESULT, XlError
    from sopfin.xlsx.read import uncalculated_cells

    found = uncalculated_cells(b"<row r=\"2\">" + cell + b"</row>")
    want = [(r, c, XlError(NO_STORED_RESULT) if v == "no-result" else v)
            for r, c, v in expected]
    assert found == want
