"""The version ledger: an append-only, hash-chained log of published reconciliations.

Each monthly close publishes a frozen tab ``Recon vNNN`` and appends a ``publish`` entry to a
hidden ledger sheet; sign-off appends an ``approve`` entry. ``verify_ledger`` proves the
ledger and the tabs are what was written, and says which cell or row was changed if not.

Entries. ``entry_hash`` is SHA-256 over ``entry_bytes``: every other field except ``hmac``,
in ``LEDGER_COLUMNS`` order, each as a netstring (``<byte length>:<UTF-8 NFC bytes>,``) after a
format tag, so no field can bleed into the next and no locale is involved. ``prev_hash`` is
the previous entry's ``entry_hash`` (64 zeros for the first): a hash chain. With a secret key,
``hmac`` = HMAC-SHA256(key, entry_bytes); without one it is ''. An ``approve`` entry repeats
the ``recon_hash`` of the version it approves, so an approval is bound to content.

Tab content. ``canonical_cells`` sorts the cells by (row, column) and writes each as a typed
netstring record; numbers are rounded to cents (``sopfin.money.to_cents``) and written as an
integer count of cents, so float noise below a cent (Excel vs LibreOffice recalculation) does
not change the hash. Consequences: a ratio cell (0.1234) is only compared to two decimals, and
noise that straddles a half cent changes the hash. ``inputs_hash`` hashes the raw input grids
with exact numbers instead: inputs are stored doubles, not recalculated, and a price change
from 0.0125 to 0.0124 per unit is a real change.

Naming the changed cells. The published tab carries one hidden digest cell per content row
(``digest_cells`` builds them; the adapter picks the column). Its text is
``sopfin-digest/1 B=v1a2b3c4d C=f0badcafe``: per cell of that row, the column, the kind
(``v`` value, ``f`` formula) and the first 32 bits of SHA-256 over the cell's canonical record,
which includes the cell's own reference. The digest cells are part of the tab, so part of
``recon_hash``. When a tab's hash differs, verify recomputes the digests and names every cell
whose digest differs, was cleared or was added; a formula replaced by a constant is reported
as such. No copy of the values is stored: the digests only say *which* cells changed, the
published values come from an archived copy. ``recon_hash`` remains the authority; the digests
only localise (a changed cell escapes naming with probability 2**-32).

Workbook identity. From the first close a workbook carries a random identity
(``sopfin.close.provenance``) outside its sheets; each entry records it in ``workbook_id`` and the
per-sheet input hashes in ``input_sheets``. Such an entry is hashed in the format
``sopfin/ledger-entry/2`` over every column; an entry without either field keeps the
original format ``sopfin/ledger-entry/1`` over ``LEDGER_COLUMNS_V1``, so a ledger written
before them verifies as it did.

What an attacker holding the workbook can do, and what verify says with and without the key,
is the threat-model table in docs/workbook.md, generated from ``sopfin.close.threats.THREATS``.
Anyone with the key can forge anything: keep it out of the workbook.
"""

from __future__ import annotations

import enum
import hashlib
import hmac as hmac_lib
import itertools
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

from sopfin import layout
from sopfin.close.digests import (  # noqa: F401  (re-exported: the ledger's hashes of content)
    DIGEST_MARKER,
    FormulaCell,
    _netstring,
    _position,
    canonical_cells,
    cell_digests,
    content_hash,
    digest_cells,
    inputs_fingerprint,
    inputs_hash,
    recorded_digests,
)
from sopfin.layout import FIRST_DATA_ROW, column_letter
from sopfin.model import CellRef, Severity

LEDGER_COLUMNS_V1 = ("seq", "event", "version", "cycle", "timestamp", "author", "status",
                     "input_hash", "recon_hash", "prev_hash", "entry_hash", "hmac", "note")
LEDGER_COLUMNS = (*LEDGER_COLUMNS_V1, "workbook_id", "input_sheets")
LEDGER_SHEET = layout.LEDGER
GENESIS_HASH = "0" * 64
PUBLISH, APPROVE = "publish", "approve"
DRAFT, APPROVED = "draft", "approved"
STATUS_OF_EVENT = {PUBLISH: DRAFT, APPROVE: APPROVED}
KEY_ENV, KEY_FILE_ENV = "SOPFIN_KEY", "SOPFIN_KEY_FILE"
MAX_KEY_FILE_BYTES = 4096


recon_tab_name = layout.recon_tab_name


