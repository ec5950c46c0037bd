"""Never wipe an edit: find the cells of sopfin's sheets that someone changed since sopfin wrote
them, before anything rewrites those sheets.

Each row of a fingerprinted sheet holds what sopfin wrote there (``sopfin.guard.fingerprints``); a
row whose formulas and constants still give its fingerprint is unchanged, whatever the next
render would put there. Only a row that differs is looked at cell by cell: when the fresh
render of that row has the same fingerprint, it is exactly what sopfin wrote, so every changed
cell is named with what was written and what is there now; otherwise (the plan changed that
row too) a constant or a blank in a formula column is still named, and any other change is
reported for the row.

A sheet written before fingerprints existed is compared with the fresh render instead
(``sopfin.guard.typed_over.typed_over_formulas``).

``dollarize`` refuses while edits exist (``edit_issues``), or with ``--discard-edits``
overwrites them and lists each as an ``edit-discarded`` warning on the Issues sheet
(``discarded_issues``); those stay on Issues until the next close records them on its ledger
entry (``pending_discards``, ``ledger_note``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sopfin import layout
from sopfin.close.records import silent_override
from sopfin.guard.fingerprints import RowPrint, canonical, rendered_prints, without_fingerprints
from sopfin.guard.typed_over import SpecRows, merged_rows, typed_over_formulas
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.sheetspec import SheetSpec
from sopfin.workbook import CellRow, Workbook, rows_of_cells

OVERRIDES_ADVICE = ("a deliberate change belongs on sheet Overrides with an owner and a "
                    "reason")
DISCARD_ADVICE = ("run sopfin dollarize --discard-edits: sopfin then writes its own content "
                  "again and records the edit on the Issues sheet and on the next close's "
                  "ledger entry")
_NOTE_LIMIT = 4000  # characters of discarded edits kept on one ledger entry


def shown(value: object) -> str:
    """A cell's content as a user would type it: '=formula', a number, text, or 'nothing'."""
    formula = getattr(value, "formula", None)
    if formula is not None:
        return f"={formula}"
    if value is None or value == "":
        return "nothing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


RESTORE_ADVICE = (f"{OVERRIDES_ADVICE}, and run sopfin dollarize --discard-edits to restore "
                  "what sopfin wrote")


def _finding(sheet: str, ref: str, kind: IssueCode, wrote: str, found: object) -> Issue:
    return silent_override(CellRef(sheet, ref), kind, wrote, shown(found),
                           f"sopfin wrote {wrote} here and found {shown(found)}",
                           RESTORE_ADVICE)


class _Fresh:
    """The fresh render of one sheet, looked up by row only when a row differs."""

    def __init__(self, spec: SheetSpec | None) -> None:
        self.spec = spec
        self._prints: dict[int, RowPrint] | None = None
        self._rows: SpecRows | None = None
        self._bands: dict[int, Any] = {}

    def written(self, row: int, stored: RowPrint) -> dict[str, tuple[object, str | None]] | None:
        """{column: (value, formula)} of ``row`` as sopfin wrote it, when the fresh render of
        that row is what was written (same fingerprint); else None."""
        if self.spec is None:
            return None
        if self._prints is None:
            self._prints = rendered_prints(self.spec)
            self._rows = SpecRows(without_fingerprints(self.spec))
            self._bands = dict(self._rows.rows())
        if self._prints.get(row) != stored or row not in self._bands:
            return None
        assert self._rows is not None
        cells = self._rows.cells(row, self._bands[row].blocks)
        return {layout.column_letter(col): cell for col, cell in cells.items()}


def _explain(sheet: str, row: CellRow, stored: RowPrint, fresh: _Fresh) -> list[Issue]:
    """The changed cells of a row whose fingerprint no longer matches."""
    cells = row.cells()
    written = fresh.written(row.number, stored)
    out = []
    for letter in stored.formulas:
        found = cells.get(letter)
        found_formula = getattr(found, "formula", None)
        ref = f"{letter}{row.number}"
        if written is not None:
            formula = str(written.get(letter, (None, ""))[1] or "")
            if found_formula is None:
                out.append(_finding(sheet, ref, IssueCode.TYPED_OVER_FORMULA, f"={formula}",
                                    found))
            elif str(found_formula).replace(" ", "") != formula.replace(" ", ""):
                out.append(_finding(sheet, ref, IssueCode.FORMULA_CHANGED, f"={formula}",
                                    found))
        elif found_formula is None:
            out.append(_finding(sheet, ref, IssueCode.TYPED_OVER_FORMULA, "a formula", found))
    for letter in stored.constants:
        if written is not None:
            value = written.get(letter, (None, None))[0]
            if canonical(cells.get(letter)) != canonical(value):
                out.append(_finding(sheet, f"{letter}{row.number}", IssueCode.CONSTANT_CHANGED,
                                    shown(value), cells.get(letter)))
    if not out:
        first = (stored.formulas or stored.constants)[0]
        out.append(silent_override(
            CellRef(sheet, f"{first}{row.number}"), IssueCode.ROW_CHANGED,
            f"row {row.number} as its fingerprint records it", "a changed formula or label",
            f"a formula or label sopfin wrote on row {row.number} was changed (the plan has "
            "changed that row since, so the cell cannot be named)", RESTORE_ADVICE))
    return out


