"""Comparing a written package with the original: what may change and what may not."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from sopfin.xlsx.writer import StrictOOXMLError, StructureProtectedError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REGISTRY_SUFFIXES = ("workbook.xml", "workbook.xml.rels", "[Content_Types].xml", "styles.xml")


def expected_refusal(path: Path) -> type[Exception] | None:
    """Decided from the original's XML, independently of the writer."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/workbook.xml"))
    if etree.QName(root).namespace == STRICT_NS:
        return StrictOOXMLError
    prot = root.find(f"{{{MAIN_NS}}}workbookProtection")
    if prot is not None and prot.get("lockStructure") in ("1", "true"):
        return StructureProtectedError
    return None


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


VIEW_STATE = {"activeTab", "firstSheet"}  # the tab a workbook opens on: a close sets it


def _compared(el: etree._Element, name: str) -> bool:
    return name != "count" and not (etree.QName(el).localname == "workbookView"
                                    and name in VIEW_STATE)


def signatures(data: bytes) -> list[tuple]:
    """Every element of a part in document order: tag, attributes, text. A list's ``count``
    is left out: appending to a list must raise it (checked separately); so is the tab the
    workbook opens on (``activeTab``, ``firstSheet``), which a close moves to its new tab."""
    root = etree.fromstring(data)
    return [(el.tag, tuple(sorted((k, v) for k, v in el.attrib.items() if _compared(el, k))),
             (el.text or "").strip()) for el in root.iter() if isinstance(el.tag, str)]


def counts_match_children(data: bytes) -> bool:
    root = etree.fromstring(data)
    return all(int(el.get("count")) == sum(isinstance(c.tag, str) for c in el)
               for el in root if el.get("count", "").isdigit())


def is_subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def is_registry(name: str) -> bool:
    return name.endswith(REGISTRY_SUFFIXES) and (name.startswith("xl/") or "/" not in name)
