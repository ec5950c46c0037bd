"""Charts and hidden columns in the package writer: the parts a ChartSpec becomes, next to a
user's own drawings and charts, cleaned up when sopfin's sheet is replaced, and read by
openpyxl and LibreOffice as the chart it describes."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from lxml import etree

from sopfin.sheetspec import Block, ChartSeries, ChartSpec, SheetSpec, Style
from sopfin.xlsx.writer import create_workbook, write_sheets
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import parts, rebuild

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
WITH_CHART = CORPUS / "025_XlsxWriter_chart_column07.xlsx"  # xl/drawings/drawing1, charts/chart1
C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"

# A waterfall worked by hand: budget 100, price +20, volume -30, plan 90.
#   line     base  up  down  total
#   Budget      -   -     -    100
#   Price     100  20     -      -
#   Volume     90   -    30      -
#   Plan        -   -     -     90
LABELS = ["Budget", "Price", "Volume", "Plan"]
HELPERS = np.array([[np.nan, np.nan, np.nan, 100.0], [100.0, 20.0, np.nan, np.nan],
                    [90.0, np.nan, 30.0, np.nan], [np.nan, np.nan, np.nan, 90.0]])


def chart_spec(name: str = "Bridge", title: str = "Revenue bridge") -> SheetSpec:
    q = f"'{name}'"
    series = [ChartSeries(label, f"{q}!${col}$2:${col}$5", list(HELPERS[:, k]), color)
              for k, (label, col, color) in enumerate(
                  [("Base", "B", None), ("Increase", "C", "FF70AD47"),
                   ("Decrease", "D", "FFC00000"), ("Total", "E", "FF1F4E79")])]
    chart = ChartSpec(title, f"{q}!$A$2:$A$5", LABELS, series, anchor=(6, 1, 14, 18))
    return SheetSpec(name, [
        Block(1, 1, [["Line", "Base", "Increase", "Decrease", "Total"]], style=Style.HEADER),
        Block(2, 1, [[x] for x in LABELS], style=Style.TEXT),
        Block(2, 2, HELPERS, style=Style.MONEY_WHOLE),
        Block(2, 26, [["digest"]] * 4, style=Style.NOTE),
    ], col_widths={1: 20.0}, hidden_cols=(26, 27), charts=[chart])


def sheet_part(path: Path, name: str) -> str:
    wb = openpyxl.load_workbook(path)
    index = wb.sheetnames.index(name) + 1
    with zipfile.ZipFile(path) as zf:
        book = etree.fromstring(zf.read("xl/workbook.xml"))
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    rid = book.findall(".//{*}sheet")[index - 1].get(
        "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def test_a_new_workbook_holds_the_chart_as_specified(tmp_path: Path):
    path = tmp_path / "bridge.xlsx"
    create_workbook(path, [chart_spec()])
    p = parts(path)
    assert {"xl/drawings/drawing1.xml", "xl/drawings/_rels/drawing1.xml.rels",
            "xl/charts/chart1.xml", "xl/worksheets/_rels/sheet1.xml.rels"} <= set(p)
    types = p["[Content_Types].xml"].decode()
    assert 'PartName="/xl/drawings/drawing1.xml" ContentType="application/vnd.openxmlformats-' \
           'officedocument.drawing+xml"' in types
    assert 'PartName="/xl/charts/chart1.xml" ContentType="application/vnd.openxmlformats-' \
           'officedocument.drawingml.chart+xml"' in types
    sheet = etree.fromstring(p["xl/worksheets/sheet1.xml"])
    names = [etree.QName(el).localname for el in sheet]
    assert names[-2:] == ["pageMargins", "drawing"]  # CT_Worksheet order
    chart = etree.fromstring(p["xl/charts/chart1.xml"])
    ns = {"c": C_NS}
    assert chart.find(".//c:barDir", ns).get("val") == "col"
    assert chart.find(".//c:grouping", ns).get("val") == "stacked"
    assert chart.find(".//c:overlap", ns).get("val") == "100"
    sers = chart.findall(".//c:ser", ns)
    assert [s.find("c:tx/c:v", ns).text for s in sers] == ["Base", "Increase", "Decrease",
                                                            "Total"]
    assert sers[0].find("c:spPr/{*}noFill", ns) is not None  # the invisible base
    assert sers[1].find(".//{*}srgbClr").get("val") == "70AD47"
    decrease = {int(pt.get("idx")): float(pt.find("c:v", ns).text)
                for pt in sers[2].findall("c:val//c:pt", ns)}
    assert decrease == {2: 30.0}  # blanks are left out of the cache
    cats = [pt.find("c:v", ns).text for pt in sers[0].findall("c:cat//c:pt", ns)]
    assert cats == LABELS
    assert sers[3].find("c:val/c:numRef/c:f", ns).text == "'Bridge'!$E$2:$E$5"


def test_openpyxl_sees_the_chart_and_the_hidden_columns(tmp_path: Path):
    path = tmp_path / "bridge.xlsx"
    create_workbook(path, [chart_spec()])
    ws = openpyxl.load_workbook(path)["Bridge"]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert (chart.type, chart.grouping, chart.overlap) == ("col", "stacked", 100)
    assert [s.val.numRef.f for s in chart.series] == [
        "'Bridge'!$B$2:$B$5", "'Bridge'!$C$2:$C$5", "'Bridge'!$D$2:$D$5", "'Bridge'!$E$2:$E$5"]
    assert chart.anchor._from.col == 6 and chart.anchor._from.row == 1
    assert ws.column_dimensions["Z"].hidden and ws.column_dimensions["AA"].hidden
    assert not ws.column_dimensions["A"].hidden and ws.column_dimensions["A"].width == 20.0


def test_a_users_charts_are_untouched_and_names_do_not_collide(tmp_path: Path):
    path = tmp_path / "user.xlsx"
    shutil.copyfile(WITH_CHART, path)
    before = parts(path)
    write_sheets(path, [chart_spec()])
    after = parts(path)
    for name, data in before.items():
        if name not in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                        "xl/styles.xml"):
            assert after[name] == data, name
    new = sorted(set(after) - set(before))
    assert "xl/drawings/drawing2.xml" in new and "xl/charts/chart2.xml" in new
    wb = openpyxl.load_workbook(path)
    assert len(wb["Bridge"]._charts) == 1
    assert len(wb[wb.sheetnames[0]]._charts) == 1  # the user's own chart


def test_replacing_twice_does_not_grow_the_package(tmp_path: Path):
    path = tmp_path / "user.xlsx"
    shutil.copyfile(WITH_CHART, path)
    write_sheets(path, [chart_spec()])
    first = parts(path)
    report = write_sheets(path, [chart_spec(title="Revenue bridge, again")])
    second = parts(path)
    assert len(second) == len(first)
    assert not report.warnings  # only sopfin's own chart was dropped
    assert "xl/charts/chart2.xml" in report.removed and "xl/drawings/drawing2.xml" in \
        report.removed
    assert b"Revenue bridge, again" in second["xl/charts/chart3.xml"]
    types = second["[Content_Types].xml"].decode()
    assert "/xl/charts/chart2.xml" not in types and "/xl/charts/chart3.xml" in types
    assert second["xl/charts/chart1.xml"] == first["xl/charts/chart1.xml"]  # the user's
    write_sheets(path, [chart_spec(title="third")])
    assert len(parts(path)) == len(first)
    assert len(openpyxl.load_workbook(path)["Bridge"]._charts) == 1


def test_a_part_still_referenced_elsewhere_is_kept(tmp_path: Path):
    path = tmp_path / "book.xlsx"
    create_workbook(path, [SheetSpec("Cover", [Block(1, 1, [["hello"]])], owned=False),
                           chart_spec()])
    # The user points the Cover sheet at sopfin's drawing too.
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" Target="../'
            'drawings/drawing1.xml"/></Relationships>')
    rebuild(path, lambda p: {**p, "xl/worksheets/_rels/sheet1.xml.rels": rels.encode()})
    report = write_sheets(path, [chart_spec()])
    after = parts(path)
    assert "xl/drawings/drawing1.xml" in after and "xl/charts/chart1.xml" in after
    assert "xl/drawings/drawing1.xml" not in report.removed
    assert "xl/drawings/drawing2.xml" in after  # the replacement's own drawing


def test_a_users_drawing_on_a_sopfin_sheet_is_removed_with_a_warning(tmp_path: Path):
    path = tmp_path / "book.xlsx"
    create_workbook(path, [chart_spec()])
    # Someone adds a picture to the drawing sopfin wrote.
    anchor = (b'<xdr:oneCellAnchor><xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff>'
              b'<xdr:row>0</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="1" cy="1"/>'
              b'<xdr:sp><xdr:nvSpPr><xdr:cNvPr id="9" name="My note"/><xdr:cNvSpPr/>'
              b'</xdr:nvSpPr><xdr:spPr/></xdr:sp><xdr:clientData/></xdr:oneCellAnchor>')
    rebuild(path, lambda p: {**p, "xl/drawings/drawing1.xml": p["xl/drawings/drawing1.xml"]
                             .replace(b"</xdr:wsDr>", anchor + b"</xdr:wsDr>")})
    report = write_sheets(path, [chart_spec()])
    assert any("Bridge" in w and "removed" in w for w in report.warnings)
    assert "xl/drawings/drawing1.xml" not in parts(path)


def test_bad_charts_are_refused_before_writing(tmp_path: Path):
    path = tmp_path / "bridge.xlsx"
    spec = chart_spec()
    bad = SheetSpec("Bridge", spec.blocks, charts=[ChartSpec("x", "'Bridge'!$A$2:$A$5", LABELS,
                                                             [], (0, 0, 5, 5))])
    with pytest.raises(ValueError, match="no series"):
        create_workbook(path, [bad])
    assert not path.exists()
    backwards = SheetSpec("Bridge", spec.blocks, charts=[
        ChartSpec("x", "'Bridge'!$A$2:$A$5", LABELS, spec.charts[0].series, (5, 5, 1, 9))])
    with pytest.raises(ValueError, match="anchor"):
        create_workbook(path, [backwards])


def test_libreoffice_opens_the_chart(tmp_path: Path):
    path = tmp_path / "bridge.xlsx"
    create_workbook(path, [chart_spec()])
    out = convert("soffice", [path], tmp_path / "ods", fmt="ods")[path]
    assert out is not None, "LibreOffice could not convert the workbook"
    with zipfile.ZipFile(out) as zf:
        content = zf.read("content.xml").decode()
        objects = [n for n in zf.namelist() if n.startswith("Object") and
                   n.endswith("content.xml")]
        assert "<draw:object" in content
        assert len(objects) == 1
        chart = zf.read(objects[0]).decode()
    assert 'chart:class="chart:bar"' in chart
    assert 'chart:stacked="true"' in chart
    assert "Revenue bridge" in chart
    for label in ("Increase", "Decrease", "Total"):
        assert label in chart


def test_a_broken_value_axis_is_marked_and_hidden_helper_cells_are_plotted():
    from dataclasses import replace

    from sopfin.xlsx.charts import chart_xml

    C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    (chart,) = chart_spec().charts
    plain = etree.fromstring(chart_xml(chart))
    assert plain.find(f".//{C}valAx/{C}scaling/{C}min") is None
    assert plain.find(f".//{C}plotVisOnly").get("val") == "0"  # helper columns may be hidden
    broken = etree.fromstring(chart_xml(replace(chart, value_axis_min=250e6,
                                                value_axis_title="axis starts at $250.0M")))
    axis = broken.find(f".//{C}valAx")
    assert axis.find(f"{C}scaling/{C}min").get("val") == "250000000"
    assert "".join(axis.find(f"{C}title").itertext()) == "axis starts at $250.0M"
    order = [etree.QName(el).localname for el in axis]
    assert order.index("majorGridlines") < order.index("title") < order.index("numFmt")