class LedgerKeyError(Exception):
    """The ledger key is configured but cannot be read or is empty."""


class KeyRequiredError(LedgerKeyError):
    """Extending a keyed ledger without the key, or a keyed one with unsigned entries."""


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    event: str
    version: int
    cycle: str
    timestamp: str
    author: str
    status: str
    input_hash: str
    recon_hash: str
    prev_hash: str
    entry_hash: str
    hmac: str
    note: str = ""
    workbook_id: str = ""  # the identity of the workbook the entry was written in
    input_sheets: str = ""  # 'Demand=<16 hex>;Prices=...': each input sheet's hash


assert tuple(f.name for f in fields(LedgerEntry)) == LEDGER_COLUMNS


# --- building the ledger -------------------------------------------------------------------

def entry_bytes(entry: LedgerEntry) -> bytes:
    """What ``entry_hash`` and ``hmac`` cover: every field but those two, in column order
    (format 1, without the identity columns, for an entry that has neither)."""
    current = bool(entry.workbook_id or entry.input_sheets)
    columns = LEDGER_COLUMNS if current else LEDGER_COLUMNS_V1
    parts = [_netstring("sopfin/ledger-entry/2" if current else "sopfin/ledger-entry/1")]
    parts += [_netstring(f"{name}={_field_text(getattr(entry, name))}")
              for name in columns if name not in ("entry_hash", "hmac")]
    return b"".join(parts)


def _field_text(value: object) -> str:
    """An empty cell reads back as None and a whole number may read back as 3.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def compute_entry_hash(entry: LedgerEntry) -> str:
    return hashlib.sha256(entry_bytes(entry)).hexdigest()


def compute_hmac(entry: LedgerEntry, key: bytes) -> str:
    return hmac_lib.new(key, entry_bytes(entry), hashlib.sha256).hexdigest()


def head_hash(ledger: Sequence[LedgerEntry]) -> str:
    """The last entry's hash: keep it outside the workbook to detect a truncated ledger."""
    return ledger[-1].entry_hash if ledger else GENESIS_HASH


def new_entry(ledger: Sequence[LedgerEntry], *, event: str, version: int, cycle: str,
              timestamp: str, author: str, status: str, input_hash: str, recon_hash: str,
              note: str = "", key: bytes | None = None, workbook_id: str = "",
              input_sheets: str = "") -> LedgerEntry:
    """The entry to append to ``ledger``: sequenced, chained and (with a key) authenticated."""
    if STATUS_OF_EVENT.get(event) != status:
        raise ValueError(f"event {event!r} with status {status!r}: expected one of "
                         f"{STATUS_OF_EVENT}")
    draft = LedgerEntry(seq=len(ledger) + 1, event=event, version=version, cycle=cycle,
                        timestamp=timestamp, author=author, status=status,
                        input_hash=input_hash, recon_hash=recon_hash,
                        prev_hash=head_hash(ledger), entry_hash="", hmac="", note=note,
                        workbook_id=workbook_id, input_sheets=input_sheets)
    sealed = replace(draft, entry_hash=compute_entry_hash(draft))
    return sealed if key is None else replace(sealed, hmac=compute_hmac(sealed, key))


def key_refusal(ledger: Sequence[LedgerEntry], key: bytes | None) -> str | None:
    """Why an entry may not be appended to ``ledger`` with (or without) ``key``; None if it
    may. A ledger is keyed from its first hmac on: every entry of it must carry one, or a
    keyed verify fails for good."""
    signed = sum(1 for e in ledger if e.hmac)
    if signed and key is None:
        return (f"the ledger is keyed ({signed} of its {len(ledger)} entries carry an hmac) "
                f"but no key was given; pass --key-file or set {KEY_ENV} or {KEY_FILE_ENV}")
    if key is not None and signed < len(ledger):
        return (f"{len(ledger) - signed} of the ledger's {len(ledger)} entries carry no hmac; "
                "sign them with the key first: sopfin rekey PATH --confirm")
    return None


def signed_ledger(ledger: Sequence[LedgerEntry], key: bytes) -> list[LedgerEntry]:
    """``ledger`` with an hmac under ``key`` on every entry that has none. Entry hashes, and
    so the chain and the head, do not change: the hmac is not part of ``entry_bytes``."""
    return [e if e.hmac else replace(e, hmac=compute_hmac(e, key)) for e in ledger]


