"""Read one of sopfin's published tabs as a grid of values in one fast pass (python-calamine),
for the commands that only need a tab's values (``diff``).

The tab's part and the parts calamine reads with it are screened first (``screen_inflated``)
and handed to calamine as an excerpt (``sopfin.xlsx.read``), as the input sheets are. A
published tab holds values only: a part with an error cell or a formula, which calamine
would read as empty, or anything the screen or calamine refuses, gives None, and the caller
reads the tab's rows instead (``SheetRows``), which keep every refusal as it was. A part
still byte for byte as sopfin wrote it is not searched for those cells: sopfin writes none
in a published tab.
"""

from __future__ import annotations

from collections.abc import Callable

from sopfin.xlsx.limits import Limits
from sopfin.xlsx.read import (
    ERROR_MARKERS,
    calamine_book,
    calamine_rows,
    parts_calamine_reads,
)
from sopfin.xlsx.screen import open_zip, screen_inflated
from sopfin.xlsx.source import PackageBytes
from sopfin.xlsx.zipsink import as_written

_FORMULA = b"f>"  # ends every formula element with a formula (``</f>``, ``</x:f>``); a shared
# formula's cells without one (``<f t="shared" si="0"/>``) share its master's part
_OVERLAP = 8  # bytes of a block kept to find a marker cut between two blocks


class _ValuesOnly:
    """Watches a part's inflated blocks for an error cell or a formula."""

    def __init__(self) -> None:
        self.tail = b""
        self.plain = True

    def add(self, block: bytes) -> None:
        if self.plain and (_marked(block) or _marked(self.tail + block[:_OVERLAP])):
            self.plain = False
        self.tail = block[-_OVERLAP:]


def _observer(watch: _ValuesOnly, written: bool) -> Callable[[str], Callable[[bytes], None]]:
    """What the screen hands each block to: the watch, unless the part is byte for byte
    what sopfin wrote (``as_written``; its CRC is checked on the screen's pass), whose tabs
    hold neither formulas nor error cells."""
    add = _ignore if written else watch.add
    return lambda _: add


def _ignore(_: bytes) -> None:
    pass


def _marked(text: bytes) -> bool:
    return _FORMULA in text or any(m in text for m in ERROR_MARKERS)


def read_tab_grid(package: PackageBytes, part: str, name: str) -> list[list[object]] | None:
    """Sheet ``name`` (worksheet ``part``) as rows of cached values from A1 ('' for an empty
    cell), or None when it cannot be read this way (see the module's note)."""
    limits = Limits.from_env()
    watch = _ValuesOnly()
    try:
        with open_zip(package, limits) as zf:
            if part not in zf.NameToInfo:
                return None
            parts = parts_calamine_reads(zf, [part])
            observe = _observer(watch, as_written(zf.getinfo(part)))
            whole = screen_inflated(zf, package.path, parts, limits, [part], observe=observe)
            if part not in whole or not watch.plain:
                return None
            book = calamine_book(zf, package.path, parts)
            return calamine_rows(book, name)
    except Exception:  # refused or unreadable here: the rows say why, as before
        return None