class _OutOfOrder(Exception):
    """The sheet repeats or reorders row numbers: check it merged instead."""


def _print_column(row: CellRow) -> str | None:
    for letter, value in row.cells().items():
        if RowPrint.parse(value) is not None:
            return letter
    return None


def _sheet_edits(sheet: str, rows: Iterable[CellRow], fresh: _Fresh,
                 ) -> list[Issue] | None:
    """Every changed cell of one sheet; None when the sheet carries no fingerprints (its
    first non-empty row has none)."""
    column: str | None = None
    out: list[Issue] = []
    last = 0
    for row in rows:
        if row.number <= last:
            raise _OutOfOrder(sheet)
        last = row.number
        if column is None:
            if not row.cells():
                continue
            column = _print_column(row)
            if column is None:
                return None
        stored = RowPrint.parse(row.values((column,))[0])
        if stored is None:
            continue
        joined = row.joined_formulas(stored.formulas) if stored.formulas else ""
        if not stored.matches(joined, row.values(stored.constants)):
            out += _explain(sheet, row, stored, fresh)
    return out


def edited_cells(specs: Sequence[SheetSpec],
                 current: Mapping[str, Iterable[CellRow] | Mapping[str, object]],
                 ) -> list[Issue]:
    """Cells of the fingerprinted sheets in ``current`` (``Workbook.read_cell_rows`` or
    ``read_cells``) that differ from what sopfin last wrote there. ``specs`` is the fresh
    render: it names what was written when a row differs, and is the reference for a sheet
    without fingerprints."""
    by_name = {s.name: s for s in specs}
    out: list[Issue] = []
    for name in layout.FINGERPRINTED_SHEETS:
        sheet = current.get(name)
        if sheet is None:
            continue
        rows: Iterable[CellRow] = (rows_of_cells(sheet) if isinstance(sheet, Mapping)
                                   else list(sheet) if iter(sheet) is sheet else sheet)
        fresh = _Fresh(by_name.get(name))
        try:
            found = _sheet_edits(name, rows, fresh)
        except _OutOfOrder:
            found = _sheet_edits(name, merged_rows(rows), fresh)
        if found is None and name in by_name:
            found = typed_over_formulas([without_fingerprints(by_name[name])], {name: rows})
        out += found or []
    return out


def sheets_to_check(book: Workbook) -> list[str]:
    """The fingerprinted sheets sopfin owns in ``book`` that may have been edited: those not
    known to be exactly as sopfin wrote them."""
    owned = [n for n in layout.FINGERPRINTED_SHEETS if n in book.owned_sheet_names()]
    unchanged = book.sheets_as_written(owned) if owned else set()
    return [n for n in owned if n not in unchanged]


# --- issues and the ledger ----------------------------------------------------------------------
def edit_issues(found: Sequence[Issue]) -> list[Issue]:
    """One ``typed-over`` error per edited cell: dollarize refuses to write."""
    return [replace(f, code=IssueCode.TYPED_OVER, severity=Severity.ERROR,
                    fix=f"{OVERRIDES_ADVICE}; to drop the edit, {DISCARD_ADVICE}")
            for f in found]


def discarded_issues(found: Sequence[Issue]) -> list[Issue]:
    """One ``edit-discarded`` warning per overwritten cell, for the Issues sheet."""
    return [replace(f, code=IssueCode.EDIT_DISCARDED, severity=Severity.WARNING,
                    message=f"discarded an edit: found {f.found} where sopfin wrote "
                            f"{f.expected}",
                    fix=f"recorded on the next close's ledger entry; {OVERRIDES_ADVICE}")
            for f in found]


def _cell_ref(text: str) -> CellRef:
    sheet, sep, cell = text.rpartition("!")
    return CellRef(sheet, cell) if sep else CellRef(text)


def pending_discards(issues_rows: Sequence[Sequence[object]]) -> list[Issue]:
    """The ``edit-discarded`` warnings on an Issues sheet (its rows as a grid from A1): edits
    discarded since the last close, which the next close records."""
    from sopfin.render.issues_sheet import FIRST_ROW, HEADERS

    code, where, message, fix = (HEADERS.index(h) for h in ("Code", "Location", "Message",
                                                             "Fix"))
    out = []
    for cells in issues_rows[FIRST_ROW - 1:]:
        row = list(cells) + [None] * (len(HEADERS) - len(cells))
        place = row[where]
        if row[code] == IssueCode.EDIT_DISCARDED.value and isinstance(place, str):
            out.append(Issue(IssueCode.EDIT_DISCARDED, Severity.WARNING,
                             _cell_ref(place), str(row[message] or ""),
                             str(row[fix] or "")))
    return out


def ledger_note(discarded: Sequence[Issue]) -> str:
    """The discarded edits as one line of a ledger entry's note."""
    if not discarded:
        return ""
    parts = [f"{i.where} {i.message.removeprefix('discarded an edit: ')}" for i in discarded]
    note = f"{len(parts)} discarded edit(s): "
    for k, part in enumerate(parts):
        if len(note) + len(part) > _NOTE_LIMIT:
            return note + f"and {len(parts) - k} more"
        note += part + ("; " if k < len(parts) - 1 else "")
    return note
