"""Set cells on a user's sheet in place: the sheet part's XML with some cells' values
changed or added, and everything else as it was (styles, other cells, formulas, merged cells,
validations, conditional formats, the sheet's views).

Used where sopfin writes into a sheet it does not own (an import into ``Actuals``, an
allocation into ``Budget``). A cell that holds a formula is never overwritten: ``formula_refs``
finds them first, so the caller can refuse and name them. Numbers are written as numbers,
text as inline strings (the workbook's shared-string table is left alone), ``None`` clears a
value and keeps the cell's style. A new cell takes the style of the nearest cell above it in
its column, so appended rows look like the rows before them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from sopfin.layout import column_index, column_letter
from sopfin.xlsx.cellxml import clean_text

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_Q = f"{{{MAIN}}}"
_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True, no_network=True,
                          remove_blank_text=False)
_REF = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")


@dataclass(frozen=True)
class CellEdit:
    """Set ``ref`` (``"F14"``) to a number, a text, or nothing (``None``)."""

    ref: str
    value: float | str | None


def split_ref(ref: str) -> tuple[int, int]:
    """``"F14"`` -> (row 14, column 6)."""
    m = _REF.match(ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), column_index(m.group(1))


def _parse(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml, parser=_PARSER)
    if root.tag != f"{_Q}worksheet":
        raise ValueError("not a worksheet part")
    return root


def _explicit_positions(sheet_data: etree._Element) -> None:
    """Rows and cells may leave out ``r`` (then they follow the one before); write it out, so
    every cell can be found by its reference."""
    row_number = 0
    for row in sheet_data.iterchildren(f"{_Q}row"):
        row_number = int(row.get("r") or row_number + 1)
        _set_first(row, "r", str(row_number))
        col = 0
        for c in row.iterchildren(f"{_Q}c"):
            ref = c.get("r")
            col = split_ref(ref)[1] if ref else col + 1
            _set_first(c, "r", f"{column_letter(col)}{row_number}")


def _set_first(element: etree._Element, name: str, value: str) -> None:
    """Set an attribute, first in order when it is new (as Excel writes ``r``)."""
    if element.get(name) is not None:
        return
    rest = dict(element.attrib)
    element.attrib.clear()
    element.set(name, value)
    for k, v in rest.items():
        element.set(k, v)


def formula_refs(xml: bytes, refs: Iterable[str]) -> list[str]:
    """The cells among ``refs`` that hold a formula (their own, or a shared formula's)."""
    wanted = set(refs)
    root = _parse(xml)
    sheet_data = root.find(f"{_Q}sheetData")
    if sheet_data is None:
        return []
    _explicit_positions(sheet_data)
    return sorted((c.get("r") for c in sheet_data.iter(f"{_Q}c")
                   if c.get("r") in wanted and c.find(f"{_Q}f") is not None),
                  key=split_ref)


def patch_sheet_xml(xml: bytes, edits: Sequence[CellEdit]) -> bytes:
    """The sheet part with ``edits`` applied. Raises ValueError on a formula cell."""
    root = _parse(xml)
    sheet_data = root.find(f"{_Q}sheetData")
    if sheet_data is None:
        raise ValueError("the worksheet has no sheetData")
    _explicit_positions(sheet_data)
    rows = {int(r.get("r")): r for r in sheet_data.iterchildren(f"{_Q}row")}
    by_row: dict[int, dict[int, float | str | None]] = {}
    for e in edits:
        r, c = split_ref(e.ref)
        by_row.setdefault(r, {})[c] = e.value
    styles = _column_styles(rows)
    for r in sorted(by_row):
        row = rows.get(r)
        if row is None:
            row = _insert_row(sheet_data, rows, r)
        row.attrib.pop("spans", None)  # an optional hint that may no longer hold
        for c, value in sorted(by_row[r].items()):
            _set_cell(row, r, c, value, styles.get(c, {}))
    _update_dimension(root, rows)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _column_styles(rows: Mapping[int, etree._Element]) -> dict[int, dict[int, str]]:
    """column -> {row: style} of the styled cells, to style a new cell like the one above."""
    out: dict[int, dict[int, str]] = {}
    for r, row in rows.items():
        for c in row.iterchildren(f"{_Q}c"):
            s = c.get("s")
            if s is not None:
                out.setdefault(split_ref(c.get("r"))[1], {})[r] = s
    return out


def _insert_row(sheet_data: etree._Element, rows: dict[int, etree._Element], r: int
                ) -> etree._Element:
    row = etree.Element(f"{_Q}row", r=str(r))
    after = [n for n in rows if n < r]
    if after:
        rows[max(after)].addnext(row)
    else:
        sheet_data.insert(0, row)
    _copy_tail(row)
    rows[r] = row
    return row


def _copy_tail(element: etree._Element) -> None:
    prev = element.getprevious()
    if prev is not None and prev.tail and not prev.tail.strip():
        element.tail = prev.tail


def _set_cell(row: etree._Element, r: int, c: int, value: float | str | None,
              column_styles: Mapping[int, str]) -> None:
    ref = f"{column_letter(c)}{r}"
    cell = next((x for x in row.iterchildren(f"{_Q}c") if x.get("r") == ref), None)
    if cell is None:
        if value is None:
            return
        cell = etree.Element(f"{_Q}c", r=ref)
        above = [n for n in column_styles if n < r]
        if above:
            cell.set("s", column_styles[max(above)])
        later = [x for x in row.iterchildren(f"{_Q}c") if split_ref(x.get("r"))[1] > c]
        if later:
            later[0].addprevious(cell)
        else:
            row.append(cell)
    if cell.find(f"{_Q}f") is not None:
        raise ValueError(f"{ref} holds a formula")
    for child in list(cell):
        cell.remove(child)
    cell.attrib.pop("t", None)
    if value is None:
        if cell.get("s") is None:
            row.remove(cell)
        return
    if isinstance(value, str):
        cell.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(cell, f"{_Q}is"), f"{_Q}t")
        text = clean_text(value)
        if text != text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = text
        return
    if not math.isfinite(value):
        raise ValueError(f"{ref}: {value!r} is not a number a cell can hold")
    number = float.__repr__(float(value))
    etree.SubElement(cell, f"{_Q}v").text = number[:-2] if number.endswith(".0") else number


def _update_dimension(root: etree._Element, rows: Mapping[int, etree._Element]) -> None:
    dim = root.find(f"{_Q}dimension")
    cells = [split_ref(c.get("r")) for row in rows.values() for c in row.iterchildren(f"{_Q}c")]
    if dim is None or not cells:
        return
    top = min(r for r, _ in cells)
    bottom = max(r for r, _ in cells)
    left = min(c for _, c in cells)
    right = max(c for _, c in cells)
    old = [split_ref(x) for x in (dim.get("ref") or "").split(":") if _REF.match(x)]
    if old:  # never shrink: the old range may cover formatted empty cells
        top, bottom = min(top, *(r for r, _ in old)), max(bottom, *(r for r, _ in old))
        left, right = min(left, *(c for _, c in old)), max(right, *(c for _, c in old))
    dim.set("ref", f"{column_letter(left)}{top}:{column_letter(right)}{bottom}")
