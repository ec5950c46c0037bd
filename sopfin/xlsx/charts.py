"""Charts on sopfin's sheets: the DrawingML parts a ``ChartSpec`` becomes, and the clean-up of
the parts an owned sheet drew before it is replaced.

A sheet with charts gets one drawing part (``xl/drawings/drawingN.xml``, one
``twoCellAnchor`` with a ``graphicFrame`` per chart), one chart part per chart
(``xl/charts/chartN.xml``), and relationships sheet -> drawing -> chart. Part numbers skip
every name the package already holds (compared case-insensitively), so the user's own
drawings and charts are never touched.

Replacing an owned sheet removes the parts reachable only through that sheet's
relationships (its drawing, the drawing's charts, their style and colour parts), so repeated
runs do not accumulate parts; a part that any other relationship part still references stays.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from sopfin.sheetspec import ChartSpec, SheetSpec
from sopfin.xlsx.errors import NotAWorkbookError
from sopfin.xlsx.package import DOC_REL_NS, Package, read_relationships, rels_part_of
from sopfin.xlsx.sheetxml import escape_attr, escape_text

REL_DRAWING = f"{DOC_REL_NS}/drawing"
REL_CHART = f"{DOC_REL_NS}/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CHART_NAME_PREFIX = "sopfin chart"  # cNvPr name of the frames sopfin draws
KINDS = ("stacked_column",)
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CAT_AXIS, _VAL_AXIS = 50010001, 50010002


@dataclass(frozen=True)
class ChartParts:
    """The new parts for one sheet's charts."""

    sheet_rels: str  # the worksheet's relationships part
    drawing_rid: str  # id of the worksheet -> drawing relationship
    parts: dict[str, bytes]  # part name -> bytes: drawing, its rels, the charts, sheet rels
    overrides: list[tuple[str, str]]  # (part name, content type)


def check_charts(spec: SheetSpec) -> None:
    """Raise ValueError for a chart the writer cannot draw, before anything is written."""
    for chart in spec.charts:
        if chart.kind not in KINDS:
            raise ValueError(f"sheet {spec.name!r}: chart kind {chart.kind!r} is not one of "
                             f"{KINDS}")
        if not chart.series:
            raise ValueError(f"sheet {spec.name!r}: chart {chart.title!r} has no series")
        from_col, from_row, to_col, to_row = chart.anchor
        if min(chart.anchor) < 0 or to_col <= from_col or to_row <= from_row:
            raise ValueError(f"sheet {spec.name!r}: chart {chart.title!r} anchor "
                             f"{chart.anchor} must run left to right and top to bottom")


class PartNamer:
    """Hands out part names the package does not hold yet (case-insensitive)."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = {n.lower() for n in taken}

    def next(self, folder: str, stem: str) -> str:
        n = 1
        while f"{folder}/{stem}{n}.xml".lower() in self.taken:
            n += 1
        name = f"{folder}/{stem}{n}.xml"
        self.taken.add(name.lower())
        return name


def chart_parts(spec: SheetSpec, sheet_part: str, base: str, namer: PartNamer) -> ChartParts:
    """Every new part for the charts of ``spec``, whose worksheet part is ``sheet_part``;
    ``base`` is the workbook part's folder ('xl')."""
    drawing = namer.next(posixpath.join(base, "drawings"), "drawing")
    charts = [namer.next(posixpath.join(base, "charts"), "chart") for _ in spec.charts]
    parts = {
        drawing: drawing_xml(spec.charts, [f"rId{k + 1}" for k in range(len(charts))]),
        rels_part_of(drawing): rels_xml([(f"rId{k + 1}", REL_CHART, _relative(c, drawing))
                                         for k, c in enumerate(charts)]),
    }
    for chart, part in zip(spec.charts, charts, strict=True):
        parts[part] = chart_xml(chart)
    sheet_rels = rels_part_of(sheet_part)
    parts[sheet_rels] = rels_xml([("rId1", REL_DRAWING, _relative(drawing, sheet_part))])
    overrides = [(drawing, CT_DRAWING)] + [(c, CT_CHART) for c in charts]
    return ChartParts(sheet_rels, "rId1", parts, overrides)


