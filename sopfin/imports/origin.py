"""Who wrote what into an input sheet, from where: the ``ImportRecord`` an import or an
allocation adds to the ``_Imports`` sheet in the same save as its cells, for the next close
to record on the ledger (``sopfin.close.imported``).

Pure: the log comes in as its grid, the new sheet goes out as a ``SheetSpec``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sopfin.close.imported import ImportRecord, cents_totals, unreadable_log
from sopfin.imports.transform import ImportResult
from sopfin.model import Issue
from sopfin.render.import_log import parse_import_log, render_import_log
from sopfin.sheetspec import SheetSpec


@dataclass(frozen=True)
class Origin:
    """The command and its caller; ``source`` and ``sha256`` stand in for the file's name
    and hash when the data came another way (the API: the request body's hash)."""

    command: str = "import"
    author: str = ""  # '' : the OS user, as a close takes it
    source: str = ""
    sha256: str = ""


def import_record(origin: Origin, result: ImportResult, rows: int, *, at: str,
                  author: str) -> ImportRecord:
    """The record of writing ``result`` on its sheet at ``at`` (UTC) by ``author``, ``rows``
    source rows (or sheet rows) behind it."""
    return ImportRecord(recorded_at=at, author=author,
                        command=origin.command, source=origin.source or result.source,
                        sha256=origin.sha256 or result.source_sha256, sheet=result.target,
                        months=tuple(result.months), rows=rows,
                        totals=cents_totals(dict(result.totals)))


def logged(grid: Sequence[Sequence[object]] | None, record: ImportRecord
           ) -> tuple[SheetSpec | None, list[Issue]]:
    """The ``_Imports`` sheet with ``record`` added after what ``grid`` (the sheet now, None
    when there is none) holds; or the issue that stops the write: a row that is no record,
    which a rewrite would lose."""
    records, bad = parse_import_log(grid) if grid else ([], [])
    if bad:
        return None, [unreadable_log(bad)]
    return render_import_log([*records, record]), []
