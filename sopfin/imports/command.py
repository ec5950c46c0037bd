"""``sopfin import``: one import, the whole way on one screen.

read the plan (its months, families, the target sheet and the Mapping sheet) -> read the
mapping -> import the source -> place its lines on the sheet -> write the cells (or, with
``dry_run``, only say what would change). Any issue stops it before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sopfin import layout
from sopfin.close.imported import ImportRecord
from sopfin.close.publish import default_author, now_utc
from sopfin.guard.ownership import proven_sheets
from sopfin.imports.mapping import MAPPED_KEYS, TARGET_KEYS, ImportMap, parse_mapping
from sopfin.imports.origin import Origin, import_record, logged
from sopfin.imports.placement import Placement, place_import
from sopfin.imports.presets import PRESETS
from sopfin.imports.transform import ImportResult, import_table
from sopfin.model import CellRef, Issue, IssueCode, Severity, has_errors
from sopfin.pipeline import check, exclusive
from sopfin.plan.channels import plan_channels
from sopfin.plan.opex_checks import opex_lines
from sopfin.workbook import WorkbookSnapshot
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.cellpatch import CellEdit
from sopfin.xlsx.errors import UserSheetPatchError
from sopfin.xlsx.writer import owned_sheet_names, write_sheets

MAPPING_SHEET = "Mapping"
RECORDED = f"  recorded on {layout.IMPORTS}; the next close names it on the ledger"
PRESET_PREFIX = "preset:"


class ImportUsageError(ValueError):
    """The command was asked for something it cannot do (an unknown preset or sheet)."""


@dataclass(kw_only=True)
class SheetWrite:
    """Cells placed on a user's sheet, the issues met, whether they were written, and the
    record of the write added to ``_Imports`` in the same save."""

    placement: Placement | None = None
    issues: list[Issue] = field(default_factory=list)
    written: bool = False  # cells were set (a write of the same figures sets none)
    recorded: ImportRecord | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.issues)


@contextmanager
def read_once(workbook: Path) -> Iterator[WorkbookSnapshot]:
    """The workbook under its lock for a whole read-modify-write, read once."""
    book = FileWorkbook(workbook)
    with exclusive(book):
        yield book.snapshot()


def write_placement(out: SheetWrite, book: WorkbookSnapshot, sheet: str, result: ImportResult,
                    origin: Origin, rows: int) -> None:
    """Write ``out.placement``'s cells on ``sheet`` and the record of the write on
    ``_Imports``, in one atomic save into the package ``book`` read; a formula where a cell
    goes, or an import log sopfin cannot extend, is an issue, and nothing is written."""
    assert out.placement is not None
    edits = [CellEdit(ref, value) for ref, value in out.placement.cells]
    record = import_record(origin, result, rows, at=now_utc(),
                           author=origin.author or default_author())
    files = cast(FileWorkbook, book.reader)
    adopt = proven_sheets(files, owned_sheet_names(files.source, any_value=True))
    ours = layout.IMPORTS in owned_sheet_names(files.source) | adopt
    log = book.read_raw_sheets([layout.IMPORTS]).get(layout.IMPORTS) if ours else None
    spec, issues = logged(log.rows if log is not None else None, record)
    out.issues += issues
    if spec is None:
        return
    try:  # a sheet of the user's named _Imports is refused (SheetNameTakenError), not read
        write_sheets(files.source, [spec], adopt=adopt, cells={sheet: edits} if edits else None)
    except UserSheetPatchError as exc:
        out.issues.append(Issue(IssueCode.VALUE_INVALID, Severity.ERROR, CellRef(sheet),
                                exc.problem, exc.fix))
        return
    out.written, out.recorded = bool(edits), record


@dataclass
class ImportOutcome(SheetWrite):
    workbook: Path
    target: str
    result: ImportResult | None = None


def mapping_text(spec: str) -> tuple[str, str]:
    """``preset:NAME`` or a TOML file -> (its text, the name messages use)."""
    if spec.startswith(PRESET_PREFIX):
        name = spec[len(PRESET_PREFIX):]
        if name not in PRESETS:
            raise ImportUsageError(f"no preset {name!r}; presets: {', '.join(PRESETS)}")
        return PRESETS[name], spec
    path = Path(spec)
    try:
        return path.read_text(encoding="utf-8"), path.name
    except FileNotFoundError:
        raise ImportUsageError(f"{spec}: no such mapping file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportUsageError(f"{spec}: cannot read the mapping ({exc})") from None


def run_import(workbook: str | Path, source: str | Path, into: str, map_spec: str, *,
               dry_run: bool = False, origin: Origin | None = None) -> ImportOutcome:
    """Import ``source`` into sheet ``into`` of ``workbook`` through ``map_spec``; the write
    is recorded on ``_Imports`` as ``origin`` says (default: ``sopfin import`` by the OS
    user, the source file's name and hash)."""
    workbook, source = Path(workbook), Path(source)
    if into not in TARGET_KEYS:
        raise ImportUsageError(f"cannot import into {into!r}; sheets: {', '.join(TARGET_KEYS)}")
    if not source.is_file():
        raise ImportUsageError(f"{source}: no such source file")
    text, name = mapping_text(map_spec)
    with read_once(workbook) as book:
        return _import(book, source, into, text, name, dry_run, origin or Origin())


def _import(book: WorkbookSnapshot, source: Path, into: str, text: str, name: str,
            dry_run: bool, origin: Origin) -> ImportOutcome:
    out = ImportOutcome(cast(FileWorkbook, book.reader).path, into)
    mapping, issues = parse_mapping(text, name, into)
    plan_read = check(book, extra_sheets=(into, MAPPING_SHEET, layout.IMPORTS))
    if plan_read.plan is None:
        out.issues = [*issues, *plan_read.issues]
        return out
    out.issues = issues
    if mapping is None:
        return out
    sheet = plan_read.raw.get(into)
    if sheet is None:
        out.issues.append(Issue(IssueCode.MISSING_SHEET, Severity.ERROR, CellRef(into),
                                f"the workbook has no sheet {into!r} to import into",
                                "add it (sopfin init adds the missing input sheets)"))
        return out
    families, fam_issues = _family_sheet(plan_read.raw, mapping)
    out.issues += fam_issues
    if fam_issues:
        return out
    plan = plan_read.plan
    out.result = import_table(source, mapping, into, months=plan.months,
                              families=set(plan.families.keys["family"]),
                              family_sheet=families, opex_lines=opex_lines(plan),
                              channels=plan_channels(plan) if into in MAPPED_KEYS else None)
    out.issues += out.result.issues
    if has_errors(out.issues):
        return out
    out.placement, place_issues = place_import(sheet.rows, out.result, plan.months)
    out.issues += place_issues
    if out.placement is None or has_errors(out.issues) or dry_run:
        return out
    write_placement(out, book, into, out.result, origin, out.result.rows_used)
    return out


def _family_sheet(raw: Mapping[str, object], mapping: ImportMap
                  ) -> tuple[dict[str, str] | None, list[Issue]]:
    """Item -> family from the workbook's Mapping sheet (Item | Family, header in row 1)."""
    if mapping.families != "sheet":
        return None, []
    sheet = raw.get(mapping.family_sheet)
    rows: Sequence[Sequence[object]] = getattr(sheet, "rows", None) or []
    header = [str(v or "").strip().lower() for v in (rows[0] if rows else [])]
    if "item" not in header or "family" not in header:
        return None, [Issue(IssueCode.MISSING_SHEET, Severity.ERROR,
                            CellRef(mapping.family_sheet, "A1"),
                            f"the mapping takes families from sheet {mapping.family_sheet!r}, "
                            "which needs the columns Item and Family",
                            f"add sheet {mapping.family_sheet!r} with Item and Family in row 1")]
    i, f = header.index("item"), header.index("family")
    table = {}
    for row in rows[1:]:
        item = str(row[i]).strip() if i < len(row) and row[i] is not None else ""
        family = str(row[f]).strip() if f < len(row) and row[f] is not None else ""
        if item and family:
            table[item] = family
    return table, []


def import_lines(out: ImportOutcome, *, dry_run: bool) -> list[str]:
    """What the terminal shows after an import (or a dry run)."""
    r, p = out.result, out.placement
    assert r is not None and p is not None
    months = f"{r.months[0]}..{r.months[-1]}" if r.months else "no months"
    verb = "would import" if dry_run else "imported" if out.written else "found"
    lines = [f"{out.workbook.name}: {verb} {len(r.lines)} lines into {out.target} ({months}) "
             f"from {r.source} ({r.rows_used} of {r.rows_read} rows; sha256 "
             f"{r.source_sha256[:12]})",
             f"  rows updated {p.rows_updated}, added {p.rows_added}, cleared in those months "
             f"{p.rows_cleared}; {len(p.cells)} cells " + ("to set" if dry_run else "set")]
    lines += [f"  {measure:<10} {total:>18,.2f}" for measure, total in sorted(r.totals.items())]
    if r.rows_filtered:
        lines.append(f"  {r.rows_filtered} rows left out by the mapping's filters")
    if r.rows_other:
        lines.append(f"  {r.rows_other} rows of other measures left out")
    if not dry_run and not out.written:
        lines.append("  nothing to change: the sheet already holds these figures")
    if out.recorded is not None:
        lines.append(RECORDED)
    return lines


def import_payload(out: ImportOutcome) -> dict[str, object]:
    """The JSON shape of ``sopfin import --json``."""
    r, p = out.result, out.placement
    payload: dict[str, object] = {"workbook": str(out.workbook), "sheet": out.target,
                                  "ok": out.ok, "written": out.written,
                                  "recorded": out.recorded is not None,
                                  "issues": [i.to_dict() for i in out.issues]}
    if r is not None:
        payload["source"] = {"file": r.source, "sha256": r.source_sha256,
                             "rows_read": r.rows_read, "rows_used": r.rows_used,
                             "rows_filtered": r.rows_filtered, "rows_other": r.rows_other}
        payload["months"] = list(r.months)
        payload["totals"] = {k: round(v, 2) for k, v in sorted(r.totals.items())}
    if p is not None:
        payload["cells"] = len(p.cells)
        payload["rows"] = {"updated": p.rows_updated, "added": p.rows_added,
                           "cleared": p.rows_cleared}
    return payload
