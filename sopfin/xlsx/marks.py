"""What sopfin keeps in a package outside its sheets' cells, and how published tabs stand.

The workbook identity is a hidden, workbook-scoped defined name (``layout.WORKBOOK_ID_NAME``)
holding a string constant: ``<definedName name="_sopfin_workbook_id" hidden="1">"<uuid>"
</definedName>``. Excel and LibreOffice keep such a name through a save (LibreOffice drops
``hidden``, which does not matter), and copying a sheet into another workbook does not carry
it. ``sheet_guards`` tells, for named sheets, their state and whether they are protected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sopfin.layout import WORKBOOK_ID_NAME
from sopfin.xlsx.package import MAIN_NS, Package, open_package, parse_xml, prefix_of
from sopfin.xlsx.registry import _add_defined_names
from sopfin.xlsx.source import PackageSource

_PROTECTION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetProtection\b[^>]*>")
_SHEET_ON = re.compile(rb'\ssheet\s*=\s*["\'](?:1|true)["\']')
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SheetGuard:
    state: str  # visible, hidden or veryHidden
    protected: bool  # <sheetProtection sheet="1"> is present


def workbook_id(path: PackageSource) -> str | None:
    """The identity the workbook at ``path`` carries, or None."""
    with open_package(path) as pkg:
        return read_workbook_id(pkg)


def sheet_guards(path: PackageSource, names: Iterable[str]) -> dict[str, SheetGuard]:
    """State and protection of the named sheets of the workbook at ``path``."""
    with open_package(path) as pkg:
        return package_sheet_guards(pkg, names)


def read_workbook_id(pkg: Package) -> str | None:
    """The identity the workbook carries, or None."""
    root = parse_xml(pkg.workbook, pkg.workbook_part, pkg.path)
    for dn in root.iterfind(f"{{{MAIN_NS}}}definedNames/{{{MAIN_NS}}}definedName"):
        if dn.get("name", "").lower() == WORKBOOK_ID_NAME.lower() \
                and dn.get("localSheetId") is None:
            text = (dn.text or "").strip()
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1].replace('""', '"')
            return text or None
    return None


def with_workbook_id(text: str, workbook_id: str) -> str:
    """workbook.xml text with the identity name added (the caller checks there is none)."""
    if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", workbook_id):
        raise ValueError(f"not a workbook identity: {workbook_id!r}")
    p = prefix_of(text, "workbook")
    mark = (f'<{p}definedName name="{WORKBOOK_ID_NAME}" hidden="1">"{workbook_id}"'
            f'</{p}definedName>')
    return _add_defined_names(text, p, mark)


def package_sheet_guards(pkg: Package, names: Iterable[str]) -> dict[str, SheetGuard]:
    """State and protection of the named worksheets (missing ones are left out). The
    worksheet is streamed: ``<sheetProtection>`` follows the cells."""
    wanted = set(names)
    out = {}
    for entry in pkg.sheets:
        if entry.name in wanted and entry.part is not None:
            out[entry.name] = SheetGuard(entry.state, _protected(pkg, entry.part))
    return out


def _protected(pkg: Package, part: str) -> bool:
    tail = b""
    with pkg.zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            data = tail + chunk
            match = _PROTECTION.search(data)
            if match is not None:
                return _SHEET_ON.search(match.group(0)) is not None
            tail = data[-4096:]
    return False
