"""The cell reader as it was before the row scanner: lxml only, one dict of every cell.

Kept verbatim as the reference the fast reader is compared with (tests/test_readback_scan.py).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

from lxml import etree

from sopfin.close.ledger import FormulaCell
from sopfin.layout import column_index, column_letter
from sopfin.model import XlError
from sopfin.xlsx.errors import WorkbookNotFoundError
from sopfin.xlsx.package import DOC_REL_NS, read_relationships, rels_part_of
from sopfin.xlsx.read import WorkbookReadError

REL_SHARED_STRINGS = f"{DOC_REL_NS}/sharedStrings"
REL_WORKSHEET = f"{DOC_REL_NS}/worksheet"
_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def read_cells(path: str | Path, names: Iterable[str]) -> dict[str, dict[str, object]]:
    """Sheet name -> {cell ref: value} for the named sheets the workbook has (others are
    absent). Chartsheets and sheets without a worksheet part are absent too."""
    path = Path(path)
    if not path.is_file():
        raise WorkbookNotFoundError(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookReadError(path, f"it is not a zip package: {exc}") from None
    with zf:
        parts, shared_part = _sheet_parts(zf, path)
        wanted = [n for n in dict.fromkeys(names) if n in parts]
        if not wanted:
            return {}
        strings = _shared_strings(zf, shared_part) if shared_part else []
        return {name: _sheet_cells(zf, parts[name], strings) for name in wanted}


# --- package structure -----------------------------------------------------------------------
def _part_names(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n.lower(): n for n in zf.namelist()}


def _sheet_parts(zf: zipfile.ZipFile, path: Path) -> tuple[dict[str, str], str | None]:
    """Sheet name -> worksheet part, and the shared-strings part (None without one)."""
    names = _part_names(zf)
    if "_rels/.rels" not in names:
        raise WorkbookReadError(path, "it has no package relationships (_rels/.rels)")
    root_rels = read_relationships(zf.read(names["_rels/.rels"]), "", path)
    doc = [r for r in root_rels if r.type.endswith("/officeDocument") and not r.external]
    if not doc or doc[0].target.lower() not in names:
        raise WorkbookReadError(path, "it has no workbook part")
    workbook = names[doc[0].target.lower()]
    rels_name = names.get(rels_part_of(workbook).lower())
    rels = read_relationships(zf.read(rels_name), workbook, path) if rels_name else []
    by_id = {r.rid: r for r in rels if not r.external}
    shared = next((names.get(r.target.lower()) for r in rels
                   if r.type == REL_SHARED_STRINGS and not r.external), None)
    parts: dict[str, str] = {}
    for _, el in etree.iterparse(_open(zf, workbook), events=("end",), tag="{*}sheet",
                                 resolve_entities=False):
        rel = by_id.get(el.get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is not None and rel.type == REL_WORKSHEET and rel.target.lower() in names:
            parts.setdefault(el.get("name", ""), names[rel.target.lower()])
    return parts, shared


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


# --- cells ---------------------------------------------------------------------------------
def _rows(zf: zipfile.ZipFile, part: str) -> Iterator[etree._Element]:
    for _, row in etree.iterparse(_open(zf, part), events=("end",), tag="{*}row",
                                  resolve_entities=False, huge_tree=True):
        yield row
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]


def _sheet_cells(zf: zipfile.ZipFile, part: str, strings: list[str]) -> dict[str, object]:
    cells: dict[str, object] = {}
    shared: dict[str, tuple[int, int, str]] = {}  # si -> (row, col, master formula)
    arrays: list[tuple[int, int, int, int, str]] = []  # (r0, c0, r1, c1, formula)
    row_no = 0
    for row in _rows(zf, part):
        row_no = int(row.get("r") or row_no + 1)
        col_no = 0
        for cell in row:
            if _local(cell.tag) != "c":
                continue
            ref = cell.get("r")
            match = _REF.match(ref.upper()) if ref else None
            col_no = column_index(match.group(1)) if match else col_no + 1
            value, formula = _cell(cell, strings, row_no, col_no, shared, arrays)
            if formula is None:
                formula = _in_array(arrays, row_no, col_no)
            name = f"{column_letter(col_no)}{row_no}"
            if formula is not None:
                cells[name] = FormulaCell(formula, value)
            elif value is not None and value != "":
                cells[name] = value
    return cells


def _cell(cell: etree._Element, strings: list[str], row: int, col: int,
          shared: dict[str, tuple[int, int, str]],
          arrays: list[tuple[int, int, int, int, str]]) -> tuple[object, str | None]:
    kind = cell.get("t", "n")
    v_text: str | None = None
    formula: str | None = None
    inline = None
    for child in cell:
        name = _local(child.tag)
        if name == "v":
            v_text = child.text or ""
        elif name == "f":
            formula = _formula(child, row, col, shared, arrays)
        elif name == "is":
            inline = _text_of(child)
    return _value(kind, v_text, inline, strings), formula


def _value(kind: str, v: str | None, inline: str | None, strings: list[str]) -> object:
    if kind == "inlineStr":
        return inline if inline is not None else v
    if v is None:
        return None
    if kind == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            return XlError("#REF!")  # a dangling shared-string index: never a silent blank
    if kind == "str":
        return v
    if kind == "b":
        return v.strip() in ("1", "true")
    if kind == "e":
        return XlError(v.strip() or "#N/A")
    if kind == "d":
        try:
            return datetime.fromisoformat(v.strip())
        except ValueError:
            return v
    if not v.strip():
        return None
    try:
        return float(v)
    except ValueError:
        return v


def _formula(f: etree._Element, row: int, col: int, shared: dict[str, tuple[int, int, str]],
             arrays: list[tuple[int, int, int, int, str]]) -> str | None:
    text = f.text or ""
    kind = f.get("t", "normal")
    if kind == "shared":
        si = f.get("si", "")
        if text:
            shared[si] = (row, col, text)
            return text
        master = shared.get(si)
        if master is None:
            return ""  # a dependent before its master: still a formula cell
        return shift_formula(master[2], row - master[0], col - master[1])
    if kind == "array" and f.get("ref"):
        bounds = f.get("ref", "").upper().replace("$", "").split(":")
        first = _REF.match(bounds[0])
        last = _REF.match(bounds[-1])
        if first and last:
            arrays.append((int(first.group(2)), column_index(first.group(1)),
                           int(last.group(2)), column_index(last.group(1)), text))
    return text


def _in_array(arrays: list[tuple[int, int, int, int, str]], row: int, col: int) -> str | None:
    for r0, c0, r1, c1, text in arrays:
        if r0 <= row <= r1 and c0 <= col <= c1:
            return text
    return None


# --- moving a shared formula -----------------------------------------------------------------
# Skipped whole: string literals, quoted sheet names, structured references [..]. Moved:
# A1-style cell references and whole-column / whole-row ranges, unless anchored with '$'.
_TOKEN = re.compile(
    r'(?P<skip>"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|\[[^\]]*\])'
    r"|(?P<cols>(?<![\w.$])\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(!]))"
    r"|(?P<rows>(?<![\w.$:])\$?[0-9]+:\$?[0-9]+(?![\w.(]))"
    r"|(?P<cell>(?<![\w.])(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)(?![\w(!]))")


def _move_col(token: str, d: int) -> str:
    if token.startswith("$") or not d:
        return token
    return column_letter(max(1, column_index(token) + d))


def _move_row(token: str, d: int) -> str:
    if token.startswith("$") or not d:
        return token
    return str(max(1, int(token) + d))


def shift_formula(formula: str, d_row: int, d_col: int) -> str:
    """``formula`` as it reads ``d_row`` rows down and ``d_col`` columns right of its master."""
    def move(m: re.Match[str]) -> str:
        if m.group("skip"):
            return m.group(0)
        if m.group("cols"):
            a, b = m.group("cols").split(":")
            return f"{_move_col(a, d_col)}:{_move_col(b, d_col)}"
        if m.group("rows"):
            a, b = m.group("rows").split(":")
            return f"{_move_row(a, d_row)}:{_move_row(b, d_row)}"
        col_anchor, col, row_anchor, row = m.group(5, 6, 7, 8)
        if column_index(col) > 16384:
            return m.group(0)
        new_col = col if col_anchor else column_letter(max(1, column_index(col) + d_col))
        new_row = row if row_anchor else str(max(1, int(row) + d_row))
        return f"{col_anchor}{new_col}{row_anchor}{new_row}"

    return _TOKEN.sub(move, formula)

