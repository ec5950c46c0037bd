"""The workbook as an OPC zip package: what it holds, and a byte-faithful copy with new parts.

Reading uses ``zipfile``'s central directory; writing is done here, entry by entry, so that
every part sopfin does not change is copied as its original *compressed* bytes (same CRC,
same data, no recompression) in the original order. Registry parts are edited as text, never
re-serialised, so namespace prefixes, attribute order and ``mc:Ignorable`` survive as written.
"""

from __future__ import annotations

import os
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from sopfin.layout import OWNER_MARK_NAME, is_owner_mark_value
from sopfin.xlsx.deflate import SHEET_COMPRESS_LEVEL, Deflated, deflate_into, deflater
from sopfin.xlsx.errors import (
    NotAWorkbookError,
    StrictOOXMLError,
    StructureProtectedError,
    WorkbookLockedError,
)
from sopfin.xlsx.limits import Limits
from sopfin.xlsx.screen import reading, screen_entries, screen_structure
from sopfin.xlsx.source import PackageSource, package_of, path_of

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_WORKSHEET = f"{DOC_REL_NS}/worksheet"
REL_STYLES = f"{DOC_REL_NS}/styles"
REL_CALC_CHAIN = f"{DOC_REL_NS}/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SIGNATURE_FOLDER = "_xmlsignatures/"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP32_LIMIT = 0xFFFFFFFF
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6


# --- text of XML parts ---------------------------------------------------------------------
@dataclass(frozen=True)
class XmlText:
    """A part decoded to text, remembering how to encode it back byte-faithfully."""

    text: str
    encoding: str
    bom: bytes

    @classmethod
    def decode(cls, data: bytes) -> XmlText:
        for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                           (b"\xfe\xff", "utf-16-be")):
            if data.startswith(bom):
                return cls(data[len(bom):].decode(codec), codec, bom)
        m = re.match(rb'<\?xml[^>]*encoding=["\']([A-Za-z0-9._-]+)["\']', data)
        codec = m.group(1).decode("ascii") if m else "utf-8"
        return cls(data.decode(codec), codec, b"")

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding)


def parse_xml(data: bytes, part: str, path: Path) -> etree._Element:
    try:
        return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                             huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise NotAWorkbookError(path, f"part {part} is not well-formed XML: {exc}") from None


def prefix_of(text: str, local: str) -> str:
    """The 'x:' prefix with which element ``local`` is written in ``text`` ('' if none)."""
    m = re.search(rf"<([A-Za-z_][\w.-]*:)?{local}(?=[\s/>])", text)
    return (m.group(1) or "") if m else ""


# --- relationships -------------------------------------------------------------------------
@dataclass(frozen=True)
class Relationship:
    rid: str
    type: str
    target: str  # resolved part name (no leading '/'), or the raw target when external
    external: bool


