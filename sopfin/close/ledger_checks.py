"""The ledger's rules, checked: every finding verify reports about the version ledger and the
published ``Recon vNNN`` tabs, as ``Issue`` values with their cell and the version they are
about.

The ledger must run seq 1..n in row order, each entry must hash to its ``entry_hash`` and
chain to the previous one, carry a matching hmac when a key is given, and follow the event
rules (versions published in order, an approval bound to the content it approves). Each
published tab must hash to the ``recon_hash`` its entry records; when it does not, the
tab's digest cells name the changed cells (``sopfin.close.digests``). The entries, the chain
and the key are ``sopfin.close.ledger``; the threat model is ``sopfin.close.threats``.
"""

from __future__ import annotations

import hmac as hmac_lib
import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sopfin.close.digests import _position, cell_digests, content_hash, recorded_digests
from sopfin.close.ledger import (
    GENESIS_HASH,
    KEY_ENV,
    KEY_FILE_ENV,
    LEDGER_COLUMNS,
    LEDGER_SHEET,
    PUBLISH,
    STATUS_OF_EVENT,
    LedgerEntry,
    compute_entry_hash,
    compute_hmac,
    recon_tab_name,
)
from sopfin.layout import FIRST_DATA_ROW, column_letter
from sopfin.model import CellRef, Issue, IssueCode, Location, Severity


@dataclass(frozen=True)
class TabClaim:
    """What a recon tab's header says of itself: its version and its own hash."""

    version: int | None
    recon_hash: str


WARNING_CODES = frozenset({IssueCode.HMAC_UNCHECKED, IssueCode.INPUTS_CHANGED,
                           IssueCode.TAB_HIDDEN, IssueCode.TAB_UNPROTECTED,
                           IssueCode.LEDGER_SHOWN})


def finding(code: IssueCode, version: int, where: Location, message: str,
            fix: str = "") -> Issue:
    """A problem verify reports: a warning for the codes in ``WARNING_CODES``, else an error
    (a workbook that is not as it was written). ``version`` 0: about the ledger as a whole."""
    severity = Severity.WARNING if code in WARNING_CODES else Severity.ERROR
    return Issue(code, severity, where, message, fix, version=version)


def _short(digest: str) -> str:
    return f"{digest[:12]}..." if len(digest) > 12 else repr(digest)


@dataclass(frozen=True)
class _Context:
    ledger: Sequence[LedgerEntry]
    sheet: str

    def ref(self, index: int, column: str) -> CellRef:
        col = column_letter(LEDGER_COLUMNS.index(column) + 1)
        return CellRef(self.sheet, f"{col}{FIRST_DATA_ROW + index}")

    def finding(self, code: IssueCode, index: int, column: str, message: str,
                fix: str = "") -> Issue:
        entry = self.ledger[index]
        label = f"ledger row seq {entry.seq} ({entry.event} v{entry.version})"
        return finding(code, entry.version, self.ref(index, column), f"{label}: {message}",
                       fix)


MISSING_NAMED = 20  # missing seqs named one by one; more are counted


def _check_sequence(ctx: _Context) -> list[Issue]:
    seqs = [e.seq for e in ctx.ledger]
    if seqs == list(range(1, len(seqs) + 1)):
        return []
    out, seen = [], set()
    for i, seq in enumerate(seqs):
        if seq in seen:
            out.append(ctx.finding(IssueCode.REORDERED, i, "seq",
                                   f"seq {seq} appears twice", "each seq is used once"))
        elif i and seq < seqs[i - 1]:
            out.append(ctx.finding(IssueCode.REORDERED, i, "seq",
                                   f"expected a seq after {seqs[i - 1]}, found {seq}: "
                                   "rows were moved", "sort the ledger back by seq"))
        seen.add(seq)
    top = max(seqs)
    missing = top - len({s for s in seen if 1 <= s <= top})
    gaps = (s for s in range(1, top + 1) if s not in seen)  # lazily: a seq may be huge
    for seq in itertools.islice(gaps, MISSING_NAMED):
        out.append(finding(IssueCode.MISSING_ENTRY, 0, CellRef(ctx.sheet),
                           f"ledger entry seq {seq} is missing: a row was deleted"))
    if missing > MISSING_NAMED:
        out.append(finding(IssueCode.MISSING_ENTRY, 0, CellRef(ctx.sheet),
                           f"{missing - MISSING_NAMED:,} more ledger entries are missing, up "
                           f"to seq {top:,}"))
    if not out:
        out.append(finding(IssueCode.REORDERED, 0, CellRef(ctx.sheet),
                           f"seq must run 1..{len(seqs)} in row order; found {seqs}"))
    return out


