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
import posixpath
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import BinaryIO, cast

from lxml.etree import XMLSyntaxError

from sopfin.sheetspec import SheetSpec, Style
from sopfin.workbook import Reseal
from sopfin.xlsx import blank
from sopfin.xlsx.activetab import deselected_parts, set_active_tab
from sopfin.xlsx.atomic import atomic_replace, save_faults
from sopfin.xlsx.cellpatch import CellEdit, formula_refs, patch_sheet_xml
from sopfin.xlsx.charts import (
    PartNamer,
    actual_name,
    chart_parts,
    check_charts,
    drawn_by_sopfin,
    reachable_parts,
)
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
    read_workbook_id,
    sheet_guards,
    with_workbook_id,
    workbook_id,
)
from sopfin.xlsx.metadata import refuse_unwritable
from sopfin.xlsx.package import (
    CT_WORKSHEET,
    MAIN_NS,
    REL_CALC_CHAIN,
    REL_STYLES,
    REL_WORKSHEET,
    MalformedPartError,
    NewSheet,
    Package,
    SheetEntry,
    XmlText,
    ZipSink,
    add_overrides,
    add_relationships,
    check_package,
    drop_calc_cells,
    edit_workbook,
    open_package,
    owned_positions,
    parse_xml,
    recorded_spec,
    rels_part_of,
    remove_override,
    remove_relationship,
    stored_extent,
)
from sopfin.xlsx.partdigest import deflated_entry_digest, digest_of
from sopfin.xlsx.printnames import positions_of, replace_print_names
from sopfin.xlsx.screen import SheetTooLargeError, reading
from sopfin.xlsx.sheetxml import ExcelLimitError, block_styles, check_blocks, worksheet_chunks
from sopfin.xlsx.source import PackageBytes, PackageSource, path_of
from sopfin.xlsx.specdigest import parts_digests
from sopfin.xlsx.states import SHEET_STATES, restored_states, sheet_states
from sopfin.xlsx.styles import resolve_styles

__all__ = [
    "NotAWorkbookError", "SheetNameTakenError", "StrictOOXMLError", "StructureProtectedError",
    "WorkbookError", "WorkbookExistsError", "WorkbookLockedError", "WorkbookNotFoundError",
    "PartDigests", "SheetGuard", "WriteReport", "check_writable", "create_workbook",
    "owned_sheet_names",
    "sheet_guards", "sheet_names", "sheet_states", "workbook_id", "write_sheets",
]

CONTENT_TYPES = "[Content_Types].xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_BAD_NAME_CHARS = re.compile(r"[\[\]:*?/\\]")
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


# --- planning ----------------------------------------------------------------------------------
def validate_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _BAD_NAME_CHARS.search(name) or name[0] == "'" \
            or name[-1] == "'" or name.casefold() == "history":
        raise ValueError(f"{name!r} is not a valid Excel sheet name (1-31 characters, none of "
                         "[ ] : * ? / \\, not starting or ending with ', not 'History')")


@dataclass
class _Plan:
    replace: list[tuple[SheetSpec, SheetEntry]]
    add: list[tuple[SheetSpec, NewSheet, str]]  # spec, workbook entry, part name


def _plan(pkg: Package, sheets: Sequence[SheetSpec]) -> _Plan:
    existing = {s.name.casefold(): s for s in pkg.sheets}
    seen: set[str] = set()
    plan = _Plan([], [])
    taken_parts = {n.lower() for n in pkg.names}
    rids = {r.rid for r in pkg.rels}
    next_sheet_id = max([0, *(s.sheet_id for s in pkg.sheets)]) + 1
    folder = posixpath.join(posixpath.dirname(pkg.workbook_part), "worksheets")
    part_no = 1
    for spec in sheets:
        validate_sheet_name(spec.name)
        check_blocks(spec)
        check_charts(spec)
        if spec.state not in SHEET_STATES:
            raise ValueError(f"sheet {spec.name!r}: state must be one of {SHEET_STATES}")
        if spec.name.casefold() in seen:
            raise ValueError(f"sheet {spec.name!r} is given twice")
        seen.add(spec.name.casefold())
        entry = existing.get(spec.name.casefold())
        if entry is not None:
            if not (spec.owned and entry.owned and entry.part is not None):
                raise SheetNameTakenError(pkg.path, entry.name, by_sopfin=entry.owned)
            plan.replace.append((spec, entry))
            continue
        while f"{folder}/sheet{part_no}.xml".lower() in taken_parts:
            part_no += 1
        part = f"{folder}/sheet{part_no}.xml"
        taken_parts.add(part.lower())
        rid = _new_rid(rids)
        plan.add.append((spec, NewSheet(spec.name, next_sheet_id, rid, spec.state, spec.owned),
                         part))
        next_sheet_id += 1
    return plan


