"""The registry parts of a package, edited as text so that every byte sopfin does not own
stays: relationships and content-type overrides added or removed, and workbook.xml's sheet
list, states, defined names and owner marks (``edit_workbook``), and the calculation chain's
cells of replaced sheets dropped (``drop_calc_cells``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from sopfin.layout import OWNER_MARK_NAME, is_owner_mark_value
from sopfin.xlsx.package import DOC_REL_NS, MAIN_NS, prefix_of


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