def _check_chain(ctx: _Context) -> list[Issue]:
    out = []
    for i, entry in enumerate(ctx.ledger):
        computed = compute_entry_hash(entry)
        if computed != entry.entry_hash:
            out.append(ctx.finding(IssueCode.ENTRY_ALTERED, i, "entry_hash",
                                   f"entry_hash recorded {_short(entry.entry_hash)}, its fields "
                                   f"hash to {_short(computed)}: the row was edited"))
        expected = ctx.ledger[i - 1].entry_hash if i else GENESIS_HASH
        if entry.prev_hash != expected:
            out.append(ctx.finding(IssueCode.BROKEN_CHAIN, i, "prev_hash",
                                   f"prev_hash expected {_short(expected)} (the previous row's "
                                   f"entry_hash), found {_short(entry.prev_hash)}"))
    return out


def _check_hmacs(ctx: _Context, key: bytes | None) -> list[Issue]:
    keyed = [bool(e.hmac) for e in ctx.ledger]
    if key is None:
        if any(keyed):
            return [finding(IssueCode.HMAC_UNCHECKED, 0, CellRef(ctx.sheet),
                            f"{sum(keyed)} ledger rows carry an hmac but no key was given",
                            f"set {KEY_ENV} or {KEY_FILE_ENV} to check them")]
        return []
    out = []
    for i, entry in enumerate(ctx.ledger):
        if not entry.hmac:
            kind = IssueCode.HMAC_MISSING if any(keyed) else IssueCode.HMAC_UNCHECKED
            out.append(ctx.finding(kind, i, "hmac", "no hmac: the row is not authenticated"))
        elif not hmac_lib.compare_digest(compute_hmac(entry, key), entry.hmac):
            out.append(ctx.finding(IssueCode.HMAC_MISMATCH, i, "hmac",
                                   "hmac does not match the row under the given key: the row "
                                   "was written or edited without the key (or the key differs)"))
    return out


def _check_events(ctx: _Context) -> tuple[list[Issue], dict[int, LedgerEntry]]:
    """Event rules, and the publish entry of each version."""
    out: list[Issue] = []
    published: dict[int, LedgerEntry] = {}
    for i, entry in enumerate(ctx.ledger):
        expected_status = STATUS_OF_EVENT.get(entry.event)
        if expected_status is None:
            out.append(ctx.finding(IssueCode.INVALID_EVENT, i, "event",
                                   f"expected event publish or approve, found {entry.event!r}"))
            continue
        if entry.status != expected_status:
            out.append(ctx.finding(IssueCode.INVALID_EVENT, i, "status",
                                   f"expected status {expected_status!r} for a {entry.event}, "
                                   f"found {entry.status!r}"))
        if entry.event == PUBLISH:
            expected = max(published, default=0) + 1
            if entry.version != expected:
                out.append(ctx.finding(IssueCode.INVALID_EVENT, i, "version",
                                       f"expected version {expected}, found {entry.version}"))
            published.setdefault(entry.version, entry)
        elif entry.version not in published:
            out.append(ctx.finding(IssueCode.INVALID_EVENT, i, "version",
                                   f"approves v{entry.version}, which was never published"))
        elif entry.recon_hash != published[entry.version].recon_hash:
            out.append(ctx.finding(IssueCode.INVALID_EVENT, i, "recon_hash",
                                   f"approves content {_short(entry.recon_hash)} but "
                                   f"v{entry.version} was published as "
                                   f"{_short(published[entry.version].recon_hash)}"))
    return out, published


