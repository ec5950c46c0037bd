"""The ledger and the published tabs as a workbook holds them: read, and checked.

Publish and verify both start here: ``load_ledger`` reads the hidden ledger sheet,
``ledger_findings`` checks it and the ``Recon vNNN`` tabs (``sopfin.close.ledger_checks``)
together with the workbook identity, reading only the tabs whose part is no longer the one
written (``intact_tabs``; ``TabSeal`` records each new tab's part digest as it is written).
``ledger_state`` says whether a spreadsheet app showed the ledger sheet,
``input_fingerprint`` / ``recorded_input_rows`` say what the inputs are now and what the
latest version was published on, and ``import_log`` what was imported.
"""

from __future__ import annotations

import hmac as hmac_lib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sopfin import layout
from sopfin.close import provenance
from sopfin.close.digests import InputFingerprint, inputs_fingerprint
from sopfin.close.imported import ImportRecord, unreadable_log
from sopfin.close.ledger import (
    APPROVED,
    PUBLISH,
    KeyRequiredError,
    LedgerEntry,
    compute_entry_hash,
    compute_hmac,
    current_status,
    key_refusal,
    stored_digests_of,
    with_tab_part,
)
from sopfin.close.ledger_checks import finding, verify_ledger
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.render.import_log import parse_import_log
from sopfin.render.input_rows import parse_input_rows
from sopfin.render.ledger import parse_ledger, render_ledger
from sopfin.render.recon import snapshot_from_cells
from sopfin.render.recon_seal import hashed_cells, recon_claim
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import Reseal, Workbook
from sopfin.xlsx.errors import WorkbookError

if TYPE_CHECKING:
    from sopfin.close.rowtable import MonthTable


class LedgerUnreadableError(WorkbookError):
    """A ledger cell holds what no ledger entry can (a seq that is not a whole number...)."""


def load_ledger(book: Workbook) -> list[LedgerEntry]:
    raw = book.read_raw_sheets([layout.LEDGER])
    sheet = raw.get(layout.LEDGER)
    try:
        return parse_ledger(sheet.rows) if sheet is not None else []
    except ValueError as exc:
        raise LedgerUnreadableError(book.name, f"the version ledger cannot be read ({exc})",
                                    "restore the workbook from a copy that verifies") from None


def approved_snapshot(book: Workbook, ledger: Sequence[LedgerEntry],
                      ) -> MonthTable | None:
    """The plan of record of the last approved version (what actuals are measured against),
    read from its published tab; None when nothing is approved yet."""
    approved = [v for v, s in current_status(ledger).items() if s == APPROVED]
    if not approved:
        return None
    name = layout.recon_tab_name(max(approved))
    cells = book.read_cells([name]).get(name)
    return snapshot_from_cells(cells) if cells else None


def recon_versions(book: Workbook) -> list[int]:
    """Versions of the Recon vNNN tabs present in the workbook."""
    return sorted(int(name[len(layout.RECON_PREFIX):]) for name in book.sheet_names()
                  if layout.is_recon_name(name))


def ledger_findings(book: Workbook, ledger: Sequence[LedgerEntry],
                    key: bytes | None, *, deep: bool = False) -> list[Issue]:
    """Every finding about the ledger, the tabs it publishes and the workbook it belongs to.
    A tab whose part still has the digest its publish entry recorded is as published and is
    not read; ``deep`` reads and re-hashes every tab all the same."""
    names = {v: layout.recon_tab_name(v) for v in recon_versions(book)}
    intact = set() if deep else intact_tabs(book, ledger, names, key)
    scan = {v: name for v, name in names.items() if v not in intact}
    cells = book.read_cells(list(scan.values())) if scan else {}
    tabs = {v: hashed_cells(cells.get(name, {})) for v, name in scan.items()}
    claims = {v: recon_claim(cells.get(name, {})) for v, name in scan.items()}
    return (verify_ledger(ledger, tabs, key, ledger_sheet=layout.LEDGER,
                          tab_name=layout.recon_tab_name, claims=claims, intact=intact)
            + provenance.identity_findings(ledger, book.workbook_id()))


