"""Reading the input sheets touches each part it needs once and no other: the error-cell
scan of an input sheet rides on the screen's one inflate of it (the grids, and the
refusals, are those of the scan that reads the part again, which still runs for a part the
screen measured exactly or whose CRC-32 differs from its entry's), and calamine is handed an
excerpt of the package holding only the parts it reads."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

import pytest

from hostile_files import edit_part, part_of, rewrite
from sopfin import layout
from sopfin.cli import main
from sopfin.model import XlError
from sopfin.xlsx import read, screen
from sopfin.xlsx.read import read_raw_sheets

VALID = Path(__file__).resolve().parent / "errors" / "valid.xlsx"


def _with_errors(tmp_path: Path) -> Path:
    """The valid plan with an error cell and a formula saved without its result on Demand."""
    part = part_of(VALID, layout.DEMAND)

    def change(data: bytes) -> bytes:
        data = re.sub(rb'<c r="D2" t="n"><v>[^<]*</v></c>', b'<c r="D2" t="e"><v>#REF!</v></c>',
                      data)
        return re.sub(rb'<c r="D3" t="n"><v>[^<]*</v></c>', b'<c r="D3"><f>1+1</f><v></v></c>',
                      data)

    path = tmp_path / "errors.xlsx"
    rewrite(VALID, path, edit_part(part, change))
    return path


def _grids(path: Path) -> dict[str, list[list[object]]]:
    return {n: s.rows for n, s in read_raw_sheets(path, layout.INPUT_SHEET_NAMES).items()}


def test_the_scan_on_the_screens_inflate_finds_what_a_second_read_finds(tmp_path, monkeypatch):
    path = _with_errors(tmp_path)
    second_reads: list[str] = []
    original = read.streamed_error_cells

    def counted(package, part, row_bytes):
        second_reads.append(part)
        return original(package, part, row_bytes)

    monkeypatch.setattr(read, "streamed_error_cells", counted)
    fused = _grids(path)
    assert second_reads == []  # every input sheet was scanned as it was screened
    demand = fused[layout.DEMAND]
    found = [v for row in demand for v in row if isinstance(v, XlError)]
    assert {str(v) for v in found} >= {"#REF!"} and len(found) == 2, found
    monkeypatch.setattr(screen, "_nearby_pattern", lambda _limits: None)
    assert _grids(path) == fused
    assert part_of(path, layout.DEMAND) in second_reads


def _wrong_crc(path: Path, part: str) -> None:
    """Give ``part`` a CRC-32 its data does not have, in both headers."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    data = bytearray(path.read_bytes())
    wrong = info.CRC ^ 0xFFFF
    struct.pack_into("<L", data, info.header_offset + 14, wrong)
    central = data.find(b"PK\x01\x02", info.header_offset + 30)
    while central >= 0:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + length] == part.encode():
            struct.pack_into("<L", data, central + 16, wrong)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_part_with_the_wrong_crc_is_refused_as_before(tmp_path, capsys, monkeypatch):
    path = tmp_path / "crc.xlsx"
    path.write_bytes(VALID.read_bytes())
    part = part_of(path, layout.DEMAND)
    _wrong_crc(path, part)
    assert main(["check", str(path), "-q"]) == 2
    fused = capsys.readouterr().err
    monkeypatch.setattr(screen, "_nearby_pattern", lambda _limits: None)
    assert main(["check", str(path), "-q"]) == 2
    assert capsys.readouterr().err == fused
    assert part in fused and "Traceback" not in fused


@pytest.mark.parametrize("limit", ["64", "100000"])
def test_a_row_over_the_row_limit_is_refused_as_before(tmp_path, capsys, monkeypatch, limit):
    monkeypatch.setenv("SOPFIN_MAX_ROW_BYTES", limit)
    path = _with_errors(tmp_path)
    code = main(["check", str(path), "-q"])
    fused = capsys.readouterr().err
    monkeypatch.setattr(screen, "_nearby_pattern", lambda _limits: None)
    assert main(["check", str(path), "-q"]) == code
    assert capsys.readouterr().err == fused


def test_calamine_is_handed_only_the_parts_it_reads(demo_copy, monkeypatch):
    """On a dollarized workbook the output sheets (most of its bytes) never reach calamine:
    it gets an excerpt of the input sheets asked for and the parts that are not worksheets
    (each thread that reads, a book over it of its own), and reads from it what it reads
    from the whole package."""
    from python_calamine import CalamineWorkbook

    assert main(["dollarize", str(demo_copy), "-q"]) in (0, 1)
    handed: list[set[str]] = []
    original = CalamineWorkbook.from_filelike

    class Spy:
        @staticmethod
        def from_filelike(stream):
            with zipfile.ZipFile(stream) as zf:
                handed.append(set(zf.namelist()))
            stream.seek(0)
            return original(stream)

    monkeypatch.setattr(read, "CalamineWorkbook", Spy)
    grids = read_raw_sheets(demo_copy, [layout.DEMAND, layout.PRICES])
    with zipfile.ZipFile(demo_copy) as zf:
        every = set(zf.namelist())
        wanted = {part_of(demo_copy, layout.DEMAND), part_of(demo_copy, layout.PRICES)}
    excerpt = {n for n in every if "/worksheets/" not in n and n.endswith(
        (".xml", ".rels"))} | wanted
    assert handed[:1] == [excerpt] and handed == [excerpt] * len(handed)  # a book a thread
    assert len(handed) <= read.READ_THREADS
    whole = CalamineWorkbook.from_path(str(demo_copy))
    for name in (layout.DEMAND, layout.PRICES):
        expected = whole.get_sheet_by_name(name).to_python(skip_empty_area=False)
        assert grids[name].rows == [[None if v == "" else v for v in row] for row in expected]


def test_an_excerpt_past_the_plain_zip_limit_hands_calamine_the_whole_package(tmp_path,
                                                                             monkeypatch):
    from sopfin.xlsx import zipsink

    path = _with_errors(tmp_path)
    expected = _grids(path)
    monkeypatch.setattr(zipsink, "ZIP32_LIMIT", 1000)  # every excerpt would pass it
    assert _grids(path) == expected