def next_version(ledger: Sequence[LedgerEntry]) -> int:
    return max((e.version for e in ledger if e.event == PUBLISH), default=0) + 1


def current_status(ledger: Sequence[LedgerEntry]) -> dict[int, str]:
    """Version -> 'draft' / 'approved', replaying the events in ledger order."""
    status: dict[int, str] = {}
    for entry in ledger:
        if entry.event == PUBLISH:
            status.setdefault(entry.version, DRAFT)
        elif entry.event == APPROVE and entry.version in status:
            status[entry.version] = APPROVED
    return status


def load_key(env: Mapping[str, str], key_file: str | None = None) -> bytes | None:
    """The ledger key: ``key_file`` if given, else ``SOPFIN_KEY``, else ``SOPFIN_KEY_FILE``.

    A key written as 32 or more hex digits is decoded as hex; anything else is used as its
    UTF-8 bytes (file content: raw bytes). Surrounding whitespace is ignored.
    """
    if key_file is None and env.get(KEY_ENV, "").strip():
        return _decode_key(env[KEY_ENV].strip().encode("utf-8"), KEY_ENV)
    path = key_file or env.get(KEY_FILE_ENV, "").strip()
    if not path:
        return None
    try:
        raw = _read_key_file(path)
    except OSError as err:
        raise LedgerKeyError(f"cannot read the ledger key file {path}: {err}") from err
    return _decode_key(raw.strip(), path)


def _read_key_file(path: str) -> bytes:
    """At most MAX_KEY_FILE_BYTES of a regular file: never a device, pipe or folder (opened
    without blocking, so a pipe with no writer cannot hang the command)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LedgerKeyError(f"the ledger key file {path} is not a regular file (a "
                                 "device, pipe or folder); give the path of a key file")
        raw = fh.read(MAX_KEY_FILE_BYTES + 1)
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise LedgerKeyError(f"the ledger key file {path} is over {MAX_KEY_FILE_BYTES} bytes; "
                             "a key is 32 to 64 bytes: is this the right file?")
    return raw


def _decode_key(raw: bytes, source: str) -> bytes:
    if not raw:
        raise LedgerKeyError(f"the ledger key from {source} is empty")
    if re.fullmatch(rb"(?:[0-9a-fA-F]{2}){16,}", raw):
        return bytes.fromhex(raw.decode("ascii"))
    return raw


# --- verification --------------------------------------------------------------------------

class FindingKind(enum.StrEnum):
    TAMPERED_CELL = "tampered-cell"  # a recon cell differs from its published digest
    OVERWRITTEN_FORMULA = "overwritten-formula"  # a published formula now holds a constant
    TAMPERED_TAB = "tampered-tab"  # a recon tab differs, and its cells cannot be named
    MISSING_TAB = "missing-tab"
    EXTRA_TAB = "extra-tab"  # a recon tab no ledger entry publishes
    ENTRY_ALTERED = "entry-altered"  # a ledger row no longer matches its entry_hash
    BROKEN_CHAIN = "broken-chain"  # prev_hash is not the previous row's entry_hash
    REORDERED = "reordered"  # seq numbers out of order or repeated
    MISSING_ENTRY = "missing-entry"  # a seq number is absent: a row was deleted
    INVALID_EVENT = "invalid-event"  # an event the ledger's rules do not allow
    HMAC_MISMATCH = "hmac-mismatch"
    HMAC_MISSING = "hmac-missing"  # no hmac on a row of a ledger whose other rows have one
    HMAC_UNCHECKED = "hmac-unchecked"  # hmacs present but no key, or no hmac at all
    SWAPPED_TAB = "swapped-tab"  # a recon tab holds another version's published content
    FOREIGN_TAB = "foreign-tab"  # a sealed recon tab that this ledger did not publish
    FOREIGN_LEDGER = "foreign-ledger"  # entries published in another workbook
    BEHIND_HEAD = "behind-head"  # a head kept outside the workbook is not in the ledger
    INPUTS_CHANGED = "inputs-changed"  # the inputs differ from those of the latest version
    TAB_HIDDEN = "tab-hidden"  # a published tab is no longer visible
    TAB_UNPROTECTED = "tab-unprotected"  # a published tab lost its sheet protection
    LEDGER_SHOWN = "ledger-shown"  # the ledger sheet is not very hidden (an app's save)


WARNING_KINDS = frozenset({FindingKind.HMAC_UNCHECKED, FindingKind.INPUTS_CHANGED,
                           FindingKind.TAB_HIDDEN, FindingKind.TAB_UNPROTECTED,
                           FindingKind.LEDGER_SHOWN})


@dataclass(frozen=True)
class TabClaim:
    """What a recon tab's header says of itself: its version and its own hash."""

    version: int | None
    recon_hash: str


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    version: int  # 0 when the finding is about the ledger as a whole
    where: CellRef | str
    message: str

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.kind in WARNING_KINDS else Severity.ERROR

    def format(self, workbook: str = "") -> str:
        loc = "!".join(p for p in (workbook, str(self.where)) if p)
        return f"{loc}: {self.message}" if loc else self.message