def intact_tabs(book: Workbook, ledger: Sequence[LedgerEntry],
                names: Mapping[int, str], key: bytes | None = None) -> set[int]:
    """The versions whose tab's part has the digest the version's publish entry recorded
    (``LedgerEntry.tab_part``), so its cells are as published. Only an entry that hashes to
    its ``entry_hash`` (and, with ``key``, carries a matching hmac) is taken at its word: the
    tab of an altered entry gets the full check, which names what changed in it.

    First without inflating anything: a tab whose own publish entry is sound and whose zip
    entry has the stored digest the latest sound entry records for it
    (``LedgerEntry.tab_bytes``) holds the bytes that close stored; only the other tabs are
    inflated and hashed."""
    recorded: dict[int, str] = {}
    stored: dict[int, str] = {}
    for entry in ledger:
        sound = _sound(entry, key)
        if entry.event == PUBLISH and entry.version in names and entry.version not in recorded:
            recorded[entry.version] = entry.tab_part if sound else ""
        if sound:
            stored.update({v: d for v, d in stored_digests_of(entry).items() if v in names})
    stored = {v: digest for v, digest in stored.items() if recorded.get(v)}
    found = book.entry_digests([names[v] for v in stored]) if stored else {}
    intact = {v for v in stored if found.get(names[v]) == stored[v]}
    wanted = {v: names[v] for v, part in recorded.items() if part and v not in intact}
    found = book.part_digests(wanted.values()) if wanted else {}
    return intact | {v for v, name in wanted.items() if found.get(name) == recorded[v]}


def _sound(entry: LedgerEntry, key: bytes | None) -> bool:
    if compute_entry_hash(entry) != entry.entry_hash:
        return False
    return key is None or hmac_lib.compare_digest(compute_hmac(entry, key), entry.hmac)


class TabSeal:
    """The ledger of a close, resealed once its new tab is written (``Reseal``): the publish
    entry records the digest of the tab's part (``with_tab_part``). ``entry`` is the entry
    as written: the one given until the write calls ``sheet``."""

    def __init__(self, ledger: Sequence[LedgerEntry], entry: LedgerEntry, tab: str,
                 key: bytes | None) -> None:
        self.ledger, self.entry, self.tab, self.key = list(ledger), entry, tab, key

    def reseal(self) -> Reseal:
        return Reseal(layout.LEDGER, self.sheet)

    def sheet(self, digests: Mapping[str, str], stored: Mapping[str, str]) -> SheetSpec:
        part = digests.get(self.tab, "")
        if part:
            tabs = {int(name[len(layout.RECON_PREFIX):]): digest
                    for name, digest in stored.items() if layout.is_recon_name(name)}
            self.entry = with_tab_part(self.entry, part, self.key, tabs)
        return render_ledger([*self.ledger, self.entry])


def require_key_policy(book: Workbook, ledger: Sequence[LedgerEntry],
                       key: bytes | None, doing: str) -> None:
    """Raise ``KeyRequiredError`` when ``ledger`` may not be extended with (or without)
    ``key``: one unsigned entry in a keyed ledger fails every keyed verify after it."""
    reason = key_refusal(ledger, key)
    if reason is not None:
        raise KeyRequiredError(f"{book.name}: not {doing}: {reason}")


def input_fingerprint(raw: Mapping[str, object]) -> InputFingerprint:
    """The hashes of the sheets a close reads: all of them, each sheet, each row."""
    return inputs_fingerprint(_grids(raw))


def recorded_input_rows(book: Workbook, ledger: Sequence[LedgerEntry],
                        ) -> dict[str, dict[int, str]] | None:
    """The row digests the latest version was published on, from ``_Inputs``; None when the
    sheet is missing, unreadable or from another close."""
    latest = provenance.latest_publish(ledger)
    sheet = book.read_raw_sheets([layout.INPUT_ROWS]).get(layout.INPUT_ROWS)
    parsed = parse_input_rows(sheet.rows) if sheet is not None and latest else None
    if parsed is None or latest is None or parsed[0] != latest.input_hash:
        return None
    return parsed[1]


def import_log(book: Workbook) -> tuple[list[ImportRecord], list[Issue]]:
    """The import records on ``_Imports`` (the pending ones are what the next close records);
    none, and a warning, when a row of it is no record."""
    sheet = book.read_raw_sheets([layout.IMPORTS]).get(layout.IMPORTS)
    records, bad = parse_import_log(sheet.rows) if sheet is not None else ([], [])
    if bad:
        return [], [unreadable_log(bad, Severity.WARNING)]
    return records, []


def ledger_state(book: Workbook) -> list[Issue]:
    """A warning when the ledger sheet is visible or plainly hidden: a spreadsheet app's save
    (LibreOffice) does that; sopfin's next write puts it back."""
    state = book.sheet_states().get(layout.LEDGER)
    if state is None or state == layout.LEDGER_STATE:
        return []
    return [finding(IssueCode.LEDGER_SHOWN, 0, CellRef(layout.LEDGER),
                    f"the ledger sheet is {state}, not very hidden (a spreadsheet app's save "
                    "can do this)", "the next sopfin dollarize, close or approve hides it again")]


def _grids(raw: Mapping[str, object]) -> dict[str, list[list[object]]]:
    return {name: getattr(sheet, "rows", []) for name, sheet in sorted(raw.items())}

