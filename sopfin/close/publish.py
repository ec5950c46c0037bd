"""The monthly close: reconcile to budget, publish a locked version, approve it.

    close = check (with the finance inputs) -> dollarize -> verify the ledger so far -> silent
            overrides -> reconcile -> stop when nothing changed since the last version
            -> render Recon vNNN (frozen, hashed, protected) -> append to the ledger
            -> write everything in one atomic save

The ledger as the workbook holds it is read and checked by ``sopfin.close.published``, which
verify uses too. Every step works on a ``sopfin.workbook.Workbook``: a file or a book open in
Excel.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sopfin import layout
from sopfin.close import provenance
from sopfin.close.digests import InputFingerprint
from sopfin.close.imported import imports_note, pending, recorded
from sopfin.close.ledger import (
    APPROVE,
    APPROVED,
    DRAFT,
    KEY_ENV,
    KEY_FILE_ENV,
    PUBLISH,
    AlreadyApprovedError,
    KeyRequiredError,
    LedgerEntry,
    UnknownVersionError,
    current_status,
    head_hash,
    new_entry,
    next_version,
    signed_ledger,
)
from sopfin.close.ledger_checks import finding
from sopfin.close.protection import hash_password
from sopfin.close.published import (
    TabSeal,
    approved_snapshot,
    import_log,
    input_fingerprint,
    ledger_findings,
    load_ledger,
    recorded_input_rows,
    require_key_policy,
)
from sopfin.close.reconcile import reconcile
from sopfin.close.records import Reconciliation
from sopfin.close.verify import run_diff, run_verify  # the add-in's contract: every button here
from sopfin.guard.edits import edited_cells, ledger_note, pending_discards, sheets_to_check
from sopfin.model import CellRef, Issue, IssueCode, Severity, has_errors
from sopfin.money import to_cents
from sopfin.pipeline import (
    Progress,
    RunResult,
    Timings,
    check_with_finance,
    exclusive,
    plan_outputs,
    read_snapshot,
    release_raw,
)
from sopfin.render import rerender_issues
from sopfin.render.import_log import render_import_log
from sopfin.render.input_rows import render_input_rows
from sopfin.render.ledger import render_ledger
from sopfin.render.recon import SUBTITLE_CELL, recon_subtitle, render_recon
from sopfin.render.recon_seal import finalize_recon
from sopfin.render.recon_sections import published_bridge
from sopfin.sheetspec import SheetProtection, SheetSpec
from sopfin.terminal import issue_lines
from sopfin.workbook import Workbook
from sopfin.xlsx.adapter import open_workbook

PASSWORD_ENV = "SOPFIN_SHEET_PASSWORD"


def _quiet(_: str) -> None:
    return None


@dataclass
class CloseResult:
    """What a reconcile, close or approve did; ``lines()`` is the human summary."""

    book: Workbook
    issues: list[Issue] = field(default_factory=list)
    findings: list[Issue] = field(default_factory=list)  # about the ledger (verify's codes)
    reconciliation: Reconciliation | None = None
    inputs: InputFingerprint | None = None  # what a close records of its inputs
    version: int = 0
    head: str = ""
    head_record: str = ""  # what a head file holds (``provenance.head_text``)
    written: object | None = None
    timings: Timings = field(default_factory=Timings)
    messages: list[str] = field(default_factory=list)
    refused: bool = False  # the step declined to write (a reason is in messages)

    @property
    def ok(self) -> bool:
        return not self.refused and not has_errors(self.issues) and not any(
            f.severity is Severity.ERROR for f in self.findings)

    def refuse(self, reason: str) -> CloseResult:
        self.refused = True
        self.messages.append(reason)
        return self

    def lines(self) -> list[str]:
        """The result first, then the issues (``warning[code] ...``, repeats grouped) and
        the ledger findings it rests on."""
        saved = [f"warning: {w}" for w in getattr(self.written, "warnings", ()) or ()]
        findings = [f"{f.severity.value}[{f.code.value}] {f.located(self.book.name)}"
                    for f in self.findings]
        return [*self.messages, *saved, *issue_lines(self.issues, self.book.name), *findings]


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def recon_protection() -> SheetProtection:
    """SHA-512 protection; the password comes from SOPFIN_SHEET_PASSWORD or is random and
    kept nowhere: a published tab is never meant to be edited, and verify catches any edit."""
    password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(24)
    return hash_password(password)


def _prepare(book: Workbook, scenario_window: str, progress: Progress,
             ledger: Sequence[LedgerEntry] | None = None,
             timings: Timings | None = None, fingerprint: bool = False,
             ) -> tuple[RunResult, CloseResult, list[SheetSpec]]:
    """check + finance inputs + dollarize + render (``plan_outputs``) + silent overrides +
    reconcile; no writing. The input grids are let go of once parsed, fingerprinted first
    (``CloseResult.inputs``) when ``fingerprint``."""
    checked = check_with_finance(book, progress, timings)
    inputs = input_fingerprint(checked.raw) if fingerprint and checked.plan is not None \
        else None
    release_raw(checked)
    base = plan_outputs(checked, None, progress)
    out = CloseResult(book=book, issues=list(base.issues), timings=base.timings,
                      inputs=inputs)
    if base.specs is None or base.finance is None:
        return base, out, []
    plan, fin, d, specs = base.plan, base.finance, base.dollarized, base.specs
    assert plan is not None and d is not None
    with base.timings.step("reconcile", progress):
        names = sheets_to_check(book)
        current = book.read_cell_rows(names) if names else {}
        prior = None
        if fin.actuals is not None:
            prior = approved_snapshot(book, load_ledger(book) if ledger is None else ledger)
        rec = reconcile(plan, d, fin, window=scenario_window, prior_snapshot=prior,
                        edited=edited_cells(specs, current))
    out.reconciliation = rec
    out.issues.extend(rec.silent_overrides)
    base.dollarized = None  # rendered and reconciled: dead, and not to be alive at the peak
    return base, out, specs


def run_reconcile(target: str | Path | Workbook, *, window: str = "Horizon",
                  progress: Progress | None = None) -> CloseResult:
    """The reconcile command: dollarize and reconcile; write the output sheets; publish
    nothing."""
    progress = progress or _quiet
    book = open_workbook(target)
    with exclusive(book):
        timings = Timings()
        book = read_snapshot(book, timings, progress)
        book.check_writable()
        base, out, specs = _prepare(book, window, progress, timings=timings)
        if out.reconciliation is None:
            return out.refuse("not written: fix the errors listed below and run again")
        edits = [s for s in out.reconciliation.silent_overrides
                 if s.kind is not IssueCode.FORECAST_DIFFERS]
        if edits:
            return out.refuse(f"not written: {len(edits)} cell(s) changed since sopfin wrote "
                              "them (see above); a deliberate change belongs on sheet "
                              "Overrides with an owner and a reason; run sopfin dollarize "
                              "--discard-edits to overwrite them")
        pending = _pending_discards(book)
        if pending:
            specs = rerender_issues(specs, [*out.issues, *pending])
        out.written = book.write_sheets(specs, states=layout.OWN_SHEET_STATES)
    out.messages += headline_lines(out.reconciliation)
    return out


def unchanged_since(book: Workbook, ledger: Sequence[LedgerEntry], input_hash: str,
                    author: str, rec: Reconciliation) -> int:
    """The last published version when it was made from the same inputs (every input and
    finance sheet, Settings included), by the same author, over the same scenario and window;
    0 when something changed."""
    published = [e for e in ledger if e.event == PUBLISH]
    if not published:
        return 0
    last = published[-1]
    if (last.input_hash, last.author) != (input_hash, author):
        return 0
    tab = layout.recon_tab_name(last.version)
    subtitle = book.read_cells([tab]).get(tab, {}).get(SUBTITLE_CELL)
    return last.version if subtitle == recon_subtitle(rec) else 0


def run_close(target: str | Path | Workbook, *, author: str | None = None,
              window: str = "Horizon", allow_unexplained: bool = False,
              key: bytes | None = None, progress: Progress | None = None,
              force: bool = False) -> CloseResult:
    """Publish a new locked version. Refuses (and writes nothing) on data errors, a ledger
    that does not verify, or silent overrides unless ``allow_unexplained``. When nothing
    changed since the last version (``unchanged_since``) it publishes nothing and leaves the
    file as it was, unless ``force``."""
    progress = progress or _quiet
    book = open_workbook(target)
    with exclusive(book):
        timings = Timings()
        return _publish(read_snapshot(book, timings, progress), author, window,
                        allow_unexplained, key, progress, force, timings)


def _publish(book: Workbook, author: str | None, window: str, allow_unexplained: bool,
             key: bytes | None, progress: Progress, force: bool,
             timings: Timings) -> CloseResult:
    book.check_writable()
    ledger = load_ledger(book)
    require_key_policy(book, ledger, key, "published")
    base, out, specs = _prepare(book, window, progress, ledger, timings, fingerprint=True)
    rec, inputs = out.reconciliation, out.inputs
    if rec is None or inputs is None:
        return out.refuse("not published: fix the errors listed below and run again")
    with out.timings.step("ledger", progress):
        out.findings = [f for f in ledger_findings(book, ledger, key)
                        if f.severity is Severity.ERROR]
    if out.findings:
        return out.refuse("not published: the existing versions do not verify (listed below); "
                          "restore the workbook from a verified copy")
    if rec.silent_overrides and not allow_unexplained:
        return out.refuse(f"not published: {len(rec.silent_overrides)} unexplained "
                          "difference(s); name them on sheet Overrides, or publish with "
                          "--allow-unexplained to record them on the version")
    assert base.plan is not None
    settings, base.plan = base.plan.settings, None  # the plan's grids, dead from here on
    stamp, who = now_utc(), author or default_author()
    input_hash = inputs.inputs_hash
    discarded = ledger_note(_pending_discards(book))  # edits discarded since: to record
    imports, log_issues = import_log(book)
    out.issues += log_issues
    imported = imports_note(pending(imports))  # imports since the last close: to record
    if not force and not rec.silent_overrides and not discarded and not imported and (
            same := unchanged_since(book, ledger, input_hash, who, rec)):
        out.version = same
        out.messages.append(f"nothing changed since v{same:03d} (same inputs, overrides, "
                            f"settings, author and window); published nothing; pass --force "
                            "to publish a new version anyway")
        out.messages += headline_lines(rec)
        return out
    version = next_version(ledger)
    tab = layout.recon_tab_name(version)
    if tab in book.sheet_names():
        out.findings.append(finding(IssueCode.EXTRA_TAB, version, CellRef(tab),
                                    f"{tab} is not in the ledger"))
        return out.refuse(f"not published: sheet '{tab}' exists but the ledger does not "
                          "list it; run sopfin verify")
    with out.timings.step("publish", progress):
        out.messages += [f"warning: {f.located(book.name)}" for f in provenance.input_changes(
            ledger, inputs, recorded_input_rows(book, ledger))]
        workbook_id = book.workbook_id() or provenance.new_workbook_id()
        spec = render_recon(rec, version=version, timestamp=stamp, author=who,
                            input_hash=input_hash,
                            prev_hash=head_hash(ledger), company=settings.company,
                            protection=recon_protection(),
                            imports=recorded(pending(imports), version))
        spec, recon_hash = finalize_recon(spec)
        note = (f"published with {len(rec.silent_overrides)} unexplained difference(s)"
                if rec.silent_overrides else "")
        note = "; ".join(n for n in (note, imported, discarded) if n)
        entry = new_entry(ledger, event=PUBLISH, version=version,
                                   cycle=settings.current_cycle, timestamp=stamp,
                                   author=who, status=DRAFT,
                                   input_hash=input_hash, recon_hash=recon_hash, note=note, key=key,
                                   workbook_id=workbook_id,
                                   input_sheets=provenance.sheets_text(inputs.sheets))
        ledger_spec = render_ledger([*ledger, entry])
        rows_spec = render_input_rows(input_hash, inputs.rows)
        marked = [render_import_log(recorded(imports, version))] if imported else []
        seal = TabSeal(ledger, entry, tab, key)
    with out.timings.step("write", progress):
        out.written = book.write_sheets([*specs, spec, ledger_spec, rows_spec, *marked],
                                        workbook_id=workbook_id, reseal=seal.reseal())
    entry = seal.entry  # recording the digest of the tab's part as written
    out.version, out.head = version, entry.entry_hash
    out.head_record = provenance.head_text([*ledger, entry], book.name)
    out.messages += headline_lines(rec)
    out.messages.append(f"published {tab} (draft) for cycle {settings.current_cycle}; "
                        f"ledger head {entry.entry_hash} — keep it to prove this copy later")
    if note:
        out.messages.append(f"recorded on the ledger: {note}" if not rec.silent_overrides
                            else f"warning: {note}")
    return out


def run_approve(target: str | Path | Workbook, *, version: int, by: str,
                key: bytes | None = None) -> CloseResult:
    """The approve command: mark a published version as the plan of record (appends an
    approve entry)."""
    book = open_workbook(target)
    with exclusive(book):
        timings = Timings()
        return _approve(read_snapshot(book, timings), version, by, key, timings)


def _approve(book: Workbook, version: int, by: str, key: bytes | None,
             timings: Timings) -> CloseResult:
    book.check_writable()
    out = CloseResult(book=book, timings=timings)
    ledger = load_ledger(book)
    require_key_policy(book, ledger, key, "approved")
    out.findings = [f for f in ledger_findings(book, ledger, key)
                    if f.severity is Severity.ERROR]
    if out.findings:
        return out.refuse("not approved: the versions do not verify (listed below)")
    published = {e.version: e for e in ledger if e.event == PUBLISH}
    status = current_status(ledger)
    if version not in published:
        known = ", ".join(f"v{v:03d}" for v in sorted(published)) or "none"
        raise UnknownVersionError(f"version {version} was never published (published: "
                                  f"{known})")
    if status.get(version) == APPROVED:
        raise AlreadyApprovedError(f"version {version} is already approved")
    source = published[version]
    entry = new_entry(ledger, event=APPROVE, version=version,
                               cycle=source.cycle, timestamp=now_utc(), author=by,
                               status=APPROVED, input_hash=source.input_hash,
                               recon_hash=source.recon_hash, key=key,
                               workbook_id=book.workbook_id() or "",
                               input_sheets=source.input_sheets)
    out.written = book.write_sheets([render_ledger([*ledger, entry])])
    out.version, out.head = version, entry.entry_hash
    out.head_record = provenance.head_text([*ledger, entry], book.name)
    out.messages.append(f"approved {layout.recon_tab_name(version)} by {by} as the plan of "
                        f"record; ledger head {entry.entry_hash}")
    return out


def run_rekey(target: str | Path | Workbook, *, key: bytes | None,
              confirm: bool = False) -> CloseResult:
    """Sign with ``key`` the ledger entries that carry no hmac: the recovery for a keyed
    ledger extended without its key, or the start of a key on a ledger written without one.
    Every existing hmac must match under ``key`` and the ledger must otherwise verify; the
    entries to sign are listed, and written only with ``confirm``."""
    book = open_workbook(target)
    if key is None:
        raise KeyRequiredError(f"{book.name}: rekey signs the ledger with its key; "
                                        f"pass --key-file or set {KEY_ENV} or "
                                        f"{KEY_FILE_ENV}")
    with exclusive(book):
        timings = Timings()
        return _rekey(read_snapshot(book, timings), key, confirm, timings)


def _rekey(book: Workbook, key: bytes, confirm: bool, timings: Timings) -> CloseResult:
    book.check_writable()
    out = CloseResult(book=book, timings=timings)
    ledger = load_ledger(book)
    unsigned = [e for e in ledger if not e.hmac]
    out.findings = [f for f in ledger_findings(book, ledger, key)
                    if f.severity is Severity.ERROR and f.code is not IssueCode.HMAC_MISSING]
    if out.findings:
        return out.refuse("not signed: the ledger does not verify under this key apart from "
                          "the unsigned entries (see above); a wrong key, or a real change")
    if not unsigned:
        out.messages.append(f"{book.name}: every ledger entry already carries an hmac; nothing "
                            "to sign")
        return out
    out.messages += [f"unsigned: seq {e.seq} {e.event} v{e.version:03d} by {e.author} at "
                     f"{e.timestamp}" for e in unsigned]
    if not confirm:
        out.messages.append(f"{book.name}: nothing written; check that you made these "
                            f"{len(unsigned)} entr(y/ies), then run again with --confirm to "
                            "sign them with this key")
        return out
    out.written = book.write_sheets([render_ledger(signed_ledger(ledger, key))])
    out.head = head_hash(ledger)
    out.messages.append(f"signed {len(unsigned)} ledger entr(y/ies) with the key; ledger head "
                        f"{out.head} (unchanged)")
    return out


def headline_lines(rec: Reconciliation) -> list[str]:
    """'Plan lands at 248.1M against a 260.0M budget: gap -11.9M (-4.6%)' and the bridge."""
    start = next(line for line in rec.revenue_bridge if line.kind == "start")
    end = next(line for line in rec.revenue_bridge if line.kind == "end")
    gap = to_cents(end.amount - start.amount)
    pct = f" ({gap / start.amount:+.1%})" if start.amount else ""
    lines = [f"{rec.scenario}, {rec.window.label}: plan lands at {_money(end.amount)} against "
             f"a {_money(start.amount)} budget: gap {_money(gap)}{pct}"]
    steps = [ln for ln in published_bridge(rec.revenue_bridge)
             if ln.kind not in ("start", "end")]
    total = to_cents(sum(ln.amount for ln in steps))
    lines += [f"  {_short_label(ln.label):<40} {_money(ln.amount):>14}"
              + (f"  {ln.owner}" if ln.owner else "") for ln in steps]
    lines.append(f"  {'bridge total':<40} {_money(total):>14} "
                 f"({'equals' if abs(total - gap) < 0.005 else 'DIFFERS FROM'} the gap)")
    lines.append(f"  gap after actions: {_money(rec.revenue_gap_after_actions)} revenue, "
                 f"{_money(rec.margin_gap_after_actions)} margin")
    if rec.ebitda is not None:
        plan, budget, _ = rec.ebitda.headline[-1].published()
        lines.append(f"  EBITDA: plan {_money(plan)} against a {_money(budget)} budget: gap "
                     f"{_money(plan - budget)}")
    return lines


def _short_label(label: str, width: int = 40) -> str:
    return label if len(label) <= width else label[: width - 3] + "..."


def _money(amount: float) -> str:
    value = to_cents(amount)
    return f"{value / 1e6:,.2f}M" if abs(value) >= 1e5 else f"{value:,.2f}"


def _pending_discards(book: Workbook) -> list[Issue]:
    """Edits ``dollarize --discard-edits`` overwrote since the last close (sheet Issues)."""
    sheet = book.read_raw_sheets([layout.ISSUES]).get(layout.ISSUES)
    return pending_discards(sheet.rows) if sheet is not None else []


__all__ = ["CloseResult", "run_approve", "run_close", "run_diff", "run_reconcile",
           "run_rekey", "run_verify"]
