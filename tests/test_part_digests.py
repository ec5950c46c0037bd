"""Part digests on the ledger: verify and close read a published tab only when its part is no
longer the one written, and find every change they found before.

Workbooks are closed by sopfin's own commands and tampered with by raw edits of the package
(the way a script would); each check without ``deep`` is compared with the full cell-by-cell
check (``deep``). An edit made in openpyxl is tests/test_close.py's, a LibreOffice save
tests/test_tamper.py's.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.close import ledger as versions
from sopfin.close.published import intact_tabs, ledger_findings, load_ledger
from sopfin.close.verify import run_verify
from sopfin.render.ledger import render_ledger
from sopfin.workbook import Cells, WorkbookSnapshot
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.partdigest import content_digest
from sopfin.xlsx.read import sheet_parts
from sopfin.xlsx.writer import write_sheets
from xlsx_helpers.packages import rebuild

KEY = b"p" * 32
TABS = {1: "Recon v001", 2: "Recon v002"}


@pytest.fixture(scope="module")
def closed_twice(built_demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("digests") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    env_key = tmp_path_factory.mktemp("key") / "k"
    env_key.write_bytes(KEY)
    for extra in ([], ["--force"]):
        assert main(["close", str(path), "--author", "A", "-q", "--key-file", str(env_key),
                     *extra]) == 0
    return path


@pytest.fixture
def book(closed_twice, tmp_path) -> Path:
    target = tmp_path / "copy.xlsx"
    shutil.copyfile(closed_twice, target)
    return target


class CountingReads(WorkbookSnapshot):
    """A snapshot that remembers which sheets a command read cell by cell, and which sheets'
    parts it inflated to hash."""

    def __init__(self, path: Path) -> None:
        super().__init__(FileWorkbook(path).snapshot().reader)
        self.cells_read: list[str] = []
        self.inflated: list[str] = []

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        names = list(names)
        self.cells_read += names
        return super().read_cells(names)

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        names = list(names)
        self.inflated += names
        return super().part_digests(names)


def both_ways(path: Path) -> set[tuple[str, str]]:
    """The findings about the ledger and its tabs (what verify and close check), which must
    be those of the full check."""
    book = FileWorkbook(path).snapshot()
    ledger = load_ledger(book)
    quick = ledger_findings(book, ledger, KEY)
    deep = ledger_findings(book, ledger, KEY, deep=True)
    assert quick == deep
    return {(f.code.value, str(f.where)) for f in quick}


def edit_first_value(book: Path, tab: str) -> str:
    """Add 7 to the first large number of ``tab``'s XML, keeping it a valid sheet; returns
    the cell's reference."""
    with zipfile.ZipFile(book) as zf:
        part = sheet_parts(zf)[tab]
    found: list[str] = []

    def edit(parts: dict[str, bytes]) -> dict[str, bytes]:
        xml = parts[part].decode("utf-8")
        match = re.search(r'<c r="([A-Z]+\d+)"[^>]*><v>(\d{4,}(?:\.\d+)?)</v>', xml)
        assert match
        found.append(match.group(1))
        parts[part] = (xml[:match.start(2)] + str(float(match.group(2)) + 7)
                       + xml[match.end(2):]).encode("utf-8")
        return parts

    rebuild(book, edit)
    return found[0]


def test_each_publish_entry_records_its_tab_part_as_it_is_in_the_file(closed_twice):
    ledger = load_ledger(FileWorkbook(closed_twice))
    digests = FileWorkbook(closed_twice).part_digests(TABS.values())
    assert [e.tab_part for e in ledger] == [digests["Recon v001"], digests["Recon v002"]]
    assert all(versions.entry_bytes(e).startswith(b"21:sopfin/ledger-entry/4,") for e in ledger)
    assert intact_tabs(FileWorkbook(closed_twice), ledger, TABS) == {1, 2}


def test_later_writes_keep_the_tabs_intact_though_a_close_deselects_the_older(book):
    selected = 'tabSelected="1"'
    with zipfile.ZipFile(book) as zf:
        parts = sheet_parts(zf)
        assert selected not in zf.read(parts["Recon v001"]).decode("utf-8"), \
            "the second close deselected v001, which it wrote selected"
        assert selected in zf.read(parts["Recon v002"]).decode("utf-8")
    assert main(["dollarize", str(book), "-q"]) == 0
    assert intact_tabs(FileWorkbook(book), load_ledger(FileWorkbook(book)), TABS) == {1, 2}


