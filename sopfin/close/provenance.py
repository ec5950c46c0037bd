"""Where a ledger belongs and what it describes: the workbook identity, the inputs each
entry was published on, the state of the published tabs, and a head kept outside the file.

A workbook gets a random identity at its first close (kept outside its sheets, see
``sopfin.xlsx.marks``); every entry records it, so ledger rows and tabs copied into another
workbook no longer match the workbook they sit in. Every publish entry records the hash of
each input sheet, so verify and close can say which sheets changed since the latest version.
Deleting the newest entries and their tabs leaves a ledger that verifies: only a head kept
elsewhere (``close --head-file``, ``verify --head``) shows the copy is behind it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from sopfin import layout
from sopfin.close.digests import InputFingerprint
from sopfin.close.ledger import LEDGER_COLUMNS, PUBLISH, LedgerEntry, head_hash
from sopfin.close.ledger_checks import finding
from sopfin.model import CellRef, Issue, IssueCode

_HEAD = re.compile(r"[0-9a-f]{64}")


def new_workbook_id() -> str:
    return str(uuid.uuid4())


def sheets_text(hashes: Mapping[str, str]) -> str:
    """``{'Demand': 'ab..'}`` -> ``'Demand=ab..;Prices=..'`` for the ledger's input_sheets."""
    return ";".join(f"{name}={digest}" for name, digest in sorted(hashes.items()))


def parse_sheets(text: str) -> dict[str, str]:
    pairs = (item.rpartition("=") for item in text.split(";") if item)
    return {name: digest for name, _, digest in pairs if name}


def _ledger_ref(index: int, column: str) -> CellRef:
    col = layout.column_letter(LEDGER_COLUMNS.index(column) + 1)
    return CellRef(layout.LEDGER, f"{col}{layout.FIRST_DATA_ROW + index}")


def identity_findings(ledger: Sequence[LedgerEntry], workbook_id: str | None) -> list[Issue]:
    """The first entry published in another workbook than this one, if any."""
    for i, entry in enumerate(ledger):
        if not entry.workbook_id or entry.workbook_id == workbook_id:
            continue
        here = f"this workbook is {workbook_id}" if workbook_id else \
            "this workbook carries no identity"
        return [finding(IssueCode.FOREIGN_LEDGER, entry.version, _ledger_ref(i, "workbook_id"),
                        f"ledger row seq {entry.seq} ({entry.event} v{entry.version}) was "
                        f"written in workbook {entry.workbook_id}, but {here}: the ledger and "
                        "its tabs were copied in from another workbook")]
    return []


def identity_note(ledger: Sequence[LedgerEntry]) -> str | None:
    """A note for a ledger written before entries carried the workbook identity."""
    if not ledger or ledger[-1].workbook_id:
        return None
    return ("note: the latest ledger entry carries no workbook identity (written by an "
            "earlier sopfin): a ledger copied in from another workbook cannot be told apart "
            "until the next close records one")


def latest_publish(ledger: Sequence[LedgerEntry]) -> LedgerEntry | None:
    return next((e for e in reversed(ledger) if e.event == PUBLISH), None)


