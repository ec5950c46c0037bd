"""Read the input sheets of a plan workbook as raw grids of cell values.

Values come from python-calamine (fast, formula cells give their cached value). Calamine reads
Excel error cells (``#N/A``, ``#REF!``, ...) as empty strings, which would let a broken lookup
pass for a blank; so each sheet's XML part is also scanned for error cells (``t="e"``) and
those positions get an ``XlError`` in the grid. The scan is a byte search: only the few
bytes around each match are parsed.
"""

from __future__ import annotations

import functools
import io
import posixpath
import queue
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from lxml import etree
from python_calamine import CalamineSheet, CalamineWorkbook

from sopfin.layout import column_index
from sopfin.model import NO_STORED_RESULT, XlError
from sopfin.xlsx.errors import NotAWorkbookError, WorkbookError
from sopfin.xlsx.limits import MIB, Limits
from sopfin.xlsx.package import open_package
from sopfin.xlsx.screen import open_zip, reading, screen_inflated, screen_registry
from sopfin.xlsx.source import PackageSource, package_of
from sopfin.xlsx.zipsink import ZipSink

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

ERROR_MARKERS = (b' t="e"', b" t='e'")
_CELL_REF = re.compile(rb"""\sr=["']([A-Z]+)([0-9]+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s")
_CELL_CLOSE = re.compile(rb"</(?:\w+:)?c>")
_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True, no_network=True)
_CHUNK = 4 * MIB  # inflated bytes of a worksheet read at a time for the error-cell scan
_COPY_LIMIT = 256 * MIB  # a package repaired in memory for calamine holds at most this


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


def calamine_book(package: zipfile.ZipFile, path: Path,
                  parts: Iterable[str]) -> CalamineWorkbook:
    """calamine over an excerpt of the package that holds only ``parts`` (``_excerpt``), or
    over the whole package when the excerpt would pass the 4 GB a plain zip holds."""
    return calamine_books(package, path, parts)[0]


def calamine_books(package: zipfile.ZipFile, path: Path, parts: Iterable[str],
                   ) -> tuple[CalamineWorkbook, Callable[[], CalamineWorkbook] | None]:
    """``calamine_book``, and a way to open one more book over the same bytes for another
    thread (a book reads one sheet at a time: a second thread needs a book of its own).
    None for a book over the whole package: its stream is the package's own, which the
    screen reads meanwhile."""
    try:
        excerpt: IO[bytes] = _excerpt(package, parts)
    except OverflowError:
        excerpt = cast(IO[bytes], package.fp)
        excerpt.seek(0)
        return _calamine_over(excerpt, path)[0], None
    book, opened = _calamine_over(excerpt, path)
    data = opened.getvalue()
    return book, lambda: CalamineWorkbook.from_filelike(io.BytesIO(data))


def _calamine_over(excerpt: IO[bytes], path: Path) -> tuple[CalamineWorkbook, io.BytesIO]:
    """The book calamine opens over ``excerpt``, and the bytes it opened (the excerpt, or
    its repaired copy)."""
    try:
        return CalamineWorkbook.from_filelike(excerpt), cast(io.BytesIO, excerpt)
    except Exception as exc:  # calamine raises several unrelated types for a bad package
        first = exc
    try:  # a sheet entry without a relationship (Excel repairs it) stops calamine: skip it
        repaired = _without_unlinked_sheets(excerpt, path)
        return CalamineWorkbook.from_filelike(repaired), repaired
    except Exception:  # the sanitised copy fails too: report the original fault
        raise WorkbookReadError(path, f"calamine could not open it: {first}") from None


def _excerpt(package: zipfile.ZipFile, parts: Iterable[str]) -> io.BytesIO:
    """A zip of only ``parts`` of the package, their compressed bytes copied as stored (each
    entry with its sizes and CRC): calamine copies whatever it is given into memory, so it
    is given the parts it reads (the ones screened), never the rest of a large package."""
    buffer = io.BytesIO()
    sink = ZipSink(buffer)
    stored = cast(BinaryIO, package.fp)  # the package's stream (``open_zip``)
    for name in parts:
        sink.copy_raw(package.getinfo(name), stored)
    sink.close()
    buffer.seek(0)
    return buffer


def _without_unlinked_sheets(excerpt: IO[bytes], path: Path) -> io.BytesIO:
    """An in-memory copy of the excerpt whose workbook.xml lists only sheets that have a
    relationship. The file on disk is never touched; used only to read the input sheets, and
    only for an excerpt small enough to copy in memory."""
    buffer = io.BytesIO()
    excerpt.seek(0)
    with zipfile.ZipFile(excerpt) as source, zipfile.ZipFile(buffer, "w") as copy:
        if sum(i.file_size for i in source.infolist()) > _COPY_LIMIT:
            raise WorkbookReadError(path, "too large to repair in memory")
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = _SHEET_WITHOUT_REL.sub("", data.decode("utf-8")).encode("utf-8")
            copy.writestr(info, data)
    buffer.seek(0)
    return buffer


def workbook_sheet_names(path: PackageSource) -> list[str]:
    """The workbook's sheet names, in tab order."""
    package = package_of(path)
    limits = Limits.from_env()
    with open_zip(package, limits) as zf:
        parts = parts_calamine_reads(zf, ())
        screen_inflated(zf, package.path, parts, limits)
        return list(calamine_book(zf, package.path, parts).sheet_names)


def read_raw_sheets(path: PackageSource, names: Iterable[str]) -> dict[str, RawSheet]:
    """Read the named sheets; sheets the workbook does not have are absent from the result.

    ``path`` is the file, or the ``PackageBytes`` a command read. The package is screened
    first (``sopfin.xlsx.screen``): every part calamine will inflate is inflated once as a
    stream and held to the limits, and each input sheet's cells must lie inside Excel's grid
    and the input cell limit. calamine reads a sheet once its part has passed the screen, on
    one of two threads (it lets go of the interpreter while it reads), while the next sheet
    is screened (``_SheetReader``); the largest parts go first, so the two threads finish
    together."""
    source = package_of(path)
    where = source.path
    limits = Limits.from_env()
    with open_zip(source, limits) as package:
        parts = sheet_parts(package, where)
        wanted = [parts[n] for n in dict.fromkeys(names)
                  if n in parts and parts[n] in package.NameToInfo]
        calamine_parts = parts_calamine_reads(package, wanted)
        scans = {part: ErrorScan(limits.row_bytes) for part in wanted}
        screen_inflated(package, where, [p for p in calamine_parts if p not in scans], limits)
        screen_registry(package, where)
        with open_package(source):  # what a write refuses in the package, check refuses too
            pass
        book, another = calamine_books(package, where, calamine_parts)
        present = [n for n in dict.fromkeys(names) if n in book.sheet_names]
        with _SheetReader(book, another) as reader:
            scanned: set[str] = set()
            for screened in largest_first(package, wanted):  # screened, then read while the
                scanned |= screen_inflated(package, where, [screened], limits, [screened],
                                           observe=lambda part: scans[part].add)  # next is
                reader.read([n for n in present if parts.get(n) == screened])
            reader.read(present)  # sheets calamine names but the package does not place
            grids: dict[str, list[list[object]]] = {}
            refused: dict[str, WorkbookError] = {}
            for name, sheet in reader.in_turn(present):  # whichever is read first
                part = parts.get(name)
                try:
                    with reading(where, part or f"of sheet {name!r}"):
                        rows = _normalised(sheet_rows(sheet.result()))
                        del sheet
                        if part is not None and part in package.NameToInfo:
                            _place_errors(rows, scans[part].cells(package, part)
                                          if part in scanned else
                                          streamed_error_cells(package, part, limits.row_bytes))
                except WorkbookError as exc:
                    refused[name] = exc
                    continue
                grids[name] = rows
            for name in present:  # the refusal of the first sheet that has one, as in turn
                if name in refused:
                    raise refused[name]
    return {name: RawSheet(name, grids[name]) for name in present}


def largest_first(package: zipfile.ZipFile, parts: Iterable[str]) -> list[str]:
    """``parts`` by inflated size, largest first (in the order given among equals): read in
    this order on two threads, the last sheets to start are the small ones."""
    return sorted(parts, key=lambda part: -package.getinfo(part).file_size)


READ_THREADS = 2  # calamine threads (``book`` and one more): each parses outside the interpreter


class _SheetReader:
    """calamine reading sheets on two threads of their own, each sheet asked for once its
    part passed the screen and read by whichever thread is free; ``in_turn`` hands the
    reads over as they finish (a thread only parses: the grid is taken, holding the
    interpreter, on the command's thread). A book reads one sheet at a time, so each
    thread takes a book of its own: ``book``, or the one more opened by ``another`` (None:
    one thread). Leaving the block drops the sheets not yet read (a refusal stops the reads)
    and waits for those being read, so nothing reads the package after the command moved
    on."""

    def __init__(self, book: CalamineWorkbook,
                 another: Callable[[], CalamineWorkbook] | None = None) -> None:
        self.books: queue.SimpleQueue[CalamineWorkbook] = queue.SimpleQueue()
        self.books.put(book)
        self.another = another
        threads = READ_THREADS if another is not None else 1
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="calamine")
        self.sheets: dict[str, Future[CalamineSheet]] = {}

    def __enter__(self) -> _SheetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def read(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.sheets:
                self.sheets[name] = self.pool.submit(self._sheet, name)

    def in_turn(self, names: Iterable[str]) -> Iterator[tuple[str, Future[CalamineSheet]]]:
        """Each of ``names`` with its read, as the reads finish; nothing here keeps a read
        once it is handed over, so each sheet is let go of once its grid is taken."""
        finished: queue.SimpleQueue[str] = queue.SimpleQueue()
        waiting = set(names)
        for name in waiting:
            self.sheets[name].add_done_callback(functools.partial(_tell, finished, name))
        while waiting:
            name = finished.get()
            waiting.discard(name)
            yield name, self.sheets.pop(name)

    def _sheet(self, name: str) -> CalamineSheet:
        try:  # a book no other thread is reading: a free one, or one more
            book = self.books.get_nowait()
        except queue.Empty:  # the other thread reads with the one book there is
            assert self.another is not None  # one thread never finds the book taken
            book, self.another = self.another(), None  # (the bytes it opened let go of)
        try:
            return calamine_sheet(book, name)
        finally:
            self.books.put(book)


def _tell(finished: queue.SimpleQueue[str], name: str, _: object) -> None:
    finished.put(name)


def calamine_rows(book: CalamineWorkbook, name: str) -> list[list[object]]:
    return sheet_rows(calamine_sheet(book, name))


def calamine_sheet(book: CalamineWorkbook, name: str) -> CalamineSheet:
    """Sheet ``name`` as calamine reads it; a ValueError when it cannot be read."""
    try:
        return book.get_sheet_by_name(name)
    except Exception as exc:  # calamine's XmlError, ZipError, ...: the sheet cannot be read
        raise ValueError(f"it is not well-formed worksheet XML ({exc})") from None


def sheet_rows(sheet: CalamineSheet) -> list[list[object]]:
    """The grid of a sheet calamine read, from A1."""
    try:
        return cast(list[list[object]], sheet.to_python(skip_empty_area=False))
    except Exception as exc:  # as ``calamine_sheet``
        raise ValueError(f"it is not well-formed worksheet XML ({exc})") from None


def parts_calamine_reads(package: zipfile.ZipFile, sheets: Iterable[str]) -> list[str]:
    """The parts calamine inflates to read ``sheets``: every XML part that is not a
    worksheet, and those worksheets."""
    wanted = set(sheets)
    return [n for n in package.NameToInfo
            if n in wanted or (n.endswith((".xml", ".rels")) and "/worksheets/" not in n)]


def sheet_parts(package: zipfile.ZipFile, path: Path | None = None) -> dict[str, str]:
    """Sheet name -> path of its worksheet part inside the package."""
    where = path or Path(package.filename or "workbook")
    with reading(where, "xl/workbook.xml"):
        book = _parse(package, "xl/workbook.xml", where)
    with reading(where, "xl/_rels/workbook.xml.rels"):
        rels = _parse(package, "xl/_rels/workbook.xml.rels", where)
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


def _parse(package: zipfile.ZipFile, part: str, path: Path) -> etree._Element:
    if part not in package.NameToInfo:
        raise WorkbookReadError(path, f"not a spreadsheet package: there is no {part}")
    return etree.fromstring(package.read(part), parser=_PARSER)


def streamed_error_cells(package: zipfile.ZipFile, part: str,
                         row_bytes: int) -> list[tuple[int, int, XlError | bool]]:
    """``error_cells`` (and ``uncalculated_cells``) of a worksheet part read a run of whole
    rows at a time, so at most one chunk and one row are held (a row longer than
    ``row_bytes`` is refused)."""
    scan = ErrorScan(row_bytes)
    with package.open(part) as stream:
        while True:
            data = stream.read(_CHUNK)
            scan.add(data)
            if not data:
                break
    return scan.cells(package, part)


class ErrorScan:
    """The error and uncalculated cells of a worksheet part, from its inflated bytes handed
    over in order (``add``; empty bytes at the end): each run of whole rows is searched as it
    comes, so at most one block and one row are held. A row longer than ``row_bytes`` is
    refused, when the cells are asked for (``cells``)."""

    def __init__(self, row_bytes: int) -> None:
        self.row_bytes = row_bytes
        self.found: list[tuple[int, int, XlError | bool]] = []
        self.carry = b""
        self.unplaced = False  # a cell without a reference: the rows must be walked
        self.refused: ValueError | None = None

    def add(self, data: bytes) -> None:
        if self.refused is not None or self.unplaced:
            return
        if data and not _may_hold_cells(self.carry + data[:_MARK_LEN], data):
            end = data.rfind(b"</row>")
            if end >= 0:  # nothing to find up to its last row: keep only the row it starts
                self.carry = data[end + 6:]
                self._hold_to_row_bytes()
                return
        text = self.carry + data
        cut = len(text)  # at the end, everything left
        if data:
            end = text.rfind(b"</row>")
            cut = end + 6 if end >= 0 else 0
        piece, self.carry = text[:cut], text[cut:]
        if self._hold_to_row_bytes():
            return
        cells: list[tuple[int, int, XlError | bool]] = (
            list(_marked_cells(piece)) if any(m in piece for m in ERROR_MARKERS) else [])
        if b"<f" in piece:
            cells += uncalculated_cells(piece)
        if any(cell[0] < 0 for cell in cells):
            self.unplaced = True
        self.found += cells

    def _hold_to_row_bytes(self) -> bool:
        """Refuse the part (True) when the row held over is longer than ``row_bytes``."""
        if len(self.carry) > self.row_bytes:
            self.refused = ValueError(f"a row of more than {self.row_bytes:,} bytes "
                                      "(SOPFIN_MAX_ROW_BYTES)")
        return self.refused is not None

    def cells(self, package: zipfile.ZipFile, part: str,
              ) -> list[tuple[int, int, XlError | bool]]:
        """(0-based row, 0-based col, value) of every cell found; a part whose cells lack
        references is walked row by row from ``package``."""
        if self.refused is not None:
            raise self.refused
        if self.unplaced:
            with package.open(part) as again:
                return list(_error_cells_by_position(again))
        return self.found


_MARKS = (*ERROR_MARKERS, b"<f")  # what a run of rows with an error or formula cell holds
_MARK_LEN = max(map(len, _MARKS))


def _may_hold_cells(joint: bytes, data: bytes) -> bool:
    """Whether the row held over and the next block may hold an error or formula cell:
    a mark in the row held over or across the seam (``joint``: that row and the block's
    first bytes), or in the block."""
    return any(m in joint for m in _MARKS) or any(m in data for m in _MARKS)


_UNCALCULATED = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b([^>]*?)(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v>\s*</(?:\w+:)?v>|<(?:\w+:)?v\s*/>)?\s*</(?:\w+:)?c>")
_BOOLEAN_FORMULA = re.compile(r"\s*(TRUE|FALSE)\s*\(\s*\)\s*", re.IGNORECASE)
_TEXT_TYPE = re.compile(rb"""\st=["'](?:str|s|inlineStr|e)["']""")


def uncalculated_cells(xml: bytes) -> list[tuple[int, int, XlError | bool]]:
    """(0-based row, 0-based col, value) of every formula cell saved without its result.

    calamine reads such a cell as empty, which would let a formula pass for a blank: a
    library that does not calculate (openpyxl) keeps formulas and drops their results.
    ``TRUE()``/``FALSE()`` are read as the boolean (LibreOffice saves a typed TRUE as the
    formula ``TRUE()``); any other formula gets ``XlError(NO_STORED_RESULT)``. A text formula
    whose result is the empty string (``t="str"`` with an empty value) is calculated."""
    found: list[tuple[int, int, XlError | bool]] = []
    for match in _UNCALCULATED.finditer(xml):
        head = match.group(1)
        ref = _CELL_REF.search(head)
        if ref is None or _TEXT_TYPE.search(head):
            continue
        formula = (match.group(3) or b"").decode("utf-8", "replace")
        boolean = _BOOLEAN_FORMULA.fullmatch(formula)
        value: XlError | bool = (boolean.group(1).upper() == "TRUE" if boolean
                                 else XlError(NO_STORED_RESULT))
        found.append((int(ref.group(2)) - 1, column_index(ref.group(1).decode("ascii")) - 1,
                       value))
    return found


def error_cells(xml: bytes) -> list[tuple[int, int, XlError]]:
    """(0-based row, 0-based col, error) of every error cell in a worksheet part."""
    found = _marked_cells(xml)
    if any(cell[0] < 0 for cell in found):
        return _error_cells_by_position(io.BytesIO(xml))
    return found


def _marked_cells(xml: bytes) -> list[tuple[int, int, XlError]]:
    """The error cells of a run of whole rows (row -1 for a cell without ``r``)."""
    found: list[tuple[int, int, XlError]] = []
    for marker in ERROR_MARKERS:
        at = xml.find(marker)
        while at != -1:
            cell = _error_cell_at(xml, at)
            if cell is not None:
                found.append(cell)
            at = xml.find(marker, at + len(marker))
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


def _error_cells_by_position(stream: IO[bytes]) -> list[tuple[int, int, XlError]]:
    """Slow path for parts whose cells omit the optional ``r`` reference: walk the rows,
    streamed."""
    found: list[tuple[int, int, XlError]] = []
    row_index = -1
    for _, row in etree.iterparse(stream, events=("end",), tag=f"{{{_MAIN_NS}}}row",
                                  resolve_entities=False, huge_tree=True, no_network=True):
        row_index = int(row.get("r", row_index + 2)) - 1
        col_index = -1
        for cell in row.iter(f"{{{_MAIN_NS}}}c"):
            ref = cell.get("r")
            col_index = column_index(ref.rstrip("0123456789")) - 1 if ref else col_index + 1
            if cell.get("t") == "e":
                value = cell.find(f"{{{_MAIN_NS}}}v")
                code = value.text if value is not None and value.text else "#N/A"
                found.append((row_index, col_index, XlError(code)))
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]
    return found


def _normalised(grid: list[list[object]]) -> list[list[object]]:
    """Calamine's '' for an empty cell -> None. Rows without an empty cell are kept as they are
    (the common case in a full month grid), which keeps this pass cheap."""
    return [[None if v == "" else v for v in row] if "" in row else row for row in grid]


def _place_errors(rows: list[list[object]],
                  errors: Sequence[tuple[int, int, XlError | bool]]) -> None:
    """Put each error (or recovered boolean) into the grid, growing it when the cell lies
    outside calamine's range."""
    if not errors:
        return
    width = max([len(r) for r in rows] + [c + 1 for _, c, _ in errors])
    height = max(len(rows), max(r + 1 for r, _, _ in errors))
    for row in rows:
        row.extend([None] * (width - len(row)))
    rows.extend([None] * width for _ in range(height - len(rows)))
    for r, c, error in errors:
        rows[r][c] = error
