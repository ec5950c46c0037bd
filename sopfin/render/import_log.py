"""The ``_Imports`` sheet: hidden, one row per write of data into an input sheet
(``sopfin.close.imported.ImportRecord``), added in the same atomic save as the cells it
records and marked with a version by the close that records it on the ledger.

Row 1 holds ``HEADERS``; each further row one record: when (UTC), who, the command, the
source file's name and SHA-256, the sheet, the months replaced, the source rows used, the
totals per measure to the cent, and the version (blank while pending). The ledger note of
that version is the evidence; this sheet only tells the next close what to record, so an
edit here changes no published version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sopfin import layout
from sopfin.close.imported import (
    COMMANDS,
    ImportRecord,
    months_text,
    parse_months_text,
    parse_totals_text,
    totals_text,
)
from sopfin.sheetspec import Block, SheetSpec, Style

HEADERS = ("Recorded (UTC)", "Author", "Command", "Source", "SHA-256", "Sheet", "Months",
           "Rows", "Totals", "Version")
WIDTHS = {1: 21.0, 2: 16.0, 3: 12.0, 4: 30.0, 5: 66.0, 6: 12.0, 7: 20.0, 8: 8.0, 9: 40.0,
          10: 8.0}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_STYLES = [Style.TEXT] * 7 + [Style.UNITS, Style.TEXT, Style.UNITS]


def _row(r: ImportRecord) -> list[object]:
    return [r.recorded_at, r.author, r.command, r.source, r.sha256 or None, r.sheet,
            months_text(r.months) or None, float(r.rows), totals_text(r.totals) or None,
            float(r.version) if r.version else None]


def render_import_log(records: Sequence[ImportRecord]) -> SheetSpec:
    rows = [list(HEADERS), *(_row(r) for r in records)]
    styles = [[Style.HEADER] * len(HEADERS), *([_STYLES] * len(records))]
    return SheetSpec(layout.IMPORTS, [Block(1, 1, np.array(rows, dtype=object),
                                            style=np.array(styles, dtype=object))],
                     owned=True, col_widths=dict(WIDTHS), freeze=(1, 0),
                     state=layout.IMPORTS_STATE)


def parse_import_log(grid: Sequence[Sequence[object]]
                     ) -> tuple[list[ImportRecord], list[int]]:
    """The records of the sheet's rows (a grid from A1), and the sheet rows (1-based) that
    are not one: the header row (1) when it is not ``HEADERS``, else each row that does not
    read back as a record. Blank rows are skipped."""
    header = [str(v) if v is not None else "" for v in (grid[0] if grid else [])]
    if tuple(header[:len(HEADERS)]) != HEADERS:
        return [], [1]
    records: list[ImportRecord] = []
    bad: list[int] = []
    for number, cells in enumerate(grid[1:], start=2):
        row = list(cells[:len(HEADERS)]) + [None] * (len(HEADERS) - len(cells))
        if all(v is None or v == "" for v in row):
            continue
        try:
            records.append(_record(row))
        except (ValueError, TypeError):
            bad.append(number)
    return records, bad


def _text(value: object, *, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise ValueError("blank")
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def _whole(value: object, *, blank: int | None = None) -> int:
    if (value is None or value == "") and blank is not None:
        return blank
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or value < 0:
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _record(row: list[object]) -> ImportRecord:
    command, sha256 = _text(row[2]), _text(row[4], required=False)
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    if sha256 and not _SHA256.match(sha256):
        raise ValueError("not a SHA-256")
    return ImportRecord(recorded_at=_text(row[0]), author=_text(row[1]), command=command,
                        source=_text(row[3]), sha256=sha256, sheet=_text(row[5]),
                        months=parse_months_text(_text(row[6], required=False)),
                        rows=_whole(row[7]),
                        totals=parse_totals_text(_text(row[8], required=False)),
                        version=_whole(row[9], blank=0))