def test_verify_reads_no_intact_tab_and_deep_reads_them_all(closed_twice, capsys):
    quick = CountingReads(closed_twice)
    result = run_verify(quick, key=KEY)
    assert result.ok and "ledger" in result.timings.steps
    assert not set(TABS.values()) & set(quick.cells_read)
    deep = CountingReads(closed_twice)
    assert run_verify(deep, key=KEY, deep=True).ok
    assert set(TABS.values()) <= set(deep.cells_read)
    assert main(["verify", str(closed_twice), "--deep"]) == 0
    assert "verified" in capsys.readouterr().out


@pytest.mark.parametrize("tab", ["Recon v001", "Recon v002"])
def test_a_byte_edit_of_a_published_tab_is_caught_without_deep(book, tab):
    ref = edit_first_value(book, tab)
    assert ("tampered-cell", f"{tab}!{ref}") in both_ways(book)
    ledger = load_ledger(FileWorkbook(book))
    assert intact_tabs(FileWorkbook(book), ledger, TABS) == set(TABS) - {
        next(v for v, n in TABS.items() if n == tab)}, "only the edited tab is read again"


def test_a_recorded_digest_changed_on_the_ledger_is_an_altered_entry(book):
    ledger = load_ledger(FileWorkbook(book))
    forged = [replace(ledger[0], tab_part="0" * 64), *ledger[1:]]
    write_sheets(book, [render_ledger(forged)])
    found = both_ways(book)
    assert ("entry-altered", f"{layout.LEDGER}!K2") in found
    assert ("hmac-mismatch", f"{layout.LEDGER}!L2") in found
    assert intact_tabs(FileWorkbook(book), forged, TABS, KEY) == {2}, \
        "the tab of an altered entry gets the full check"


def test_a_tab_edited_and_its_digest_recorded_again_is_still_named(book):
    ref = edit_first_value(book, "Recon v001")
    ledger = load_ledger(FileWorkbook(book))
    digest = FileWorkbook(book).part_digests(["Recon v001"])["Recon v001"]
    write_sheets(book, [render_ledger([replace(ledger[0], tab_part=digest), *ledger[1:]])])
    found = both_ways(book)
    assert ("tampered-cell", f"Recon v001!{ref}") in found
    assert ("entry-altered", f"{layout.LEDGER}!K2") in found


def test_swapped_tabs_are_read_and_reported_as_a_swap(book):
    def swap(parts: dict[str, bytes]) -> dict[str, bytes]:
        wb = parts["xl/workbook.xml"].decode("utf-8")
        wb = wb.replace('name="Recon v001"', 'name="swap"')
        wb = wb.replace('name="Recon v002"', 'name="Recon v001"')
        parts["xl/workbook.xml"] = wb.replace('name="swap"', 'name="Recon v002"').encode()
        return parts

    rebuild(book, swap)
    assert {code for code, _ in both_ways(book)} == {"swapped-tab"}


def test_the_digest_ignores_the_selected_flag_and_nothing_else():
    head = b'<worksheet><sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
    rest = b'</sheetViews><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    plain = head.replace(b' tabSelected="1"', b"") + rest
    assert content_digest([head, rest]) == content_digest([plain])
    assert content_digest([plain[:7], plain[7:]]) == content_digest([plain])
    assert content_digest([plain.replace(b"<v>1</v>", b"<v>2</v>")]) != content_digest([plain])


def _as_written_before_tab_parts(book: Path) -> None:
    """Rewrite the ledger as sopfin wrote it before part digests: 15 columns, format 2."""
    legacy: list[versions.LedgerEntry] = []
    for e in load_ledger(FileWorkbook(book)):
        legacy.append(versions.new_entry(
            legacy, event=e.event, version=e.version, cycle=e.cycle, timestamp=e.timestamp,
            author=e.author, status=e.status, input_hash=e.input_hash,
            recon_hash=e.recon_hash, key=KEY, workbook_id=e.workbook_id,
            input_sheets=e.input_sheets, note=e.note))
    spec = render_ledger(legacy)
    width = len(versions.LEDGER_COLUMNS_V2)
    write_sheets(book, [replace(spec, blocks=[
        replace(b, values=np.asarray(b.values, dtype=object)[:, :width]) for b in spec.blocks])])


