"""An .xlsx export is read by the plan's own reader (``sopfin.xlsx.read``): it is screened as a
plan workbook is, and an Excel error cell is a value that does not parse, never a blank."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hostile_files import edit_part, part_of, rewrite
from sopfin.imports.mapping import parse_mapping
from sopfin.imports.transform import import_table
from sopfin.model import IssueCode, SourceRow

MAPPING = '[columns]\ndate = "Date"\nitem = "Item"\n[values]\nrevenue = "Sales"\n'
HORIZON = ["2027-01", "2027-02"]


def export(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Export"
    for row in [["Date", "Item", "Sales"], *rows]:
        sheet.append(row)
    book.save(path)
    return path


def imported(path: Path):
    mapping, issues = parse_mapping(MAPPING, "map.toml", "Actuals")
    assert mapping is not None and not issues
    return import_table(path, mapping, "Actuals", months=HORIZON)


def test_an_error_cell_in_the_export_is_a_number_that_does_not_parse(tmp_path):
    path = export(tmp_path / "export.xlsx", [["2027-01-05", "PMP-100", 100.0],
                                             ["2027-01-06", "PMP-100", "#N/A"]])
    result = imported(path)
    [issue] = result.issues
    assert issue.code is IssueCode.SOURCE_NUMBER_INVALID
    assert issue.where == SourceRow("export.xlsx", 3, "Sales") and "'#N/A'" in issue.message
    assert result.lines == ()


def test_a_clean_export_imports(tmp_path):
    path = export(tmp_path / "export.xlsx", [["2027-01-05", "PMP-100", 100.0],
                                             ["2027-02-06", "PMP-100", 50.25]])
    result = imported(path)
    assert result.issues == ()
    assert [(ln.keys, ln.month, ln.value) for ln in result.lines] == [
        (("PMP-100", "revenue"), "2027-01", 100.0), (("PMP-100", "revenue"), "2027-02", 50.25)]


def test_a_sheet_that_inflates_past_the_ratio_is_refused_as_a_source(tmp_path, monkeypatch):
    rows = [["2027-01-05", "PMP-100", 1.0]] * 20_000
    path = export(tmp_path / "bomb.xlsx", rows)
    monkeypatch.setenv("SOPFIN_RATIO_FROM_BYTES", "64K")
    monkeypatch.setenv("SOPFIN_MAX_RATIO", "5")
    [issue] = imported(path).issues
    assert issue.code is IssueCode.SOURCE_UNREADABLE and issue.where == SourceRow("bomb.xlsx")
    assert "ratio" in issue.message


@pytest.mark.parametrize("doctype, reference", [
    (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>', b"&b;"),
    (b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"),
])
def test_entities_in_the_exports_xml_are_refused(tmp_path, doctype, reference):
    clean = export(tmp_path / "clean.xlsx", [["2027-01-05", "PMP-100", 1.0]])
    hostile = tmp_path / "hostile.xlsx"

    def entities(xml: bytes) -> bytes:
        return doctype + xml.replace(b"PMP-100", reference)

    rewrite(clean, hostile, edit_part(part_of(clean, "Export"), entities))
    [issue] = imported(hostile).issues
    assert issue.code is IssueCode.SOURCE_UNREADABLE and issue.where == SourceRow("hostile.xlsx")
    assert "entity" in issue.message
