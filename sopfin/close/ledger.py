"""The version ledger: an append-only, hash-chained log of published reconciliations.

Each monthly close publishes a frozen tab ``Recon vNNN`` and appends a ``publish`` entry to a
hidden ledger sheet; sign-off appends an ``approve`` entry. ``verify_ledger``
(``sopfin.close.ledger_checks``) proves the ledger and the tabs are what was written, and says
which cell or row was changed if not.

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
``sopfin/ledger-entry/2`` over ``LEDGER_COLUMNS_V2``; an entry without either field keeps the
original format ``sopfin/ledger-entry/1`` over ``LEDGER_COLUMNS_V1``, so a ledger written
before them verifies as it did.

Part digests. A publish entry written to a file also records ``tab_part``: the digest of its
tab's worksheet part as the writer stored it (``sopfin.xlsx.partdigest``: SHA-256 over the
part's XML, its tab-selected flag left out). It is hashed in the format
``sopfin/ledger-entry/3`` over ``LEDGER_COLUMNS_V3``. While the part in the file still has
that digest its cells are the ones published, and verify need not read them; any other digest
(a spreadsheet app's save rewrites every part) sends the tab to the full check.

Stored digests. An entry written since also records ``tab_bytes``: for each published tab
whose part that write stored (its own tab, and the previous one, stored again without its
tab-selected flag), the SHA-256 of the part's zip entry as stored (compressed bytes, method,
CRC-32 and size: ``sopfin.xlsx.partdigest.entry_digest``), as ``v001=<hex>;v002=<hex>``.
It is hashed in the format ``sopfin/ledger-entry/4`` over every column. A tab whose entry
still has the stored digest the latest sound entry records for it holds the bytes sopfin
wrote, proved without inflating them; any other tab falls back to ``tab_part``, then to the
cells.

What an attacker holding the workbook can do, and what verify says with and without the key,
is the threat-model table in docs/workbook.md, generated from ``sopfin.close.threats.THREATS``.
Anyone with the key can forge anything: keep it out of the workbook.
"""

from __future__ import annotations

import enum
import hashlib
import hmac as hmac_lib
import os
import re
import stat
from collections.abc import Mapping, Sequence
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

LEDGER_COLUMNS_V1 = ("seq", "event", "version", "cycle", "timestamp", "author", "status",
                     "input_hash", "recon_hash", "prev_hash", "entry_hash", "hmac", "note")
LEDGER_COLUMNS_V2 = (*LEDGER_COLUMNS_V1, "workbook_id", "input_sheets")
LEDGER_COLUMNS_V3 = (*LEDGER_COLUMNS_V2, "tab_part")
LEDGER_COLUMNS = (*LEDGER_COLUMNS_V3, "tab_bytes")
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


class LedgerRuleError(ValueError):
    """An entry built against the ledger's event rules (a fault of the caller)."""


class UnknownVersionError(ValueError):
    """Asked about a version the workbook does not hold (a usage problem)."""


class AlreadyApprovedError(ValueError):
    """Asked to approve a version that is already the plan of record (a usage problem)."""


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
    tab_part: str = ""  # the digest of the published tab's part as written (PART_DIGEST)
    tab_bytes: str = ""  # 'v001=<hex>;...': the stored digest of each tab this write stored


assert tuple(f.name for f in fields(LedgerEntry)) == LEDGER_COLUMNS


# --- building the ledger -------------------------------------------------------------------

def entry_bytes(entry: LedgerEntry) -> bytes:
    """What ``entry_hash`` and ``hmac`` cover: every field but those two, in column order.
    The format is the oldest that holds the entry's fields: 4 with stored digests, 3 with a
    tab part digest, 2 with the identity columns, else 1, so an entry written before a column
    existed hashes as it did."""
    tag, columns = entry_format(entry)
    parts = [_netstring(tag)]
    parts += [_netstring(f"{name}={_field_text(getattr(entry, name))}")
              for name in columns if name not in ("entry_hash", "hmac")]
    return b"".join(parts)


def entry_format(entry: LedgerEntry) -> tuple[str, tuple[str, ...]]:
    """The format tag of ``entry`` and the columns it covers."""
    if entry.tab_bytes:
        return "sopfin/ledger-entry/4", LEDGER_COLUMNS
    if entry.tab_part:
        return "sopfin/ledger-entry/3", LEDGER_COLUMNS_V3
    if entry.workbook_id or entry.input_sheets:
        return "sopfin/ledger-entry/2", LEDGER_COLUMNS_V2
    return "sopfin/ledger-entry/1", LEDGER_COLUMNS_V1


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
        raise LedgerRuleError(f"event {event!r} with status {status!r}: expected one of "
                         f"{STATUS_OF_EVENT}")
    draft = LedgerEntry(seq=len(ledger) + 1, event=event, version=version, cycle=cycle,
                        timestamp=timestamp, author=author, status=status,
                        input_hash=input_hash, recon_hash=recon_hash,
                        prev_hash=head_hash(ledger), entry_hash="", hmac="", note=note,
                        workbook_id=workbook_id, input_sheets=input_sheets)
    sealed = replace(draft, entry_hash=compute_entry_hash(draft))
    return sealed if key is None else replace(sealed, hmac=compute_hmac(sealed, key))


def with_tab_part(entry: LedgerEntry, tab_part: str, key: bytes | None,
                  tab_bytes: Mapping[int, str] | None = None) -> LedgerEntry:
    """``entry`` recording ``tab_part`` (the digest of its tab's part, known once the part is
    written) and ``tab_bytes`` ({version: stored digest of its tab's part}), hashed and (with
    a key) authenticated again."""
    draft = replace(entry, tab_part=tab_part, tab_bytes=stored_digests_text(tab_bytes or {}),
                    entry_hash="", hmac="")
    sealed = replace(draft, entry_hash=compute_entry_hash(draft))
    return sealed if key is None else replace(sealed, hmac=compute_hmac(sealed, key))


def stored_digests_text(digests: Mapping[int, str]) -> str:
    """``tab_bytes`` as written: ``v001=<hex>;v002=<hex>``, by version."""
    return ";".join(f"v{v:03d}={digests[v]}" for v in sorted(digests))


def stored_digests_of(entry: LedgerEntry) -> dict[int, str]:
    """{version: stored digest} that ``entry`` records (none from a field it cannot read)."""
    out = {}
    for item in entry.tab_bytes.split(";") if entry.tab_bytes else ():
        m = re.fullmatch(r"v(\d{3,})=([0-9a-f]{64})", item)
        if m is None:
            return {}
        out[int(m.group(1))] = m.group(2)
    return out


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