def test_a_ledger_written_before_part_digests_verifies_and_is_extended(book, tmp_path):
    _as_written_before_tab_parts(book)
    ledger = load_ledger(FileWorkbook(book))
    assert all(e.tab_part == "" for e in ledger)
    assert all(versions.entry_bytes(e).startswith(b"21:sopfin/ledger-entry/2,") for e in ledger)
    counting = CountingReads(book)
    assert ledger_findings(counting, ledger, KEY) == []
    assert set(TABS.values()) <= set(counting.cells_read), "no digest: the full check"
    key = tmp_path / "k"
    key.write_bytes(KEY)
    assert main(["close", str(book), "--author", "B", "-q", "--force", "--key-file",
                 str(key)]) == 0
    after = load_ledger(FileWorkbook(book))
    assert [bool(e.tab_part) for e in after] == [False, False, True]
    assert after[:2] == ledger, "earlier entries are kept as they were"
    assert both_ways(book) == set()
    edit_first_value(book, "Recon v001")
    assert "tampered-cell" in {code for code, _ in both_ways(book)}


def test_tabs_as_stored_are_proved_intact_without_inflating_them(book):
    ledger = load_ledger(FileWorkbook(book))
    stored = FileWorkbook(book).entry_digests(TABS.values())
    assert versions.stored_digests_of(ledger[0]) == {1: ledger[0].tab_bytes.split("=")[1]}
    assert versions.stored_digests_of(ledger[1]) == {1: stored["Recon v001"],
                                                     2: stored["Recon v002"]}, \
        "the second close records v002 and v001 as stored again, deselected"
    counting = CountingReads(book)
    assert intact_tabs(counting, ledger, TABS, KEY) == {1, 2}
    assert counting.inflated == []
    assert both_ways(book) == set()


def test_a_tab_stored_again_alike_falls_back_to_its_xml_digest(book):
    rebuild(book, lambda parts: parts)  # every part deflated again: other bytes, same XML
    counting = CountingReads(book)
    assert intact_tabs(counting, load_ledger(FileWorkbook(book)), TABS, KEY) == {1, 2}
    assert sorted(counting.inflated) == sorted(TABS.values())


def test_a_stored_digest_recorded_again_for_an_edited_tab_is_an_altered_entry(book):
    ref = edit_first_value(book, "Recon v001")
    ledger = load_ledger(FileWorkbook(book))
    stored = FileWorkbook(book).entry_digests(TABS.values())
    forged = versions.stored_digests_text({1: stored["Recon v001"], 2: stored["Recon v002"]})
    write_sheets(book, [render_ledger([ledger[0], replace(ledger[1], tab_bytes=forged)])])
    found = both_ways(book)
    assert ("tampered-cell", f"Recon v001!{ref}") in found
    assert ("entry-altered", f"{layout.LEDGER}!K3") in found


def test_a_ledger_of_format_3_verifies_and_is_extended(book, tmp_path):
    """A ledger as sopfin wrote it with part digests but before stored digests."""
    legacy: list[versions.LedgerEntry] = []
    for e in load_ledger(FileWorkbook(book)):
        entry = versions.new_entry(
            legacy, event=e.event, version=e.version, cycle=e.cycle, timestamp=e.timestamp,
            author=e.author, status=e.status, input_hash=e.input_hash,
            recon_hash=e.recon_hash, key=KEY, workbook_id=e.workbook_id,
            input_sheets=e.input_sheets, note=e.note)
        legacy.append(versions.with_tab_part(entry, e.tab_part, KEY))
    spec = render_ledger(legacy)
    width = len(versions.LEDGER_COLUMNS_V3)
    write_sheets(book, [replace(spec, blocks=[
        replace(b, values=np.asarray(b.values, dtype=object)[:, :width]) for b in spec.blocks])])
    ledger = load_ledger(FileWorkbook(book))
    assert all(versions.entry_bytes(e).startswith(b"21:sopfin/ledger-entry/3,") for e in ledger)
    assert intact_tabs(FileWorkbook(book), ledger, TABS, KEY) == {1, 2}
    assert both_ways(book) == set()
    key = tmp_path / "k"
    key.write_bytes(KEY)
    assert main(["close", str(book), "--author", "B", "-q", "--force", "--key-file",
                 str(key)]) == 0
    after = load_ledger(FileWorkbook(book))
    assert after[:2] == ledger and after[2].tab_bytes
    assert both_ways(book) == set()
