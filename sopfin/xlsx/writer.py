"""The lossless workbook writer: sopfin's sheets into a user's .xlsx/.xlsm, in place.

``write_sheets`` adds or replaces sheets and leaves every other part of the package
byte-identical (charts, pivots, images, controls, VBA, links, custom XML, signatures):
unchanged parts are copied as their original compressed bytes, and only the registry parts
(workbook.xml and its relationships, [Content_Types].xml, styles.xml, calcChain.xml) are
edited, as text, by insertion. The new file replaces the old one atomically.

The steps: inspect -> check -> plan -> styles -> registry edits -> stream the package.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
from lxml.etree import XMLSyntaxError

from sopfin.sheetspec import SheetSpec, Style
from sopfin.workbook import Reseal
from sopfin.xlsx import blank
from sopfin.xlsx.atomic import atomic_replace, save_faults
from sopfin.xlsx.cellpatch import CellEdit, formula_refs, patch_sheet_xml
from sopfin.xlsx.deflate import Deflated, DeflateJob, deflate_job, deflated_parts
from sopfin.xlsx.errors import (
    NotAWorkbookError,
    SheetNameTakenError,
    StrictOOXMLError,
    StructureProtectedError,
    UserSheetPatchError,
    WorkbookChangedError,
    WorkbookError,
    WorkbookExistsError,
    WorkbookLockedError,
    WorkbookNotFoundError,
)
from sopfin.xlsx.lock import exclusive, identity_of
from sopfin.xlsx.marks import (
    SheetGuard,
    sheet_guards,
    workbook_id,
)
from sopfin.xlsx.metadata import refuse_unwritable
from sopfin.xlsx.package import (
    Package,
    SheetEntry,
    check_package,
    open_package,
    owned_positions,
    parse_xml,
)
from sopfin.xlsx.partdigest import deflated_entry_digest, digest_of
from sopfin.xlsx.registry import (
    MalformedPartError,
)
from sopfin.xlsx.screen import SheetTooLargeError
from sopfin.xlsx.sheetxml import ExcelLimitError, block_styles, worksheet_chunks
from sopfin.xlsx.source import PackageBytes, PackageSource, path_of
from sopfin.xlsx.specdigest import parts_digests
from sopfin.xlsx.states import restored_states, sheet_states
from sopfin.xlsx.writeplan import (
    RegistryEdits,
    WritePlan,
    chart_edits,
    plan_write,
    registry_edits,
)
from sopfin.xlsx.zipsink import ZipSink, recorded_spec, stored_extent

__all__ = [
    "NotAWorkbookError", "SheetNameTakenError", "StrictOOXMLError", "StructureProtectedError",
    "WorkbookError", "WorkbookExistsError", "WorkbookLockedError", "WorkbookNotFoundError",
    "PartDigests", "SheetGuard", "WriteReport", "check_writable", "create_workbook",
    "owned_sheet_names",
    "sheet_guards", "sheet_names", "sheet_states", "workbook_id", "write_sheets",
]

SIGNED_WARNING = ("the workbook is digitally signed; its signature parts are kept unchanged, "
                  "but Excel will show the signature as invalid; re-sign after review")


class PartDigests(Mapping[str, str]):
    """{sheet name: digest of its part} for the sheets one write stores, each digest taken
    when it is first asked for (``sopfin.xlsx.partdigest``: ``digest_of`` over the XML, or
    ``deflated_entry_digest`` over the zip entry as stored)."""

    def __init__(self, parts: Mapping[str, tuple[BinaryIO, Deflated]],
                 take: Callable[[BinaryIO, Deflated], str] = digest_of) -> None:
        self._parts = parts
        self._take = take
        self._taken: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._taken:
            self._taken[name] = self._take(*self._parts[name])
        return self._taken[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


@dataclass(frozen=True)
class WriteReport:
    """What one write did to the package."""

    path: Path
    added: tuple[str, ...]  # sheet names appended
    replaced: tuple[str, ...]  # sopfin-owned sheets rewritten in place
    parts: tuple[str, ...]  # part names written, edited or removed
    removed: tuple[str, ...]  # part names dropped (old rels of replaced sheets, calcChain)
    bytes_written: int
    warnings: tuple[str, ...] = field(default=())
    copied: tuple[str, ...] = field(default=())  # replaced sheets whose part was copied as it was


# --- public API ------------------------------------------------------------------------------
def check_writable(path: PackageSource) -> None:
    """Raise a WorkbookError if sopfin could not write sheets into ``path`` (the file, or the
    ``PackageBytes`` a command read from it)."""
    refuse_unwritable(path_of(path))
    with open_package(path) as pkg:
        check_package(pkg)


def sheet_names(path: PackageSource) -> list[str]:
    """Sheet names in workbook (tab) order."""
    with open_package(path) as pkg:
        return [s.name for s in pkg.sheets]


def owned_sheet_names(path: PackageSource, any_value: bool = False) -> set[str]:
    """Names of the sheets carrying sopfin's owner mark (``any_value``: carrying the owner
    name whatever its value, FALSE included)."""
    with open_package(path) as pkg:
        if not any_value:
            return {s.name for s in pkg.sheets if s.owned}
        named = owned_positions(parse_xml(pkg.workbook, pkg.workbook_part, pkg.path), True)
        return {s.name for s in pkg.sheets if s.position in named}


def write_sheets(path: PackageSource, sheets: Sequence[SheetSpec],
                 states: Mapping[str, str] | None = None,
                 adopt: Collection[str] = (), *,
                 workbook_id: str | None = None,
                 cells: Mapping[str, Sequence[CellEdit]] | None = None,
                 reseal: Reseal | None = None) -> WriteReport:
    """Add or replace ``sheets`` in the workbook at ``path``, atomically.

    Owned specs replace the sheet of the same name if sopfin owns it, else are appended and
    marked; input specs (``owned=False``) are only ever appended. ``states`` puts sopfin's
    own sheets that are not rewritten back to a state (the ledger to 'veryHidden' after a
    spreadsheet app's save made it 'hidden'); names absent or not owned are left alone.
    ``adopt`` names unmarked sheets proven sopfin's by their content (``sopfin.guard.ownership``):
    they count as owned and are marked again. ``workbook_id`` is recorded as the workbook's
    identity if it has none yet. ``cells`` sets cells on sheets sopfin does not own (an import
    into ``Actuals``): sheet name -> edits (``sopfin.xlsx.cellpatch``); a cell holding a
    formula is refused, as is a sheet sopfin owns. ``reseal`` makes one of ``sheets``
    again once the others are deflated, from their part digests (``sopfin.workbook.Reseal``:
    the ledger recording the digest of the tab it publishes).
    ``path`` is the file, or the ``PackageBytes`` a command read from it: then the sheets
    are written into those bytes, and a file changed on disk since that read is refused
    (``WorkbookChangedError``) rather than saved over.
    Everything is checked before anything is written; on any error the file is left as it was.
    """
    where = path_of(path)
    with exclusive(where), open_package(path) as pkg:
        if isinstance(path, PackageBytes) and identity_of(where) != path.identity:
            raise WorkbookChangedError(where)
        check_package(pkg)
        adopted = _adoptable(pkg, adopt)
        pkg.sheets = [replace(s, owned=True) if s.position in adopted else s
                      for s in pkg.sheets]
        patched = _patched_user_sheets(pkg, where, cells or {})
        return _write(pkg, where, sheets, restore=restored_states(pkg, sheets, states or {}),
                      remark=sorted(adopted), workbook_id=workbook_id, patched=patched,
                      reseal=reseal)


def _patched_user_sheets(pkg: Package, path: Path, cells: Mapping[str, Sequence[CellEdit]]
                         ) -> dict[str, bytes]:
    """Sheet part -> its XML with ``cells`` set, for the user's sheets named in ``cells``."""
    out = {}
    for name, edits in cells.items():
        entry = next((s for s in pkg.sheets if s.name == name), None)
        if entry is None or entry.part is None:
            raise UserSheetPatchError(path, f"the workbook has no worksheet {name!r}",
                                      f"add the sheet {name!r} (sopfin init adds it)")
        if entry.owned:
            raise UserSheetPatchError(path, f"sheet {name!r} is sopfin's; its cells are "
                                      "written by sopfin's own commands", "leave it to them")
        xml = pkg.read(entry.part)
        held = formula_refs(xml, [e.ref for e in edits])
        if held:
            raise UserSheetPatchError(path, f"{name}!{held[0]} holds a formula"
                                      + (f" (and {len(held) - 1} more cells)" if held[1:]
                                         else ""),
                                      "clear the formulas in the cells being written")
        try:
            out[entry.part] = patch_sheet_xml(xml, edits)
        except (ValueError, XMLSyntaxError) as exc:
            raise NotAWorkbookError(path, f"{entry.part}: {exc}") from None
    return out


def _adoptable(pkg: Package, adopt: Collection[str]) -> set[int]:
    """Positions of the sheets in ``adopt`` that carry no owner name at all (one whose name
    says anything but TRUE is never taken)."""
    if not adopt:
        return set()
    named = owned_positions(parse_xml(pkg.workbook, pkg.workbook_part, pkg.path),
                            any_value=True)
    return {s.position for s in pkg.sheets
            if s.name in adopt and s.part and not s.owned and s.position not in named}


def create_workbook(path: str | Path, sheets: Sequence[SheetSpec]) -> None:
    """Make a new workbook holding exactly ``sheets``; refuse if ``path`` exists.

    Deterministic: the same specs give byte-identical files (fixed timestamps, constant parts).
    """
    path = Path(path)
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    with exclusive(path):
        if path.exists() or path.is_symlink():
            raise WorkbookExistsError(path)
        _create(path, sheets)


def _create(path: Path, sheets: Sequence[SheetSpec]) -> None:
    visible = [i for i, s in enumerate(sheets) if s.state == "visible"]
    buffer = io.BytesIO()
    sink = ZipSink(buffer)
    for name, data in blank.blank_parts(active_tab=visible[0] if visible else 0):
        sink.add(name, data)
    sink.close()
    buffer.seek(0)
    with open_package(path, buffer) as pkg:
        _write(pkg, path, sheets, fast_deflate=False, mark_written=False)



# --- writing ----------------------------------------------------------------------------------
def _sheet_job(part: str, spec: SheetSpec, xf: dict[Style, int], rid: str | None) -> DeflateJob:
    """A worksheet part to deflate; its XML is built only when the job runs."""
    return DeflateJob(part, lambda: worksheet_chunks(spec, xf, rid), _build_cost(spec))


# What building a sheet's XML costs, in cells of a float block: a cell of any other block
# (text, mixed values, cells styled one by one) costs several, and so does each block.
OTHER_CELL_COST, BLOCK_COST = 8, 100


def _build_cost(spec: SheetSpec) -> int:
    cost = 0
    for block in spec.blocks:
        cells = _cell_count(block.values)
        floats = isinstance(block.values, np.ndarray) and block.values.dtype.kind == "f"
        cost += BLOCK_COST + (cells if floats else OTHER_CELL_COST * cells)
    return cost


def _worksheet_part(entry: SheetEntry) -> str:
    """The worksheet part of a sheet being replaced (only worksheets are ever replaced)."""
    if entry.part is None:
        raise ValueError(f"sheet {entry.name!r} has no worksheet part to replace")
    return entry.part


def _cell_count(values: object) -> int:
    shape = getattr(values, "shape", None)
    if shape is None:
        return sum(len(row) for row in cast(Iterable[Sized], values))
    return int(shape[0] * shape[1]) if len(shape) == 2 else 0


def _resealed(reseal: Reseal, given: SheetSpec,
              ready: Mapping[str, tuple[BinaryIO, Deflated]], names: Mapping[str, str],
              xf: dict[Style, int], rid: str | None, fast: bool, part: str,
              ) -> tuple[BinaryIO, Deflated]:
    """The resealed sheet, deflated into memory (it is small: the ledger)."""
    by_name = {names[p]: found for p, found in ready.items() if p in names}
    spec = reseal.sheet(PartDigests(by_name), PartDigests(by_name, deflated_entry_digest))
    if (spec.name, spec.state, spec.owned) != (given.name, given.state, given.owned) \
            or not block_styles(spec.blocks) <= block_styles(given.blocks):
        raise ValueError(f"the resealed sheet {given.name!r} differs from the one planned in "
                         "more than its cells")
    buffer = io.BytesIO()
    return buffer, deflate_job(buffer, _sheet_job(part, spec, xf, rid), fast)


def _write(pkg: Package, path: Path, sheets: Sequence[SheetSpec],
           fast_deflate: bool = True, restore: Mapping[int, str] | None = None,
           remark: Sequence[int] = (), workbook_id: str | None = None,
           mark_written: bool = True, patched: Mapping[str, bytes] | None = None,
           reseal: Reseal | None = None) -> WriteReport:
    """Write ``sheets`` into the package. ``mark_written``: comment each sheet part written
    (``zipsink.written_comment``) so later runs know it unchanged; new workbooks (the
    committed template among them) are written without, their bytes unchanged."""
    patched = dict(patched or {})
    if not sheets and not restore and not remark and not workbook_id and not patched:
        return WriteReport(path, (), (), (), (), 0)
    try:
        plan = plan_write(pkg, sheets)
    except ExcelLimitError as exc:
        raise SheetTooLargeError(path, str(exc), "make the plan smaller (fewer families, "
                                 "channels or scenarios in one workbook)") from None
    try:
        drawn = chart_edits(pkg, plan)
        edits, xf = registry_edits(pkg, plan, sheets, drawn, restore or {}, remark,
                                    workbook_id)
    except MalformedPartError as exc:
        raise NotAWorkbookError(path, str(exc)) from None
    replaced = {_worksheet_part(e): s for s, e in plan.replace}
    if pkg.signed:
        edits.warnings.append(SIGNED_WARNING)
    touched = tuple(sorted({*edits.parts, *edits.removed, *replaced, *patched,
                            *(part for _, _, part in plan.add)}))
    source = pkg.source
    targets = [*replaced.items(), *((p, s) for s, _, p in plan.add)]
    late = next((p for p, s in targets if reseal and s.name == reseal.name), None)
    reusable = _reusable_parts(pkg, [p for p in replaced if p != late]) if mark_written else {}
    digests = parts_digests([(p, replaced[p]) for p in reusable], xf, drawn.rids)
    copied = {p: info for p, info in reusable.items() if recorded_spec(info) == digests[p]}
    jobs = [_sheet_job(part, spec, xf, drawn.rids.get(part))
            for part, spec in targets if part != late and part not in copied]
    restyled = _restyled_sheets(pkg, edits)
    with save_faults(path), deflated_parts(jobs, path.parent, fast_deflate) as deflate_all:
        if mark_written:  # the other parts' digests, while the child deflates its share
            digests |= parts_digests([(p, s) for p, s in targets
                                      if p != late and p not in reusable], xf, drawn.rids)
        with atomic_replace(path, edits.warnings) as fh:
            sheets_ready = deflate_all()
            sheets_ready.update({part: (source, stored_extent(info, source))
                                 for part, info in copied.items()})
            sheets_ready.update(_deflated_whole(restyled, fast_deflate))
            if reseal is not None and late is not None:
                names = {p: s.name for p, s in targets} | {
                    s.part: s.name for s in pkg.sheets if s.part in restyled}
                sheets_ready[late] = _resealed(reseal, dict(targets)[late], sheets_ready,
                                               names, xf, drawn.rids.get(late), fast_deflate,
                                               late)
            size = _assemble(ZipSink(fh, fast_deflate, mark_written), pkg, edits, plan,
                             sheets_ready, digests, set(replaced), set(restyled), patched)
    return WriteReport(path, tuple(s.name for s, _, _ in plan.add),
                       tuple(s.name for s, _ in plan.replace), touched,
                       tuple(sorted(edits.removed)), size, tuple(edits.warnings),
                       tuple(replaced[part].name for part in copied))


def _assemble(sink: ZipSink, pkg: Package, edits: RegistryEdits, plan: WritePlan,
              sheets_ready: Mapping[str, tuple[BinaryIO, Deflated]],
              digests: Mapping[str, str | None], replaced: set[str], restyled: set[str],
              patched: Mapping[str, bytes]) -> int:
    """The new package, entry by entry in the old one's order, then the new parts; its size."""
    for info in pkg.zf.infolist():
        name = info.filename
        if name in edits.removed:
            continue
        if name in edits.parts:
            sink.add(name, edits.parts.pop(name), info.date_time)
        elif name in replaced or name in restyled:
            sink.add_deflated(name, *sheets_ready[name], info.date_time,
                              digests.get(name), mark=name in replaced)
        elif name in patched:
            sink.add(name, patched[name], info.date_time)
        else:
            sink.copy_raw(info, pkg.source)
    for name, data in edits.parts.items():  # registry and chart parts new to the package
        sink.add(name, data)
    for _, _, part in plan.add:
        sink.add_deflated(part, *sheets_ready[part], spec=digests.get(part))
    return sink.close()


def _restyled_sheets(pkg: Package, edits: RegistryEdits) -> dict[str, bytes]:
    """The sheet parts the write edits in place (only their tab-selected flag: ``activetab``),
    taken out of ``edits`` to be deflated as sheets are, before the ledger is resealed, so
    that it can record what they are as stored."""
    sheet_parts = {s.part for s in pkg.sheets if s.part}
    return {name: edits.parts.pop(name) for name in list(edits.parts) if name in sheet_parts}


def _deflated_whole(parts: Mapping[str, bytes], fast: bool,
                    ) -> dict[str, tuple[BinaryIO, Deflated]]:
    """``parts`` deflated into memory, as worksheet parts are."""
    buffer = io.BytesIO()
    return {name: (buffer, deflate_job(buffer, DeflateJob(name, partial(tuple, (xml,)), 0),
                                       fast)) for name, xml in parts.items()}


def _reusable_parts(pkg: Package, parts: Iterable[str]) -> dict[str, zipfile.ZipInfo]:
    """{part: its zip entry} for the replaced parts whose entry is still exactly what sopfin
    wrote and records the digest of the spec it was built from: those whose new spec has
    that digest are copied as their compressed bytes. Only these parts' digests are needed
    before deflating starts; the others' are taken while it runs."""
    infos = {part: pkg.zf.getinfo(part) for part in parts}
    return {part: info for part, info in infos.items() if recorded_spec(info) is not None}
