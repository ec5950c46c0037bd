"""How the close prints: every output sheet and Recon tab prints landscape, one page wide,
with print titles, a print area and a header and footer naming the sheet, the version and the
page; the workbook opens on the new Recon tab. LibreOffice exports the closed demo to PDF and
the pages are counted per sheet (each page's header starts with its sheet's name).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pypdf
import pytest
from lxml import etree

from sopfin import layout
from sopfin.cli import main
from sopfin.sheetspec import Block, PageSetup, SheetSpec
from sopfin.xlsx.activetab import deselect, deselected_part, is_selected, set_active_tab
from sopfin.xlsx.package import XmlText
from sopfin.xlsx.printnames import replace_print_names

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PRINTED = (*layout.OUTPUT_SHEET_NAMES, "Recon v001")
# CT_Worksheet's children in schema order (those sopfin writes among them)
WORKSHEET_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
                   "sheetProtection", "hyperlinks", "pageMargins", "pageSetup",
                   "headerFooter", "drawing")


@pytest.fixture(scope="module")
def closed(built_demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("print") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["dollarize", str(path), "-q"]) == 0
    assert main(["close", str(path), "--author", "A. Analyst", "-q"]) == 0
    return path


def workbook_xml(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("xl/workbook.xml"))


def sheet_xml(path: Path) -> dict[str, etree._Element]:
    """Sheet name -> its worksheet part, parsed."""
    with zipfile.ZipFile(path) as zf:
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        root = etree.fromstring(zf.read("xl/workbook.xml"))
        parts = {rid: t.lstrip("/") if t.startswith("/") else f"xl/{t}"
                 for rid, t in targets.items()}
        return {s.get("name"): etree.fromstring(zf.read(parts[s.get(REL)]))
                for s in root.iterfind("m:sheets/m:sheet", NS)}


def print_names(path: Path) -> list[tuple[str, str, str]]:
    """(sheet, name, formula) of every built-in print name."""
    root = workbook_xml(path)
    sheets = [s.get("name") for s in root.iterfind("m:sheets/m:sheet", NS)]
    return [(sheets[int(d.get("localSheetId"))], d.get("name"), d.text)
            for d in root.iterfind("m:definedNames/m:definedName", NS)
            if d.get("name", "").startswith("_xlnm.Print")]


def test_every_printed_sheet_has_a_landscape_page_one_page_wide(closed):
    parts = sheet_xml(closed)
    for name in PRINTED:
        ws = parts[name]
        setup = ws.find("m:pageSetup", NS)
        assert setup is not None, name
        assert (setup.get("orientation"), setup.get("fitToWidth")) == ("landscape", "1"), name
        assert setup.get("fitToHeight") == ("2" if name.startswith("Recon") else "0"), name
        assert ws.find("m:sheetPr/m:pageSetUpPr", NS).get("fitToPage") == "1"
        header = ws.findtext("m:headerFooter/m:oddHeader", "", NS)
        footer = ws.findtext("m:headerFooter/m:oddFooter", "", NS)
        assert "&A" in header and "Page &P of &N" in footer, name
        assert ("v001" if name.startswith("Recon") else "cycle 2027-01") in header
        order = [etree.QName(el).localname for el in ws]
        known = [tag for tag in order if tag in WORKSHEET_ORDER]
        assert known == sorted(known, key=WORKSHEET_ORDER.index), (name, order)
    for name in layout.INPUT_SHEET_NAMES:  # the user's sheets keep their own page setup
        assert parts[name].find("m:pageSetup", NS) is None


def test_print_area_and_titles_repeat_the_frozen_rows_and_key_columns(closed):
    names = {(sheet, name): formula for sheet, name, formula in print_names(closed)}
    assert names["Summary", "_xlnm.Print_Titles"] == "'Summary'!$A:$D,'Summary'!$1:$3"
    assert names["Revenue", "_xlnm.Print_Titles"] == "'Revenue'!$A:$F,'Revenue'!$1:$2"
    assert names["Issues", "_xlnm.Print_Titles"] == "'Issues'!$1:$2"
    assert names["Recon v001", "_xlnm.Print_Titles"] == "'Recon v001'!$1:$2"
    book = openpyxl.load_workbook(closed, read_only=True)
    summary = book["Summary"]
    assert names["Summary", "_xlnm.Print_Area"] == (
        f"'Summary'!$A$1:${openpyxl.utils.get_column_letter(summary.max_column)}"
        f"${summary.max_row}")
    # the Recon tab prints its summary part, left of the hidden helper columns
    area = names["Recon v001", "_xlnm.Print_Area"]
    last = int(re.search(r"\$L\$(\d+)$", area).group(1))
    recon = book["Recon v001"]
    labels = {row[0].value: row[0].row for row in recon.iter_rows(max_col=1) if row[0].value}
    assert labels["Silent overrides found"] < last < labels[
        "Price / volume / mix by family: revenue"]
    book.close()


def test_rewrites_replace_the_print_names_and_leave_the_users_alone(closed, tmp_path):
    path = tmp_path / "again.xlsx"
    shutil.copyfile(closed, path)
    book = openpyxl.load_workbook(path)  # a spreadsheet application re-saves the file
    book["Demand"].print_area = "A1:F20"
    book.save(path)
    before = Counter((sheet, name) for sheet, name, _ in print_names(path))
    assert main(["dollarize", str(path), "-q"]) == 0
    assert main(["dollarize", str(path), "-q"]) == 0
    after = Counter((sheet, name) for sheet, name, _ in print_names(path))
    assert after == before and set(after.values()) == {1}
    assert ("Demand", "_xlnm.Print_Area", "'Demand'!$A$1:$F$20") in print_names(path)


def test_close_opens_the_workbook_on_the_new_recon_tab(closed, tmp_path):
    path = tmp_path / "selected.xlsx"
    shutil.copyfile(closed, path)
    book = openpyxl.load_workbook(path)
    book.active = book.sheetnames.index("Demand")  # the analyst was last on Demand
    book["Demand"].sheet_view.tabSelected = True
    book.save(path)
    assert main(["close", str(path), "--author", "A. Analyst", "--force", "-q"]) == 0
    root = workbook_xml(path)
    sheets = [s.get("name") for s in root.iterfind("m:sheets/m:sheet", NS)]
    view = root.find("m:bookViews/m:workbookView", NS)
    assert sheets[int(view.get("activeTab"))] == "Recon v002"
    selected = [name for name, ws in sheet_xml(path).items()
                if any(v.get("tabSelected") in ("1", "true")
                       for v in ws.iterfind("m:sheetViews/m:sheetView", NS))]
    assert selected == ["Recon v002"]  # one tab selected: nothing is grouped
    assert main(["verify", str(path), "-q"]) == 0


# --- the printed close, through LibreOffice ------------------------------------------------
def export_pdf(path: Path, out_dir: Path, soffice: str) -> Path:
    profile = out_dir / f"lo-profile-{uuid.uuid4().hex}"
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "pdf", "--outdir", str(out_dir), str(path)]
    try:
        subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = out_dir / f"{path.stem}.pdf"
    assert pdf.exists(), "LibreOffice wrote no PDF"
    return pdf


def page_texts(pdf: Path, reader: pypdf.PdfReader) -> list[str]:
    """The text of every page: poppler's pdftotext when it is installed (scripts/test.sh
    installs it; a second), else pypdf (the same text, many times slower)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return [page.extract_text() or "" for page in reader.pages]
    done = subprocess.run([tool, str(pdf), "-"], capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8").split("\f")[:len(reader.pages)]


@pytest.fixture(scope="module")
def printed(closed, tmp_path_factory, soffice) -> list[tuple[str, bool, str]]:
    """(sheet, landscape, text) of every page of the closed demo exported to PDF."""
    out = tmp_path_factory.mktemp("pdf")
    copy = out / "close.xlsx"
    shutil.copyfile(closed, copy)
    pdf = export_pdf(copy, out, soffice)
    reader = pypdf.PdfReader(pdf)
    pages = []
    for page, text in zip(reader.pages, page_texts(pdf, reader), strict=True):
        first = text.strip().splitlines()[0] if text.strip() else ""
        sheet = next((s for s in PRINTED if first.startswith(s)), "")
        box = page.mediabox
        pages.append((sheet, float(box.width) > float(box.height), text))
    return pages


def test_the_printed_close_is_landscape_and_short(printed):
    counts = Counter(sheet for sheet, _, _ in printed if sheet)
    assert set(counts) == set(PRINTED)
    assert all(landscape for sheet, landscape, _ in printed if sheet)
    assert counts["Summary"] == 1 and counts["Issues"] == 1
    assert counts["Recon v001"] <= 2 and counts["P&L"] <= 2
    assert sum(counts.values()) <= 32  # 211 portrait pages before there was a page setup
    for sheet, _, text in printed:
        if sheet:
            assert re.search(r"Page \d+ of \d+", text), sheet
        if sheet in ("Revenue", "COGS", "Inventory", "Cash"):  # title rows on every page
            assert "Scenario" in text and "Family" in text and "2027-01" in text, sheet


def test_the_waterfall_prints_whole_on_one_page_with_its_axis_marked(printed):
    recon = [text for sheet, _, text in printed if sheet == "Recon v001"]
    with_chart = [t for t in recon if "Revenue: budget to plan" in t]
    assert len(with_chart) == 1
    assert "not zero" in with_chart[0]  # the value axis says where it starts
    assert "Revenue bridge, budget to plan" in with_chart[0]
    # hashes print short, the helper table not at all
    assert not re.search(r"[0-9a-f]{64}", "".join(recon))
    assert "Waterfall base" not in "".join(recon)


# --- the registry edits, on workbook.xml as other applications write it ------------------
def test_print_names_written_by_another_application_are_replaced_at_sopfins_positions():
    spec = SheetSpec("Summary", [Block(1, 1, [["a", "b"], [1.0, 2.0]])], freeze=(1, 1),
                     page=PageSetup(title_rows=(1, 1), title_cols=(1, 1)))
    text = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheets><sheet name="Demand" sheetId="1"/><sheet name="Summary" sheetId="2"/>'
            "</sheets><definedNames>"
            '<definedName function="false" hidden="false" localSheetId="1" '
            'name="_xlnm.Print_Area" vbProcedure="false">Summary!$A$1:$Z$9</definedName>'
            '<definedName localSheetId="0" name="_xlnm.Print_Area">Demand!$A$1:$C$3'
            "</definedName></definedNames><calcPr/></workbook>")
    out = replace_print_names(text, {1: spec})
    names = [(d.get("name"), d.get("localSheetId"), d.text)
             for d in etree.fromstring(out).iterfind("m:definedNames/m:definedName", NS)]
    assert names == [("_xlnm.Print_Area", "0", "Demand!$A$1:$C$3"),
                     ("_xlnm.Print_Area", "1", "'Summary'!$A$1:$B$2"),
                     ("_xlnm.Print_Titles", "1", "'Summary'!$A:$A,'Summary'!$1:$1")]
    assert replace_print_names(out, {1: spec}) == out  # a rewrite changes nothing more


