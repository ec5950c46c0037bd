"""Where the data came from: the writes of data into input sheets (``sopfin import``,
``sopfin allocate``, the API's track and allocate), each an ``ImportRecord`` kept on the
``_Imports`` sheet (``sopfin.render.import_log``) until a close records it.

A record is pending (``version`` 0) from the import's save until the next close, which names
it in its ledger entry's note (``imports_note``, hashed and signed with the entry) and marks
it with the version (``recorded``). The note is the evidence; the sheet only says which
imports the next close has to record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.money import to_cents

COMMANDS = ("import", "allocate", "api-track", "api-allocate")
NOTE_LIMIT = 4000  # characters of imports kept on one ledger entry's note
HASH_SHOWN = 12  # hex digits of a source's SHA-256 in the note and on the Recon tab
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ImportRecord:
    """One write of data into an input sheet."""

    recorded_at: str  # UTC, ISO 8601 ('2027-04-02T09:15:00Z')
    author: str  # --author, the OS user, or the API token's name
    command: str  # one of COMMANDS
    source: str  # the source file's name, no folder (or what an allocation spread)
    sha256: str  # of the source's bytes (the API: of the request body); '' when none
    sheet: str  # the input sheet written
    months: tuple[str, ...]  # the months replaced on it
    rows: int  # source rows used (an allocation: the rows it fills)
    totals: tuple[tuple[str, float], ...]  # (measure, total to the cent), by measure
    version: int = 0  # the version whose close recorded it; 0 while pending

    @property
    def pending(self) -> bool:
        return self.version == 0


def cents_totals(totals: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """Totals by measure, rounded to the cent (``sopfin.money``), in the measures' order."""
    return tuple((m, to_cents(float(v))) for m, v in sorted(totals.items()))


def pending(records: Sequence[ImportRecord]) -> list[ImportRecord]:
    return [r for r in records if r.pending]


def recorded(records: Sequence[ImportRecord], version: int) -> list[ImportRecord]:
    """``records`` with the pending ones marked as recorded by ``version``."""
    return [replace(r, version=version) if r.pending else r for r in records]


def _month_number(month: str) -> int:
    match = _MONTH.match(month)
    if match is None:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def months_text(months: Sequence[str]) -> str:
    """'2027-01..2027-03', '2027-01..2027-02, 2027-05'; '' for none."""
    runs: list[list[str]] = []
    for month in sorted(set(months)):
        if runs and _month_number(month) == _month_number(runs[-1][-1]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def parse_months_text(text: str) -> tuple[str, ...]:
    """``months_text`` read back; ValueError when it is not that."""
    out: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("..")
        start, end = _month_number(first), _month_number(last or first)
        if end < start:
            raise ValueError(f"{part!r} runs backwards")
        out += [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(start, end + 1)]
    return tuple(out)


def totals_text(totals: Sequence[tuple[str, float]]) -> str:
    """'revenue 183,425.55; units 214.00'."""
    return "; ".join(f"{m} {v:,.2f}" for m, v in totals)


def parse_totals_text(text: str) -> tuple[tuple[str, float], ...]:
    out = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        measure, _, amount = part.rpartition(" ")
        if not measure:
            raise ValueError(f"{part!r} is not 'measure amount'")
        out.append((measure, float(amount.replace(",", ""))))
    return tuple(out)


def import_line(r: ImportRecord) -> str:
    """'imported Actuals from erp-sales-2027-q1.csv sha256:1a2b3c4d5e6f 60 rows
    2027-01..2027-03 by ana'."""
    verb = {"import": "imported", "api-track": "imported (API)", "allocate": "allocated",
            "api-allocate": "allocated (API)"}.get(r.command, r.command)
    digest = f" sha256:{r.sha256[:HASH_SHOWN]}" if r.sha256 else ""
    months = months_text(r.months) or "no months"
    rows = f"{r.rows} row" + ("" if r.rows == 1 else "s")
    return f"{verb} {r.sheet} from {r.source}{digest} {rows} {months} by {r.author}"


def imports_note(records: Sequence[ImportRecord]) -> str:
    """The pending imports as one part of a ledger entry's note, at most ``NOTE_LIMIT``
    characters (then 'and N more')."""
    parts = [import_line(r) for r in records]
    note = ""
    for k, part in enumerate(parts):
        if len(note) + len(part) > NOTE_LIMIT:
            return note + f"and {len(parts) - k} more import(s)"
        note += part + ("; " if k < len(parts) - 1 else "")
    return note


def unreadable_log(rows: Sequence[int], severity: Severity = Severity.ERROR) -> Issue:
    """Rows of ``_Imports`` that are no record: an import cannot add to the sheet without
    losing them (an error); a close records no import from it (a warning)."""
    shown = ", ".join(map(str, rows[:8])) + (f" and {len(rows) - 8} more" if rows[8:] else "")
    then = ("so sopfin cannot add to it without losing them" if severity is Severity.ERROR
            else "so this close records no import from it")
    return Issue(IssueCode.IMPORT_LOG_UNREADABLE, severity,
                 CellRef(layout.IMPORTS, f"A{rows[0]}"),
                 f"sheet {layout.IMPORTS} holds rows that are no import record (rows {shown}), "
                 f"{then}",
                 f"restore sheet {layout.IMPORTS} from a copy of the workbook, or delete "
                 "those rows")
