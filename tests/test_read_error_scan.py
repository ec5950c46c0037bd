"""The error-cell scan that rides on the screen's inflate finds, however the inflated bytes
are cut into blocks, exactly the error and uncalculated cells a search of the whole part
finds: a block with no mark of either is passed over without being searched or copied, and
a mark cut across two blocks, or held over in an unfinished row, is still found."""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin import layout
from sopfin.layout import column_index, column_letter
from sopfin.model import XlError
from sopfin.xlsx.deflate import Deflated
from sopfin.xlsx.read import (
    ErrorScan,
    error_cells,
    read_raw_sheets,
    sheet_parts,
    uncalculated_cells,
)
from sopfin.xlsx.zipsink import ZipSink

_PLAIN_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"(?: s="[0-9]+")?><v>[^<]*</v></c>')

_CELLS = {
    "number": lambda ref: f'<c r="{ref}"><v>1.5</v></c>',
    "text": lambda ref: f'<c r="{ref}" t="inlineStr"><is><t>a&lt;f t="e"</t></is></c>',
    "error": lambda ref: f'<c r="{ref}" t="e"><v>#REF!</v></c>',
    "error'": lambda ref: f"<c r='{ref}' t='e'><v>#N/A</v></c>",
    "formula": lambda ref: f'<c r="{ref}"><f>A1+1</f><v>2</v></c>',
    "uncalculated": lambda ref: f'<c r="{ref}"><f>A1+1</f><v></v></c>',
    "true()": lambda ref: f'<c r="{ref}"><f>TRUE()</f></c>',
}

sheets = st.lists(st.lists(st.sampled_from(sorted(_CELLS)), min_size=1, max_size=6),
                  min_size=1, max_size=40)


def _xml(rows: list[list[str]]) -> bytes:
    body = "".join(
        f'<row r="{r}">'
        + "".join(_CELLS[kind](f"{column_letter(c)}{r}") for c, kind in enumerate(row, 1))
        + "</row>" for r, row in enumerate(rows, 1))
    return f"<worksheet><sheetData>{body}</sheetData></worksheet>".encode()


def _key(cell: tuple[int, int, XlError | bool]) -> tuple[int, int, str]:
    return cell[0], cell[1], repr(cell[2])


def _scan(xml: bytes, cuts: list[int]) -> list[tuple[int, int, XlError | bool]]:
    scan = ErrorScan(1 << 20)
    start = 0
    for cut in sorted(cuts) + [len(xml)]:
        scan.add(xml[start:cut])
        start = cut
    scan.add(b"")
    return sorted(scan.found, key=_key)


@settings(max_examples=300, deadline=None)
@given(sheets, st.lists(st.integers(min_value=0, max_value=4000), max_size=30))
def test_any_cut_into_blocks_finds_what_the_whole_part_holds(rows, cuts):
    xml = _xml(rows)
    cuts = sorted({c for c in cuts if 0 < c < len(xml)})  # blocks are never empty
    whole = sorted([*error_cells(xml), *uncalculated_cells(xml)], key=_key)
    assert _scan(xml, cuts) == whole
    expected = sum(k.startswith("error") or k in ("uncalculated", "true()")
                   for row in rows for k in row)
    assert len(whole) == expected


def test_a_mark_cut_across_two_blocks_or_held_in_an_unfinished_row_is_found():
    xml = _xml([["number"], ["error", "number"], ["uncalculated"]])
    for marker in (b't="e"', b"<f>"):
        at = xml.find(marker)
        for cut in range(at - 3, at + len(marker) + 1):
            assert len(_scan(xml, [cut])) == 2, (marker, cut)
    second_row = xml.find(b'<row r="2"')
    assert len(_scan(xml, [second_row + 5, xml.find(b'<row r="3"') - 3])) == 2


def _with_empty_blocks(source: Path, target: Path, part: str, xml: bytes, cut: int) -> None:
    """``source`` with ``part`` replaced by ``xml``, deflated with 2.5 MB of empty stored
    blocks at ``cut``: a chunk of the compressed data then inflates to nothing."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = (co.compress(xml[:cut]) + co.flush(zlib.Z_SYNC_FLUSH)
            + b"\x00\x00\x00\xff\xff" * 500_000 + co.compress(xml[cut:]) + co.flush())
    with tempfile.TemporaryFile() as held:
        held.write(data)
        deflated = Deflated(0, len(data), len(xml), zlib.crc32(xml))
        with zipfile.ZipFile(source) as zf, target.open("wb") as out:
            sink = ZipSink(out)
            for info in zf.infolist():
                if info.filename == part:
                    sink.add_deflated(part, held, deflated, mark=False)
                else:
                    sink.copy_raw(info, cast(BinaryIO, zf.fp))
            sink.close()


def test_an_error_cell_after_compressed_data_that_inflates_to_nothing_is_found(
        demo_copy, tmp_path):
    with zipfile.ZipFile(demo_copy) as zf:
        part = sheet_parts(zf)[layout.DEMAND]
        xml = zf.read(part)
    cell = _PLAIN_CELL.search(xml, len(xml) // 2)
    assert cell is not None
    ref = cell.group(1).decode()
    broken = (xml[:cell.start()] + f'<c r="{ref}" t="e"><v>#REF!</v></c>'.encode()
              + xml[cell.end():])
    cut = cell.start() + len(f'<c r="{ref}"')  # the rows before it are read, the mark after
    target = tmp_path / "empty-blocks.xlsx"
    _with_empty_blocks(demo_copy, target, part, broken, cut)
    rows = read_raw_sheets(target, [layout.DEMAND])[layout.DEMAND].rows
    row, column = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) - 1, \
        column_index(ref.rstrip("0123456789")) - 1
    assert rows[row][column] == XlError("#REF!")