def test_the_active_tab_is_set_whatever_the_workbook_view_says():
    bare = ('<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            "<x:sheets/></x:workbook>")
    assert '<x:bookViews><x:workbookView activeTab="3"/></x:bookViews><x:sheets/>' in \
        set_active_tab(bare, 3)
    view = ('<workbook><bookViews><workbookView xWindow="0" firstSheet="5" activeTab="5"/>'
            "</bookViews><sheets/></workbook>")
    assert '<workbookView xWindow="0" firstSheet="2" activeTab="2"/>' in set_active_tab(view, 2)
    sheet = ('<x:worksheet><x:sheetViews><x:sheetView tabSelected="true" workbookViewId="0"/>'
             '</x:sheetViews><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>'
             'tabSelected="1"</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>')
    assert is_selected(sheet)
    cleared = deselect(sheet)
    assert '<x:sheetView workbookViewId="0"/>' in cleared and not is_selected(cleared)
    assert 'tabSelected="1"</x:t>' in cleared  # a cell's text is never touched


def test_a_deselected_part_is_the_text_deselection_in_every_encoding():
    sheet = ('<?xml version="1.0" encoding="{enc}" standalone="yes"?>\n<worksheet>'
             '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Zürich tabSelected="1" '
             "</t></is></c></row></sheetData></worksheet>")
    for bom, enc, codec in ((b"", "UTF-8", "utf-8"), (b"\xef\xbb\xbf", "UTF-8", "utf-8"),
                            (b"", "ISO-8859-1", "latin-1"), (b"\xff\xfe", "UTF-16", "utf-16-le")):
        data = bom + sheet.format(enc=enc).encode(codec)
        original = XmlText.decode(data)
        expected = original.encode(deselect(original.text))
        assert deselected_part(data) == expected, enc
        assert b"Z" in expected and not is_selected(XmlText.decode(expected).text)