def _relative(part: str, source: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


def rels_xml(rels: Sequence[tuple[str, str, str]]) -> bytes:
    body = "".join(f'<Relationship Id="{rid}" Type="{rtype}" Target="{escape_attr(target)}"/>'
                   for rid, rtype, target in rels)
    return f'{_HEAD}<Relationships xmlns="{PKG_RELS_NS}">{body}</Relationships>'.encode()


# --- drawing and chart XML -------------------------------------------------------------------
def drawing_xml(charts: Sequence[ChartSpec], rids: Sequence[str]) -> bytes:
    anchors = []
    for k, (chart, rid) in enumerate(zip(charts, rids, strict=True)):
        from_col, from_row, to_col, to_row = chart.anchor
        name = escape_attr(f"{CHART_NAME_PREFIX} {k + 1}")
        descr = escape_attr(chart.title)
        anchors.append(
            f"<xdr:twoCellAnchor>{_corner('from', from_col, from_row)}"
            f"{_corner('to', to_col, to_row)}<xdr:graphicFrame macro=\"\"><xdr:nvGraphicFramePr>"
            f'<xdr:cNvPr id="{k + 2}" name="{name}" descr="{descr}"/><xdr:cNvGraphicFramePr/>'
            '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/>'
            f'</xdr:xfrm><a:graphic><a:graphicData uri="{C_NS}"><c:chart xmlns:c="{C_NS}" '
            f'xmlns:r="{DOC_REL_NS}" r:id="{rid}"/></a:graphicData></a:graphic>'
            "</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>")
    return (f'{_HEAD}<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">{"".join(anchors)}'
            "</xdr:wsDr>").encode()


def _corner(tag: str, col: int, row: int) -> str:
    return (f"<xdr:{tag}><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}"
            f"</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:{tag}>")


def _number(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _str_cache(ref: str, labels: Sequence[str]) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{escape_text(str(s))}</c:v></c:pt>'
                  for i, s in enumerate(labels))
    return (f"<c:strRef><c:f>{escape_text(ref)}</c:f><c:strCache><c:ptCount "
            f'val="{len(labels)}"/>{pts}</c:strCache></c:strRef>')


def _num_cache(ref: str, values: Sequence[float], fmt: str) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{_number(v)}</c:v></c:pt>'
                  for i, v in enumerate(values)
                  if v is not None and math.isfinite(float(v)))
    return (f"<c:numRef><c:f>{escape_text(ref)}</c:f><c:numCache><c:formatCode>"
            f'{escape_text(fmt)}</c:formatCode><c:ptCount val="{len(values)}"/>{pts}'
            "</c:numCache></c:numRef>")


def _fill(color: str | None) -> str:
    if color is None:
        return "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
    rgb = escape_attr(color[-6:].upper())
    return f'<c:spPr><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill></c:spPr>'


def _title(text: str) -> str:
    return (f"<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>"
            f"{escape_text(text)}</a:t></a:r></a:p></c:rich></c:tx>"
            '<c:overlay val="0"/></c:title>')


def chart_xml(chart: ChartSpec) -> bytes:
    """A stacked column chart: one ``c:ser`` per series; series without a colour are drawn
    with no fill and no line, and left out of the legend. Cells in hidden rows and columns
    are plotted (a chart's helper table may be hidden)."""
    series = []
    for i, s in enumerate(chart.series):
        series.append(
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/><c:tx><c:v>{escape_text(s.name)}'
            f'</c:v></c:tx>{_fill(s.color)}<c:invertIfNegative val="0"/>'
            f"<c:cat>{_str_cache(chart.categories_ref, chart.categories)}</c:cat>"
            f"<c:val>{_num_cache(s.values_ref, s.cached, chart.number_format)}</c:val></c:ser>")
    hidden = "".join(f'<c:legendEntry><c:idx val="{i}"/><c:delete val="1"/></c:legendEntry>'
                     for i, s in enumerate(chart.series) if s.color is None)
    fmt = escape_attr(chart.number_format)
    title = f'{_title(chart.title)}<c:autoTitleDeleted val="0"/>'
    value_min = "" if chart.value_axis_min is None else \
        f'<c:min val="{_number(chart.value_axis_min)}"/>'
    value_title = _title(chart.value_axis_title) if chart.value_axis_title else ""
    axes = (f'<c:catAx><c:axId val="{_CAT_AXIS}"/><c:scaling><c:orientation val="minMax"/>'
            '</c:scaling><c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" '
            'sourceLinked="0"/><c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
            f'<c:tickLblPos val="low"/><c:crossAx val="{_VAL_AXIS}"/><c:crosses val="autoZero"/>'
            '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/>'
            '<c:noMultiLvlLbl val="0"/></c:catAx>'
            f'<c:valAx><c:axId val="{_VAL_AXIS}"/><c:scaling><c:orientation val="minMax"/>'
            f'{value_min}</c:scaling><c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
            f'{value_title}<c:numFmt formatCode="{fmt}" sourceLinked="0"/>'
            '<c:majorTickMark val="out"/>'
            '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
            f'<c:crossAx val="{_CAT_AXIS}"/><c:crosses val="autoZero"/>'
            '<c:crossBetween val="between"/></c:valAx>')
    body = (f'<c:chart>{title}<c:plotArea><c:layout/><c:barChart><c:barDir val="col"/>'
            '<c:grouping val="stacked"/><c:varyColors val="0"/>'
            f'{"".join(series)}<c:gapWidth val="50"/><c:overlap val="100"/>'
            f'<c:axId val="{_CAT_AXIS}"/><c:axId val="{_VAL_AXIS}"/></c:barChart>{axes}'
            f'</c:plotArea><c:legend><c:legendPos val="b"/>{hidden}<c:overlay val="0"/>'
            '</c:legend><c:plotVisOnly val="0"/><c:dispBlanksAs val="gap"/></c:chart>')
    return (f'{_HEAD}<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{DOC_REL_NS}">'
            f'<c:roundedCorners val="0"/>{body}</c:chartSpace>').encode()


