"""What every command refuses before it reads a part: the same screen for check and write.

A package is refused (a ``WorkbookError``, exit code 2, one line naming the part) when it
is not a zip file, is a legacy .xls or an encrypted workbook, lacks ``[Content_Types].xml``
or its package relationships, stores a part with a compression method other than stored or
deflate (Excel writes nothing else; BZIP2, LZMA and the rest are refused), or when a part
would inflate beyond the limits of ``sopfin.xlsx.limits``. Parts that python-calamine reads
are inflated once here as a stream (it inflates them itself, trusting the declared sizes),
which also measures how far the cells of an input sheet reach (in one fast search when no
reference comes near a limit, exactly otherwise). ``reading`` turns what a
broken part raises while it is read (bad CRC, truncated deflate data, XML that is not
well-formed, an undefined entity) into the same kind of one-line refusal.
"""

from __future__ import annotations

import functools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

from lxml import etree

from sopfin.layout import column_index, column_letter
from sopfin.xlsx.errors import NotAWorkbookError, PackageLimitError, WorkbookError
from sopfin.xlsx.limits import Limits, LimitSettingError, describe
from sopfin.xlsx.source import PackageSource, package_of

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = "[Content_Types].xml"
PACKAGE_RELS = "_rels/.rels"
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_METHOD_NAMES = {9: "Deflate64", 12: "BZIP2", 14: "LZMA", 93: "Zstandard", 95: "XZ",
                 98: "PPMd", 99: "AES encryption"}
_INFLATE_BLOCK = 1 << 20
REGISTRY_PARTS = (CONTENT_TYPES, PACKAGE_RELS, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                  "xl/styles.xml")
_REGISTRY_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_FAR = 100_000  # rows from here on are looked for in every block
_FAR_ROW = re.compile(rb"""\sr=["'][A-Z]{0,3}([0-9]{6,10})["']""")
_WIDE_COLUMN = re.compile(rb"""\sr=["']([A-Z]{2,3})[0-9]""")
_ANY_ROW = re.compile(rb"""\sr=["'][A-Z]{0,3}([0-9]{1,10})["']""")
_REF_OVERLAP = 32  # bytes of one inflated block kept for the next, so no reference is split
_UNDEFINED_ENTITY = re.compile(rb"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)"
                               rb"([^;&<\s]{0,32};?)")


class SheetTooLargeError(WorkbookError):
    """An input sheet reaches beyond what Excel or the input cell limit allows."""


def open_zip(path: PackageSource, limits: Limits | None = None) -> zipfile.ZipFile:
    """The package at ``path`` (a file, or the ``PackageBytes`` a command read), screened; a
    WorkbookError for anything every command refuses."""
    package = package_of(path)
    where = package.path
    if package.data[:len(OLE2_MAGIC)] == OLE2_MAGIC:
        raise NotAWorkbookError(where, "it is a legacy .xls file or a password-encrypted "
                                       "workbook")
    try:
        zf = zipfile.ZipFile(package.stream())
        zf.filename = str(where)  # messages name the file, not the stream
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise NotAWorkbookError(where, f"it is not a zip package: {exc}") from None
    try:
        screen_entries(zf, where, limits or Limits.from_env())
        screen_structure(zf, where)
    except BaseException:
        zf.close()
        raise
    return zf


def screen_structure(zf: zipfile.ZipFile, path: Path) -> None:
    names = set(zf.NameToInfo)
    if CONTENT_TYPES not in names:
        raise NotAWorkbookError(path, f"it has no {CONTENT_TYPES}")
    if PACKAGE_RELS not in names:
        raise NotAWorkbookError(path, f"it has no package relationships ({PACKAGE_RELS})")