def _short(digest: str) -> str:
    return f"{digest[:12]}..." if len(digest) > 12 else repr(digest)


@dataclass(frozen=True)
class _Context:
    ledger: Sequence[LedgerEntry]
    sheet: str

    def ref(self, index: int, column: str) -> CellRef:
        col = column_letter(LEDGER_COLUMNS.index(column) + 1)
        return CellRef(self.sheet, f"{col}{FIRST_DATA_ROW + index}")

    def finding(self, kind: FindingKind, index: int, column: str, message: str) -> Finding:
        entry = self.ledger[index]
        label = f"ledger row seq {entry.seq} ({entry.event} v{entry.version})"
        return Finding(kind, entry.version, self.ref(index, column), f"{label}: {message}")


MISSING_NAMED = 20  # missing seqs named one by one; more are counted


def _check_sequence(ctx: _Context) -> list[Finding]:
    seqs = [e.seq for e in ctx.ledger]
    if seqs == list(range(1, len(seqs) + 1)):
        return []
    out, seen = [], set()
    for i, seq in enumerate(seqs):
        if seq in seen:
            out.append(ctx.finding(FindingKind.REORDERED, i, "seq",
                                   f"seq {seq} appears twice; each seq is used once"))
        elif i and seq < seqs[i - 1]:
            out.append(ctx.finding(FindingKind.REORDERED, i, "seq",
                                   f"expected a seq after {seqs[i - 1]}, found {seq}: "
                                   "rows were moved; sort the ledger back by seq"))
        seen.add(seq)
    top = max(seqs)
    missing = top - len({s for s in seen if 1 <= s <= top})
    gaps = (s for s in range(1, top + 1) if s not in seen)  # lazily: a seq may be huge
    for seq in itertools.islice(gaps, MISSING_NAMED):
        out.append(Finding(FindingKind.MISSING_ENTRY, 0, CellRef(ctx.sheet),
                           f"ledger entry seq {seq} is missing: a row was deleted"))
    if missing > MISSING_NAMED:
        out.append(Finding(FindingKind.MISSING_ENTRY, 0, CellRef(ctx.sheet),
                           f"{missing - MISSING_NAMED:,} more ledger entries are missing, up "
                           f"to seq {top:,}"))
    if not out:
        out.append(Finding(FindingKind.REORDERED, 0, CellRef(ctx.sheet),
                           f"seq must run 1..{len(seqs)} in row order; found {seqs}"))
    return out


def _check_chain(ctx: _Context) -> list[Finding]:
    out = []
    for i, entry in enumerate(ctx.ledger):
        computed = compute_entry_hash(entry)
        if computed != entry.entry_hash:
            out.append(ctx.finding(FindingKind.ENTRY_ALTERED, i, "entry_hash",
                                   f"entry_hash recorded {_short(entry.entry_hash)}, its fields "
                                   f"hash to {_short(computed)}: the row was edited"))
        expected = ctx.ledger[i - 1].entry_hash if i else GENESIS_HASH
        if entry.prev_hash != expected:
            out.append(ctx.finding(FindingKind.BROKEN_CHAIN, i, "prev_hash",
                                   f"prev_hash expected {_short(expected)} (the previous row's "
                                   f"entry_hash), found {_short(entry.prev_hash)}"))
    return out


