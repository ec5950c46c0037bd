"""Which tab the workbook opens on: ``activeTab`` of the first ``workbookView`` in
workbook.xml, and ``tabSelected`` on exactly one sheet view.

Excel groups every sheet whose view says ``tabSelected="1"``; a workbook that opens on a new
sheet must therefore also clear the flag where an application left it on another sheet. That
flag is view state, not content: it is the one attribute sopfin changes in a part it does not
own, and only when a write asks to open on one of its sheets.
"""

from __future__ import annotations

import codecs
import re

from sopfin.xlsx.package import Package, XmlText, prefix_of
from sopfin.xlsx.registry import MalformedPartError

_SELECTED = re.compile(r'(<(?:[A-Za-z_][\w.-]*:)?sheetView(?=[\s/>])[^>]*?)\s+tabSelected='
                       r'"(?:1|true)"')


def set_active_tab(text: str, position: int) -> str:
    """workbook.xml opening on the sheet at ``position`` (0-based)."""
    p = prefix_of(text, "workbook")
    ep = re.escape(p)
    view = re.search(rf"<{ep}workbookView(?=[\s/>])[^>]*?/?>", text)
    if view is None:
        sheets = re.search(rf"<{ep}sheets(?=[\s/>])", text)
        if sheets is None:
            raise MalformedPartError("workbook.xml has no <sheets> element")
        xml = f'<{p}bookViews><{p}workbookView activeTab="{position}"/></{p}bookViews>'
        return f"{text[:sheets.start()]}{xml}{text[sheets.start():]}"
    tag = view.group(0)
    tag = _set_attr(tag, "activeTab", str(position))
    first = re.search(r'\sfirstSheet="(\d+)"', tag)
    if first is not None and int(first.group(1)) > position:
        tag = _set_attr(tag, "firstSheet", str(position))
    return f"{text[:view.start()]}{tag}{text[view.end():]}"


def _set_attr(tag: str, name: str, value: str) -> str:
    if re.search(rf'\s{name}="[^"]*"', tag):
        return re.sub(rf'(\s{name}=)"[^"]*"', rf'\1"{value}"', tag, count=1)
    head = re.match(r"<[^\s/>]+", tag)
    assert head is not None
    return f'{tag[:head.end()]} {name}="{value}"{tag[head.end():]}'


def is_selected(head: str) -> bool:
    """True when the start of a worksheet part (up to its cells) marks its tab selected."""
    end = head.find("sheetData")
    return _SELECTED.search(head if end < 0 else head[:end]) is not None


def deselect(sheet_xml: str) -> str:
    """The worksheet part with ``tabSelected`` removed from its sheet views (which precede
    the cells: the rest of the part is not searched)."""
    end = sheet_xml.find("sheetData")
    end = len(sheet_xml) if end < 0 else end
    return _SELECTED.sub(r"\1", sheet_xml[:end]) + sheet_xml[end:]


def deselected_head(head: bytes) -> bytes:
    """``deselect`` on the start of a worksheet part as bytes (up to its cells)."""
    return _SELECTED_BYTES.sub(rb"\1", head)


_SELECTED_BYTES = re.compile(_SELECTED.pattern.encode("ascii"))


def deselected_parts(pkg: Package, rewritten: set[str | None]) -> dict[str, bytes]:
    """Part name -> new bytes of every worksheet, other than those being rewritten, whose
    view marks its tab selected: the same part with the flag removed. Only the start of each
    part is read to find out."""
    out = {}
    for entry in pkg.sheets:
        if entry.part is None or entry.part in rewritten:
            continue
        with pkg.zf.open(entry.part) as fh:
            head = fh.read(1 << 16).decode("utf-8", errors="replace")
        if is_selected(head):
            out[entry.part] = deselected_part(pkg.read(entry.part))
    return out


def deselected_part(data: bytes) -> bytes:
    """``deselect`` on a worksheet part's bytes. A UTF-8 part has only its start (up to the
    cells) decoded and edited, its cells kept as the very bytes read: a published tab of a
    large plan holds tens of megabytes of cells. Parts in another encoding are decoded
    whole."""
    end = data.find(b"sheetData")
    head = XmlText.decode(data[:end]) if end >= 0 else None
    if head is None or codecs.lookup(head.encoding).name != "utf-8":
        original = XmlText.decode(data)
        return original.encode(deselect(original.text))
    return head.encode(deselect(head.text)) + data[end:]