def input_changes(ledger: Sequence[LedgerEntry], current: InputFingerprint,
                  recorded_rows: Mapping[str, Mapping[int, str]] | None = None,
                  ) -> list[Issue]:
    """Warnings when the inputs differ from those the latest version was published on: one
    per changed, added or removed sheet, naming the rows that differ when ``recorded_rows``
    (the row digests of that version) are known; one for the ledger when the entry predates
    per-sheet hashes."""
    entry = latest_publish(ledger)
    if entry is None or entry.input_hash == current.inputs_hash:
        return []
    since = f"inputs changed since v{entry.version:03d}"
    recorded = parse_sheets(entry.input_sheets)
    if not recorded:
        return [finding(IssueCode.INPUTS_CHANGED, entry.version, CellRef(layout.LEDGER),
                        f"{since}: the input hash differs from the one v{entry.version:03d} "
                        "recorded (its entry names no sheets); close again to publish the "
                        "current plan")]
    out = []
    for name in sorted(set(recorded) | set(current.sheets)):
        was, now = recorded.get(name), current.sheets.get(name)
        if was == now:
            continue
        where, what = CellRef(name), "the sheet was added" if was is None else (
            "the sheet was removed" if now is None else "its cells differ")
        if was is not None and now is not None and recorded_rows is not None:
            rows = changed_rows(recorded_rows.get(name, {}), current.rows.get(name, {}))
            if rows:
                where, what = CellRef(name, f"{rows[0]}:{rows[0]}"), \
                    f"its cells differ in {_row_list(rows)}"
        out.append(finding(IssueCode.INPUTS_CHANGED, entry.version, where,
                           f"{since}: {what} (a plan edited after its close, or published "
                           "tabs copied in from another workbook)"))
    return out


def changed_rows(was: Mapping[int, str], now: Mapping[int, str]) -> list[int]:
    return sorted(r for r in set(was) | set(now) if was.get(r) != now.get(r))


def _row_list(rows: Sequence[int], limit: int = 8) -> str:
    """'row 14', 'rows 14, 27-29', '... and 40 more rows'."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    parts = [f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs[:limit]]
    more = sum(len(r) for r in runs[limit:])
    tail = f" and {more} more row(s)" if more else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {', '.join(parts)}{tail}"


def guard_findings(versions: Sequence[int], guards: Mapping[str, object]) -> list[Issue]:
    """Warnings for published tabs that are no longer visible or no longer protected."""
    out = []
    for version in versions:
        name = layout.recon_tab_name(version)
        guard = guards.get(name)
        if guard is None:
            continue
        state = getattr(guard, "state", "visible")
        if state != "visible":
            out.append(finding(IssueCode.TAB_HIDDEN, version, CellRef(name),
                               f"published visible, now {state}: unhide it (Format > Sheet > "
                               "Unhide) so readers see the version"))
        if not getattr(guard, "protected", True):
            out.append(finding(IssueCode.TAB_UNPROTECTED, version, CellRef(name),
                               "published protected, now unprotected: its cells are still "
                               "checked by hash, but anyone can type into it"))
    return out


class HeadFormatError(ValueError):
    """A kept ledger head (``--head``, ``--head-file``) that is no 64-digit hex hash."""


def parse_head(text: str, source: str) -> str:
    """The ledger head in ``text`` (a 64-digit hex hash, first on its line);
    ``HeadFormatError`` naming ``source`` otherwise."""
    token = (text.split() or [""])[0].lower()
    if not _HEAD.fullmatch(token):
        raise HeadFormatError(f"{source}: expected a ledger head (64 hex digits), found "
                         f"{token[:70]!r}")
    return token


def head_text(ledger: Sequence[LedgerEntry], workbook: str) -> str:
    """What a head file holds: the head, then what it is the head of."""
    last = ledger[-1]
    return (f"{head_hash(ledger)}\n# ledger head of {workbook}: entry seq {last.seq} "
            f"({last.event} v{last.version:03d}, {last.timestamp})\n")


def head_check(ledger: Sequence[LedgerEntry], kept: str) -> tuple[list[Issue], str]:
    """Is this ledger at, or ahead of, a head kept outside the workbook?"""
    hashes = [e.entry_hash for e in ledger]
    if kept not in hashes:
        return [finding(IssueCode.BEHIND_HEAD, 0, CellRef(layout.LEDGER),
                        f"the kept ledger head {kept[:12]}... is not in this ledger: entries "
                        "after it were removed (a rollback, or an older copy), or the ledger "
                        "is another workbook's")], ""
    seq = hashes.index(kept) + 1
    if seq == len(hashes):
        return [], f"ledger head matches the kept head (entry seq {seq})"
    return [], (f"the kept head is entry seq {seq}; this copy has {len(hashes) - seq} later "
                "entr(y/ies)")
