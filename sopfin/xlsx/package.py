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
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from sopfin.layout import OWNER_MARK_NAME, is_owner_mark_value
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