def screen_entries(zf: zipfile.ZipFile, path: Path, limits: Limits) -> None:
    """Every entry's method, encryption flag and declared sizes against ``limits``."""
    total = 0
    for info in zf.infolist():
        name = info.filename
        if info.flag_bits & 0x1:
            raise NotAWorkbookError(path, f"part {name} is encrypted")
        if info.compress_type not in _METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise NotAWorkbookError(path, f"part {name} is compressed with {method}; Excel "
                                          "workbooks use deflate")
        check_part_size(path, name, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.package_bytes:
            raise PackageLimitError(path, f"its parts inflate to more than "
                                          f"{describe(limits.package_bytes)}, the package limit",
                                    "SOPFIN_MAX_PACKAGE_BYTES")


def check_part_size(path: Path, name: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.part_bytes:
        raise PackageLimitError(path, f"part {name} inflates to {describe(size)}, over the "
                                      f"{describe(limits.part_bytes)} part limit",
                                "SOPFIN_MAX_PART_BYTES")
    if size > limits.ratio_from_bytes and size > limits.ratio * max(compressed, 1):
        raise PackageLimitError(path, f"part {name} inflates {size // max(compressed, 1):,} "
                                      f"times its compressed size ({describe(size)}), over "
                                      f"the ratio limit of {limits.ratio}", "SOPFIN_MAX_RATIO")


def screen_inflated(zf: zipfile.ZipFile, path: Path, names: Iterable[str], limits: Limits,
                    sheets: Iterable[str] = (),
                    observe: Callable[[str], Callable[[bytes], None]] | None = None,
                    ) -> set[str]:
    """Inflate each of ``names`` as a stream, refusing a part that inflates to more than it
    declares; for the worksheet parts in ``sheets``, also refuse cells beyond Excel's grid
    or a grid (rows x columns from A1) over the input cell limit.

    ``observe(part)`` is handed each inflated block of a part of ``sheets`` in order, then
    empty bytes; returns the parts whose blocks were all handed over, in one pass, with the
    CRC-32 their entry records (a part measured exactly, or whose CRC differs, is not: its
    reader reads it again)."""
    sheets = set(sheets)
    nearby = _nearby_pattern(limits)
    observed: set[str] = set()
    for name in names:
        if name in sheets and nearby is not None:
            seen = observe(name) if observe is not None else None
            within, whole = _plainly_within(zf, path, name, nearby, seen)
            if whole and seen is not None:
                observed.add(name)
            if within:
                continue
        extent = _Extent() if name in sheets else None
        tail = b""
        with reading(path, name):
            for block in _inflate(zf, zf.getinfo(name)):
                _check_entities(path, name, tail + block)
                tail = block[-_REF_OVERLAP:]
                if extent is not None:
                    extent.add(block)
        if extent is not None:
            rows, columns = extent.bounds()
            if not extent.rows and rows * columns > limits.input_cells:
                extent.exact, extent._tail = True, b""  # a wide sheet: count its rows
                with reading(path, name):
                    for block in _inflate(zf, zf.getinfo(name)):
                        extent.add(block)
            extent.check(path, name, limits)
    return observed


def _plainly_within(zf: zipfile.ZipFile, path: Path, name: str, nearby: re.Pattern[bytes],
                    seen: Callable[[bytes], None] | None = None) -> tuple[bool, bool]:
    """Inflate worksheet ``name`` as ``screen_inflated`` does, handing each block to
    ``seen``, and tell whether no cell reference in it comes near a limit
    (``_nearby_pattern``): then its grid is within Excel's and the input cell limit, whatever
    the exact extent. Stops at the first reference that might not be: the part is then
    measured exactly (``_Extent``). Also tells whether every block went to ``seen`` with the
    CRC-32 the entry records."""
    tail = b""
    info = zf.getinfo(name)
    crc = 0
    with reading(path, name):
        for block in _inflate(zf, info):
            text = tail + block
            _check_entities(path, name, text)
            if nearby.search(text) is not None:
                return False, False
            if seen is not None:
                seen(block)
                crc = zlib.crc32(block, crc)
            tail = block[-_REF_OVERLAP:]
    if seen is not None:
        seen(b"")
    return True, crc == info.CRC


@functools.lru_cache(maxsize=8)
def _nearby_pattern_for(widest: int) -> re.Pattern[bytes]:
    last = column_letter(widest)
    wider = ["[A-Z]{3}"]  # columns past ZZ
    if len(last) == 1:  # any column past Z
        wider.append("[A-Z]{2}")
    else:  # two-letter columns past ``last``
        first, second = last[0], last[1]
        if first < "Z":
            wider.append(f"[{chr(ord(first) + 1)}-Z][A-Z]")
        if second < "Z":
            wider.append(f"{first}[{chr(ord(second) + 1)}-Z]")
    return re.compile(rf"""r=["'](?:[A-Z]{{0,3}}[0-9]{{6}}|{"|".join(wider)})""".encode())


def _nearby_pattern(limits: Limits) -> re.Pattern[bytes] | None:
    """What a cell reference that may reach a limit looks like: a row of 100,000 or more, or
    a column past the widest a grid of 99,999 rows may have under the input cell limit. A
    part with none is within every limit, and is screened in one pass of a fast search (the
    pattern starts with a literal). None when the limit is too low for this shortcut."""
    widest = min(limits.input_cells // (_FAR - 1), 702)  # 702: ZZ
    return _nearby_pattern_for(widest) if widest >= 26 else None


def screen_registry(zf: zipfile.ZipFile, path: Path) -> None:
    """The parts every write edits must be well-formed XML, for check as for a write."""
    for name in REGISTRY_PARTS:
        if name in zf.NameToInfo:
            with reading(path, name):
                etree.fromstring(zf.read(name), parser=_REGISTRY_PARSER)


def _check_entities(path: Path, part: str, text: bytes) -> None:
    """Refuse an entity reference XML does not predefine: Excel writes none, the part is
    not well-formed without a DTD, and python-calamine would read past it. (A reference cut
    at the end of ``text`` is looked at again with the next block.)"""
    if b"&" not in text:
        return
    match = _UNDEFINED_ENTITY.search(text)
    if match is not None and (match.end() < len(text) or match.group(1).endswith(b";")):
        found = match.group(1).decode("utf-8", "replace")
        raise NotAWorkbookError(path, f"part {part} uses the entity reference &{found}, "
                                      "which XML does not define")


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The inflated bytes of an entry, from its raw data, in blocks that are never empty;
    ValueError when they are more (or fewer) than the central directory says."""
    fh = zf.fp
    assert fh is not None
    fh.seek(info.header_offset)
    fixed = fh.read(30)
    if len(fixed) != 30 or fixed[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    skip = int.from_bytes(fixed[26:28], "little") + int.from_bytes(fixed[28:30], "little")
    fh.seek(info.header_offset + 30 + skip)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced = info.compress_size, 0
    while True:
        if inflater is not None and inflater.unconsumed_tail:
            data = inflater.unconsumed_tail
        elif left:
            data = fh.read(min(left, _INFLATE_BLOCK))
            if not data:
                raise EOFError("the compressed data is cut short")
            left -= len(data)
        else:
            break
        block = inflater.decompress(data, _INFLATE_BLOCK) if inflater is not None else data
        produced += len(block)
        if produced > info.file_size:
            raise ValueError(f"it inflates to more than the {info.file_size:,} bytes its "
                             "zip entry declares")
        if block:  # compressed data that inflates to nothing (empty deflate blocks): only
            yield block  # the end of a part is told by empty bytes, to whoever observes it
    if produced != info.file_size:
        raise ValueError(f"it inflates to {produced:,} bytes, not the {info.file_size:,} its "
                         "zip entry declares")


class _Extent:
    """How far the cell references of a worksheet reach, cheaply: the regular expressions
    match only rows of six digits or more and columns of two or three letters, which input
    sheets seldom have; the exact row is counted only when a wide sheet needs it."""

    def __init__(self) -> None:
        self.rows = 0  # the largest row of 100,000 or more (0: none)
        self.columns = 0  # the largest column past Z (0: none)
        self.any_rows = 0  # every row, counted only when asked for (``exact``)
        self.exact = False
        self._tail = b""

    def add(self, block: bytes) -> None:
        text = self._tail + block
        self.rows = max([self.rows, *map(int, _FAR_ROW.findall(text))])
        letters = set(_WIDE_COLUMN.findall(text))
        if letters:
            widest = max(letters, key=lambda c: (len(c), c))
            self.columns = max(self.columns, column_index(widest.decode("ascii")))
        if self.exact:
            self.any_rows = max([self.any_rows, *map(int, _ANY_ROW.findall(text))])
        self._tail = text[-_REF_OVERLAP:]

    def bounds(self) -> tuple[int, int]:
        """(rows, columns) the sheet reaches at most."""
        rows = self.rows or (self.any_rows if self.exact else _FAR - 1)
        return rows, self.columns or 26

    def check(self, path: Path, part: str, limits: Limits) -> None:
        rows, columns = self.bounds()
        if rows > EXCEL_ROWS or columns > EXCEL_COLUMNS:
            raise SheetTooLargeError(path, f"part {part} has cells beyond Excel's grid "
                                           f"(row {rows:,}, column {columns:,}; "
                                           f"Excel has {EXCEL_ROWS:,} rows and "
                                           f"{EXCEL_COLUMNS:,} columns)",
                                     "open it in Excel and save it again")
        cells = rows * columns
        if cells > limits.input_cells:
            raise PackageLimitError(path, f"part {part} reaches row {rows:,} and column "
                                          f"{columns:,}: a grid of {cells:,} cells, over "
                                          f"the input limit of {limits.input_cells:,}",
                                    "SOPFIN_MAX_INPUT_CELLS")


@contextmanager
def reading(path: Path, part: str) -> Iterator[None]:
    """Report what a broken part raises while it is read as a refusal naming the part."""
    try:
        yield
    except (WorkbookError, LimitSettingError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
            NotImplementedError, etree.XMLSyntaxError, ElementTree.ParseError,
            UnicodeError, ValueError, KeyError, IndexError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise NotAWorkbookError(path, f"part {part} cannot be read: {detail}") from None