def _check_hmacs(ctx: _Context, key: bytes | None) -> list[Finding]:
    keyed = [bool(e.hmac) for e in ctx.ledger]
    if key is None:
        if any(keyed):
            return [Finding(FindingKind.HMAC_UNCHECKED, 0, CellRef(ctx.sheet),
                            f"{sum(keyed)} ledger rows carry an hmac but no key was given; "
                            f"set {KEY_ENV} or {KEY_FILE_ENV} to check them")]
        return []
    out = []
    for i, entry in enumerate(ctx.ledger):
        if not entry.hmac:
            kind = FindingKind.HMAC_MISSING if any(keyed) else FindingKind.HMAC_UNCHECKED
            out.append(ctx.finding(kind, i, "hmac", "no hmac: the row is not authenticated"))
        elif not hmac_lib.compare_digest(compute_hmac(entry, key), entry.hmac):
            out.append(ctx.finding(FindingKind.HMAC_MISMATCH, i, "hmac",
                                   "hmac does not match the row under the given key: the row "
                                   "was written or edited without the key (or the key differs)"))
    return out


def _check_events(ctx: _Context) -> tuple[list[Finding], dict[int, LedgerEntry]]:
    """Event rules, and the publish entry of each version."""
    out: list[Finding] = []
    published: dict[int, LedgerEntry] = {}
    for i, entry in enumerate(ctx.ledger):
        expected_status = STATUS_OF_EVENT.get(entry.event)
        if expected_status is None:
            out.append(ctx.finding(FindingKind.INVALID_EVENT, i, "event",
                                   f"expected event publish or approve, found {entry.event!r}"))
            continue
        if entry.status != expected_status:
            out.append(ctx.finding(FindingKind.INVALID_EVENT, i, "status",
                                   f"expected status {expected_status!r} for a {entry.event}, "
                                   f"found {entry.status!r}"))
        if entry.event == PUBLISH:
            expected = max(published, default=0) + 1
            if entry.version != expected:
                out.append(ctx.finding(FindingKind.INVALID_EVENT, i, "version",
                                       f"expected version {expected}, found {entry.version}"))
            published.setdefault(entry.version, entry)
        elif entry.version not in published:
            out.append(ctx.finding(FindingKind.INVALID_EVENT, i, "version",
                                   f"approves v{entry.version}, which was never published"))
        elif entry.recon_hash != published[entry.version].recon_hash:
            out.append(ctx.finding(FindingKind.INVALID_EVENT, i, "recon_hash",
                                   f"approves content {_short(entry.recon_hash)} but "
                                   f"v{entry.version} was published as "
                                   f"{_short(published[entry.version].recon_hash)}"))
    return out, published


def _name_cells(version: int, sheet: str, cells: Mapping[str, object]) -> list[Finding]:
    recorded, unreadable = recorded_digests(cells)
    out = [Finding(FindingKind.TAMPERED_CELL, version, CellRef(sheet, ref),
                   "the digest cell is unreadable: it was edited") for ref in unreadable]
    if not recorded and not unreadable:
        return [Finding(FindingKind.TAMPERED_TAB, version, CellRef(sheet),
                        f"content differs from v{version} as published, and the tab has no "
                        "digest cells to name the changed cells")]
    current = cell_digests(cells)
    values = {f"{column_letter(c)}{r}": v for (r, c), v in
              ((_position(ref), v) for ref, v in cells.items())}
    skipped_rows = {_position(ref)[0] for ref in unreadable}
    for ref in sorted(set(recorded) | set(current), key=_position):
        was, now = recorded.get(ref), current.get(ref)
        if was == now or _position(ref)[0] in skipped_rows:
            continue
        kind, found = FindingKind.TAMPERED_CELL, values.get(ref)
        if was is None:
            message = f"expected empty (as in v{version} when published), found {found!r}"
        elif now is None:
            message = f"expected the published value (digest {was}), found an empty cell"
        elif was[0] == "f" and now[0] == "v":
            kind = FindingKind.OVERWRITTEN_FORMULA
            message = f"expected the published formula (digest {was}), found the constant {found!r}"
        else:
            message = f"expected the published value (digest {was}), found {found!r} (digest {now})"
        out.append(Finding(kind, version, CellRef(sheet, ref), message))
    if not out:
        out.append(Finding(FindingKind.TAMPERED_TAB, version, CellRef(sheet),
                           f"content differs from v{version} as published although every "
                           "cell matches its digest: the digest cells were rewritten"))
    return out


