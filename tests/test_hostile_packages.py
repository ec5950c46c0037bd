"""Hostile packages: bombs, lying zips and broken parts are refused with exit 2 and one
line naming the part, by every command alike, within a memory bound, and the file is left
as it was. The files are real zip packages built from a valid plan (tests/hostile_files.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import tracemalloc
import uuid
import zipfile
from pathlib import Path

import pytest

from hostile_files import declare_smaller, edit_part, part_of, rewrite, run_cli
from sopfin import layout
from sopfin.cli import main
from sopfin.xlsx.limits import (
    GIB,
    LIMITS,
    MIB,
    Limits,
    LimitSettingError,
    describe,
    parse_size,
)
from sopfin.xlsx.rowscan import RowTooLargeError, Scanner

VALID = Path(__file__).resolve().parent / "errors" / "valid.xlsx"
COMMANDS = ("check", "dollarize", "close", "verify")
PEAK_MIB = 600  # a refused bomb never costs more than this (sopfin's imports take ~150)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(path: Path, capsys, commands=COMMANDS) -> list[str]:
    """Run each command in process; each must exit 2 with one line on stderr, print JSON
    with --json and leave the file unchanged. Returns the stderr lines."""
    before = digest(path)
    lines = []
    for command in commands:
        json_flag = ["--json"] if command in ("check", "dollarize") else []
        assert main([command, str(path), "-q", *json_flag]) == 2, command
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("sopfin: "), (command, captured.err)
        assert "Traceback" not in captured.err + captured.out
        if json_flag:
            payload = json.loads(captured.out)
            assert payload["ok"] is False and payload["error"] in err[0]
        lines.append(err[0])
        assert digest(path) == before, command
    return lines


@pytest.fixture
def demand_part() -> str:
    return part_of(VALID, layout.DEMAND)


# --- bombs ----------------------------------------------------------------------------------
def test_a_part_inflating_far_past_its_size_is_refused_by_every_command(tmp_path, capsys,
                                                                          demand_part):
    """40 MiB of spaces between two rows deflate about 1000:1: over the ratio limit."""
    path = tmp_path / "ratio.xlsx"
    rewrite(VALID, path, edit_part(demand_part, lambda d: d.replace(
        b"</row>", b"</row>" + b" " * (40 * MIB), 1)))
    for line in refused(path, capsys):
        assert demand_part in line and "SOPFIN_MAX_RATIO" in line


def test_limits_are_set_by_environment_variables(tmp_path, capsys, monkeypatch, demand_part):
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(VALID, path)
    monkeypatch.setenv("SOPFIN_MAX_PART_BYTES", "2K")
    lines = refused(path, capsys)
    assert all("part limit" in line and "SOPFIN_MAX_PART_BYTES" in line for line in lines)
    monkeypatch.delenv("SOPFIN_MAX_PART_BYTES")
    monkeypatch.setenv("SOPFIN_MAX_PACKAGE_BYTES", "10K")
    assert all("SOPFIN_MAX_PACKAGE_BYTES" in line for line in refused(path, capsys))
    monkeypatch.setenv("SOPFIN_MAX_PACKAGE_BYTES", "lots")
    assert all("SOPFIN_MAX_PACKAGE_BYTES='lots'" in line for line in refused(path, capsys))
    monkeypatch.delenv("SOPFIN_MAX_PACKAGE_BYTES")
    assert main(["check", str(path), "-q"]) == 0


def test_every_limit_is_documented_with_its_default():
    root = Path(__file__).resolve().parents[1]
    contract = (root / "docs" / "workbook.md").read_text(encoding="utf-8")
    for variable, _name, default, what in LIMITS:
        row = next((line for line in contract.splitlines() if f"`{variable}`" in line), "")
        assert what in row, (variable, row)
        shown = describe(default) if default > 1000 and default % MIB == 0 else f"{default:,}"
        assert shown in row, (variable, shown, row)


def test_the_defaults_and_their_spelling():
    assert Limits() == Limits.from_env({})
    assert Limits().part_bytes == 2 * GIB and Limits().package_bytes == 4 * GIB
    assert Limits.from_env({"SOPFIN_MAX_RATIO": "500", "SOPFIN_MAX_ROW_BYTES": "64M"}) == \
        Limits(ratio=500, row_bytes=64 * MIB)
    assert parse_size("X", "3GiB") == 3 * GIB and parse_size("X", "1000") == 1000
    for bad in ("0", "-1", "2T", "1.5G", ""):
        with pytest.raises(LimitSettingError):
            parse_size("X", bad)


def test_a_zip_that_understates_a_part_is_refused_before_calamine_reads_it(tmp_path, capsys,
                                                                           demand_part):
    path = tmp_path / "lie.xlsx"
    shutil.copyfile(VALID, path)
    declare_smaller(path, demand_part, 200)
    for line in refused(path, capsys, ("check", "dollarize")):
        assert demand_part in line and "declares" in line


@pytest.mark.parametrize(("ref", "expected"), [
    ("XFD1048576", "SOPFIN_MAX_INPUT_CELLS"),
    ("A1048577", "beyond Excel's grid"),
])
def test_a_cell_far_out_on_an_input_sheet_is_refused_in_bounded_memory(tmp_path, demand_part,
                                                                       ref, expected):
    """One cell at the far corner would make the input grid 17 billion cells."""
    path = tmp_path / f"far-{ref}.xlsx"
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    rewrite(VALID, path, edit_part(demand_part, lambda d: d.replace(
        b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>'
        .encode(), 1)))
    before = digest(path)
    code, out, err, peak = run_cli("check", str(path), peak_file=tmp_path / "peak")
    assert code == 2 and expected in err and demand_part in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert 0 < peak < PEAK_MIB, peak
    assert digest(path) == before


def test_a_wide_but_short_input_sheet_is_read(tmp_path, capsys, demand_part, monkeypatch):
    """Column ZZ bounds the grid at 702 columns; its rows are then counted exactly."""
    path = tmp_path / "wide.xlsx"
    rewrite(VALID, path, edit_part(demand_part, lambda d: d.replace(
        b"</row></sheetData>", b'<c r="ZZ6"><v>1</v></c></row></sheetData>', 1)))
    assert main(["check", str(path), "-q"]) == 0  # read, not refused
    capsys.readouterr()
    monkeypatch.setenv("SOPFIN_MAX_INPUT_CELLS", "4000")  # 6 rows x 702 columns = 4,212
    assert "a grid of 4,212 cells" in refused(path, capsys, ("check",))[0]


# --- the row scanner ------------------------------------------------------------------------
class Stream(io.RawIOBase):
    """A worksheet part made on the fly: head, rows separated by ``gap`` spaces, tail."""

    def __init__(self, rows: int, gap: int, inner: int = 0) -> None:
        self.pieces = [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                       b'2006/main"><sheetData>']
        for r in range(1, rows + 1):
            self.pieces.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>'.encode()
                               + b" " * inner + b"</row>")
            self.pieces.append(gap)
        self.pieces.append(b"</sheetData></worksheet>")
        self.pieces.reverse()
        self.text = b""
        self.spaces = 0  # spaces still to give, made as they are read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.text and not self.spaces and self.pieces:
            piece = self.pieces.pop()
            if isinstance(piece, int):
                self.spaces = piece
            else:
                self.text = piece
        if self.spaces:
            n = min(self.spaces, len(buffer))
            buffer[:n] = b" " * n
            self.spaces -= n
            return n
        chunk, self.text = self.text[:len(buffer)], self.text[len(buffer):]
        buffer[:len(chunk)] = chunk
        return len(chunk)


def test_whitespace_between_rows_is_scanned_in_linear_time_and_one_row_of_memory():
    tracemalloc.start()
    started = time.perf_counter()
    rows = list(Scanner([], row_bytes=8 * MIB).rows(io.BufferedReader(Stream(3, 48 * MIB),
                                                                        1 << 22)))
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [r.number for r in rows] == [1, 2, 3]
    assert [r.cells() for r in rows] == [{"A": 1.0}, {"A": 2.0}, {"A": 3.0}]
    assert peak < 48 * MIB, peak  # never the 144 MiB of spaces, nor a copy of them
    assert seconds < 20, seconds


def test_a_reclose_reads_rows_spaced_far_apart_in_bounded_time_and_memory(tmp_path):
    """The Revenue sheet of a closed plan with 16 MiB of spaces after each of its first rows
    (the ratio limit raised so the file gets through): the typed-over check scans it while
    holding no more than 4 MiB of text at a time."""
    closed = tmp_path / "closed.xlsx"
    shutil.copyfile(VALID, closed)
    assert main(["close", str(closed), "-q"]) == 0
    revenue = part_of(closed, layout.REVENUE)
    spaced = tmp_path / "spaced.xlsx"
    rewrite(closed, spaced, edit_part(revenue, lambda d: d.replace(
        b"</row>", b"</row>" + b" " * (16 * MIB), 3)))
    started = time.perf_counter()
    code, out, err, peak = run_cli("close", str(spaced), "-q", "--force",
                                   peak_file=tmp_path / "peak",
                                   env={"SOPFIN_MAX_RATIO": "100000",
                                        "SOPFIN_MAX_ROW_BYTES": "4M"})
    assert code == 0 and "published Recon v002" in out, err
    assert time.perf_counter() - started < 60
    assert 0 < peak < PEAK_MIB, peak


def test_a_row_larger_than_the_row_limit_is_refused():
    stream = io.BufferedReader(Stream(2, 0, inner=3 * MIB), 1 << 20)
    with pytest.raises(RowTooLargeError, match="SOPFIN_MAX_ROW_BYTES"):
        list(Scanner([], row_bytes=1 * MIB).rows(stream))
    rows = Scanner([], row_bytes=8 * MIB).rows(io.BufferedReader(Stream(2, 0, inner=3 * MIB)))
    assert [r.number for r in rows] == [1, 2]


# --- broken parts ---------------------------------------------------------------------------
def _not_well_formed(part: str):
    return edit_part(part, lambda d: d.replace(b"</sheetData>", b"</sheetDat>", 1))


def _undefined_entity(part: str):
    return edit_part(part, lambda d: d.replace(b"<v>", b"<v>&bomb;", 1))


BROKEN = {
    "not-well-formed": (_not_well_formed, zipfile.ZIP_DEFLATED, ("check", "dollarize", "close")),
    "undefined-entity": (_undefined_entity, zipfile.ZIP_DEFLATED,
                         ("check", "dollarize", "close")),
    "bzip2": (None, zipfile.ZIP_BZIP2, COMMANDS),
    "lzma": (None, zipfile.ZIP_LZMA, COMMANDS),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_part_is_refused_naming_it(tmp_path, capsys, demand_part, kind):
    make, method, commands = BROKEN[kind]
    path = tmp_path / f"{kind}.xlsx"
    rewrite(VALID, path, make(demand_part) if make else (lambda _n, d: d), method)
    lines = refused(path, capsys, commands)
    assert all((demand_part if make else "docProps/") in line for line in lines), lines


def test_a_package_without_content_types_is_refused_by_check_too(tmp_path, capsys):
    path = tmp_path / "no-types.xlsx"
    rewrite(VALID, path, lambda n, d: None if n == "[Content_Types].xml" else d)
    assert all("[Content_Types].xml" in line for line in refused(path, capsys))


def test_check_refuses_what_a_write_refuses(tmp_path, capsys):
    """A Strict Open XML workbook, and one whose package points at no workbook part."""
    strict = tmp_path / "strict.xlsx"
    rewrite(VALID, strict, edit_part("xl/workbook.xml", lambda d: d.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        b"http://purl.oclc.org/ooxml/spreadsheetml/main")))
    assert all("Strict Open XML" in line for line in refused(strict, capsys))
    orphan = tmp_path / "orphan.xlsx"
    rewrite(VALID, orphan, edit_part("_rels/.rels", lambda d: d.replace(
        b'officeDocument"', b'officeDocumentX"')))
    assert all("no workbook part" in line for line in refused(orphan, capsys, ("check",
                                                                             "dollarize")))


def test_garbage_and_an_empty_file_are_refused(tmp_path, capsys):
    for name, data in (("empty.xlsx", b""), ("text.xlsx", b"Family,Units\nPMP,3\n"),
                       ("cut.xlsx", VALID.read_bytes()[:3000])):
        path = tmp_path / name
        path.write_bytes(data)
        assert all("not an Excel workbook" in line for line in refused(path, capsys))


@pytest.mark.libreoffice
def test_a_real_xls_is_refused_by_every_command(tmp_path, capsys, soffice):
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp_path), str(VALID)],
                   capture_output=True, timeout=180, check=False)
    path = tmp_path / "valid.xls"
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    assert all("legacy .xls" in line for line in refused(path, capsys))


# --- the error-cell scan, streamed ------------------------------------------------------------
def _sheet_with_errors(rows: int, with_refs: bool) -> bytes:
    out = [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<sheetData>"]
    for r in range(1, rows + 1):
        ref = f' r="B{r}"' if with_refs else ""
        kind = ' t="e"' if r % 997 == 0 else ""
        value = "#N/A" if kind else str(r)
        row, first = (f' r="{r}"', f' r="A{r}"') if with_refs else ("", "")
        out.append(f"<row{row}><c{first}><v>{r}</v></c><c{ref}{kind}><v>{value}</v></c>"
                   "</row>".encode())
    out.append(b"</sheetData></worksheet>")
    return b"".join(out)


@pytest.mark.parametrize(("rows", "with_refs"), [(90_000, True), (3_000, False)])
def test_error_cells_are_found_a_run_of_rows_at_a_time(tmp_path, rows, with_refs):
    from sopfin.xlsx.read import error_cells, streamed_error_cells

    xml = _sheet_with_errors(rows, with_refs)
    path = tmp_path / "errors.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", xml)
    with zipfile.ZipFile(path) as zf:
        found = streamed_error_cells(zf, "sheet.xml", 8 * MIB)
        if with_refs:
            with pytest.raises(ValueError, match="SOPFIN_MAX_ROW_BYTES"):
                streamed_error_cells(zf, "sheet.xml", 10)
    expected = [(r - 1, 1) for r in range(997, rows + 1, 997)]
    assert sorted((r, c) for r, c, _ in found) == expected
    assert sorted(found) == sorted(error_cells(xml))
    assert {str(e) for _, _, e in found} == {"#N/A"}
