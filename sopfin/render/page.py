"""How sopfin's sheets print: landscape, one page wide, the frozen header rows and key
columns repeated on every page, and a header and footer naming the sheet, the version and
the page ("Page 3 of 7").

The page setup is data on the SheetSpec; the package writer turns it into worksheet XML and
the print names of workbook.xml, the live adapter into Excel's PageSetup where it can.
"""

from __future__ import annotations

from dataclasses import replace

from sopfin import __version__
from sopfin.sheetspec import PageSetup, SheetSpec

PAGE_NUMBER = "Page &P of &N"
SHEET_NAME = '&"-,Bold"&A'  # the sheet's name, bold


MAX_SECTION = 80  # characters of user text per section (Excel allows 255 in all)


def header_text(text: str) -> str:
    """User text for a header or footer section: '&' doubled so that it is not a code, and
    cut to ``MAX_SECTION`` characters."""
    text = text if len(text) <= MAX_SECTION else text[:MAX_SECTION - 1] + "…"
    return text.replace("&", "&&")


def sections(left: str = "", centre: str = "", right: str = "") -> str:
    """A header or footer of up to three sections (codes in the parts are kept)."""
    return "".join(f"{code}{part}" for code, part in (("&L", left), ("&C", centre),
                                                       ("&R", right)) if part)


def titles_of(spec: SheetSpec) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Print titles from the frozen panes: the rows above and the columns left of them."""
    rows, cols = spec.freeze or (0, 0)
    return ((1, rows) if rows > 0 else None), ((1, cols) if cols > 0 else None)


def output_page(spec: SheetSpec, company: str = "", cycle: str = "") -> SheetSpec:
    """An output sheet with its page setup: the used range, one page wide, as many high as it
    takes, the frozen rows and columns repeated."""
    rows, cols = titles_of(spec)
    version = " · ".join(p for p in (f"cycle {cycle}" if cycle else "",
                                     f"sopfin {__version__}") if p)
    page = PageSetup(title_rows=rows, title_cols=cols,
                     header=sections(SHEET_NAME, header_text(company), header_text(version)),
                     footer=sections(centre=PAGE_NUMBER))
    return replace(spec, page=page)


def recon_page(spec: SheetSpec, *, company: str, version: str, area: tuple[int, int, int, int],
               published: str) -> SheetSpec:
    """A Recon tab's page setup: the reader's part of the tab (``area``) on at most two
    landscape pages, the title rows repeated."""
    rows, _ = titles_of(spec)
    page = PageSetup(fit_height=2, title_rows=rows, area=area,
                     header=sections(SHEET_NAME, header_text(company), header_text(version)),
                     footer=sections(header_text(f"published {published}"), PAGE_NUMBER))
    return replace(spec, page=page)
