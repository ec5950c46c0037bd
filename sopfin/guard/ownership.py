"""Which sheets are sopfin's, when a spreadsheet app's save may have changed the owner mark.

sopfin marks every sheet it writes with the hidden, sheet-scoped name ``_sopfin_owned``. Excel
and openpyxl keep it as written; LibreOffice keeps it spelled ``TRUE()`` and no longer hidden
(``layout.is_owner_mark_value`` accepts every such spelling). A tool that drops defined names
altogether leaves sopfin's sheets unmarked; their content still proves them sopfin's:

- ``_Ledger``: its rows parse as ledger entries whose hash chain recomputes, from the first
  entry's genesis link to the last; no sheet typed by hand does that.
- ``Recon vNNN``: a proven ledger publishes version NNN, and the tab's content hash is the
  recon hash that entry records.
- the output sheets (``Revenue`` ... ``Issues``): the title row sopfin writes in A1
  (``company | what | currency | scenarios: ... | generated YYYY-MM-DD HH:MM UTC``), with
  nothing else in row 1 but the row's hidden fingerprint.
- ``_Inputs``: its rows parse as input-row digests, and the inputs hash in B1 is one a proven
  ledger recorded.
- ``_Imports``: its header row is the import log's and every further row reads back as an
  import record (``sopfin.render.import_log``).

A sheet that merely shares a name with one of sopfin's proves nothing and is never written.
A proven sheet is marked again on sopfin's next write.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from sopfin import layout
from sopfin.close.digests import content_hash
from sopfin.close.ledger import PUBLISH, LedgerEntry
from sopfin.close.ledger_checks import verify_ledger
from sopfin.guard.fingerprints import MARK as FINGERPRINT_MARK
from sopfin.model import IssueCode
from sopfin.workbook import Workbook

OUTPUT_TITLE = re.compile(r".+ \| scenarios: [^|]* \| generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
_CHAIN_CODES = frozenset({IssueCode.ENTRY_ALTERED, IssueCode.BROKEN_CHAIN, IssueCode.REORDERED,
                          IssueCode.MISSING_ENTRY})


def _candidates(names: Sequence[str], marked: Collection[str]) -> list[str]:
    """Unmarked sheets that carry one of sopfin's names."""
    ours = {*layout.OUTPUT_SHEET_NAMES, layout.LEDGER, layout.INPUT_ROWS, layout.IMPORTS}
    return [n for n in names if n not in marked and (n in ours or layout.is_recon_name(n))]


def _titled(rows: Sequence[Sequence[object]]) -> bool:
    first = rows[0] if rows else []
    title = first[0] if first else None
    return (isinstance(title, str) and OUTPUT_TITLE.fullmatch(title) is not None
            and not any(v not in (None, "") and not _fingerprint(v) for v in first[1:]))


def _fingerprint(value: object) -> bool:
    """The hidden row fingerprint sopfin writes after a row's content
    (``sopfin.guard.fingerprints``)."""
    return isinstance(value, str) and value.startswith(FINGERPRINT_MARK)


def chained_ledger(rows: Sequence[Sequence[object]]) -> list[LedgerEntry] | None:
    """The ledger entries of a sheet's rows when they parse and their chain recomputes."""
    from sopfin.render.ledger import parse_ledger  # render imports the core, not the reverse

    try:
        entries = parse_ledger(rows)
    except ValueError:
        return None
    if not entries:
        return None
    findings = verify_ledger(entries, {}, None)
    return None if any(f.code in _CHAIN_CODES for f in findings) else entries


def _proven_tabs(book: Workbook, tabs: Sequence[str],
                 ledger: Sequence[LedgerEntry]) -> set[str]:
    from sopfin.render.recon_seal import hashed_cells

    published = {layout.recon_tab_name(e.version): e.recon_hash for e in ledger
                 if e.event == PUBLISH}
    wanted = [t for t in tabs if t in published]
    cells: Mapping[str, Mapping[str, object]] = book.read_cells(wanted) if wanted else {}
    return {t for t in wanted if t in cells
            and content_hash(hashed_cells(cells[t])) == published[t]}


def _recorded_input_rows(rows: Sequence[Sequence[object]],
                         ledger: Sequence[LedgerEntry]) -> bool:
    from sopfin.render.input_rows import parse_input_rows

    parsed = parse_input_rows(rows)
    return parsed is not None and parsed[0] in {e.input_hash for e in ledger}


def _import_log(rows: Sequence[Sequence[object]]) -> bool:
    from sopfin.render.import_log import parse_import_log

    records, bad = parse_import_log(rows)
    return bool(records) and not bad


def proven_sheets(book: Workbook, marked: Collection[str]) -> set[str]:
    """The unmarked sheets whose content proves them sopfin's (see the module docstring).
    Reads nothing when every sheet with one of sopfin's names is marked."""
    candidates = _candidates(book.sheet_names(), marked)
    if not candidates:
        return set()
    plain = [n for n in candidates if not layout.is_recon_name(n)]
    needs_ledger = len(plain) < len(candidates) or layout.INPUT_ROWS in plain
    want_ledger = layout.LEDGER in marked and needs_ledger
    raw = book.read_raw_sheets([*plain, *([layout.LEDGER] if want_ledger else [])])
    proven = {n for n in plain if n in layout.OUTPUT_SHEET_NAMES and n in raw
              and _titled(raw[n].rows)}
    ledger = chained_ledger(raw[layout.LEDGER].rows) if layout.LEDGER in raw else None
    if ledger is not None and layout.LEDGER in plain:
        proven.add(layout.LEDGER)
    if ledger is not None and layout.INPUT_ROWS in plain and layout.INPUT_ROWS in raw \
            and _recorded_input_rows(raw[layout.INPUT_ROWS].rows, ledger):
        proven.add(layout.INPUT_ROWS)
    if layout.IMPORTS in raw and _import_log(raw[layout.IMPORTS].rows):
        proven.add(layout.IMPORTS)
    tabs = [n for n in candidates if layout.is_recon_name(n)]
    if tabs and ledger is not None:
        proven |= _proven_tabs(book, tabs, ledger)
    return proven
