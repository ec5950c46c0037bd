"""The ``.xlam`` package (ECMA-376 Open Packaging Conventions) around the VBA project.

An add-in is a macro-enabled workbook whose main part has the add-in content type. This
one holds a single hidden-by-nature sheet, styles, a theme (Excel expects one), the VBA
project linked from the workbook, and the ribbon ``customUI/customUI14.xml`` linked from
the package root with the Office 2010 extensibility relationship. Zip entries carry a
fixed date and attributes, so the same sources give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_OFFICE = "application/vnd.openxmlformats-officedocument"

ADDIN_MAIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
VBA_PROJECT = "application/vnd.ms-office.vbaProject"
VBA_PROJECT_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CUSTOM_UI14_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
CUSTOM_UI_PART = "customUI/customUI14.xml"

WORKBOOK_CODENAME = "ThisWorkbook"   # must name the workbook's document module
SHEET_CODENAME = "Sheet1"            # must name the sheet's document module
SHEET_NAME = "sopfin"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

CONTENT_TYPES = (
    DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Default Extension="bin" ContentType="{VBA_PROJECT}"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{ADDIN_MAIN}"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{CT_OFFICE}.spreadsheetml.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{CT_OFFICE}.spreadsheetml.styles+xml"/>'
    f'<Override PartName="/xl/theme/theme1.xml" ContentType="{CT_OFFICE}.theme+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{CT_OFFICE}.extended-properties+xml"/>'
    '</Types>')

ROOT_RELS = (
    DECL + f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_REL}/extended-properties" Target="docProps/app.xml"/>'
    f'<Relationship Id="rId4" Type="{CUSTOM_UI14_REL}" Target="{CUSTOM_UI_PART}"/>'
    '</Relationships>')

CORE = (
    DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<dc:title>S&amp;OP Finance</dc:title><dc:creator>sopfin</dc:creator>'
    '<dc:description>The sopfin ribbon: the monthly S&amp;OP close, run through xlwings.'
    '</dc:description></cp:coreProperties>')

APP = (
    DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>'
    '<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate>'
    '<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>'
    '<AppVersion>16.0300</AppVersion></Properties>')

WORKBOOK = (
    DECL + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL}">'
    f'<workbookPr codeName="{WORKBOOK_CODENAME}"/>'
    '<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="16000" '
    'windowHeight="10000"/></bookViews>'
    f'<sheets><sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets>'
    '<calcPr calcId="191029"/></workbook>')

WORKBOOK_RELS = (
    DECL + f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_REL}/theme" Target="theme/theme1.xml"/>'
    f'<Relationship Id="rId4" Type="{VBA_PROJECT_REL}" Target="vbaProject.bin"/>'
    '</Relationships>')

SHEET = (
    DECL + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL}">'
    f'<sheetPr codeName="{SHEET_CODENAME}"/><dimension ref="A1"/>'
    '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    '</worksheet>')

STYLES = (
    DECL + f'<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')

_SYSTEM_COLORS = (("dk1", "windowText", "000000"), ("lt1", "window", "FFFFFF"))
_RGB_COLORS = (("dk2", "44546A"), ("lt2", "E7E6E6"), ("accent1", "4472C4"),
               ("accent2", "ED7D31"), ("accent3", "A5A5A5"), ("accent4", "FFC000"),
               ("accent5", "5B9BD5"), ("accent6", "70AD47"), ("hlink", "0563C1"),
               ("folHlink", "954F72"))
_PH_FILL = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
_LINE = (f'<a:ln w="6350" cap="flat" cmpd="sng" algn="ctr">{_PH_FILL}'
         '<a:prstDash val="solid"/></a:ln>')


def _theme() -> str:
    colors = "".join(f'<a:{name}><a:sysClr val="{system}" lastClr="{rgb}"/></a:{name}>'
                     for name, system, rgb in _SYSTEM_COLORS)
    colors += "".join(f'<a:{name}><a:srgbClr val="{rgb}"/></a:{name}>'
                      for name, rgb in _RGB_COLORS)
    fonts = "".join(f'<a:{kind}><a:latin typeface="{face}"/><a:ea typeface=""/>'
                    f'<a:cs typeface=""/></a:{kind}>'
                    for kind, face in (("majorFont", "Calibri Light"), ("minorFont", "Calibri")))
    return (DECL + '<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            f'name="Office Theme"><a:themeElements><a:clrScheme name="Office">{colors}'
            f'</a:clrScheme><a:fontScheme name="Office">{fonts}</a:fontScheme>'
            f'<a:fmtScheme name="Office"><a:fillStyleLst>{_PH_FILL * 3}</a:fillStyleLst>'
            f'<a:lnStyleLst>{_LINE * 3}</a:lnStyleLst><a:effectStyleLst>'
            + '<a:effectStyle><a:effectLst/></a:effectStyle>' * 3 +
            f'</a:effectStyleLst><a:bgFillStyleLst>{_PH_FILL * 3}</a:bgFillStyleLst>'
            '</a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/>'
            '</a:theme>')


def parts(vba_project: bytes, custom_ui: bytes) -> list[tuple[str, bytes]]:
    """(part name, bytes) of the add-in package, ``[Content_Types].xml`` first."""
    texts = (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
             ("docProps/core.xml", CORE), ("docProps/app.xml", APP),
             ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
             ("xl/worksheets/sheet1.xml", SHEET), ("xl/styles.xml", STYLES),
             ("xl/theme/theme1.xml", _theme()))
    return ([(name, text.encode("utf-8")) for name, text in texts]
            + [("xl/vbaProject.bin", vba_project), (CUSTOM_UI_PART, custom_ui)])


def zip_parts(named: Iterable[tuple[str, bytes]]) -> bytes:
    """A deterministic zip: fixed dates and attributes, entries in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in named:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()