def rels_part_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve_target(source_part: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_relationships(data: bytes, source_part: str, path: Path) -> list[Relationship]:
    root = parse_xml(data, rels_part_of(source_part), path)
    out = []
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "Relationship":
            continue
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        out.append(Relationship(el.get("Id", ""), el.get("Type", ""),
                                target if external else resolve_target(source_part, target),
                                external))
    return out


# --- the package as found ------------------------------------------------------------------
@dataclass(frozen=True)
class SheetEntry:
    """One ``<sheet>`` of workbook.xml, in workbook order."""

    position: int
    name: str
    sheet_id: int
    rid: str
    state: str
    part: str | None  # the worksheet part it points at (None: chartsheet, dialog, broken)
    owned: bool


@dataclass
class Package:
    """What sopfin needs to know about a workbook package to add or replace sheets.

    Holds the source file open (``source``) until ``close``; use it as a context manager.
    """

    path: Path
    source: BinaryIO
    owns_source: bool
    zf: zipfile.ZipFile
    names: list[str]  # entry names, in zip order
    workbook_part: str
    workbook: bytes
    rels: list[Relationship]
    sheets: list[SheetEntry]
    namespace: str
    structure_locked: bool

    @property
    def rels_part(self) -> str:
        return rels_part_of(self.workbook_part)

    @property
    def signed(self) -> bool:
        return any(n.startswith(SIGNATURE_FOLDER) for n in self.names)

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zf.close()
        if self.owns_source:
            self.source.close()

    def read(self, name: str) -> bytes:
        with reading(self.path, name):
            return self.zf.read(name)

    def has(self, name: str) -> bool:
        return name.lower() in {n.lower() for n in self.names}

    def part_of_type(self, rel_type: str) -> str | None:
        for rel in self.rels:
            if rel.type == rel_type and not rel.external and self.has(rel.target):
                return rel.target
        return None


def lock_files(path: Path) -> list[Path]:
    """Excel's owner file ``~$<name>`` and LibreOffice's ``.~lock.<name>#`` beside the file
    ``path`` resolves to (an app that opened the real file put them there), and beside
    ``path`` itself when it is a symbolic link (an app that opened the link)."""
    places = [Path(os.path.realpath(path))]
    if places[0] != path.absolute():
        places.append(path)
    candidates = [p.with_name(f"{mark}{p.name}{end}") for p in places
                  for mark, end in (("~$", ""), (".~lock.", "#"))]
    return [p for p in candidates if p.exists()]


def open_package(path: PackageSource, source: BinaryIO | None = None) -> Package:
    """Inspect a workbook package; raise a WorkbookError for anything sopfin cannot write.

    ``path`` is the file, or the ``PackageBytes`` a command read (then nothing is opened).
    ``source`` reads the package from an open binary file instead of ``path`` (which then
    only names it in messages).
    """
    owns = source is None
    if source is None:
        package = package_of(path)
        source = package.stream()
    where = path_of(path)
    try:
        return _inspect(where, source, owns)
    except BaseException:
        if owns:
            source.close()
        raise


def _inspect(path: Path, source: BinaryIO, owns: bool) -> Package:
    if source.read(8) == OLE2_MAGIC:
        raise NotAWorkbookError(path, "it is a legacy .xls file or a password-encrypted "
                                      "workbook")
    source.seek(0)
    try:
        zf = zipfile.ZipFile(source)
        zf.filename = str(path)  # messages name the file, not the stream
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise NotAWorkbookError(path, f"it is not a zip package: {exc}") from None
    names = [i.filename for i in zf.infolist()]
    screen_entries(zf, path, Limits.from_env())
    screen_structure(zf, path)
    with reading(path, "_rels/.rels"):
        root_rels = read_relationships(zf.read("_rels/.rels"), "", path)
    doc = [r for r in root_rels if r.type.endswith("/officeDocument") and not r.external]
    if not doc or doc[0].target not in names:
        raise NotAWorkbookError(path, "it has no workbook part")
    workbook_part = doc[0].target
    with reading(path, workbook_part):
        workbook = zf.read(workbook_part)
    root = parse_xml(workbook, workbook_part, path)
    namespace = etree.QName(root).namespace or ""
    if namespace == STRICT_NS:
        raise StrictOOXMLError(path)
    if namespace != MAIN_NS or etree.QName(root).localname != "workbook":
        raise NotAWorkbookError(path, f"its main part {workbook_part} is not a spreadsheet "
                                      "workbook (a Word or PowerPoint file?)")
    rels_name = rels_part_of(workbook_part)
    with reading(path, rels_name):
        rels = read_relationships(zf.read(rels_name), workbook_part, path) \
            if rels_name in names else []
    return Package(path, source, owns, zf, names, workbook_part, workbook, rels,
                   _sheet_entries(root, rels, names), namespace, _structure_locked(root))


def _structure_locked(root: etree._Element) -> bool:
    prot = root.find(f"{{{MAIN_NS}}}workbookProtection")
    return prot is not None and prot.get("lockStructure", "").lower() in ("1", "true")


def owned_positions(root: etree._Element, any_value: bool = False) -> set[int]:
    """Positions of the sheets marked as sopfin's (``any_value``: those carrying the owner
    name at all, whatever its value)."""
    owned = set()
    for dn in root.iterfind(f"{{{MAIN_NS}}}definedNames/{{{MAIN_NS}}}definedName"):
        local = dn.get("localSheetId", "")
        if (dn.get("name", "").lower() == OWNER_MARK_NAME.lower() and local.isdigit()
                and (any_value or is_owner_mark_value(dn.text))):
            owned.add(int(local))
    return owned


def _sheet_entries(root: etree._Element, rels: list[Relationship],
                   names: list[str]) -> list[SheetEntry]:
    by_id = {r.rid: r for r in rels}
    owned = owned_positions(root)
    out = []
    for pos, el in enumerate(root.iterfind(f"{{{MAIN_NS}}}sheets/{{{MAIN_NS}}}sheet")):
        rid = el.get(f"{{{DOC_REL_NS}}}id", "")
        rel = by_id.get(rid)
        part = rel.target if (rel is not None and rel.type == REL_WORKSHEET
                              and not rel.external and rel.target in names) else None
        sheet_id = el.get("sheetId", "0")
        out.append(SheetEntry(pos, el.get("name", ""), int(sheet_id) if sheet_id.isdigit() else 0,
                              rid, el.get("state", "visible"), part, pos in owned))
    return out


def check_package(pkg: Package) -> None:
    """Refuse what sopfin cannot write, before any work is done."""
    locks = lock_files(pkg.path) if pkg.path.name else []
    if locks:
        raise WorkbookLockedError(pkg.path, locks[0])
    if pkg.structure_locked:
        raise StructureProtectedError(pkg.path)


# --- writing the zip -----------------------------------------------------------------------
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


# --- registry parts, edited as text ----------------------------------------------------------
class MalformedPartError(ValueError):
    """A registry part lacks an element the edit needs (reported against the workbook)."""


def _insert_before_close(text: str, tag: str, xml: str, part: str) -> str:
    """Insert ``xml`` as the last children of the (single) element ``tag``."""
    p = prefix_of(text, tag)
    close = f"</{p}{tag}>"
    at = text.rfind(close)
    if at >= 0:
        return f"{text[:at]}{xml}{text[at:]}"
    m = re.search(rf"<{re.escape(p)}{tag}(?=[\s/])[^>]*/>", text)
    if m is None:
        raise MalformedPartError(f"part {part} has no <{tag}> element")
    opened = m.group(0)[:-2].rstrip() + ">"
    return f"{text[:m.start()]}{opened}{xml}{close}{text[m.end():]}"


def add_relationships(text: str, rels: Iterable[tuple[str, str, str]]) -> str:
    """Append (Id, Type, Target) relationships to a .rels part."""
    p = prefix_of(text, "Relationships")
    xml = "".join(f'<{p}Relationship Id="{rid}" Type="{rtype}" Target="{target}"/>'
                  for rid, rtype, target in rels)
    return _insert_before_close(text, "Relationships", xml, ".rels")


def remove_relationship(text: str, rid: str) -> str:
    p = re.escape(prefix_of(text, "Relationships"))
    return re.sub(rf'<{p}Relationship(?=\s)[^>]*\sId="{re.escape(rid)}"[^>]*?(/>|>\s*</{p}'
                  rf'Relationship>)', "", text, count=1)


def add_overrides(text: str, parts: Iterable[tuple[str, str]]) -> str:
    """Append (part name, content type) Overrides to [Content_Types].xml."""
    p = prefix_of(text, "Types")
    xml = "".join(f'<{p}Override PartName="/{name}" ContentType="{ctype}"/>'
                  for name, ctype in parts)
    return _insert_before_close(text, "Types", xml, "[Content_Types].xml")


def remove_override(text: str, part: str) -> str:
    p = re.escape(prefix_of(text, "Types"))
    return re.sub(rf'<{p}Override(?=\s)[^>]*\sPartName="/{re.escape(part)}"[^>]*?(/>|>\s*</'
                  rf'{p}Override>)', "", text, count=1, flags=re.IGNORECASE)


@dataclass(frozen=True)
class NewSheet:
    name: str
    sheet_id: int
    rid: str
    state: str
    owned: bool


def _attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _rel_prefix(text: str) -> tuple[str, str]:
    """The prefix bound to the relationships namespace on <workbook>, and any declaration
    a new <sheet> must carry when the workbook binds none."""
    root = etree.fromstring(text.encode("utf-8"))
    sheets = root.find(f"{{{MAIN_NS}}}sheets")
    nsmap = (sheets if sheets is not None else root).nsmap
    for prefix, uri in nsmap.items():
        if uri == DOC_REL_NS and prefix:
            return f"{prefix}:", ""
    return "r:", f' xmlns:r="{DOC_REL_NS}"'


def edit_workbook(text: str, existing: int, new: list[NewSheet],
                  states: dict[int, str], remark: Sequence[int] = ()) -> str:
    """Append ``<sheet>`` entries and owner marks; set the state of replaced owned sheets.

    ``existing`` is the number of sheets already listed; new owned sheet k is marked with
    ``localSheetId = existing + k``. ``remark`` are positions of listed sheets to mark again
    (sopfin's sheets whose mark a rewrite dropped). Marks an app re-spelled are written back
    as sopfin writes them.
    """
    p = prefix_of(text, "workbook")
    rp, rdecl = _rel_prefix(text)
    text = _tidy_marks(text, p)
    if states:
        text = _set_states(text, p, states)
    entries = "".join(
        f'<{p}sheet name="{_attr(s.name)}" sheetId="{s.sheet_id}"'
        + (f' state="{s.state}"' if s.state != "visible" else "")
        + f' {rp}id="{s.rid}"{rdecl}/>' for s in new)
    if entries:
        text = _insert_before_close(text, "sheets", entries, "workbook.xml")
    positions = [*remark, *(existing + k for k, s in enumerate(new) if s.owned)]
    marks = "".join(_mark(p, position) for position in positions)
    return _add_defined_names(text, p, marks) if marks else text


def _mark(p: str, position: int | str) -> str:
    return (f'<{p}definedName name="{OWNER_MARK_NAME}" localSheetId="{position}" '
            f'hidden="1">TRUE</{p}definedName>')


def _tidy_marks(text: str, p: str) -> str:
    """Owner marks as LibreOffice leaves them (``TRUE()``, not hidden) back to sopfin's
    spelling, so the name is out of sight in the app's name manager again."""
    ep = re.escape(p)

    def tidy(m: re.Match[str]) -> str:
        attrs, value = m.group(1), m.group(2)
        name = re.search(r'\sname="([^"]*)"', attrs)
        local = re.search(r'\slocalSheetId="(\d+)"', attrs)
        if (name is None or name.group(1).lower() != OWNER_MARK_NAME.lower() or local is None
                or not is_owner_mark_value(value)):
            return m.group(0)
        return _mark(p, local.group(1))

    return re.sub(rf"<{ep}definedName(\s[^>]*)>([^<]*)</{ep}definedName>", tidy, text)


def _set_states(text: str, p: str, states: dict[int, str]) -> str:
    open_sheets = re.search(rf"<{re.escape(p)}sheets(?=[\s>])[^>]*>", text)
    if open_sheets is None:
        raise MalformedPartError("workbook.xml has no <sheets> element")
    tags = list(re.finditer(rf"<{re.escape(p)}sheet(?=[\s/>])[^>]*>", text[open_sheets.end():]))
    base = open_sheets.end()
    for position in sorted(states, reverse=True):
        m = tags[position]
        tag = re.sub(r'\sstate="[^"]*"', "", m.group(0))
        if states[position] != "visible":
            tag = re.sub(rf"^<{re.escape(p)}sheet", rf'<{p}sheet state="{states[position]}"', tag)
        text = f"{text[:base + m.start()]}{tag}{text[base + m.end():]}"
    return text


def _add_defined_names(text: str, p: str, marks: str) -> str:
    ep = re.escape(p)
    if re.search(rf"<{ep}definedNames(?=[\s/>])", text):
        return _insert_before_close(text, "definedNames", marks, "workbook.xml")
    # No <definedNames> yet: it follows sheets, functionGroups and externalReferences.
    after = 0
    for tag in ("sheets", "functionGroups", "externalReferences"):
        m = re.search(rf"</{ep}{tag}>|<{ep}{tag}(?=[\s/])[^>]*/>", text)
        if m is not None:
            after = max(after, m.end())
    if not after:
        raise MalformedPartError("workbook.xml has no <sheets> element")
    return f"{text[:after]}<{p}definedNames>{marks}</{p}definedNames>{text[after:]}"


def drop_calc_cells(text: str, sheet_ids: set[int]) -> tuple[str, int]:
    """Remove calcChain cells on the given sheets; return the text and the cells left.

    A cell without ``i`` belongs to the sheet of the cell before it, so the current sheet is
    tracked along the chain.
    """
    p = re.escape(prefix_of(text, "c"))
    current, kept = 0, 0

    def visit(m: re.Match[str]) -> str:
        nonlocal current, kept
        sheet = re.search(r'\si="(\d+)"', m.group(0))
        if sheet is not None:
            current = int(sheet.group(1))
        if current in sheet_ids:
            return ""
        kept += 1
        return m.group(0)

    out = re.sub(rf"<{p}c(?=[\s/>])[^>]*?(?:/>|>\s*</{p}c>)", visit, text)
    return out, kept
