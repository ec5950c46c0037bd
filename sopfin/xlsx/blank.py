"""The smallest package Excel opens without complaint: a workbook with no sheets yet.

``create_workbook`` starts from these parts and adds its sheets through the same code path
as ``write_sheets``. Every part is a constant (no timestamps, no generated ids), so the same
sheet specs always give the same bytes.
"""

from __future__ import annotations

DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument"

CONTENT_TYPES = (
    DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{CT}.spreadsheetml.styles+xml"/>'
    f'<Override PartName="/xl/theme/theme1.xml" ContentType="{CT}.theme+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{CT}.extended-properties+xml"/>'
    '</Types>')

ROOT_RELS = (
    DECL + f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_REL}/extended-properties" '
    'Target="docProps/app.xml"/></Relationships>')

CORE = (
    DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>S&amp;OP plan</dc:title>'
    '<dc:creator>sopfin</dc:creator></cp:coreProperties>')

APP = (
    DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><Application>sopfin</Application><DocSecurity>0</DocSecurity>'
    '<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate>'
    '<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>'
    '<AppVersion>16.0300</AppVersion></Properties>')

EMPTY_RELS = DECL + f'<Relationships xmlns="{PKG_REL}"></Relationships>'

WORKBOOK_RELS = (
    DECL + f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_REL}/theme" Target="theme/theme1.xml"/>'
    '</Relationships>')

STYLES = (
    DECL + f'<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')


def _scheme_colors() -> str:
    colors = (("dk1", '<a:sysClr val="windowText" lastClr="000000"/>'),
              ("lt1", '<a:sysClr val="window" lastClr="FFFFFF"/>'),
              ("dk2", '<a:srgbClr val="44546A"/>'), ("lt2", '<a:srgbClr val="E7E6E6"/>'),
              ("accent1", '<a:srgbClr val="4472C4"/>'), ("accent2", '<a:srgbClr val="ED7D31"/>'),
              ("accent3", '<a:srgbClr val="A5A5A5"/>'), ("accent4", '<a:srgbClr val="FFC000"/>'),
              ("accent5", '<a:srgbClr val="5B9BD5"/>'), ("accent6", '<a:srgbClr val="70AD47"/>'),
              ("hlink", '<a:srgbClr val="0563C1"/>'), ("folHlink", '<a:srgbClr val="954F72"/>'))
    return "".join(f"<a:{name}>{value}</a:{name}>" for name, value in colors)


def _font_set(latin: str) -> str:
    return f'<a:latin typeface="{latin}"/><a:ea typeface=""/><a:cs typeface=""/>'


def _three(element: str) -> str:
    return element * 3


SOLID_FILL = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'

THEME = (
    DECL + '<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'name="Office Theme"><a:themeElements>'
    f'<a:clrScheme name="Office">{_scheme_colors()}</a:clrScheme>'
    f'<a:fontScheme name="Office"><a:majorFont>{_font_set("Calibri Light")}</a:majorFont>'
    f'<a:minorFont>{_font_set("Calibri")}</a:minorFont></a:fontScheme>'
    '<a:fmtScheme name="Office">'
    f'<a:fillStyleLst>{_three(SOLID_FILL)}</a:fillStyleLst>'
    '<a:lnStyleLst>' + _three('<a:ln w="6350" cap="flat" cmpd="sng" algn="ctr"><a:solidFill>'
                              '<a:schemeClr val="phClr"/></a:solidFill><a:prstDash val="solid"/>'
                              '<a:miter lim="800000"/></a:ln>') + '</a:lnStyleLst>'
    '<a:effectStyleLst>' + _three('<a:effectStyle><a:effectLst/></a:effectStyle>') +
    '</a:effectStyleLst>'
    f'<a:bgFillStyleLst>{_three(SOLID_FILL)}</a:bgFillStyleLst></a:fmtScheme>'
    '</a:themeElements><a:objectDefaults/>'
    '<a:extraClrSchemeLst/></a:theme>')


def workbook_xml(active_tab: int = 0) -> str:
    """An empty workbook part: the sheets are added by the package writer."""
    return (DECL + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL}"><workbookPr/>'
            f'<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="28800" '
            f'windowHeight="15000" firstSheet="{active_tab}" activeTab="{active_tab}"/>'
            '</bookViews><sheets></sheets><calcPr calcId="191029"/></workbook>')


def blank_parts(active_tab: int = 0) -> list[tuple[str, bytes]]:
    """(part name, bytes) of an empty workbook package, in package order."""
    parts = (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
             ("docProps/core.xml", CORE), ("docProps/app.xml", APP),
             ("xl/workbook.xml", workbook_xml(active_tab)),
             ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/styles.xml", STYLES),
             ("xl/theme/theme1.xml", THEME))
    return [(name, text.encode("utf-8")) for name, text in parts]