def _new_rid(taken: set[str]) -> str:
    n = max([0, *(int(r[3:]) for r in taken if re.fullmatch(r"rId\d+", r))]) + 1
    while f"rId{n}" in taken:
        n += 1
    taken.add(f"rId{n}")
    return f"rId{n}"


# --- registry edits ----------------------------------------------------------------------------
@dataclass
class _Edits:
    parts: dict[str, bytes] = field(default_factory=dict)  # edited or new registry parts
    removed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _ChartEdits:
    parts: dict[str, bytes] = field(default_factory=dict)  # drawings, charts, their rels
    overrides: list[tuple[str, str]] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)  # old rels and parts of replaced sheets
    rids: dict[str, str] = field(default_factory=dict)  # sheet part -> drawing rel id
    warnings: list[str] = field(default_factory=list)


def _chart_edits(pkg: Package, plan: _Plan) -> _ChartEdits:
    """Drop what replaced sheets drew (warning when it was not only sopfin's charts); draw
    the charts of the new and replacing specs under part names the package does not use."""
    out = _ChartEdits()
    for spec, entry in plan.replace:
        assert entry.part is not None
        rels = actual_name(pkg, rels_part_of(entry.part))
        if rels is None:
            continue
        if not drawn_by_sopfin(pkg, entry.part):
            out.warnings.append(f"sheet '{spec.name}': drawings, comments or other objects "
                                "added to this sopfin sheet were removed with it")
        out.removed.add(rels)
        out.removed.update(reachable_parts(pkg, entry.part))
    namer = PartNamer([*pkg.names, *(part for _, _, part in plan.add)])
    base = posixpath.dirname(pkg.workbook_part)
    targets = [(s, e.part) for s, e in plan.replace] + [(s, p) for s, _, p in plan.add]
    for spec, part in targets:
        if not spec.charts or part is None:
            continue
        drawn = chart_parts(spec, part, base, namer)
        out.parts.update(drawn.parts)
        out.overrides.extend(drawn.overrides)
        out.rids[part] = drawn.drawing_rid
        out.removed.discard(drawn.sheet_rels)
    return out


def _text(pkg: Package, name: str) -> XmlText:
    return XmlText.decode(pkg.read(name))


def _relative(part: str, workbook_part: str) -> str:
    """A relationship target for ``part`` as seen from the workbook part's folder."""
    return posixpath.relpath(part, posixpath.dirname(workbook_part) or ".")


def _registry_edits(pkg: Package, plan: _Plan, sheets: Sequence[SheetSpec],
                    drawn: _ChartEdits, restore: Mapping[int, str], remark: Sequence[int],
                    workbook_id: str | None = None,
                    ) -> tuple[_Edits, dict[Style, int]]:
    edits = _Edits(dict(drawn.parts), set(drawn.removed), list(drawn.warnings))
    wb = _text(pkg, pkg.workbook_part)
    rels_name = rels_part_of(pkg.workbook_part)
    rels = _text(pkg, rels_name) if pkg.has(rels_name) else XmlText.decode(
        blank.EMPTY_RELS.encode("utf-8"))
    types = _text(pkg, CONTENT_TYPES)
    new_rels = [(n.rid, REL_WORKSHEET, _relative(part, pkg.workbook_part))
                for _, n, part in plan.add]
    overrides = [(part, CT_WORKSHEET) for _, _, part in plan.add] + drawn.overrides

    styles_part = pkg.part_of_type(REL_STYLES)
    if styles_part is None:  # a workbook without a stylesheet gets the default one
        styles_part = posixpath.join(posixpath.dirname(pkg.workbook_part), "styles.xml")
        if pkg.has(styles_part):
            raise NotAWorkbookError(pkg.path, f"{styles_part} exists but is not linked")
        styles = XmlText.decode(blank.STYLES.encode("utf-8"))
        new_rels.append((_new_rid({r.rid for r in pkg.rels} | {r[0] for r in new_rels}),
                         REL_STYLES, _relative(styles_part, pkg.workbook_part)))
        overrides.append((styles_part, CT_STYLES))
        edits.parts[styles_part] = b""
    else:
        styles = _text(pkg, styles_part)
    used = set().union(*(block_styles(s.blocks) for s in sheets))
    with reading(pkg.path, styles_part):
        styles_text, xf = resolve_styles(styles.text, used)
    if styles_text != styles.text or styles_part in edits.parts:
        edits.parts[styles_part] = styles.encode(styles_text)

    states = {**restore, **{e.position: s.state for s, e in plan.replace if s.state != e.state}}
    wb_text = edit_workbook(wb.text, len(pkg.sheets), [n for _, n, _ in plan.add], states,
                            remark)
    if workbook_id and read_workbook_id(pkg) is None:
        wb_text = with_workbook_id(wb_text, workbook_id)
    wb_text = _views_and_print_names(pkg, plan, sheets, wb_text, edits)
    rels_text = add_relationships(rels.text, new_rels) if new_rels else rels.text
    types_text = add_overrides(types.text, overrides) if overrides else types.text
    for name in sorted(drawn.removed):
        types_text = remove_override(types_text, name)

    _drop_replaced_calc_cells(pkg, plan, edits)
    calc_removed = [n for n in edits.removed if n == pkg.part_of_type(REL_CALC_CHAIN)]
    for name in calc_removed:
        rid = next(r.rid for r in pkg.rels if r.target == name)
        rels_text = remove_relationship(rels_text, rid)
        types_text = remove_override(types_text, name)

    for name, original, text in ((pkg.workbook_part, wb, wb_text), (rels_name, rels, rels_text),
                                 (CONTENT_TYPES, types, types_text)):
        if text != original.text or not pkg.has(name):
            edits.parts[name] = original.encode(text)
    _verify(pkg, edits, plan)
    return edits, xf


