"""ECMA-376 transitional schemas as a second opinion on a package, with lxml.

The XSDs are freely available from Ecma International (ECMA-376 Part 1, "Office Open XML
File Formats", electronic inserts: the transitional schemas; Part 2 for the OPC schemas) but
are not packaged on PyPI or in Debian, so the suite runs this check only when
``SOPFIN_ECMA376_XSD`` names a folder holding them (``sml.xsd``, ``dml-chart.xsd``,
``dml-spreadsheetDrawing.xsd``, ``dml-main.xsd``, the ``shared-*.xsd`` they import,
``opc-contentTypes.xsd`` and ``opc-relationships.xsd``, anywhere below that folder).
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from lxml import etree

from xlsx_helpers.packages import written_parts

ENV = "SOPFIN_ECMA376_XSD"
SCHEMA_OF_NAMESPACE = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "sml.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": "dml-chart.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing":
        "dml-spreadsheetDrawing.xsd",
    "http://schemas.openxmlformats.org/package/2006/content-types": "opc-contentTypes.xsd",
    "http://schemas.openxmlformats.org/package/2006/relationships": "opc-relationships.xsd",
}
# xml:space on <t> is how XML keeps leading and trailing spaces, and Excel writes it; the XSD
# types <t> as a plain string that cannot carry it (docs/workbook.md, "Excel conformance").
XSD_ARTEFACT = "{http://www.w3.org/XML/1998/namespace}space' is not allowed"


def schema_folder() -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) if folder and Path(folder).is_dir() else None


@cache
def _schema(folder: Path, file_name: str) -> etree.XMLSchema:
    path = next(folder.rglob(file_name))
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_findings(folder: Path, path: Path, parts: Iterable[str] | None = None) -> list[str]:
    """``part: message`` for every schema error in the XML parts (all, or those named) whose
    root namespace has a schema above; other parts are not checked."""
    wanted = None if parts is None else set(parts)
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if wanted is not None and name not in wanted:
                continue
            if not name.endswith((".xml", ".rels")):
                continue
            root = etree.fromstring(zf.read(name))
            file_name = SCHEMA_OF_NAMESPACE.get(etree.QName(root).namespace or "")
            if file_name is None:
                continue
            schema = _schema(folder, file_name)
            if not schema.validate(root):
                found += [f"{name}: {e.message}" for e in schema.error_log
                          if XSD_ARTEFACT not in e.message]
    return found


def xsd_added_by_writing(folder: Path, original: Path, result: Path) -> list[str]:
    """Schema errors of the parts that differ between the two packages, in ``result`` and not
    in ``original``."""
    written, edited = written_parts(original, result)
    was = Counter(xsd_findings(folder, original, edited))
    return sorted((Counter(xsd_findings(folder, result, written)) - was).elements())
