"""Named sopfin styles -> cell format indices, by appending to a workbook's ``styles.xml``.

The stylesheet is edited as text and only ever grows at the end of a list: number formats,
fonts, fills, borders and cell formats the workbook already has keep their positions, so
every existing cell keeps its look. An entry identical to one already present (for instance
one a previous run appended) is reused, so running sopfin again does not grow the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from sopfin.sheetspec import STYLE_FORMATS, Style
from sopfin.xlsx.sheetxml import escape_attr

# Excel's built-in number formats that sopfin's styles use (ECMA-376 Part 1, 18.8.30).
BUILTIN_NUM_FMTS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9,
                    "0.00%": 10, "0.00E+00": 11, "@": 49}
FIRST_CUSTOM_NUM_FMT = 164
# The stylesheet's lists in schema order; sopfin appends to the first five and cellXfs.
LIST_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")
# The base font's children a new font keeps, in CT_Font's order (Excel writes them so, and the
# Open XML SDK's validator rejects another order).
FONT_KEPT_CHILDREN = ("name", "family", "charset", "scheme")

Shape = tuple[Any, ...]


def _shape(el: etree._Element) -> Shape:
    """A namespace-prefix-blind fingerprint of an element, to spot identical entries."""
    attrs = tuple(sorted((etree.QName(k).localname, v) for k, v in el.attrib.items()))
    kids = tuple(_shape(c) for c in el if isinstance(c.tag, str))
    return (etree.QName(el).localname, attrs, kids)


@dataclass
class _List:
    """One list of the stylesheet: its existing entries and what sopfin appends."""

    tag: str
    shapes: list[Shape] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)
    present: bool = False


class StyleSheetEditor:
    """Resolve styles to cellXfs indices against one stylesheet; render the grown text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = etree.fromstring(text.encode("utf-8"))
        self.ns = etree.QName(self.root).namespace
        self.prefix = f"{self.root.prefix}:" if self.root.prefix else ""
        self.lists = {tag: _List(tag) for tag in LIST_ORDER}
        self.num_fmt_ids: dict[str, int] = {}
        for tag, lst in self.lists.items():
            el = self.root.find(f"{{{self.ns}}}{tag}")
            if el is not None:
                lst.present = True
                lst.shapes = [_shape(c) for c in el if isinstance(c.tag, str)]
                if tag == "numFmts":
                    for c in el:
                        if isinstance(c.tag, str) and c.get("numFmtId", "").isdigit():
                            self.num_fmt_ids.setdefault(c.get("formatCode", ""),
                                                        int(c.get("numFmtId")))
        self.font0 = self.root.find(f"{{{self.ns}}}fonts/{{{self.ns}}}font")

    # -- entries -------------------------------------------------------------------------
    def _index_of(self, tag: str, xml: str) -> int:
        """Index of an entry equal to ``xml`` in list ``tag``, appending it when new."""
        wrapped = f'<w xmlns{":" + self.prefix[:-1] if self.prefix else ""}="{self.ns}">{xml}</w>'
        shape = _shape(etree.fromstring(wrapped.encode("utf-8"))[0])
        lst = self.lists[tag]
        if shape in lst.shapes:
            return lst.shapes.index(shape)
        lst.shapes.append(shape)
        lst.appended.append(xml)
        return len(lst.shapes) - 1

    def _num_fmt_id(self, code: str | None) -> int:
        if not code:
            return 0
        if code in BUILTIN_NUM_FMTS:
            return BUILTIN_NUM_FMTS[code]
        if code in self.num_fmt_ids:
            return self.num_fmt_ids[code]
        new_id = max([FIRST_CUSTOM_NUM_FMT - 1, *self.num_fmt_ids.values()]) + 1
        self.num_fmt_ids[code] = new_id
        p = self.prefix
        xml = f'<{p}numFmt numFmtId="{new_id}" formatCode="{escape_attr(code)}"/>'
        self.lists["numFmts"].shapes.append(("numFmt", (), ()))  # ids, not positions, matter
        self.lists["numFmts"].appended.append(xml)
        return new_id

    def _font_id(self, fmt: dict[str, Any]) -> int:
        if not any(k in fmt for k in ("bold", "italic", "underline", "size", "color")):
            return 0
        p = self.prefix
        parts = []
        if fmt.get("bold"):
            parts.append(f"<{p}b/>")
        if fmt.get("italic"):
            parts.append(f"<{p}i/>")
        if fmt.get("underline"):
            parts.append(f"<{p}u/>")
        base = {etree.QName(c).localname: c for c in self.font0} if self.font0 is not None \
            else {}
        size = fmt.get("size") or (base["sz"].get("val") if "sz" in base else "11")
        parts.append(f'<{p}sz val="{size}"/>')
        if "color" in fmt:
            parts.append(f'<{p}color rgb="{fmt["color"]}"/>')
        elif "color" in base:
            parts.append(self._simple_element(base["color"]))
        if not any(k in base for k in FONT_KEPT_CHILDREN):
            parts.append(f'<{p}name val="Calibri"/><{p}family val="2"/>')
        parts.extend(self._simple_element(base[k]) for k in FONT_KEPT_CHILDREN if k in base)
        return self._index_of("fonts", f"<{p}font>{''.join(parts)}</{p}font>")

    def _simple_element(self, el: etree._Element) -> str:
        attrs = "".join(f' {etree.QName(k).localname}="{escape_attr(v)}"'
                        for k, v in el.attrib.items())
        return f"<{self.prefix}{etree.QName(el).localname}{attrs}/>"

    def _fill_id(self, fmt: dict[str, Any]) -> int:
        if "fill" not in fmt:
            return 0
        p = self.prefix
        return self._index_of("fills", f'<{p}fill><{p}patternFill patternType="solid">'
                                       f'<{p}fgColor rgb="{fmt["fill"]}"/><{p}bgColor '
                                       f'indexed="64"/></{p}patternFill></{p}fill>')

    def _border_id(self, fmt: dict[str, Any]) -> int:
        if not fmt.get("border_bottom"):
            return 0
        p = self.prefix
        return self._index_of("borders", f'<{p}border><{p}left/><{p}right/><{p}top/>'
                                         f'<{p}bottom style="thin"><{p}color indexed="64"/>'
                                         f'</{p}bottom><{p}diagonal/></{p}border>')

    def xf_index(self, style: Style) -> int:
        fmt = STYLE_FORMATS[style]
        num, font = self._num_fmt_id(fmt.get("num_fmt")), self._font_id(fmt)
        fill, border = self._fill_id(fmt), self._border_id(fmt)
        attrs = f'numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="{border}"'
        if self.lists["cellStyleXfs"].shapes:
            attrs += ' xfId="0"'
        for flag, used in (("applyNumberFormat", num), ("applyFont", font), ("applyFill", fill),
                           ("applyBorder", border),
                           ("applyAlignment", "align" in fmt or "wrap" in fmt)):
            if used:
                attrs += f' {flag}="1"'
        p = self.prefix
        if "align" in fmt:
            xml = (f'<{p}xf {attrs}><{p}alignment horizontal="{fmt["align"]}"/></{p}xf>')
        elif "wrap" in fmt:
            xml = f'<{p}xf {attrs}><{p}alignment wrapText="1"/></{p}xf>'
        else:
            xml = f"<{p}xf {attrs}/>"
        return self._index_of("cellXfs", xml)

    # -- text ----------------------------------------------------------------------------
    @property
    def changed(self) -> bool:
        return any(lst.appended for lst in self.lists.values())

    def render(self) -> str:
        """The stylesheet text with every appended entry in place and counts updated."""
        text = self.text
        for tag in LIST_ORDER:
            lst = self.lists[tag]
            if lst.appended:
                text = self._append_to_list(text, lst)
        check = etree.fromstring(text.encode("utf-8"))
        for tag, lst in self.lists.items():
            el = check.find(f"{{{self.ns}}}{tag}")
            found = 0 if el is None else sum(isinstance(c.tag, str) for c in el)
            if found != len(lst.shapes):
                raise AssertionError(f"styles.xml {tag}: expected {len(lst.shapes)} entries "
                                     f"after the edit, found {found}")
        return text

    def _append_to_list(self, text: str, lst: _List) -> str:
        p, tag, new = self.prefix, lst.tag, "".join(lst.appended)
        count = len(lst.shapes)
        if not lst.present:
            at = self._insertion_point(text, tag)
            return f'{text[:at]}<{p}{tag} count="{count}">{new}</{p}{tag}>{text[at:]}'
        opening = re.compile(rf"<{re.escape(p)}{tag}(?=[\s/>])[^>]*>")
        m = opening.search(text)
        if m is None:
            raise AssertionError(f"styles.xml: <{p}{tag}> not found in the text")
        open_tag = m.group(0)
        if open_tag.endswith("/>"):
            new_open = _with_count(open_tag[:-2].rstrip() + ">", count)
            return f"{text[:m.start()]}{new_open}{new}</{p}{tag}>{text[m.end():]}"
        close = text.index(f"</{p}{tag}>", m.end())
        return (f"{text[:m.start()]}{_with_count(open_tag, count)}{text[m.end():close]}"
                f"{new}{text[close:]}")

    def _insertion_point(self, text: str, tag: str) -> int:
        """Where a missing list goes: after the previous list present, else first child."""
        p = self.prefix
        before = LIST_ORDER[:LIST_ORDER.index(tag)]
        for prev in reversed(before):
            if self.lists[prev].present:
                m = re.search(rf"</{re.escape(p)}{prev}>|<{re.escape(p)}{prev}(?=[\s/])[^>]*/>",
                              text)
                if m is not None:
                    return m.end()
        m = re.search(rf"<{re.escape(p)}styleSheet(?=[\s>])[^>]*>", text)
        if m is None:
            raise AssertionError("styles.xml: no <styleSheet> root element")
        return m.end()


def _with_count(open_tag: str, count: int) -> str:
    if re.search(r'\scount="\d*"', open_tag):
        return re.sub(r'(\scount=")\d*(")', rf"\g<1>{count}\g<2>", open_tag, count=1)
    return open_tag


def resolve_styles(styles_text: str, styles: Iterable[Style]) -> tuple[str, dict[Style, int]]:
    """Return the (possibly grown) stylesheet text and the cellXfs index of each style."""
    editor = StyleSheetEditor(styles_text)
    index = {style: editor.xf_index(style) for style in sorted(set(styles), key=list(Style).index)}
    return (editor.render() if editor.changed else styles_text), index