def _misplaced(version: int, sheet: str, found: str, claim: TabClaim | None,
               published: Mapping[int, LedgerEntry]) -> Finding | None:
    """A tab whose content is intact but sits in the wrong place: another version's content
    under this name, or a sealed tab this ledger never published."""
    other = next((v for v, e in sorted(published.items())
                  if v != version and e.recon_hash == found), None)
    if other is not None:
        return Finding(FindingKind.SWAPPED_TAB, version, CellRef(sheet),
                       f"holds v{other:03d}'s content as published, not v{version:03d}'s: the "
                       "tab was renamed (tab names swapped, or one tab copied over another)")
    if claim is not None and claim.recon_hash == found:
        said = f"v{claim.version:03d}" if claim.version else "a version"
        return Finding(FindingKind.FOREIGN_TAB, version, CellRef(sheet),
                       f"a sealed tab ({said}, own hash {_short(found)}) that this ledger did "
                       f"not publish (v{version:03d} was published as "
                       f"{_short(published[version].recon_hash)}): copied in from another "
                       "workbook, or rewritten together with its hashes")
    return None


def _check_tabs(published: Mapping[int, LedgerEntry], tabs: Mapping[int, Mapping[str, object]],
                tab_name: Callable[[int], str],
                claims: Mapping[int, TabClaim] | None = None) -> list[Finding]:
    out = []
    claims = claims or {}
    for version, entry in sorted(published.items()):
        sheet = tab_name(version)
        if version not in tabs:
            out.append(Finding(FindingKind.MISSING_TAB, version, CellRef(sheet),
                               f"v{version} is in the ledger but its tab is missing"))
            continue
        found = content_hash(tabs[version])
        if found == entry.recon_hash:
            continue
        misplaced = _misplaced(version, sheet, found, claims.get(version), published)
        out.extend([misplaced] if misplaced else _name_cells(version, sheet, tabs[version]))
    for version in sorted(set(tabs) - set(published)):
        claim = claims.get(version)
        sealed = claim is not None and claim.recon_hash == content_hash(tabs[version])
        how = ("it is a sealed tab copied in from another workbook, or its ledger rows were "
               "deleted") if sealed else "the tab was added by hand or its ledger rows were deleted"
        out.append(Finding(FindingKind.EXTRA_TAB, version, CellRef(tab_name(version)),
                           f"no ledger entry publishes v{version}: {how}"))
    return out


def verify_ledger(ledger: Sequence[LedgerEntry], tabs: Mapping[int, Mapping[str, object]],
                  key: bytes | None, *, ledger_sheet: str = LEDGER_SHEET,
                  tab_name: Callable[[int], str] = recon_tab_name,
                  claims: Mapping[int, TabClaim] | None = None) -> list[Finding]:
    """Every finding about the ledger (rows in sheet order) and the recon tabs, at once.

    ``tabs`` maps a version to its tab's cells ``{'B7': value}``, digest cells included, read
    the way they were hashed at publish: formula cells as ``FormulaCell``. Ledger findings point
    at ``ledger_sheet``, entry i on row ``FIRST_DATA_ROW + i``, one column per LEDGER_COLUMNS.
    ``claims`` (what each tab's header says of itself) lets a swapped or copied-in tab be
    reported as such. An empty list means the workbook is as written, up to the limits in
    the threat-model table.
    """
    ctx = _Context(ledger, ledger_sheet)
    if not ledger:
        return _check_tabs({}, tabs, tab_name, claims)
    event_findings, published = _check_events(ctx)
    return (_check_sequence(ctx) + _check_chain(ctx) + _check_hmacs(ctx, key)
            + event_findings + _check_tabs(published, tabs, tab_name, claims))


# --- comparing two copies ------------------------------------------------------------------

class Relation(enum.StrEnum):
    SAME = "same"
    A_AHEAD = "a_ahead"  # b is a prefix of a
    B_AHEAD = "b_ahead"  # a is a prefix of b
    FORKED = "forked"  # both have entries the other lacks after the common part


@dataclass(frozen=True)
class Comparison:
    relation: Relation
    common_seq: int  # number of leading entries the two share (0: none)
    common_version: int  # highest version within the shared entries (0: none)
    head_a: str
    head_b: str


def compare_ledgers(a: Sequence[LedgerEntry], b: Sequence[LedgerEntry]) -> Comparison:
    """Which copy is current, by comparing the entry_hash sequences (verify each separately)."""
    common = 0
    while common < min(len(a), len(b)) and a[common].entry_hash == b[common].entry_hash:
        common += 1
    if common == len(a) == len(b):
        relation = Relation.SAME
    elif common == len(b):
        relation = Relation.A_AHEAD
    elif common == len(a):
        relation = Relation.B_AHEAD
    else:
        relation = Relation.FORKED
    version = max((e.version for e in a[:common]), default=0)
    return Comparison(relation, common, version, head_hash(a), head_hash(b))