# --- parts of a replaced sheet ---------------------------------------------------------------
def _internal_targets(pkg: Package, rels_name: str, source: str) -> list[tuple[str, str]]:
    """(type, target part) of the internal relationships in ``rels_name``; [] if absent or
    unreadable."""
    actual = actual_name(pkg, rels_name)
    if actual is None:
        return []
    try:
        rels = read_relationships(pkg.read(actual), source, pkg.path)
    except NotAWorkbookError:  # an unreadable rels part is kept; nothing is reached through it
        return []
    return [(r.type, r.target) for r in rels if not r.external]


def actual_name(pkg: Package, name: str) -> str | None:
    """The package's own spelling of part ``name`` (part names are case-insensitive)."""
    lower = name.lower()
    return next((n for n in pkg.names if n.lower() == lower), None)


def reachable_parts(pkg: Package, sheet_part: str) -> list[str]:
    """Parts reached from the worksheet's own relationships, transitively, that no other
    relationship part references, with their own rels parts (actual names, zip order).

    Computed to a fixed point: a part referenced from outside the set stays, and so does
    everything it references in turn.
    """
    seen: set[str] = set()
    queue = [sheet_part]
    while queue:
        source = queue.pop()
        for _, target in _internal_targets(pkg, rels_part_of(source), source):
            actual = actual_name(pkg, target)
            if actual is None or actual in seen or actual == sheet_part:
                continue
            seen.add(actual)
            queue.append(actual)
    referrers: dict[str, set[str]] = {}
    for name in pkg.names:
        if name.lower().endswith(".rels"):
            for _, target in _internal_targets(pkg, name, _source_of_rels(name)):
                referrers.setdefault(target.lower(), set()).add(name.lower())
    keep = set(seen)
    changed = True
    while changed:
        inside = {rels_part_of(p).lower() for p in [sheet_part, *keep]}
        outside = {p for p in keep if referrers.get(p.lower(), set()) - inside}
        changed = bool(outside)
        keep -= outside
    out = [n for n in pkg.names if n in keep]
    rels = {r for p in out if (r := actual_name(pkg, rels_part_of(p))) is not None}
    return out + [n for n in pkg.names if n in rels]


def _source_of_rels(rels_name: str) -> str:
    folder, name = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), name[:-len(".rels")])


def drawn_by_sopfin(pkg: Package, sheet_part: str) -> bool:
    """True when the sheet's relationships hold only drawings whose every frame sopfin drew
    (so replacing the sheet loses nothing the user added)."""
    targets = _internal_targets(pkg, rels_part_of(sheet_part), sheet_part)
    actual = actual_name(pkg, rels_part_of(sheet_part))
    if not targets or actual is None:
        return False
    try:
        all_rels = etree.fromstring(pkg.read(actual))
    except etree.XMLSyntaxError:
        return False
    if len([el for el in all_rels if isinstance(el.tag, str)]) != len(targets):
        return False  # external relationships (hyperlinks) are the user's
    for rtype, target in targets:
        part = actual_name(pkg, target)
        if rtype != REL_DRAWING or part is None:
            return False
        try:
            root = etree.fromstring(pkg.read(part))
        except etree.XMLSyntaxError:
            return False
        anchors = [el for el in root if isinstance(el.tag, str)]
        names = [el.get("name", "") for el in root.iter(f"{{{XDR_NS}}}cNvPr")]
        if not anchors or len(names) != len(anchors) or not all(
                n.startswith(CHART_NAME_PREFIX) for n in names):
            return False
    return True
