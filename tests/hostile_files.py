"""Hostile workbook packages, built from a valid plan: bombs, lies and broken parts.

Every builder writes a new file from ``source`` and returns nothing; the caller picks the
path. Nothing here is a mock: each file is a real zip package sopfin reads from disk.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from sopfin.xlsx.read import sheet_parts

Edit = Callable[[str, bytes], bytes | None]


def part_of(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)[sheet]


def rewrite(source: Path, target: Path, edit: Edit,
            method: int = zipfile.ZIP_DEFLATED) -> None:
    """Copy the package, each part through ``edit`` (None drops the part)."""
    with zipfile.ZipFile(source) as zf, zipfile.ZipFile(target, "w", method) as out:
        for info in zf.infolist():
            data = edit(info.filename, zf.read(info))
            if data is not None:
                out.writestr(info.filename, data, compress_type=method)


def edit_part(part: str, change: Callable[[bytes], bytes]) -> Edit:
    return lambda name, data: change(data) if name == part else data


def declare_smaller(path: Path, part: str, declared: int) -> None:
    """Make the zip entry of ``part`` declare ``declared`` inflated bytes (and a CRC to
    match its first ``declared`` bytes), in its local header and the central directory:
    a lying zip that a reader trusting the sizes inflates in full."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
        crc = zlib.crc32(zf.read(part)[:declared])
    data = bytearray(path.read_bytes())
    struct.pack_into("<L", data, info.header_offset + 14, crc)
    struct.pack_into("<L", data, info.header_offset + 22, declared)
    name = part.encode("utf-8")
    central = data.find(b"PK\x01\x02", info.header_offset + 30)
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_len] == name:
            struct.pack_into("<L", data, central + 16, crc)
            struct.pack_into("<L", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


_MEASURED = """
import resource, sys
from sopfin.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def run_cli(*args: str, peak_file: Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> tuple[int, str, str, int]:
    """``sopfin ARGS`` in a child process: exit code, stdout, stderr and the child's peak
    resident memory in MiB (written by the child itself to ``peak_file``)."""
    proc = subprocess.run([sys.executable, "-c", _MEASURED, str(peak_file), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    peak = int(peak_file.read_text()) // 1024 if peak_file.exists() else -1
    return proc.returncode, proc.stdout, proc.stderr, peak
