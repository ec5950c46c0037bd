"""Read sheets back cell by cell, formulas included: what ``verify`` hashes and what the
typed-over-formula check compares.

The input reader (``sopfin.xlsx.read``) gives grids of values; here each cell keeps its
reference and, for a formula cell, its formula text. A worksheet part is streamed one chunk
of rows at a time, so a large sheet is never held as a tree: the row scanner
(``sopfin.xlsx.rowscan``, regular expressions over the text) reads the shapes every common
writer produces, and ``lxml.etree.iterparse`` reads any part the scanner does not, from the
row where the scanner stopped.

Cell values: numbers as float, shared and inline strings as str, booleans as bool, error
cells as ``XlError``, ``t="d"`` dates as ``datetime`` (the text when it does not parse), empty
cells omitted. A formula cell is a ``FormulaCell(formula without '=', cached value)``. Shared
formulas are expanded: each dependent cell gets the master's formula with its relative
references moved by the cell's offset, as Excel would show it. Cells inside an array formula's
range other than its top-left cell carry the array formula too, so no cell computed by a
formula reads back as a typed constant. (The rules are in ``sopfin.xlsx.readcell``.)
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from lxml import etree

from sopfin.layout import column_letter
from sopfin.workbook import CellRow, CellsRow
from sopfin.xlsx.limits import Limits
from sopfin.xlsx.package import DOC_REL_NS, Relationship, read_relationships, rels_part_of
from sopfin.xlsx.partdigest import InflateError, entry_digest, stored_digest
from sopfin.xlsx.read import WorkbookReadError
from sopfin.xlsx.readcell import (
    FormulaState,
    cell_ref_column,
    cell_value,
    read_cell,
    shift_formula,
)
from sopfin.xlsx.readtabs import read_tab_grid
from sopfin.xlsx.rowscan import Scanner, Unusual
from sopfin.xlsx.screen import open_zip, reading
from sopfin.xlsx.source import PackageBytes, PackageSource, package_of
from sopfin.xlsx.zipsink import as_written

__all__ = ["SheetRows", "read_cell_rows", "read_cells", "sheet_part_digests", "sheets_as_written",
           "shift_formula"]

REL_SHARED_STRINGS = f"{DOC_REL_NS}/sharedStrings"
REL_WORKSHEET = f"{DOC_REL_NS}/worksheet"


def read_cells(path: PackageSource, names: Iterable[str], *,
               scan: bool = True) -> dict[str, dict[str, object]]:
    """Sheet name -> {cell ref: value} for the named sheets the workbook has (others are
    absent). Chartsheets and sheets without a worksheet part are absent too. ``scan=False``
    reads with lxml alone (the reference the scanner is tested against). ``path`` is the
    file, or the ``PackageBytes`` a command read."""
    package = package_of(path)
    with open_zip(package) as zf:
        parts, strings = _sheets(zf, package.path, names)
        return {name: _cells_of(_rows_of(zf, part, strings, scan))
                for name, part in parts.items()}


def read_cell_rows(path: PackageSource, names: Iterable[str]) -> dict[str, SheetRows]:
    """Sheet name -> its rows, read while iterated (see ``SheetRows``), for the named sheets
    the workbook has."""
    package = package_of(path)
    with open_zip(package) as zf:
        parts, strings = _sheets(zf, package.path, names)
    return {name: SheetRows(package, part, strings, name) for name, part in parts.items()}


def sheets_as_written(path: PackageSource, names: Iterable[str]) -> set[str]:
    """The named sheets whose worksheet part is byte for byte what sopfin last wrote (its zip
    entry carries sopfin's comment with the part's CRC-32): no cell can have changed since."""
    package = package_of(path)
    with open_zip(package) as zf:
        parts, _ = _sheet_parts(zf, package.path)
        out = set()
        for name in names:
            part = parts.get(name)
            if part is None:
                continue
            try:
                info = zf.getinfo(part)
            except KeyError:
                continue
            if as_written(info):
                out.add(name)
        return out


def sheet_part_digests(path: PackageSource, names: Iterable[str], stored: bool = False,
                       ) -> dict[str, str]:
    """{sheet name: digest of its worksheet part} (``sopfin.xlsx.partdigest``) for the named
    sheets the workbook has; a part that cannot be read whole is absent (the cells decide).
    ``stored``: the digest of its zip entry as stored (``entry_digest``), not inflated."""
    take = entry_digest if stored else stored_digest
    package = package_of(path)
    view = package.data  # read a span at a time, never whole
    with open_zip(package) as zf:
        parts, _ = _sheet_parts(zf, package.path)
        out = {}
        for name in names:
            info = zf.NameToInfo.get(parts.get(name) or "")
            try:
                digest = take(view, info) if info is not None else None
            except InflateError:
                digest = None
            if digest is not None:
                out[name] = digest
        return out


class SheetRows:
    """The rows of one worksheet part as ``CellRow``s, in document order. Each iteration
    streams the part again from the package bytes, so only a chunk of rows is inflated at a
    time."""

    def __init__(self, package: PackageBytes, part: str, strings: list[str],
                 name: str = "") -> None:
        self.package = package
        self.name = name
        self.part = part
        self.strings = strings

    def __iter__(self) -> Iterator[CellRow]:
        with open_zip(self.package) as zf:
            yield from _rows_of(zf, self.part, self.strings, True)

    def grid(self) -> list[list[object]] | None:
        """The sheet's cached values as a grid from A1 in one fast pass ('' for an empty
        cell), or None when only the rows can read it (``read_tab_grid``)."""
        return read_tab_grid(self.package, self.part, self.name)


def _cells_of(rows: Iterable[CellRow]) -> dict[str, object]:
    """{cell ref: value} of rows; a later row of the same number overrides non-empty cells."""
    cells: dict[str, object] = {}
    for row in rows:
        number = row.number
        for column, value in row.cells().items():
            cells[f"{column}{number}"] = value
    return cells


def _rows_of(zf: zipfile.ZipFile, part: str, strings: list[str],
             scan: bool) -> Iterator[CellRow]:
    """The rows of ``part``: scanned, and from the first row the scanner cannot read (or
    always, without ``scan``) read with lxml, which then skips the rows already given. A
    part that cannot be read at all is refused, naming the part."""
    done = 0
    with reading(Path(zf.filename or "workbook"), part):
        if scan:
            try:
                with zf.open(part) as stream:
                    for row in Scanner(strings, Limits.from_env().row_bytes).rows(stream):
                        yield row
                        done += 1
                return
            except Unusual:
                pass
        for k, row in enumerate(_lxml_rows(zf, part, strings)):
            if k >= done:
                yield row


# --- package structure -----------------------------------------------------------------------
def _sheets(zf: zipfile.ZipFile, path: Path,
            names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """The worksheet part of each named sheet the workbook has, and the shared strings
    (read only when some sheet is wanted)."""
    parts, shared_part = _sheet_parts(zf, path)
    wanted = {n: parts[n] for n in dict.fromkeys(names) if n in parts}
    strings: list[str] = []
    if wanted and shared_part:
        with reading(path, shared_part):
            strings = _shared_strings(zf, shared_part)
    return wanted, strings


def _part_names(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n.lower(): n for n in zf.namelist()}


def _sheet_parts(zf: zipfile.ZipFile, path: Path) -> tuple[dict[str, str], str | None]:
    """Sheet name -> worksheet part, and the shared-strings part (None without one)."""
    names = _part_names(zf)
    if "_rels/.rels" not in names:
        raise WorkbookReadError(path, "it has no package relationships (_rels/.rels)")
    root_rels = read_relationships(_read(zf, names["_rels/.rels"], path), "", path)
    doc = [r for r in root_rels if r.type.endswith("/officeDocument") and not r.external]
    if not doc or doc[0].target.lower() not in names:
        raise WorkbookReadError(path, "it has no workbook part")
    workbook = names[doc[0].target.lower()]
    rels_name = names.get(rels_part_of(workbook).lower())
    rels = read_relationships(_read(zf, rels_name, path), workbook, path) if rels_name else []
    with reading(path, workbook):
        return _worksheets(zf, workbook, rels, names), next(
            (names.get(r.target.lower()) for r in rels
             if r.type == REL_SHARED_STRINGS and not r.external), None)


def _worksheets(zf: zipfile.ZipFile, workbook: str, rels: list[Relationship],
                names: dict[str, str]) -> dict[str, str]:
    by_id = {r.rid: r for r in rels if not r.external}
    parts: dict[str, str] = {}
    for _, el in etree.iterparse(_open(zf, workbook), events=("end",), tag="{*}sheet",
                                 resolve_entities=False):
        rel = by_id.get(el.get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is not None and rel.type == REL_WORKSHEET and rel.target.lower() in names:
            parts.setdefault(el.get("name", ""), names[rel.target.lower()])
    return parts


def _read(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    with reading(path, name):
        return zf.read(name)


def _open(zf: zipfile.ZipFile, name: str) -> IO[bytes]:
    return zf.open(name)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text_of(el: etree._Element) -> str:
    """The text of a string item: its ``t`` or its runs' ``t``s, without phonetic runs."""
    out = []
    for child in el:
        name = _local(child.tag)
        if name == "t":
            out.append(child.text or "")
        elif name == "r":
            out.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(out)


