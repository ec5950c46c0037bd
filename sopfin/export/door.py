"""``sopfin export``: read the workbook, dollarize the live plan, read every published version
back from its tab, build the star schema and write it into a folder, all or nothing.

The steps: refuse a workbook open in a spreadsheet app or a target that is not free; check
the plan (its errors stop the export, exit 1); verify the ledger and the published tabs (a
version that does not verify is not exported as a version of record, exit 1); dollarize;
read each version's tab; build the tables; write them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sopfin import __version__, layout
from sopfin.close import ledger as versions
from sopfin.close.published import ledger_findings, load_ledger, recon_versions
from sopfin.export.facts import Version
from sopfin.export.files import check_target, write_export
from sopfin.export.recon_tab import ReconTabError, read_recon_tab
from sopfin.export.star import build_star
from sopfin.model import Issue, Severity, has_errors
from sopfin.pipeline import Progress, Timings, check_with_finance, dollarize_step, read_snapshot
from sopfin.terminal import issue_lines
from sopfin.workbook import Workbook
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.errors import (
    FolderNotWritableError,
    WorkbookLockedError,
    WorkbookNotFoundError,
)
from sopfin.xlsx.lock import exclusive
from sopfin.xlsx.package import lock_files


def _quiet(_: str) -> None:
    return None


@dataclass
class ExportResult:
    book: Workbook
    target: Path
    issues: list[Issue] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # findings that stop the export
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    versions: list[str] = field(default_factory=list)
    fmt: str = "parquet"
    timings: Timings = field(default_factory=Timings)

    @property
    def ok(self) -> bool:
        return not self.failures and not has_errors(self.issues)

    def lines(self) -> list[str]:
        name = self.book.name
        if not self.ok:
            return [f"{name}: not exported; fix the errors listed below and run again",
                    *issue_lines(self.issues, name), *self.failures]
        held = (f"and published versions {', '.join(self.versions)}" if self.versions
                else "(no published versions yet)")
        tables = ", ".join(f"{t} {n:,}" for t, n in self.rows.items())
        return [f"{name}: exported to {self.target} ({self.fmt}): the live plan {held}",
                f"rows: {tables}"]


def _refuse_open_file(path: Path) -> None:
    if not path.exists():
        raise WorkbookNotFoundError(path)
    locks = lock_files(path)
    if locks:
        raise WorkbookLockedError(path, locks[0])


def _published(book: Workbook, ledger: Sequence[versions.LedgerEntry],
               ) -> tuple[list[Version], list[str]]:
    """Every published version with its tab read back; lines for tabs that cannot be read."""
    numbers = sorted({e.version for e in ledger if e.event == versions.PUBLISH}
                     & set(recon_versions(book)))
    names = {v: layout.recon_tab_name(v) for v in numbers}
    cells = book.read_cells(list(names.values())) if names else {}
    out, failures = [], []
    for number, name in names.items():
        try:
            tab = read_recon_tab(cells.get(name, {}))
        except ReconTabError as exc:
            failures.append(f"error[unreadable-tab] {book.name}!{name}: {exc}; it cannot be "
                            "exported as a version of record")
            continue
        entries = tuple(e for e in ledger if e.version == number)
        out.append(Version(number, tab, entries))
    return out, failures


def run_export(path: str | Path, target: str | Path, fmt: str = "parquet",
               progress: Progress = _quiet) -> ExportResult:
    """Export the workbook at ``path`` into the folder ``target`` as ``fmt`` files.

    The workbook's lock is held while it is read, so a close running now finishes first and
    the ledger and the tabs come from one file (``SOPFIN_LOCK_WAIT``; then exit 2); in a
    folder sopfin cannot write, the workbook is read without it."""
    path, target = Path(path), Path(target)
    _refuse_open_file(path)
    check_target(target)
    with contextlib.ExitStack() as held:
        with contextlib.suppress(FolderNotWritableError):
            held.enter_context(exclusive(path))
        return _export(path, target, fmt, progress)


def _export(path: Path, target: Path, fmt: str, progress: Progress) -> ExportResult:
    timings = Timings()
    book = read_snapshot(FileWorkbook(path), timings, progress)  # verify and export share it
    out = ExportResult(book=book, target=target, fmt=fmt)
    base = check_with_finance(book, progress, timings)
    out.issues, out.timings = list(base.issues), base.timings
    if base.plan is None or not base.ok:
        return out
    with out.timings.step("verify", progress):
        ledger = load_ledger(book)
        out.failures = [f"{f.severity.value}[{f.code.value}] {f.format(book.name)}"
                        for f in ledger_findings(book, ledger, None)
                        if f.severity is Severity.ERROR]
    if out.failures:
        return out
    d, issues = dollarize_step(base.plan, None, out.timings, progress)
    out.issues += issues
    with out.timings.step("versions", progress):
        published, out.failures = _published(book, ledger)
    if not out.ok:
        return out
    overrides = base.finance.overrides if base.finance is not None else ()
    with out.timings.step("star", progress):
        tables = build_star(base.plan, d, overrides, published, ledger)
    about = {"workbook": path.name, "sopfin": __version__,
             "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
             "versions": [v.key for v in published]}
    with out.timings.step("write", progress):
        write_export(tables, target, fmt, about)
    out.rows = {name: len(next(iter(cols.values()), ())) for name, cols in tables.items()}
    out.versions = [v.key for v in published]
    return out
