"""The plan of a write: which sheets replace sopfin's own and which are new, with their
parts and relationship ids (``plan_write``), and the registry edits that follow from it
(workbook.xml's sheets, states and names, relationships, content types, charts, print
names, the calculation chain), checked before anything is written (``verify_edits``)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sopfin.sheetspec import SheetSpec, Style
from sopfin.xlsx import blank
from sopfin.xlsx.activetab import deselected_parts, set_active_tab
from sopfin.xlsx.charts import (
    PartNamer,
    actual_name,
    chart_parts,
    check_charts,
    drawn_by_sopfin,
    reachable_parts,
)
from sopfin.xlsx.errors import (
    NotAWorkbookError,
    SheetNameTakenError,
)
from sopfin.xlsx.marks import (
    read_workbook_id,
    with_workbook_id,
)
from sopfin.xlsx.package import (
    CT_WORKSHEET,
    MAIN_NS,
    REL_CALC_CHAIN,
    REL_STYLES,
    REL_WORKSHEET,
    Package,
    SheetEntry,
    XmlText,
    owned_positions,
    parse_xml,
    rels_part_of,
)
from sopfin.xlsx.printnames import positions_of, replace_print_names
from sopfin.xlsx.registry import (
    NewSheet,
    add_overrides,
    add_relationships,
    drop_calc_cells,
    edit_workbook,
    remove_override,
    remove_relationship,
)
from sopfin.xlsx.screen import reading
from sopfin.xlsx.sheetxml import block_styles, check_blocks
from sopfin.xlsx.states import SHEET_STATES
from sopfin.xlsx.styles import resolve_styles

CONTENT_TYPES = "[Content_Types].xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_BAD_NAME_CHARS = re.compile(r"[\[\]:*?/\\]")


def validate_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _BAD_NAME_CHARS.search(name) or name[0] == "'" \
            or name[-1] == "'" or name.casefold() == "history":
        raise ValueError(f"{name!r} is not a valid Excel sheet name (1-31 characters, none of "
                         "[ ] : * ? / \\, not starting or ending with ', not 'History')")


@dataclass
class WritePlan:
    replace: list[tuple[SheetSpec, SheetEntry]]
    add: list[tuple[SheetSpec, NewSheet, str]]  # spec, workbook entry, part name


def check_spec(spec: SheetSpec, seen: set[str]) -> None:
    """What any adapter checks of a sheet before it writes one: a valid name not given
    before (``seen`` collects the names, case-blind), blocks inside the grid and apart, a
    known state; ValueError otherwise."""
    validate_sheet_name(spec.name)
    check_blocks(spec)
    if spec.state not in SHEET_STATES:
        raise ValueError(f"sheet {spec.name!r}: state must be one of {SHEET_STATES}")
    if spec.name.casefold() in seen:
        raise ValueError(f"sheet {spec.name!r} is given twice")
    seen.add(spec.name.casefold())


def plan_write(pkg: Package, sheets: Sequence[SheetSpec]) -> WritePlan:
    existing = {s.name.casefold(): s for s in pkg.sheets}
    seen: set[str] = set()
    plan = WritePlan([], [])
    taken_parts = {n.lower() for n in pkg.names}
    rids = {r.rid for r in pkg.rels}
    next_sheet_id = max([0, *(s.sheet_id for s in pkg.sheets)]) + 1
    folder = posixpath.join(posixpath.dirname(pkg.workbook_part), "worksheets")
    part_no = 1
    for spec in sheets:
        check_spec(spec, seen)
        check_charts(spec)
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
        rid = new_rid(rids)
        plan.add.append((spec, NewSheet(spec.name, next_sheet_id, rid, spec.state, spec.owned),
                         part))
        next_sheet_id += 1
    return plan


def new_rid(taken: set[str]) -> str:
    n = max([0, *(int(r[3:]) for r in taken if re.fullmatch(r"rId\d+", r))]) + 1
    while f"rId{n}" in taken:
        n += 1
    taken.add(f"rId{n}")
    return f"rId{n}"


@dataclass
class RegistryEdits:
    parts: dict[str, bytes] = field(default_factory=dict)  # edited or new registry parts
    removed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ChartEdits:
    parts: dict[str, bytes] = field(default_factory=dict)  # drawings, charts, their rels
    overrides: list[tuple[str, str]] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)  # old rels and parts of replaced sheets
    rids: dict[str, str] = field(default_factory=dict)  # sheet part -> drawing rel id
    warnings: list[str] = field(default_factory=list)


def chart_edits(pkg: Package, plan: WritePlan) -> ChartEdits:
    """Drop what replaced sheets drew (warning when it was not only sopfin's charts); draw
    the charts of the new and replacing specs under part names the package does not use."""
    out = ChartEdits()
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


def part_text(pkg: Package, name: str) -> XmlText:
    return XmlText.decode(pkg.read(name))


def relative_target(part: str, workbook_part: str) -> str:
    """A relationship target for ``part`` as seen from the workbook part's folder."""
    return posixpath.relpath(part, posixpath.dirname(workbook_part) or ".")


def registry_edits(pkg: Package, plan: WritePlan, sheets: Sequence[SheetSpec],
                    drawn: ChartEdits, restore: Mapping[int, str], remark: Sequence[int],
                    workbook_id: str | None = None,
                    ) -> tuple[RegistryEdits, dict[Style, int]]:
    edits = RegistryEdits(dict(drawn.parts), set(drawn.removed), list(drawn.warnings))
    wb = part_text(pkg, pkg.workbook_part)
    rels_name = rels_part_of(pkg.workbook_part)
    rels = part_text(pkg, rels_name) if pkg.has(rels_name) else XmlText.decode(
        blank.EMPTY_RELS.encode("utf-8"))
    types = part_text(pkg, CONTENT_TYPES)
    new_rels = [(n.rid, REL_WORKSHEET, relative_target(part, pkg.workbook_part))
                for _, n, part in plan.add]
    overrides = [(part, CT_WORKSHEET) for _, _, part in plan.add] + drawn.overrides

    styles_part = pkg.part_of_type(REL_STYLES)
    if styles_part is None:  # a workbook without a stylesheet gets the default one
        styles_part = posixpath.join(posixpath.dirname(pkg.workbook_part), "styles.xml")
        if pkg.has(styles_part):
            raise NotAWorkbookError(pkg.path, f"{styles_part} exists but is not linked")
        styles = XmlText.decode(blank.STYLES.encode("utf-8"))
        new_rels.append((new_rid({r.rid for r in pkg.rels} | {r[0] for r in new_rels}),
                         REL_STYLES, relative_target(styles_part, pkg.workbook_part)))
        overrides.append((styles_part, CT_STYLES))
        edits.parts[styles_part] = b""
    else:
        styles = part_text(pkg, styles_part)
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
    wb_text = views_and_print_names(pkg, plan, sheets, wb_text, edits)
    rels_text = add_relationships(rels.text, new_rels) if new_rels else rels.text
    types_text = add_overrides(types.text, overrides) if overrides else types.text
    for name in sorted(drawn.removed):
        types_text = remove_override(types_text, name)

    drop_replaced_calc_cells(pkg, plan, edits)
    calc_removed = [n for n in edits.removed if n == pkg.part_of_type(REL_CALC_CHAIN)]
    for name in calc_removed:
        rid = next(r.rid for r in pkg.rels if r.target == name)
        rels_text = remove_relationship(rels_text, rid)
        types_text = remove_override(types_text, name)

    for name, original, text in ((pkg.workbook_part, wb, wb_text), (rels_name, rels, rels_text),
                                 (CONTENT_TYPES, types, types_text)):
        if text != original.text or not pkg.has(name):
            edits.parts[name] = original.encode(text)
    verify_edits(pkg, edits, plan)
    return edits, xf


def views_and_print_names(pkg: Package, plan: WritePlan, sheets: Sequence[SheetSpec],
                           wb_text: str, edits: RegistryEdits) -> str:
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


def drop_replaced_calc_cells(pkg: Package, plan: WritePlan, edits: RegistryEdits) -> None:
    calc = pkg.part_of_type(REL_CALC_CHAIN)
    ids = {e.sheet_id for _, e in plan.replace}
    if calc is None or not ids:
        return
    original = part_text(pkg, calc)
    text, kept = drop_calc_cells(original.text, ids)
    if not kept:
        edits.removed.add(calc)
    elif text != original.text:
        edits.parts[calc] = original.encode(text)


def verify_edits(pkg: Package, edits: RegistryEdits, plan: WritePlan) -> None:
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
