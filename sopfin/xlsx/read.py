"""Read the input sheets of a plan workbook as raw grids of cell values.

Values come from python-calamine (fast, formula cells give their cached value). Calamine reads
Excel error cells (``#N/A``, ``#REF!``, ...) as empty strings, which would let a broken lookup
pass for a blank; so each sheet's XML part is also scanned for error cells (``t="e"``) and
those positions get an ``XlError`` in the grid. The scan is a byte search: only the few
bytes around each match are parsed.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

from sopfin.layout import column_index
from sopfin.model import XlError
from sopfin.xlsx.errors import NotAWorkbookError, WorkbookNotFoundError
from sopfin.xlsx.metadata import refuse_odd_target

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_ERROR_MARKERS = (b' t="e"', b" t='e'")
_CELL_REF = re.compile(rb"""\sr=["']([A-Z]+)([0-9]+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s")
_CELL_CLOSE = re.compile(rb"</(?:\w+:)?c>")


class WorkbookReadError(NotAWorkbookError):
    """The file is not an .xlsx/.xlsm package the reader understands."""


@dataclass(frozen=True)
class RawSheet:
    """One sheet as a grid from A1: float, str, bool, date/datetime, XlError, None (empty).

    Numbers are floats for .xlsx/.xlsm (calamine may give int for other formats)."""

    name: str
    rows: list[list[object]]


_SHEET_WITHOUT_REL = re.compile(
    r"""<(?:\w+:)?sheet\b(?:(?!/>)[^>])*?\br:id=(?:""|'')(?:(?!/>)[^>])*/>""")


def _open_book(path: str | Path) -> CalamineWorkbook:
    refuse_odd_target(path)
    if not Path(path).is_file():
        raise WorkbookNotFoundError(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types for a bad package
        first = exc
    try:  # a sheet entry without a relationship (Excel repairs it) stops calamine: skip it
        return CalamineWorkbook.from_filelike(_without_unlinked_sheets(Path(path)))
    except Exception:  # the sanitised copy fails too: report the original fault
        raise WorkbookReadError(path, f"calamine could not open it: {first}") from None


def _without_unlinked_sheets(path: Path) -> io.BytesIO:
    """An in-memory copy of the package whose workbook.xml lists only sheets that have a
    relationship. The file on disk is never touched; used only to read the input sheets."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = _SHEET_WITHOUT_REL.sub("", data.decode("utf-8")).encode("utf-8")
            copy.writestr(info, data)
    buffer.seek(0)
    return buffer


def workbook_sheet_names(path: str | Path) -> list[str]:
    """The workbook's sheet names, in tab order."""
    return list(_open_book(path).sheet_names)


def read_raw_sheets(path: str | Path, names: Iterable[str]) -> dict[str, RawSheet]:
    """Read the named sheets; sheets the workbook does not have are absent from the result."""
    book = _open_book(path)
    path = str(path)
    present = [n for n in dict.fromkeys(names) if n in book.sheet_names]
    if not present:
        return {}
    with zipfile.ZipFile(path) as package:
        parts = sheet_parts(package)
        out: dict[str, RawSheet] = {}
        for name in present:
            rows = _normalised(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            part = parts.get(name)
            if part is not None and part in package.NameToInfo:
                _place_errors(rows, error_cells(package.read(part)))
            out[name] = RawSheet(name, rows)
    return out


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its worksheet part inside the package."""
    try:
        book = ElementTree.fromstring(package.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    except KeyError as exc:
        raise WorkbookReadError(package.filename or "workbook",
                                f"not a spreadsheet package: {exc}") from None
    targets = {r.get("Id"): r.get("Target", "")
               for r in rels.iter(f"{{{_PKG_REL_NS}}}Relationship")}
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        if not target:
            continue
        if target.startswith("/"):
            part = target.lstrip("/")
        else:
            part = posixpath.normpath(posixpath.join("xl", target))
        parts[sheet.get("name", "")] = part
    return parts


def error_cells(xml: bytes) -> list[tuple[int, int, XlError]]:
    """(0-based row, 0-based col, error) of every error cell in a worksheet part."""
    found: list[tuple[int, int, XlError]] = []
    for marker in _ERROR_MARKERS:
        at = xml.find(marker)
        while at != -1:
            cell = _error_cell_at(xml, at)
            if cell is not None:
                found.append(cell)
            at = xml.find(marker, at + len(marker))
    if any(cell[0] < 0 for cell in found):
        return _error_cells_by_position(xml)
    return found


def _error_cell_at(xml: bytes, at: int) -> tuple[int, int, XlError] | None:
    start = xml.rfind(b"<", 0, at)
    if start == -1 or not _CELL_TAG.match(xml, start):
        return None  # the marker sits in another element or in text
    head_end = xml.find(b">", at)
    head = xml[start:head_end]
    if head.endswith(b"/"):
        return None  # <c t="e"/> has no value
    close = _CELL_CLOSE.search(xml, head_end)
    value = _VALUE.search(xml, head_end, close.end() if close else len(xml))
    code = value.group(1).decode("utf-8") if value else "#N/A"
    ref = _CELL_REF.search(head)
    if ref is None:
        return (-1, -1, XlError(code))
    return (int(ref.group(2)) - 1, column_index(ref.group(1).decode("ascii")) - 1, XlError(code))


def _error_cells_by_position(xml: bytes) -> list[tuple[int, int, XlError]]:
    """Slow path for parts whose cells omit the optional ``r`` reference: walk the rows."""
    found: list[tuple[int, int, XlError]] = []
    root = ElementTree.fromstring(xml)
    row_index = -1
    for row in root.iter(f"{{{_MAIN_NS}}}row"):
        row_index = int(row.get("r", row_index + 2)) - 1
        col_index = -1
        for cell in row.iter(f"{{{_MAIN_NS}}}c"):
            ref = cell.get("r")
            col_index = column_index(ref.rstrip("0123456789")) - 1 if ref else col_index + 1
            if cell.get("t") == "e":
                value = cell.find(f"{{{_MAIN_NS}}}v")
                code = value.text if value is not None and value.text else "#N/A"
                found.append((row_index, col_index, XlError(code)))
    return found


def _normalised(grid: list[list[object]]) -> list[list[object]]:
    """Calamine's '' for an empty cell -> None. Rows without an empty cell are kept as they are
    (the common case in a full month grid), which keeps this pass cheap."""
    return [[None if v == "" else v for v in row] if "" in row else row for row in grid]


def _place_errors(rows: list[list[object]], errors: list[tuple[int, int, XlError]]) -> None:
    """Put each error into the grid, growing it when the error lies outside calamine's range."""
    if not errors:
        return
    width = max([len(r) for r in rows] + [c + 1 for _, c, _ in errors])
    height = max(len(rows), max(r + 1 for r, _, _ in errors))
    for row in rows:
        row.extend([None] * (width - len(row)))
    rows.extend([None] * width for _ in range(height - len(rows)))
    for r, c, error in errors:
        rows[r][c] = error
