"""Prove which copy is current and what changed: verify and diff.

``run_verify`` recomputes every hash of the ledger and of every published tab whose part is
no longer the one written (with ``deep``, of every published tab), reports any tampered cell,
broken link, missing or extra tab, and any sopfin formula typed over on the output sheets.
Given a second copy it says whether the two are the same, which is ahead, or where they
forked. ``run_diff`` lists what moved between two published versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

import numpy as np

from sopfin import layout
from sopfin.close import provenance
from sopfin.close.ledger import (
    APPROVED,
    PUBLISH,
    Comparison,
    LedgerEntry,
    Relation,
    UnknownVersionError,
    compare_ledgers,
    current_status,
    head_hash,
)
from sopfin.close.ledger_checks import finding
from sopfin.close.published import (
    input_fingerprint,
    intact_tabs,
    ledger_findings,
    ledger_state,
    load_ledger,
    recon_versions,
    recorded_input_rows,
)
from sopfin.guard.edits import edited_cells
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.money import to_cents
from sopfin.pipeline import (
    CLOSE_INPUT_SHEETS,
    Timings,
    check_with_finance,
    plan_outputs,
    read_snapshot,
)
from sopfin.render.recon import snapshot_from_grid, snapshot_from_rows
from sopfin.workbook import CellRow, GridRows, SheetGuardView, Workbook

if TYPE_CHECKING:
    from sopfin.close.rowtable import MonthTable


@dataclass
class AuditResult:
    book: Workbook
    findings: list[Issue] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    relation: Comparison | None = None
    table: Moved | None = None
    strict_hmac: bool = False  # a key was given: unauthenticated entries fail
    timings: Timings = field(default_factory=Timings)

    def failing(self) -> list[Issue]:
        return [f for f in self.findings if f.severity is Severity.ERROR or (
            self.strict_hmac and f.code is IssueCode.HMAC_UNCHECKED)]

    @property
    def forked(self) -> bool:
        return self.relation is not None and self.relation.relation is Relation.FORKED

    @property
    def ok(self) -> bool:
        """Every hash recomputes and, with two copies, neither has versions the other lacks
        on a different line (same, or one ahead)."""
        return not self.failing() and not self.forked

    def lines(self) -> list[str]:
        out = []
        for f in self.findings:
            tag = "FAIL" if f in self.failing() else "warning"
            out.append(f"{tag}[{f.code.value}] {f.located(self.book.name)}")
        return out + self.messages


def _verify_one(book: Workbook, key: bytes | None, timings: Timings, deep: bool = False,
                ) -> tuple[list[LedgerEntry], list[Issue]]:
    with timings.step("ledger"):
        ledger = load_ledger(book)
        return ledger, ledger_findings(book, ledger, key, deep=deep) + ledger_state(book)


def overwritten_formulas(book: Workbook, timings: Timings | None = None) -> list[Issue]:
    """sopfin formula cells on the output sheets that now hold something else. When every
    output sheet is exactly as sopfin last wrote it (``Workbook.sheets_as_written``) no cell
    can have been typed over, and the plan is neither parsed nor rendered to compare with."""
    owned = book.owned_sheet_names()
    outputs = [n for n in layout.OUTPUT_SHEET_NAMES if n in owned and n != layout.ISSUES]
    if not outputs or set(outputs) <= book.sheets_as_written(outputs):
        return []
    base = check_with_finance(book, timings=timings)
    if base.specs is None:
        plan_outputs(base)
    if base.specs is None:
        return []  # inputs do not validate: nothing to compare the outputs with
    specs = [s for s in base.specs if s.name in owned and s.name != layout.ISSUES]
    unchanged = book.sheets_as_written([s.name for s in specs])
    current = book.read_cell_rows([s.name for s in specs if s.name not in unchanged])
    return [finding(IssueCode.OVERWRITTEN_FORMULA, 0, f.where, f.message, f.fix)
            for f in edited_cells(specs, current)]


def _status_line(book: Workbook, ledger: Sequence[LedgerEntry]) -> str:
    if not ledger:
        return f"{book.name}: no published versions"
    status = current_status(ledger)
    latest = max(status)
    approved = [v for v, s in status.items() if s == APPROVED]
    record = f"; plan of record v{max(approved):03d}" if approved else "; nothing approved yet"
    return (f"{book.name}: {len(status)} version(s), latest v{latest:03d} ({status[latest]})"
            f"{record}; ledger head {head_hash(ledger)}")


def _relation_line(a: Workbook, b: Workbook, cmp: Comparison,
                   la: Sequence[LedgerEntry],
                   lb: Sequence[LedgerEntry]) -> str:
    at = f"v{cmp.common_version:03d} (ledger entry {cmp.common_seq})" if cmp.common_seq \
        else "the start"
    if cmp.relation is Relation.SAME:
        return f"same: {a.name} and {b.name} hold the same {len(la)} ledger entries"
    if cmp.relation is Relation.A_AHEAD:
        return (f"{a.name} is ahead: {b.name} stops at {at}; {a.name} has "
                f"{len(la) - cmp.common_seq} more entr(y/ies)")
    if cmp.relation is Relation.B_AHEAD:
        return (f"{b.name} is ahead: {a.name} stops at {at}; {b.name} has "
                f"{len(lb) - cmp.common_seq} more entr(y/ies)")
    return (f"forked after {at}: {a.name} then has {len(la) - cmp.common_seq} and {b.name} "
            f"{len(lb) - cmp.common_seq} entr(y/ies) the other lacks")


def workbook_findings(book: Workbook, ledger: Sequence[LedgerEntry],
                      timings: Timings | None = None) -> list[Issue]:
    """Warnings about the workbook around the ledger: inputs changed since the latest
    version, published tabs hidden or unprotected. The inputs are read as a close reads
    them (the finance sheets too) and fingerprinted, not parsed: the fingerprint says
    whether they changed."""
    timings = timings or Timings()
    with timings.step("read"):
        raw = book.read_raw_sheets(CLOSE_INPUT_SHEETS)
    published = sorted({e.version for e in ledger if e.event == PUBLISH}
                       & set(recon_versions(book)))
    found = provenance.guard_findings(published, published_guards(book, ledger, published))
    with timings.step("inputs"):
        return found + _input_findings(book, ledger, raw)


def _input_findings(book: Workbook, ledger: Sequence[LedgerEntry],
                    raw: Mapping[str, object]) -> list[Issue]:
    """The inputs changed since the latest version: compared by their fingerprint; the row
    digests that version recorded (``_Inputs``) are read only to name the rows that differ."""
    latest = provenance.latest_publish(ledger)
    if latest is None:
        return []
    current = input_fingerprint(raw)
    if current.inputs_hash == latest.input_hash:
        return []
    return provenance.input_changes(ledger, current, recorded_input_rows(book, ledger))


@dataclass(frozen=True)
class _AsPublished:
    """The guard of a tab whose part is the one written: its state from the workbook, its
    protection as published (every tab is published protected, and the part is unchanged)."""

    state: str
    protected: bool = True


def published_guards(book: Workbook, ledger: Sequence[LedgerEntry],
                     versions: Sequence[int]) -> Mapping[str, SheetGuardView]:
    """State and protection of the published tabs; the protection of a tab whose part is
    as written (``intact_tabs``) is known without scanning the part for it."""
    names = {v: layout.recon_tab_name(v) for v in versions}
    intact = intact_tabs(book, ledger, names)
    states = book.sheet_states()
    guards: dict[str, SheetGuardView] = {
        names[v]: _AsPublished(states.get(names[v], "visible")) for v in intact}
    guards.update(book.sheet_guards([n for v, n in names.items() if v not in intact]))
    return guards


def _in_copy(issue: Issue, book: str) -> Issue:
    """``issue`` of the second copy verify compares, located in that copy."""
    where = issue.where
    return replace(issue, where=replace(where, book=book)) if isinstance(where, CellRef) \
        else issue


def run_verify(target: str | Path | Workbook, other: str | Path | Workbook | None = None, *,
               key: bytes | None = None, head: str | None = None,
               deep: bool = False) -> AuditResult:
    """The verify command: verify ``target`` (and compare it with ``other``); ``head`` is a
    ledger head kept outside the workbook, which this copy must hold. Each copy is read
    once. A published tab whose part is still the one written is not re-hashed (its digest
    is on the ledger); ``deep`` re-hashes every tab cell by cell all the same."""
    timings = Timings()
    book = read_snapshot(target, timings)
    out = AuditResult(book=book, strict_hmac=key is not None, timings=timings)
    ledger, findings = _verify_one(book, key, timings, deep)
    around = workbook_findings(book, ledger, timings)
    with timings.step("overwritten"):
        out.findings = findings + around + overwritten_formulas(book, timings)
    out.messages.append(_status_line(book, ledger))
    note = provenance.identity_note(ledger)
    if note:
        out.messages.append(note)
    if head is not None:
        behind, line = provenance.head_check(ledger, head)
        out.findings += behind
        out.messages += [line] if line else []
    if other is not None:
        second = read_snapshot(other, timings)
        ledger_b, findings_b = _verify_one(second, key, timings, deep)
        out.findings += [_in_copy(f, second.name) for f in findings_b]
        out.relation = compare_ledgers(ledger, ledger_b)
        out.messages.append(_status_line(second, ledger_b))
        out.messages.append(_relation_line(book, second, out.relation, ledger, ledger_b))
    if out.ok:
        out.messages.append("verified: every hash recomputes and every published tab is as "
                            "written")
    elif out.forked and not out.failing():
        out.messages.append("FAIL: both copies verify on their own but have forked: they "
                            "are no longer one plan; choose the copy of record and re-close "
                            "the other's changes in it")
    return out


def run_diff(target: str | Path | Workbook, version_a: int, version_b: int) -> AuditResult:
    """The diff command: what moved between two published versions, by family and measure,
    largest first. ``UnknownVersionError`` (naming the versions present) for a version with
    no tab."""
    timings = Timings()
    book = read_snapshot(target, timings)
    out = AuditResult(book=book, timings=timings)
    present = recon_versions(book)
    unknown = [v for v in dict.fromkeys((version_a, version_b)) if v not in present]
    if unknown:
        held = ", ".join(f"v{v:03d}" for v in present) or "none (run sopfin close first)"
        raise UnknownVersionError(
            f"{book.name}: no version {', '.join(f'v{v:03d}' for v in unknown)}; "
            f"versions present: {held}")
    names = {v: layout.recon_tab_name(v) for v in (version_a, version_b)}
    with timings.step("read"):
        rows = book.read_cell_rows(list(names.values()))
        snapshots = _tab_snapshots({n: rows.get(n) for n in dict.fromkeys(names.values())})
    missing = [n for n, snapshot in snapshots.items() if snapshot is None]
    if missing:
        out.findings = [finding(IssueCode.MISSING_TAB, 0, CellRef(n),
                                f"{n} is not in the workbook") for n in missing]
        return out
    a, b = snapshots[names[version_a]], snapshots[names[version_b]]
    assert a is not None and b is not None
    out.table = diff_snapshots(a, b)
    out.messages += format_diff(out.table, version_a, version_b)
    return out


def _tab_snapshots(tabs: Mapping[str, Iterable[CellRow] | None],
                   ) -> dict[str, MonthTable | None]:
    """Each tab's plan of record (None for a tab the workbook lacks): the first tab on a
    thread of its own while the others are read here, since calamine lets go of the
    interpreter while it reads one tab and the other's screen and snapshot can go on. A
    refusal is reported for the first tab that has one, as when they are read in turn."""
    present = [n for n, rows in tabs.items() if rows is not None]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tab") as pool:
        ahead = {n: pool.submit(_tab_snapshot, cast(Iterable[CellRow], tabs[n]))
                 for n in present[:1]}
        try:
            here = {n: _tab_snapshot(cast(Iterable[CellRow], tabs[n])) for n in present[1:]}
        except BaseException:
            for first in ahead.values():
                first.result()  # the first tab's own refusal comes first
            raise
        done = {**{n: f.result() for n, f in ahead.items()}, **here}
    return {n: done.get(n) for n in tabs}


def _tab_snapshot(rows: Iterable[CellRow]) -> MonthTable | None:
    """A tab's plan of record: from its grid of values when the workbook reads it so (one
    fast pass), else from its rows."""
    grid = rows.grid() if isinstance(rows, GridRows) else None
    snapshot = snapshot_from_grid(grid) if grid is not None else None
    return snapshot if snapshot is not None else snapshot_from_rows(rows)


class MovedTotal(NamedTuple):
    """A (family, measure) total over the horizon that differs between two versions."""

    key: tuple[str, ...]
    a: float
    b: float
    change: float


Moved = list[MovedTotal]


def diff_snapshots(a: MonthTable, b: MonthTable) -> Moved:
    """Totals over the horizon per (family, measure): (key, a, b, change) where it changed;
    largest change first (money measures before units at equal size)."""
    totals_a = dict(zip(a.keys, np.nansum(a.values, axis=1).tolist(), strict=True))
    totals_b = dict(zip(b.keys, np.nansum(b.values, axis=1).tolist(), strict=True))
    rows = [(key, totals_a.get(key, 0.0), totals_b.get(key, 0.0))
            for key in dict.fromkeys([*a.keys, *b.keys])]
    moved = [MovedTotal(key, x, y, y - x) for key, x, y in rows if abs(y - x) > 0.005]
    order = np.argsort(-np.abs(np.array([m.change for m in moved], dtype=np.float64)),
                       kind="stable")
    return [moved[i] for i in order.tolist()]


def format_diff(table: Moved, va: int, vb: int) -> list[str]:
    if not table:
        return [f"v{va:03d} -> v{vb:03d}: nothing moved"]
    lines = [f"v{va:03d} -> v{vb:03d}: {len(table)} family/measure total(s) moved, largest "
             "first"]
    for key, a, b, change in table:
        family, measure = cast(tuple[str, str], key)
        unit = "units" if measure == "units" else ""
        lines.append(f"  {family:<14} {measure:<8} {to_cents(a):>16,.2f} -> "
                     f"{to_cents(b):>16,.2f}  {to_cents(change):>+16,.2f} {unit}")
    return lines
