"""Writing the zip: each entry at a fixed time, its comment recording what sopfin stored
(CRC-32, size, the spec's digest: ``written_comment``, read back by ``as_written`` and
``recorded_spec``), stored bytes copied as they are (``copy_raw``, in the kernel where the
system can), and ``ZipSink``, the output package written as a stream."""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from sopfin.xlsx.deflate import SHEET_COMPRESS_LEVEL, Deflated, deflate_into, deflater

ZIP32_LIMIT = 0xFFFFFFFF
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6


def _dos_time(date_time: tuple[int, ...]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time[:6]
    if y < 1980:
        y, mo, d, h, mi, s = FIXED_DATE_TIME
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


@dataclass
class _Written:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    csize: int
    usize: int
    offset: int
    version: int
    create_version: int
    create_system: int
    external_attr: int
    comment: bytes = b""


def written_comment(crc: int, size: int | None = None, spec: str | None = None) -> bytes:
    """The zip entry comment of a sheet part sopfin wrote: it names the part's CRC-32 (and,
    since spec digests, its inflated size and the digest of the spec it was built from:
    ``sopfin.xlsx.specdigest``), so an entry whose data another program changed (keeping the
    comment or not) no longer matches. Any re-save by a spreadsheet application drops it."""
    text = f"sopfin {crc:08x}"
    if size is not None and spec is not None:
        text += f" {size} {spec}"
    return text.encode("ascii")


def as_written(info: zipfile.ZipInfo) -> bool:
    """Is this entry's data exactly what sopfin wrote (``written_comment``)?"""
    fields = info.comment.split(b" ")
    if fields[:2] != written_comment(info.CRC).split(b" "):
        return False
    return len(fields) == 2 or (len(fields) == 4 and fields[2] == str(info.file_size).encode())


def recorded_spec(info: zipfile.ZipInfo) -> str | None:
    """The spec digest the entry was built from, when its data is still exactly what sopfin
    wrote and it was deflated; else None (the part must be built)."""
    fields = info.comment.split(b" ")
    if len(fields) != 4 or not as_written(info) or info.compress_type != zipfile.ZIP_DEFLATED:
        return None
    return fields[3].decode("ascii", "replace")


def stored_extent(info: zipfile.ZipInfo, source: BinaryIO) -> Deflated:
    """Where the compressed bytes of entry ``info`` are in ``source``, with its zip fields."""
    source.seek(info.header_offset)
    fixed = source.read(30)
    if fixed[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", fixed[26:30])
    return Deflated(info.header_offset + 30 + name_len + extra_len, info.compress_size,
                    info.file_size, info.CRC)


def _copy_in_kernel(source: BinaryIO, offset: int, size: int, out: BinaryIO) -> int:
    """Copy ``size`` bytes at ``offset`` of ``source`` to the end of ``out`` without passing
    them through this process (``os.copy_file_range``) when both are files; return how many
    were copied (0 where the system cannot: the caller copies the rest itself)."""
    copy = getattr(os, "copy_file_range", None)
    try:
        source_fd, out_fd = source.fileno(), out.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        return 0
    if copy is None:
        return 0
    source.flush()
    out.flush()
    at, done = out.tell(), 0
    try:
        while done < size:
            step = copy(source_fd, out_fd, size - done, offset + done, at + done)
            if step <= 0:
                break
            done += step
    except OSError:  # another filesystem or an old kernel
        pass
    out.seek(at + done)
    return done


class ZipSink:
    """Writes a zip file entry by entry: raw copies, whole new parts and streamed parts."""

    def __init__(self, fh: BinaryIO, fast_deflate: bool = False,
                 mark_written: bool = False) -> None:
        self.fh = fh
        self.entries: list[_Written] = []
        self.fast_deflate = fast_deflate  # streamed parts through ``deflater(fast=True)``
        self.mark_written = mark_written  # comment sheet parts with ``written_comment``

    def _header(self, e: _Written) -> bytes:
        return struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", e.version, e.flags, e.method,
                           e.dos_time, e.dos_date, e.crc, e.csize, e.usize, len(e.name),
                           0) + e.name

    def _check_size(self, *sizes: int) -> None:
        if max(sizes) >= ZIP32_LIMIT:
            raise OverflowError("the workbook would exceed the 4 GB zip format limit")

    def copy_raw(self, info: zipfile.ZipInfo, source: BinaryIO) -> None:
        """Copy an entry's compressed bytes unchanged from the source archive."""
        source.seek(info.header_offset)
        fixed = source.read(30)
        if fixed[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_len, extra_len = struct.unpack("<HH", fixed[26:30])
        source.seek(info.header_offset + 30 + name_len + extra_len)
        data = source.read(info.compress_size)
        dos_time, dos_date = _dos_time(info.date_time)
        utf8 = bool(info.flag_bits & 0x800)
        self._add(_Written(info.orig_filename.encode("utf-8" if utf8 else "cp437"),
                           info.flag_bits & 0x0806, info.compress_type, dos_time, dos_date,
                           info.CRC, info.compress_size, info.file_size, 0,
                           max(20, min(info.extract_version, 45)), info.create_version,
                           info.create_system, info.external_attr, info.comment), data)

    def add(self, name: str, data: bytes, date_time: tuple[int, ...] = FIXED_DATE_TIME,
            compress: bool = True) -> None:
        self.add_stream(name, (data,), date_time, compress)

    def add_stream(self, name: str, chunks: Iterable[bytes],
                   date_time: tuple[int, ...] = FIXED_DATE_TIME, compress: bool = True,
                   level: int = COMPRESS_LEVEL) -> None:
        """Compress chunks straight into the file, patching CRC and sizes afterwards.

        zlib releases the GIL, so chunk k is compressed on a worker thread while the caller's
        generator builds chunk k+1.
        """
        flags = 0x800 if not name.isascii() else 0
        dos_time, dos_date = _dos_time(date_time)
        entry = _Written(name.encode("utf-8"), flags, zipfile.ZIP_DEFLATED if compress else
                         zipfile.ZIP_STORED, dos_time, dos_date, 0, 0, 0, self.fh.tell(), 20,
                         20, 0, 0)
        self._check_size(entry.offset)
        self.fh.write(self._header(entry))
        comp = deflater(level, self.fast_deflate and level == SHEET_COMPRESS_LEVEL) \
            if compress else None
        crc, usize, csize = deflate_into(self.fh, chunks, comp)
        self._check_size(usize, csize)
        entry.crc, entry.csize, entry.usize = crc, csize, usize
        end = self.fh.tell()
        self.fh.seek(entry.offset + 14)
        self.fh.write(struct.pack("<LLL", crc, csize, usize))
        self.fh.seek(end)
        self.entries.append(entry)

    def add_deflated(self, name: str, source: BinaryIO, part: Deflated,
                     date_time: tuple[int, ...] = FIXED_DATE_TIME,
                     spec: str | None = None, mark: bool = True) -> None:
        """An entry whose deflated bytes are already at ``part.offset`` of ``source``: a sheet
        sopfin wrote, its entry commented with ``written_comment`` (recording ``spec``, the
        digest of the spec it was built from) when ``mark_written`` and ``mark``."""
        flags = 0x800 if not name.isascii() else 0
        dos_time, dos_date = _dos_time(date_time)
        entry = _Written(name.encode("utf-8"), flags, zipfile.ZIP_DEFLATED, dos_time, dos_date,
                         part.crc, part.csize, part.usize, self.fh.tell(), 20, 20, 0, 0,
                         written_comment(part.crc, part.usize, spec)
                         if self.mark_written and mark else b"")
        self._check_size(entry.offset, part.csize, part.usize)
        self.fh.write(self._header(entry))
        left = part.csize - _copy_in_kernel(source, part.offset, part.csize, self.fh)
        source.seek(part.offset + part.csize - left)
        while left:
            block = source.read(min(left, 1 << 22))
            if not block:
                raise OSError(f"the deflated bytes of {name} are cut short")
            self.fh.write(block)
            left -= len(block)
        self.entries.append(entry)

    def _add(self, entry: _Written, data: bytes) -> None:
        entry.offset = self.fh.tell()
        self._check_size(entry.offset, entry.csize, entry.usize)
        self.fh.write(self._header(entry))
        self.fh.write(data)
        self.entries.append(entry)

    def close(self) -> int:
        """Write the central directory; return the archive size."""
        start = self.fh.tell()
        for e in self.entries:
            self.fh.write(struct.pack(
                "<4sBBHHHHHLLLHHHHHLL", b"PK\x01\x02", e.create_version, e.create_system,
                e.version, e.flags, e.method, e.dos_time, e.dos_date, e.crc, e.csize, e.usize,
                len(e.name), 0, len(e.comment), 0, 0, e.external_attr, e.offset)
                + e.name + e.comment)
        end = self.fh.tell()
        self._check_size(end)
        if len(self.entries) > 0xFFFF:
            raise OverflowError("the workbook would hold more parts than a zip file allows")
        self.fh.write(struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(self.entries),
                                  len(self.entries), end - start, start, 0))
        return self.fh.tell()
