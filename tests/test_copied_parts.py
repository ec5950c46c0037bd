"""Unchanged output sheets are copied, not built again.

A close or dollarize writes an output sheet's part with a record in its zip entry comment:
the part's CRC-32, its size and the digest of the spec it was built from
(``sopfin.xlsx.specdigest``). The next write copies the part's compressed bytes when the new
spec has the same digest and the entry is still exactly what sopfin wrote; anything else (a
changed input, a cell typed over and the CRC made to fit, a spreadsheet app's save) builds
the part again, to the same XML a full rebuild gives.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sopfin import layout
from sopfin.close.publish import run_close
from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.xlsx.cellpatch import CellEdit
from sopfin.xlsx.readback import read_cells
from sopfin.xlsx.specdigest import spec_digest
from sopfin.xlsx.writer import write_sheets
from xlsx_helpers.libreoffice import convert

OUTPUTS = set(layout.OUTPUT_SHEET_NAMES)


@pytest.fixture(scope="module")
def closed(built_demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("copied") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert run_close(path, author="a").ok
    return path


@pytest.fixture
def book(closed, tmp_path) -> Path:
    target = tmp_path / "plan.xlsx"
    shutil.copyfile(closed, target)
    return target


def sheet_xml(path: Path) -> dict[str, bytes]:
    """{sheet name: its worksheet XML as inflated}, for every sheet of the workbook."""
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels)) | {
            rid: target for target, rid in
            re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)}
        out = {}
        for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*r:id="(rId\d+)"', workbook):
            out[html.unescape(name)] = zf.read("xl/" + targets[rid].lstrip("/").removeprefix("xl/"))
        return out


def past_title(xml: bytes) -> bytes:
    """The sheet XML without its title row, which says when the sheet was generated (to the
    minute) and so differs between two runs a minute apart; the rest is compared as is."""
    return re.sub(rb'<row r="1"[ >].*?</row>', b"", xml, count=1)


def without_records(path: Path, target: Path) -> Path:
    """A copy of ``path`` whose zip entries carry no comments: every record lost."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            info.comment = b""
            out.writestr(info, data)
    return target


def close_again(path: Path, **options: object):
    result = run_close(path, author="a", force=True, **options)
    assert result.ok, result.issues
    return result


def test_a_reclose_of_an_unchanged_plan_copies_every_output_sheet(book, tmp_path):
    rebuilt = without_records(book, tmp_path / "rebuilt.xlsx")
    copied = close_again(book).written.copied
    assert set(copied) == OUTPUTS | {layout.INPUT_ROWS}
    assert close_again(rebuilt).written.copied == ()
    mine, full = sheet_xml(book), sheet_xml(rebuilt)
    for name in copied:
        assert past_title(mine[name]) == past_title(full[name]), \
            f"{name}: the copy differs from a full rebuild"
    again = close_again(book).written.copied  # the copied entries keep their record
    assert set(again) == set(copied)


def test_a_changed_input_rebuilds_exactly_the_sheets_whose_spec_changed(book):
    before = sheet_xml(book)
    price = next(ref for ref, v in read_cells(book, ["Prices"])["Prices"].items()
                 if isinstance(v, float) and ref.startswith("D") and ref != "D1")
    write_sheets(book, [], cells={"Prices": [CellEdit(price, 987.65)]})
    copied = set(close_again(book).written.copied)
    after = sheet_xml(book)
    same = {name for name in OUTPUTS | {layout.INPUT_ROWS} if after[name] == before[name]}
    assert copied == same
    assert layout.REVENUE not in copied and copied, "a price moves revenue, not every sheet"


def with_older_records(path: Path, target: Path) -> Path:
    """A copy of ``path`` as an older writer recorded it: each part's record names its CRC
    and size, and a spec digest this writer never gives (another format's)."""
    older = hashlib.sha256(b"sopfin-sheet-xml/2").hexdigest()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            fields = info.comment.split(b" ")
            if len(fields) == 4:
                info.comment = b" ".join([*fields[:3], older.encode("ascii")])
            out.writestr(info, data)
    return target


def test_a_workbook_recorded_by_an_older_writer_is_built_once_then_copied(book, tmp_path):
    older = with_older_records(book, tmp_path / "older.xlsx")
    rebuilt = close_again(older).written
    assert rebuilt.copied == () and set(rebuilt.replaced) >= OUTPUTS
    mine, full = sheet_xml(older), sheet_xml(book)
    for name in OUTPUTS | {layout.INPUT_ROWS}:
        assert past_title(mine[name]) == past_title(full[name]), name
    assert set(close_again(older).written.copied) == OUTPUTS | {layout.INPUT_ROWS}


