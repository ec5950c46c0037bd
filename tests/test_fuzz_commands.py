"""Fuzzing the commands: valid workbooks mutated at the byte, XML and cell level, then
check, dollarize, close and verify run on each. Every run must exit 0, 1 or 2, print no
traceback, print valid JSON with --json, stay within a memory bound, and leave a file it
refused exactly as it was.

A seeded mutator (reproducible: the failing example names its seed). The suite runs
SOPFIN_FUZZ_EXAMPLES examples (default 20, about ten seconds); a longer run is

    SOPFIN_FUZZ_EXAMPLES=2000 scripts/test.sh -k fuzz
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import resource
import shutil
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from sopfin.cli import main

VALID = Path(__file__).resolve().parent / "errors" / "valid.xlsx"
EXAMPLES = int(os.environ.get("SOPFIN_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("SOPFIN_FUZZ_SEED", "20261203"))
PEAK_MIB = 2048  # the whole test process, high-water mark
COMMANDS = (("check", "--json"), ("dollarize", "--json"), ("close",), ("verify",))
JSON_COMMANDS = {"check", "dollarize"}

NASTY_TEXT = ["1e308", "-1e308", "1e309", "NaN", "-0", "", " ", "abc", "#REF!", "2027-13",
              "x" * 300, "\"quoted\"", "&amp;", "TRUE", "99999999999999999999", "0x10",
              "=1+1", "\u202e", "1,5", "4e-320"]
NASTY_MARKUP = [b"&undefined;", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"<c r=\"XFD1048576\">",
                b"</row>", b"<row r=\"1048577\">", b"<![CDATA[x]]>", b"<?pi x?>",
                b"\x00", b"\xff\xfe", b"<f>SUM(A1:A3)</f>", b"<c r=\"A1\" t=\"s\"><v>999",
                b" r=\"0\"", b"<sheetData/>", b"<v>", b" " * 5000]


# --- the mutator -------------------------------------------------------------------------
def _parts(data: bytes) -> dict[str, bytes] | None:
    """The parts of a package, or None when an earlier mutation broke the zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError,
            zlib.error):
        return None


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    choice = rng.randrange(4)
    if choice == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif choice == 1:  # truncate
        del buf[rng.randrange(len(buf)):]
    elif choice == 2:  # insert junk
        at = rng.randrange(len(buf))
        buf[at:at] = rng.randbytes(rng.randint(1, 64))
    else:  # zero a run
        at = rng.randrange(len(buf))
        buf[at:at + rng.randint(1, 256)] = b"\x00" * min(256, len(buf) - at)
    return bytes(buf)


def mutate_xml(rng: random.Random, data: bytes) -> bytes:
    parts = _parts(data)
    if not parts:
        return mutate_bytes(rng, data)
    name = rng.choice([n for n in parts if n.endswith((".xml", ".rels"))] or list(parts))
    xml = parts[name]
    at = rng.randrange(len(xml) + 1)
    choice = rng.randrange(4)
    if choice == 0:
        parts[name] = xml[:at] + rng.choice(NASTY_MARKUP) + xml[at:]
    elif choice == 1:  # delete a span
        parts[name] = xml[:at] + xml[at + rng.randint(1, 200):]
    elif choice == 2:  # repeat a span
        span = xml[at:at + rng.randint(1, 400)]
        parts[name] = xml[:at] + span * rng.randint(2, 50) + xml[at:]
    else:  # drop the part
        del parts[name]
    return _zip(parts)


def mutate_cells(rng: random.Random, data: bytes) -> bytes:
    parts = _parts(data)
    if not parts:
        return mutate_bytes(rng, data)
    sheets = [n for n in parts if "/worksheets/" in n]
    if not sheets:
        return mutate_bytes(rng, data)
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(sheets)
        xml = parts[name].decode("utf-8", "replace")
        values = [i for i in range(len(xml)) if xml.startswith("<v>", i)]
        texts = [i for i in range(len(xml)) if xml.startswith("<t>", i)]
        spots = values + texts
        if not spots:
            continue
        at = rng.choice(spots) + 3
        end = xml.find("<", at) % (len(xml) + 1)
        text = rng.choice(NASTY_TEXT)
        escaped = text.replace("&", "&amp;").replace("<", "&lt;")
        parts[name] = (xml[:at] + escaped + xml[end:]).encode("utf-8")
    return _zip(parts)


MUTATORS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    mutate_bytes, mutate_xml, mutate_cells, mutate_cells)


# --- running the commands -----------------------------------------------------------------
def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[bytes]:
    """The inputs-only plan, and the same plan once closed (a ledger and a Recon tab)."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    closed = folder / "closed.xlsx"
    shutil.copyfile(VALID, closed)
    assert main(["close", str(closed), "-q"]) == 0
    return [VALID.read_bytes(), closed.read_bytes()]


def run_all(path: Path, data: bytes, capsys) -> None:
    for command in COMMANDS:
        path.write_bytes(data)
        before = digest(path)
        try:
            code = main([command[0], str(path), "-q", *command[1:]])
        except SystemExit as exc:  # argparse only; never for a workbook
            raise AssertionError(f"{command[0]} raised SystemExit({exc.code})") from None
        out = capsys.readouterr()
        assert code in (0, 1, 2), (command, code)
        assert "Traceback" not in out.out + out.err, command
        if command[0] in JSON_COMMANDS:
            payload = json.loads(out.out, parse_constant=_no_constant)
            assert isinstance(payload, dict) and "ok" in payload
        if code == 2:
            lines = out.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("sopfin: "), out.err
        if code != 0 or command[0] in ("check", "verify"):
            assert digest(path) == before, f"{command[0]} changed a file it refused"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    assert peak < PEAK_MIB, peak


def _no_constant(name: str) -> object:
    raise ValueError(f"JSON holds {name}, which is not JSON")


@pytest.mark.parametrize("example", range(EXAMPLES))
def test_fuzz_commands_on_mutated_workbooks(example, seeds, tmp_path, capsys):
    rng = random.Random(SEED * 100_003 + example)
    data = rng.choice(seeds)
    for _ in range(rng.randint(1, 2)):
        data = rng.choice(MUTATORS)(rng, data)
    path = tmp_path / "fuzzed.xlsx"
    try:
        run_all(path, data, capsys)
    except BaseException:
        keep = Path(os.environ.get("SOPFIN_FUZZ_KEEP", tmp_path)) / f"fuzz-{example}.xlsx"
        keep.write_bytes(data)
        print(f"example {example} (seed {SEED}) kept as {keep}")
        raise