def _name_cells(version: int, sheet: str, cells: Mapping[str, object]) -> list[Issue]:
    recorded, unreadable = recorded_digests(cells)
    out = [finding(IssueCode.TAMPERED_CELL, version, CellRef(sheet, ref),
                   "the digest cell is unreadable: it was edited") for ref in unreadable]
    if not recorded and not unreadable:
        return [finding(IssueCode.TAMPERED_TAB, version, CellRef(sheet),
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
        kind, found = IssueCode.TAMPERED_CELL, values.get(ref)
        if was is None:
            message = f"expected empty (as in v{version} when published), found {found!r}"
        elif now is None:
            message = f"expected the published value (digest {was}), found an empty cell"
        elif was[0] == "f" and now[0] == "v":
            kind = IssueCode.OVERWRITTEN_FORMULA
            message = f"expected the published formula (digest {was}), found the constant {found!r}"
        else:
            message = f"expected the published value (digest {was}), found {found!r} (digest {now})"
        out.append(finding(kind, version, CellRef(sheet, ref), message))
    if not out:
        out.append(finding(IssueCode.TAMPERED_TAB, version, CellRef(sheet),
                           f"content differs from v{version} as published although every "
                           "cell matches its digest: the digest cells were rewritten"))
    return out


def _misplaced(version: int, sheet: str, found: str, claim: TabClaim | None,
               published: Mapping[int, LedgerEntry]) -> Issue | None:
    """A tab whose content is intact but sits in the wrong place: another version's content
    under this name, or a sealed tab this ledger never published."""
    other = next((v for v, e in sorted(published.items())
                  if v != version and e.recon_hash == found), None)
    if other is not None:
        return finding(IssueCode.SWAPPED_TAB, version, CellRef(sheet),
                       f"holds v{other:03d}'s content as published, not v{version:03d}'s: the "
                       "tab was renamed (tab names swapped, or one tab copied over another)")
    if claim is not None and claim.recon_hash == found:
        said = f"v{claim.version:03d}" if claim.version else "a version"
        return finding(IssueCode.FOREIGN_TAB, version, CellRef(sheet),
                       f"a sealed tab ({said}, own hash {_short(found)}) that this ledger did "
                       f"not publish (v{version:03d} was published as "
                       f"{_short(published[version].recon_hash)}): copied in from another "
                       "workbook, or rewritten together with its hashes")
    return None


def _check_tabs(published: Mapping[int, LedgerEntry], tabs: Mapping[int, Mapping[str, object]],
                tab_name: Callable[[int], str],
                claims: Mapping[int, TabClaim] | None = None,
                intact: Collection[int] = ()) -> list[Issue]:
    out = []
    claims = claims or {}
    for version, entry in sorted(published.items()):
        sheet = tab_name(version)
        if version in intact:
            continue
        if version not in tabs:
            out.append(finding(IssueCode.MISSING_TAB, version, CellRef(sheet),
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
        out.append(finding(IssueCode.EXTRA_TAB, version, CellRef(tab_name(version)),
                           f"no ledger entry publishes v{version}: {how}"))
    return out


def verify_ledger(ledger: Sequence[LedgerEntry], tabs: Mapping[int, Mapping[str, object]],
                  key: bytes | None, *, ledger_sheet: str = LEDGER_SHEET,
                  tab_name: Callable[[int], str] = recon_tab_name,
                  claims: Mapping[int, TabClaim] | None = None,
                  intact: Collection[int] = ()) -> list[Issue]:
    """Every finding about the ledger (rows in sheet order) and the recon tabs, at once.

    ``tabs`` maps a version to its tab's cells ``{'B7': value}``, digest cells included, read
    the way they were hashed at publish: formula cells as ``FormulaCell``. Ledger findings point
    at ``ledger_sheet``, entry i on row ``FIRST_DATA_ROW + i``, one column per LEDGER_COLUMNS.
    ``claims`` (what each tab's header says of itself) lets a swapped or copied-in tab be
    reported as such. ``intact`` names published versions whose tab is known to be byte for
    byte as written (its part digest matches ``tab_part``): present and not re-hashed. An
    empty list means the workbook is as written, up to the limits in
    the threat-model table.
    """
    ctx = _Context(ledger, ledger_sheet)
    if not ledger:
        return _check_tabs({}, tabs, tab_name, claims)
    event_findings, published = _check_events(ctx)
    return (_check_sequence(ctx) + _check_chain(ctx) + _check_hmacs(ctx, key)
            + event_findings + _check_tabs(published, tabs, tab_name, claims, intact))