def test_an_output_sheet_patched_with_its_crc_made_to_fit_is_rebuilt_as_typed_over(
        book, tmp_path):
    before = sheet_xml(book)[layout.REVENUE]
    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(patched, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if data == before:  # the cell's formula replaced by a number, the comment kept
                data, count = re.subn(rb'<c r="(F\d+)"([^>]*)><f>[^<]*</f>',
                                      rb'<c r="\1"\2>', data, count=1)
                assert count == 1 and info.comment
            out.writestr(info, data)
    refused = run_close(patched, author="a", force=True)
    assert not refused.ok
    assert any(f"{layout.REVENUE}!F" in str(i.where) for i in refused.issues), refused.issues
    result = close_again(patched, allow_unexplained=True)
    assert layout.REVENUE not in result.written.copied
    assert set(result.written.copied) >= OUTPUTS - {layout.REVENUE, layout.ISSUES}
    assert without_title(sheet_xml(patched)[layout.REVENUE]) == without_title(before)


def without_title(xml: bytes) -> bytes:
    """A sheet's XML without its title row: a rebuild a minute later says so there (and in
    that row's fingerprint)."""
    return re.sub(rb'<row r="1"[ >].*?</row>', b"", xml, count=1, flags=re.S)


def test_a_file_saved_by_libreoffice_is_built_again_whole(book, soffice, tmp_path):
    saved = convert(soffice, [book], tmp_path / "lo", fmt="xlsx:Calc MS Excel 2007 XML")[book]
    assert saved is not None
    with zipfile.ZipFile(saved) as zf:
        assert not [i for i in zf.infolist() if i.comment], "the app's save drops the records"
    result = close_again(saved, allow_unexplained=True)
    assert result.written.copied == ()
    assert set(result.written.replaced) >= OUTPUTS
    assert set(close_again(saved).written.copied) >= OUTPUTS  # recorded again as written


def test_a_spec_digest_is_the_same_in_every_process(book):
    """The record one process writes is the digest another computes for the same spec."""
    def records(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as zf:
            return {i.filename: i.comment for i in zf.infolist() if i.comment.count(b" ") == 3}

    before = records(book)
    subprocess.run([sys.executable, "-m", "sopfin.cli", "close", str(book), "--force", "-q",
                    "--author", "a"], check=True, capture_output=True)
    after = records(book)
    assert len(before.items() & after.items()) == len(OUTPUTS | {layout.INPUT_ROWS})


def test_equal_values_have_one_digest_however_they_are_held():
    text = "PMP-100"
    shared = np.array([[text, text, 1.5]], dtype=object)
    apart = np.array([["".join(["PMP-", "100"]), "".join(["PMP", "-100"]), 1.5]], dtype=object)
    assert shared[0, 0] is shared[0, 1] and apart[0, 0] is not apart[0, 1]
    one = SheetSpec("S", [Block(1, 1, shared)])
    assert spec_digest(one, {}) == spec_digest(SheetSpec("S", [Block(1, 1, apart)]), {})
    for other in (np.array([[text, text, 1]], dtype=object),
                  np.array([[text, text, 1.5000000000000002]], dtype=object),
                  np.array([[text, None, 1.5]], dtype=object)):
        assert spec_digest(SheetSpec("S", [Block(1, 1, other)]), {}) != spec_digest(one, {})
    assert spec_digest(one, {Style.TEXT: 1}) != spec_digest(one, {Style.TEXT: 2})
    assert spec_digest(SheetSpec("S", [Block(1, 1, np.array([[object()]]))]), {}) is None


def test_the_time_in_a_title_is_not_what_a_sheet_holds():
    def titled(when: str) -> SheetSpec:
        return SheetSpec("S", [Block(1, 1, [[f"Acme | Revenue | generated {when}"]]),
                               Block(2, 1, np.array([[1.5]]))])

    assert spec_digest(titled("2027-01-05 09:30 UTC"), {}) \
        == spec_digest(titled("2027-02-01 17:02 UTC"), {})
    assert spec_digest(titled("2027-01-05 09:30 UTC"), {}) \
        != spec_digest(SheetSpec("S", [Block(1, 1, [["Acme | COGS | generated x"]])]), {})
