"""A sheet's page setup as worksheet XML: the ``sheetPr`` that asks for fit-to-page, and the
print elements of ``CT_Worksheet`` (pageMargins, pageSetup, headerFooter), which follow
hyperlinks and precede the drawing in the schema's order.

The print area and print titles are workbook-level names; ``sopfin.xlsx.printnames`` writes
them.
"""

from __future__ import annotations

from sopfin.sheetspec import PageSetup, SheetSpec
from sopfin.xlsx.cellxml import escape_attr, escape_text

# Inches. Portrait keeps Excel's defaults; landscape pages get narrower side margins.
DEFAULT_MARGINS = (0.7, 0.7, 0.75, 0.75, 0.3, 0.3)  # left, right, top, bottom, header, footer
LANDSCAPE_MARGINS = (0.4, 0.4, 0.6, 0.6, 0.25, 0.25)


def sheet_properties(spec: SheetSpec) -> str:
    """``<sheetPr>`` with the tab colour and, for a page fitted to pages, ``pageSetUpPr``."""
    tab = f'<tabColor rgb="{escape_attr(spec.tab_color)}"/>' if spec.tab_color else ""
    fit = '<pageSetUpPr fitToPage="1"/>' if _fits(spec.page) else ""
    return f"<sheetPr>{tab}{fit}</sheetPr>" if tab or fit else ""


def _fits(page: PageSetup | None) -> bool:
    return page is not None and (page.fit_width > 0 or page.fit_height > 0)


def _margins(page: PageSetup | None) -> str:
    values = LANDSCAPE_MARGINS if page is not None and page.landscape else DEFAULT_MARGINS
    names = ("left", "right", "top", "bottom", "header", "footer")
    return "<pageMargins " + " ".join(f'{n}="{v}"' for n, v in zip(names, values,
                                                                     strict=True)) + "/>"


def _page_setup(page: PageSetup) -> str:
    attrs = [f'fitToWidth="{page.fit_width}"', f'fitToHeight="{page.fit_height}"',
             f'orientation="{"landscape" if page.landscape else "portrait"}"']
    return f"<pageSetup {' '.join(attrs)}/>"


def _header_footer(page: PageSetup) -> str:
    if not page.header and not page.footer:
        return ""
    header = f"<oddHeader>{escape_text(page.header)}</oddHeader>" if page.header else ""
    footer = f"<oddFooter>{escape_text(page.footer)}</oddFooter>" if page.footer else ""
    return f"<headerFooter>{header}{footer}</headerFooter>"


def print_elements(spec: SheetSpec) -> str:
    """pageMargins, pageSetup and headerFooter, in the schema's order."""
    page = spec.page
    if page is None:
        return _margins(None)
    return f"{_margins(page)}{_page_setup(page)}{_header_footer(page)}"
