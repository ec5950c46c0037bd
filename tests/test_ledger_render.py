"""The ledger sheet: render -> write -> read back (calamine and the cell reader) -> parse
gives the same entries, with every text field still text."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from sopfin import layout
from sopfin.close.ledger import (
    LEDGER_COLUMNS,
    LEDGER_COLUMNS_V1,
    LedgerEntry,
    new_entry,
)
from sopfin.close.ledger_checks import verify_ledger
from sopfin.render.ledger import parse_ledger, render_ledger
from sopfin.sheetspec import Block, SheetSpec
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.readback import read_cells
from sopfin.xlsx.writer import create_workbook, write_sheets

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def ledger(key: bytes | None = KEY) -> list[LedgerEntry]:
    """Three events whose fields tempt a spreadsheet into conversions: an ISO timestamp, a
    cycle that looks like a date, an all-digit hash-like input hash, an empty note."""
    out: list[LedgerEntry] = []
    for event, version, status, cycle, author, note in (
            ("publish", 1, "draft", "2027-03", "a.chen", ""),
            ("approve", 1, "approved", "2027-03", "m.ruiz", "signed off at S&OP exec"),
            ("publish", 2, "draft", "2027-04", "0042", "=not a formula")):
        out.append(new_entry(out, event=event, version=version, cycle=cycle,
                             timestamp=f"2027-0{3 + version}-02T09:15:00Z", author=author,
                             status=status, input_hash="1234567890" * 6 + "0123",
                             recon_hash=f"{version:064x}", note=note, key=key))
    return out


def write(tmp_path: Path, entries: list[LedgerEntry]) -> Path:
    path = tmp_path / "plan.xlsx"
    create_workbook(path, [SheetSpec("Plan", [Block(1, 1, [["x"]])], owned=False),
                           render_ledger(entries)])
    return path


def test_the_sheet_layout():
    spec = render_ledger(ledger())
    assert spec.name == layout.LEDGER and spec.state == "veryHidden" and spec.owned
    header, body = spec.blocks
    assert list(header.values[0]) == list(LEDGER_COLUMNS)
    assert body.row == layout.FIRST_DATA_ROW  # where verify_ledger points its findings
    first = list(body.values[0])
    assert first[0] == 1 and isinstance(first[0], int)
    assert first[2] == 1 and isinstance(first[2], int)
    assert all(isinstance(v, str) for k, v in enumerate(first) if k not in (0, 2))


def test_round_trip_through_calamine(tmp_path: Path):
    entries = ledger()
    path = write(tmp_path, entries)
    rows = read_raw_sheets(path, [layout.LEDGER])[layout.LEDGER].rows
    assert parse_ledger(rows) == entries
    assert rows[1][LEDGER_COLUMNS.index("timestamp")] == "2027-04-02T09:15:00Z"  # not a date
    kinds = {f.code for f in verify_ledger(parse_ledger(rows), {}, KEY)}
    assert kinds == {"missing-tab"}


def test_round_trip_through_the_cell_reader(tmp_path: Path):
    entries = ledger(key=None)
    path = write(tmp_path, entries)
    cells = read_cells(path, [layout.LEDGER])[layout.LEDGER]
    width = len(LEDGER_COLUMNS)
    rows = [[cells.get(layout.cell_name(r, c)) for c in range(1, width + 1)]
            for r in range(1, len(entries) + 2)]
    assert parse_ledger(rows) == entries
    assert cells["E2"] == "2027-04-02T09:15:00Z" and cells["D2"] == "2027-03"
    assert cells["F4"] == "0042" and cells["M4"] == "=not a formula"
    assert "L2" not in cells  # no key: the empty hmac is an empty cell


def test_the_ledger_is_very_hidden_and_replaced_in_place(tmp_path: Path):
    entries = ledger()
    path = write(tmp_path, entries[:2])
    write_sheets(path, [render_ledger(entries)])
    with zipfile.ZipFile(path) as zf:
        book = etree.fromstring(zf.read("xl/workbook.xml"))
    sheets = {s.get("name"): s.get("state") for s in book.iter("{*}sheet")}
    assert sheets == {"Plan": None, layout.LEDGER: "veryHidden"}
    rows = read_raw_sheets(path, [layout.LEDGER])[layout.LEDGER].rows
    assert parse_ledger(rows) == entries


def test_blank_rows_are_skipped_and_whole_floats_are_ints():
    entries = ledger()
    header = list(LEDGER_COLUMNS)
    as_read = [[float(v) if isinstance(v, int) else (v or None) for v in
                (getattr(e, c) for c in LEDGER_COLUMNS)] for e in entries]
    rows = [header + [None], as_read[0], [None] * 13, [""] * 5, *as_read[1:]]
    assert parse_ledger(rows) == entries


def test_an_empty_ledger_has_only_its_header():
    spec = render_ledger([])
    assert len(spec.blocks) == 1
    assert parse_ledger([list(LEDGER_COLUMNS)]) == []


@pytest.mark.parametrize(("rows", "message"), [
    ([], "no header"),
    ([["seq", "event"]], "expected the header"),
    ([list(reversed(LEDGER_COLUMNS))], "expected the header"),
])
def test_a_malformed_header_is_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        parse_ledger(rows)


def test_a_seq_that_is_not_a_whole_number_names_its_cell():
    row = [getattr(ledger()[0], c) for c in LEDGER_COLUMNS]
    for bad in ("one", 1.5, True):
        with pytest.raises(ValueError, match=r"_Ledger!A2: seq must be a whole number"):
            parse_ledger([list(LEDGER_COLUMNS), [bad, *row[1:]]])
    with pytest.raises(ValueError, match=r"_Ledger!C3: version"):
        parse_ledger([list(LEDGER_COLUMNS), row, [*row[:2], "v2", *row[3:]]])


def test_a_ledger_written_before_the_identity_columns_still_reads_and_verifies():
    entries = ledger()
    rows = [list(LEDGER_COLUMNS_V1)] + [[getattr(e, c) for c in LEDGER_COLUMNS_V1]
                                         for e in entries]
    parsed = parse_ledger(rows)
    assert parsed == entries
    assert all(e.workbook_id == "" and e.input_sheets == "" for e in parsed)


def test_text_beyond_the_columns_is_refused():
    row = [getattr(ledger()[0], c) for c in LEDGER_COLUMNS]
    beyond = layout.cell_name(layout.FIRST_DATA_ROW, len(LEDGER_COLUMNS) + 1)
    with pytest.raises(ValueError, match=rf"_Ledger!{beyond}"):
        parse_ledger([list(LEDGER_COLUMNS), [*row, "stray"]])
