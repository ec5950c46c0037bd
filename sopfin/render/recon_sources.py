"""The Recon tab's "Where the data came from": the imports a version records (the same ones
its ledger note names), one row each: the source and the first characters of its SHA-256,
the sheet written, the rows and months, the totals per measure, when and by whom."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sopfin.close.imported import HASH_SHOWN, ImportRecord, months_text, totals_text
from sopfin.sheetspec import Style

TITLE = "Where the data came from"
HEADERS = ("Source", "SHA-256", "Sheet", "Rows", "Months", "Totals", "Recorded (UTC)",
           "Author", "Command")
_STYLES = (Style.WRAP, Style.TEXT, Style.TEXT, Style.UNITS, Style.TEXT, Style.WRAP,
           Style.TEXT, Style.TEXT, Style.TEXT)


class SectionTab(Protocol):
    """The part of the Recon tab's layout a section uses."""

    def section(self, title: str, headers: Sequence[str]) -> None: ...

    def row(self, values: Sequence[object],
            styles: Style | Sequence[Style | None] | None = None,
            row: int | None = None, col: int = 1) -> int: ...

    def none(self, text: str = "none") -> None: ...

    def skip(self, n: int = 1) -> None: ...


def import_section(tab: SectionTab, imports: Sequence[ImportRecord]) -> None:
    tab.section(TITLE, HEADERS)
    for r in imports:
        tab.row([r.source, r.sha256[:HASH_SHOWN] or None, r.sheet, float(r.rows),
                 months_text(r.months), totals_text(r.totals), r.recorded_at, r.author,
                 r.command], list(_STYLES))
    if not imports:
        tab.none("none: no import since the last version")
    tab.skip()