def _views_and_print_names(pkg: Package, plan: _Plan, sheets: Sequence[SheetSpec],
                           wb_text: str, edits: _Edits) -> str:
    """The written sheets' print names replaced; the workbook opening on the last sheet that
    asks to be selected, with the selection flag cleared on every other sheet."""
    positions = positions_of(sheets, {e.name.casefold(): e.position for _, e in plan.replace},
                             len(pkg.sheets))
    wb_text = replace_print_names(wb_text, {pos: spec for pos, spec in positions.items()
                                            if spec.owned})
    selected = [pos for pos, spec in sorted(positions.items()) if spec.selected]
    if not selected:
        return wb_text
    edits.parts.update(deselected_parts(pkg, {e.part for _, e in plan.replace}))
    return set_active_tab(wb_text, selected[-1])


def _drop_replaced_calc_cells(pkg: Package, plan: _Plan, edits: _Edits) -> None:
    calc = pkg.part_of_type(REL_CALC_CHAIN)
    ids = {e.sheet_id for _, e in plan.replace}
    if calc is None or not ids:
        return
    original = _text(pkg, calc)
    text, kept = drop_calc_cells(original.text, ids)
    if not kept:
        edits.removed.add(calc)
    elif text != original.text:
        edits.parts[calc] = original.encode(text)


def _verify(pkg: Package, edits: _Edits, plan: _Plan) -> None:
    """Parse every edited part but worksheets (edited only in their view's selection flag,
    by ``activetab``: a tree of a large sheet takes ten times its bytes); check the
    workbook lists and marks what the plan says."""
    sheet_parts = {s.part for s in pkg.sheets if s.part}
    for name, part_data in edits.parts.items():
        if part_data and name not in sheet_parts:
            parse_xml(part_data, name, pkg.path)
    data = edits.parts.get(pkg.workbook_part)
    if data is None:
        return
    root = parse_xml(data, pkg.workbook_part, pkg.path)
    found = [el.get("name") for el in root.iterfind(f"{{{MAIN_NS}}}sheets/{{{MAIN_NS}}}sheet")]
    expected = [s.name for s in pkg.sheets] + [n.name for _, n, _ in plan.add]
    owned = owned_positions(root)
    wanted = {s.position for s in pkg.sheets if s.owned} | {
        len(pkg.sheets) + k for k, (_, n, _) in enumerate(plan.add) if n.owned}
    if found != expected or owned != wanted:
        raise AssertionError(f"workbook.xml edit went wrong: sheets {found} (expected "
                             f"{expected}), owned positions {sorted(owned)} (expected "
                             f"{sorted(wanted)})")


# --- writing ----------------------------------------------------------------------------------
def _sheet_job(part: str, spec: SheetSpec, xf: dict[Style, int], rid: str | None) -> DeflateJob:
    """A worksheet part to deflate; its XML is built only when the job runs."""
    cells = sum(_cell_count(b.values) for b in spec.blocks)
    return DeflateJob(part, lambda: worksheet_chunks(spec, xf, rid), cells)


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
    (``package.written_comment``) so later runs know it unchanged; new workbooks (the
    committed template among them) are written without, their bytes unchanged."""
    patched = dict(patched or {})
    if not sheets and not restore and not remark and not workbook_id and not patched:
        return WriteReport(path, (), (), (), (), 0)
    try:
        plan = _plan(pkg, sheets)
    except ExcelLimitError as exc:
        raise SheetTooLargeError(path, str(exc), "make the plan smaller (fewer families, "
                                 "channels or scenarios in one workbook)") from None
    try:
        drawn = _chart_edits(pkg, plan)
        edits, xf = _registry_edits(pkg, plan, sheets, drawn, restore or {}, remark,
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


def _assemble(sink: ZipSink, pkg: Package, edits: _Edits, plan: _Plan,
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


def _restyled_sheets(pkg: Package, edits: _Edits) -> dict[str, bytes]:
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
