"""The live adapter: the ``sopfin.workbook.Workbook`` protocol on a book open in Excel.

``LiveWorkbook(xw.Book.caller())`` lets the pipeline run on the workbook the user has open,
through xlwings, with the same ``SheetSpec``s the file writer takes.

In bulk. A sheet is read with one ``.value`` of the rectangle from A1 to the last used cell
(``ndim=2, err_to_str=True``: Excel errors arrive as '#N/A' and become ``XlError``). Each
block is written with one assignment: ``.value`` for a block of plain values, ``.formula``
for a block with formulas ('=' prefixed, plain cells of the block given as constants).
Text is written with Excel's leading apostrophe so that '2027-01' or 'TRUE' stay text.
Formats are applied per block (or per run of equal styles in a row).

All or nothing. Everything that can be checked is checked before the first write: sheet
names, block shapes and overlaps, states, and that no user sheet would be overwritten
(``SheetNameTakenError``). Then sheets are added and written with screen updating and
calculation off. If anything fails midway, the sheets added are deleted and each replaced
sopfin sheet gets back the values and formulas it had (its formats are sopfin's own and are
redrawn on the next run). Replaced sheets are written in place, not swapped for new ones,
so formulas elsewhere that point at them keep pointing at them.

What goes through ``.api`` (Excel's object model, no xlwings wrapper in classic xlwings):
each feature has its own ``_api_*`` function below, and nothing else touches ``.api``.
The workbook is never saved unless ``save=True``.

Limits: a hashed protection password (``SheetProtection.hash_value``) cannot be handed to
Excel's ``Protect``, which takes the password itself, so such a sheet is protected without a
password and the report says so; charts are not drawn (reported too). The page setup goes
through Excel's ``PageSetup`` object (``sopfin.excel.live_page``), best effort: where Excel does not
take it (an application without that object model), the report says so and the sheet is
written without it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sopfin.close.digests import FormulaCell
from sopfin.excel.live_page import apply_page_setup
from sopfin.layout import OWNER_MARK_NAME, WORKBOOK_ID_NAME, cell_name, is_owner_mark_value
from sopfin.model import XlError
from sopfin.sheetspec import STYLE_FORMATS, Block, SheetSpec, Style
from sopfin.workbook import Cells, CellsRow, Reseal, WorkbookSnapshot, rows_of_cells
from sopfin.xlsx.errors import SheetNameTakenError, StructureProtectedError
from sopfin.xlsx.lock import exclusive
from sopfin.xlsx.read import RawSheet
from sopfin.xlsx.sheetxml import check_blocks
from sopfin.xlsx.writer import validate_sheet_name

ERROR_CODES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!",
    "#PYTHON!"})
SHEET_STATES = ("visible", "hidden", "veryHidden")
XL_SHEET_VERY_HIDDEN = 2
_VISIBILITY = {0: "hidden", XL_SHEET_VERY_HIDDEN: "veryHidden"}  # else visible (-1)
XL_EDGE_BOTTOM, XL_CONTINUOUS = 9, 1
UNHASHED_PROTECTION = ("sheet '{}': protected without its password (Excel's object model "
                       "takes a password, not its hash)")


@dataclass(frozen=True)
class LiveSheetGuard:
    state: str
    protected: bool


@dataclass(frozen=True)
class LiveWriteReport:
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    saved: bool = False


class LiveWorkbook:
    """The ``Workbook`` protocol over an xlwings ``Book`` (or anything with its interface)."""

    def __init__(self, book: Any, *, save: bool = False) -> None:
        self.book = book
        self.save = save

    @property
    def name(self) -> str:
        return str(self.book.name)

    def snapshot(self) -> WorkbookSnapshot:
        """The book as one command sees it: each sheet and fact read from Excel once (the
        whole command runs while the button holds the book)."""
        return WorkbookSnapshot(self)

    def check_writable(self) -> None:
        if _api_structure_protected(self.book):
            raise StructureProtectedError(self.name)

    def exclusive(self) -> AbstractContextManager[None]:
        """While a button runs, hold sopfin's lock file beside the book's file (when it has
        one on this computer), so a command-line run on the same file waits or refuses."""
        path = getattr(self.book, "fullname", None)
        if isinstance(path, str) and os.path.isfile(path):
            return exclusive(path)
        return nullcontext()

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def owned_sheet_names(self) -> set[str]:
        return {s.name for s in self.book.sheets if _is_owned(s)}

    def sheet_states(self) -> dict[str, str]:
        return {s.name: _api_visibility(s) for s in self.book.sheets}

    def _sheets(self, names: Iterable[str]) -> list[Any]:
        by_name = {s.name: s for s in self.book.sheets}
        return [by_name[n] for n in dict.fromkeys(names) if n in by_name]

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawSheet]:
        return {s.name: RawSheet(s.name, [[_read_value(v) for v in row]
                                          for row in _whole(s).options(
                                              ndim=2, err_to_str=True).value])
                for s in self._sheets(names)}

    def read_cells(self, names: Iterable[str]) -> Mapping[str, Cells]:
        out: dict[str, Cells] = {}
        for sheet in self._sheets(names):
            rng = _whole(sheet)
            values = rng.options(ndim=2, err_to_str=True).value
            formulas = _rows2d(rng.formula)
            cells: dict[str, object] = {}
            for i, (vrow, frow) in enumerate(zip(values, formulas, strict=True)):
                for j, (v, f) in enumerate(zip(vrow, frow, strict=True)):
                    if isinstance(f, str) and f.startswith("="):
                        cells[cell_name(i + 1, j + 1)] = FormulaCell(f[1:], _read_value(v))
                    elif v is not None:
                        cells[cell_name(i + 1, j + 1)] = _read_value(v)
            out[sheet.name] = cells
        return out

    def read_cell_rows(self, names: Iterable[str]) -> Mapping[str, list[CellsRow]]:
        """The sheets as rows; Excel hands over a whole sheet at once, so they are read
        with ``read_cells`` and split into rows."""
        return {name: rows_of_cells(cells) for name, cells in self.read_cells(names).items()}

    def workbook_id(self) -> str | None:
        for name in self.book.names:
            if str(name.name).lower() == WORKBOOK_ID_NAME.lower():
                text = str(name.refers_to).lstrip("=").strip()
                return text.strip('"') or None
        return None

    def sheet_guards(self, names: Sequence[str]) -> Mapping[str, LiveSheetGuard]:
        return {s.name: LiveSheetGuard("visible" if s.visible else "hidden",
                                       _api_protected(s))
                for s in self._sheets(names)}

    def sheets_as_written(self, names: Iterable[str]) -> set[str]:
        """A book open in Excel may have been edited anywhere: every sheet is read."""
        return set()

    def part_digests(self, names: Iterable[str]) -> Mapping[str, str]:
        return {}  # a book open in Excel has no stored parts: every check reads the cells

    def write_sheets(self, specs: Sequence[SheetSpec],
                     states: Mapping[str, str] | None = None, *,
                     workbook_id: str | None = None,
                     reseal: Reseal | None = None) -> LiveWriteReport:
        """Add or replace these sheets, all or nothing (see the module docstring); ``states``
        puts sopfin's own sheets that are not rewritten back to a state; ``workbook_id`` is
        recorded as the workbook's identity in the same save if it has none; ``reseal`` is
        not applied (no part digests here: the specs are written as given)."""
        specs = list(specs)
        if not specs:
            return LiveWriteReport((), ())
        _restore_states(self.book, specs, states or {})
        self.check_writable()
        existing = {s.name.casefold(): s for s in self.book.sheets}
        replace = self._check(specs, existing)
        undo = _Undo()
        active = self.book.sheets.active
        warnings: list[str] = []
        with _quiet(self.book.app):
            try:
                targets = []
                for spec in specs:
                    sheet = replace.get(spec.name)
                    if sheet is None:
                        sheet = self._add_sheet(spec)
                        undo.added.append(sheet)
                    else:
                        undo.keep(sheet)
                        sheet.clear()
                    targets.append(sheet)
                for spec, sheet in zip(specs, targets, strict=True):
                    warnings += _write_sheet(sheet, spec)
                if workbook_id and self.workbook_id() is None:
                    _api_hide_name(self.book.names.add(WORKBOOK_ID_NAME, f'="{workbook_id}"'))
                chosen = [t for s, t in zip(specs, targets, strict=True) if s.selected]
                active = chosen[-1] if chosen else active  # e.g. the new Recon tab
            except BaseException:
                undo.rollback()
                raise
            finally:
                active.activate()
        if self.save:
            self.book.save()
        return LiveWriteReport(tuple(s.name for s in specs if s.name not in replace),
                               tuple(s.name for s in specs if s.name in replace),
                               tuple(warnings), self.save)

    def _check(self, specs: Sequence[SheetSpec], existing: Mapping[str, Any]) -> dict[str, Any]:
        """Every check before the first write; the owned sheets to replace, by spec name."""
        seen: set[str] = set()
        replace: dict[str, Any] = {}
        for spec in specs:
            validate_sheet_name(spec.name)
            check_blocks(spec)
            if spec.state not in SHEET_STATES:
                raise ValueError(f"sheet {spec.name!r}: state must be one of {SHEET_STATES}")
            if spec.name.casefold() in seen:
                raise ValueError(f"sheet {spec.name!r} is given twice")
            seen.add(spec.name.casefold())
            sheet = existing.get(spec.name.casefold())
            if sheet is not None:
                owned = _is_owned(sheet)
                if not (spec.owned and owned):
                    raise SheetNameTakenError(self.name, sheet.name, by_sopfin=owned)
                replace[spec.name] = sheet
        return replace

    def _add_sheet(self, spec: SheetSpec) -> Any:
        sheets = self.book.sheets
        sheet = sheets.add(spec.name, after=sheets[len(sheets) - 1])
        if spec.owned:
            _api_hide_name(sheet.names.add(OWNER_MARK_NAME, "=TRUE"))
        return sheet


# ----------------------------------------------------------------------------- reading
def _whole(sheet: Any) -> Any:
    """The rectangle from A1 to the last used cell (a grid from A1, like the file reader)."""
    last = sheet.used_range.last_cell
    return sheet.range((1, 1), (last.row, last.column))


def _rows2d(value: Any) -> list[list[Any]]:
    if not isinstance(value, list | tuple):
        return [[value]]
    if value and not isinstance(value[0], list | tuple):
        return [list(value)]
    return [list(r) for r in value]


def _read_value(v: Any) -> Any:
    if isinstance(v, str):
        if v in ERROR_CODES:
            return XlError(v)
        return v if v else None
    return v


def _is_owned(sheet: Any) -> bool:
    for name in sheet.names:
        local = str(name.name).rsplit("!", 1)
        if (len(local) == 2 and local[1].lower() == OWNER_MARK_NAME.lower()
                and is_owner_mark_value(str(name.refers_to))):
            return True
    return False


# ----------------------------------------------------------------------------- writing
class _Undo:
    """What to put back if a write fails midway."""

    def __init__(self) -> None:
        self.added: list[Any] = []
        self.kept: list[tuple[Any, str, Any]] = []

    def keep(self, sheet: Any) -> None:
        used = sheet.used_range
        self.kept.append((sheet, used.address, used.formula))

    def rollback(self) -> None:
        for sheet in reversed(self.added):
            sheet.delete()
        for sheet, address, formulas in self.kept:
            sheet.clear()
            sheet.range(address).formula = formulas


@contextmanager
def _quiet(app: Any):
    """Screen updating and automatic calculation off while writing; restored after."""
    updating, calculation = app.screen_updating, app.calculation
    app.screen_updating = False
    app.calculation = "manual"
    try:
        yield
    finally:
        app.calculation = calculation
        app.screen_updating = updating


def _cell_value(v: Any) -> tuple[Any, bool]:
    """(what to assign, whether it needs ``.formula``) for one plain cell value."""
    if v is None:
        return None, False
    if isinstance(v, bool | np.bool_):
        return bool(v), False
    if isinstance(v, int | np.integer):
        return int(v), False
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return None, False
        if math.isinf(v):
            return "=#NUM!", True
        return float(v), False
    code = getattr(v, "code", None)
    if isinstance(code, str) and code.startswith("#"):
        return f"={code}", True  # an error constant can only be entered as a formula
    text = str(v)
    return (f"'{text}" if text else None), False


def block_payload(block: Block) -> tuple[str, list[list[Any]]]:
    """('value' | 'formula', the 2-D list to assign to the block's range in one go)."""
    values = np.asarray(block.values, dtype=object)
    formulas = None if block.formulas is None else np.asarray(block.formulas, dtype=object)
    grid, needs_formula = [], formulas is not None
    for i, row in enumerate(values.tolist()):
        out = []
        for j, v in enumerate(row):
            f = formulas[i, j] if formulas is not None else None
            if isinstance(f, str) and f:
                out.append(f if f.startswith("=") else f"={f}")
                continue
            cell, as_formula = _cell_value(v)
            needs_formula |= as_formula
            out.append(cell)
        grid.append(out)
    return ("formula" if needs_formula else "value"), grid


def _write_sheet(sheet: Any, spec: SheetSpec) -> list[str]:
    warnings = []
    for block in spec.blocks:
        shape = np.asarray(block.values, dtype=object).shape
        if not shape[0] or not shape[1]:
            continue
        rng = sheet.range((block.row, block.col),
                          (block.row + shape[0] - 1, block.col + shape[1] - 1))
        kind, grid = block_payload(block)
        if kind == "formula":
            rng.formula = grid
        else:
            rng.value = grid
        _format_block(sheet, block, shape)
    for col, width in spec.col_widths.items():
        sheet.range((1, col)).column_width = width
    for col in spec.hidden_cols:
        sheet.range((1, col)).column_width = 0  # a column of width 0 is hidden
    shown = _cell_texts(spec)
    for link in spec.links:
        sheet.range(link.cell).add_hyperlink(f"#{link.target}", shown.get(
            link.cell.replace("$", "").upper(), link.target), link.tooltip or None)
    _api_row_outline(sheet, outline_runs(spec.row_outline))
    if spec.tab_color:
        _api_tab_color(sheet, spec.tab_color)
    if spec.freeze and any(spec.freeze):
        sheet.visible = True  # only a visible sheet can be activated to freeze its panes
        _api_freeze(sheet, *spec.freeze)
    if spec.state == "hidden":
        sheet.visible = False
    elif spec.state == "veryHidden":
        _api_very_hidden(sheet)
    else:
        sheet.visible = True
    if spec.protection is not None:
        _api_protect(sheet)
        if spec.protection.hash_value:
            warnings.append(UNHASHED_PROTECTION.format(spec.name))
    if spec.charts:
        warnings.append(f"sheet '{spec.name}': {len(spec.charts)} chart(s) not drawn in the "
                        "open workbook; run the file path (sopfin CLI) for charts")
    if spec.page is not None:
        warnings += apply_page_setup(sheet, spec)
    return warnings


def outline_runs(row_outline: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """A sheet's row outline (row -> level) as runs of consecutive rows at one level:
    (first row, last row, level)."""
    runs: list[tuple[int, int, int]] = []
    for row in sorted(row_outline):
        level = row_outline[row]
        if runs and runs[-1][1] == row - 1 and runs[-1][2] == level:
            runs[-1] = (runs[-1][0], row, level)
        else:
            runs.append((row, row, level))
    return runs


def _cell_texts(spec: SheetSpec) -> dict[str, str]:
    """Cell ref -> text of the cells that carry a link (what the link shows)."""
    wanted = {link.cell.replace("$", "").upper() for link in spec.links}
    out: dict[str, str] = {}
    for block in spec.blocks:
        for i, row in enumerate(np.asarray(block.values, dtype=object).tolist()):
            for j, v in enumerate(row):
                ref = cell_name(block.row + i, block.col + j)
                if ref in wanted and v is not None:
                    out[ref] = str(v)
    return out


def _format_block(sheet: Any, block: Block, shape: tuple[int, int]) -> None:
    if block.style is None:
        return
    if isinstance(block.style, Style):
        runs = [(block.row, block.col, block.row + shape[0] - 1, block.col + shape[1] - 1,
                 block.style)]
    else:
        runs = _style_runs(block)
    for r0, c0, r1, c1, style in runs:
        _apply_style(sheet.range((r0, c0), (r1, c1)), style)


def _style_runs(block: Block) -> list[tuple[int, int, int, int, Style]]:
    """Per-cell styles as rectangles: runs of one style along a row, merged down columns
    where consecutive rows have the same run."""
    runs: list[tuple[int, int, int, int, Style]] = []
    open_runs: dict[tuple[int, int, Style], int] = {}
    styles = np.asarray(block.style, dtype=object).tolist()
    for i, row in enumerate(styles + [[]]):
        here: list[tuple[int, int, Style]] = []
        j = 0
        while j < len(row):
            k = j
            while k + 1 < len(row) and row[k + 1] == row[j]:
                k += 1
            if row[j] is not None:
                here.append((j, k, Style(row[j])))
            j = k + 1
        for key in list(open_runs):
            if key not in here:
                top = open_runs.pop(key)
                runs.append((block.row + top, block.col + key[0], block.row + i - 1,
                             block.col + key[1], key[2]))
        for key in here:
            open_runs.setdefault(key, i)
    return runs


def _rgb(argb: str) -> tuple[int, int, int]:
    hex6 = argb[-6:]
    return int(hex6[0:2], 16), int(hex6[2:4], 16), int(hex6[4:6], 16)


def _apply_style(rng: Any, style: Style) -> None:
    fmt = STYLE_FORMATS[style]
    if "num_fmt" in fmt:
        rng.number_format = fmt["num_fmt"]
    if fmt.get("bold"):
        rng.font.bold = True
    if fmt.get("italic"):
        rng.font.italic = True
    if "size" in fmt:
        rng.font.size = fmt["size"]
    if "color" in fmt:
        rng.font.color = _rgb(fmt["color"])
    if "fill" in fmt:
        rng.color = _rgb(fmt["fill"])
    if "align" in fmt:
        rng.horizontal_alignment = fmt["align"]
    if fmt.get("border_bottom"):
        _api_bottom_border(rng)


# ----------------------------------------------------------------------------- .api, one
# function per feature classic xlwings has no wrapper for
def _api_structure_protected(book: Any) -> bool:
    return bool(book.api.ProtectStructure)


def _api_hide_name(name: Any) -> None:
    name.api.Visible = False


def _api_tab_color(sheet: Any, argb: str) -> None:
    r, g, b = _rgb(argb)
    sheet.api.Tab.Color = r + g * 256 + b * 65536  # Excel colours are BGR integers


def _api_freeze(sheet: Any, rows: int, cols: int) -> None:
    sheet.activate()
    window = sheet.book.app.api.ActiveWindow
    window.FreezePanes = False
    window.SplitColumn = cols
    window.SplitRow = rows
    window.FreezePanes = True


def _api_very_hidden(sheet: Any) -> None:
    sheet.api.Visible = XL_SHEET_VERY_HIDDEN


def _api_protected(sheet: Any) -> bool:
    """Worksheet.ProtectContents; True when the platform's object model cannot tell, so
    verify never warns about protection it could not read."""
    try:
        value = sheet.api.ProtectContents
    except Exception:  # noqa: BLE001 - any COM/AppleScript failure means "unknown"
        return True
    return value if isinstance(value, bool) else True
def _api_visibility(sheet: Any) -> str:
    return _VISIBILITY.get(sheet.api.Visible, "visible")


def _restore_states(book: Any, specs: Sequence[SheetSpec], states: Mapping[str, str]) -> None:
    """Set the state of the owned sheets named in ``states`` that ``specs`` do not rewrite."""
    rewritten = {s.name.casefold() for s in specs}
    for sheet in book.sheets:
        wanted = states.get(sheet.name)
        if wanted is None or sheet.name.casefold() in rewritten or not _is_owned(sheet):
            continue
        if wanted == "veryHidden":
            _api_very_hidden(sheet)
        else:
            sheet.visible = wanted == "visible"


def _api_row_outline(sheet: Any, runs: Sequence[tuple[int, int, int]]) -> None:
    """The sheet's row groups, as the file's outlineLevel: a previous run's groups cleared,
    then each run of rows set to its level (Excel counts an ungrouped row as level 1, so a
    row at the file's level k is at OutlineLevel k + 1). Summary rows stay below their
    detail, Excel's default, as the P&L puts a department's total under its accounts."""
    sheet.api.Cells.ClearOutline()
    for first, last, level in runs:
        sheet.api.Rows(f"{first}:{last}").OutlineLevel = level + 1


def _api_protect(sheet: Any) -> None:
    sheet.api.Protect(DrawingObjects=True, Contents=True, Scenarios=True)


def _api_bottom_border(rng: Any) -> None:
    rng.api.Borders(XL_EDGE_BOTTOM).LineStyle = XL_CONTINUOUS