def _shared_strings(zf: zipfile.ZipFile, part: str) -> list[str]:
    out = []
    for _, el in etree.iterparse(_open(zf, part), events=("end",), tag="{*}si",
                                 resolve_entities=False, huge_tree=True):
        out.append(_text_of(el))
        el.clear()
    return out


# --- cells, with lxml ------------------------------------------------------------------------
def _rows(zf: zipfile.ZipFile, part: str) -> Iterator[etree._Element]:
    for _, row in etree.iterparse(_open(zf, part), events=("end",), tag="{*}row",
                                  resolve_entities=False, huge_tree=True):
        yield row
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]


def _lxml_rows(zf: zipfile.ZipFile, part: str, strings: list[str]) -> Iterator[CellsRow]:
    state = FormulaState()
    row_no = 0
    for row in _rows(zf, part):
        row_no = int(row.get("r") or row_no + 1)
        col_no = 0
        cells: dict[str, object] = {}
        for cell in row:
            if _local(cell.tag) != "c":
                continue
            col_no = cell_ref_column(cell.get("r"), col_no)
            value, formula = _cell(cell, strings, row_no, col_no, state)
            if formula is None:
                formula = state.in_array(row_no, col_no)
            found = read_cell(value, formula)
            if found is not None:
                cells[column_letter(col_no)] = found
        yield CellsRow(row_no, cells)


def _cell(cell: etree._Element, strings: list[str], row: int, col: int,
          state: FormulaState) -> tuple[object, str | None]:
    kind = cell.get("t", "n")
    v_text: str | None = None
    formula: str | None = None
    inline = None
    for child in cell:
        name = _local(child.tag)
        if name == "v":
            v_text = child.text or ""
        elif name == "f":
            formula = state.formula(child.text or "", child.get("t", "normal"),
                                    child.get("si", ""), child.get("ref"), row, col)
        elif name == "is":
            inline = _text_of(child)
    return cell_value(kind, v_text, inline, strings), formula
